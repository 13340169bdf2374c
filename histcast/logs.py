"""histcast's logger: progress and choices go to `logging.getLogger("histcast")`.

Configure it as any logger (`logging.getLogger("histcast").setLevel(logging.INFO)` with a
handler, or `logging.basicConfig(level=logging.INFO)`). `say` is for the choices a user should
see while a model trains: logged at INFO, and, when the model is `verbose` and nobody listens
at INFO, written above the progress bar instead.
"""

from __future__ import annotations

import logging
import sys

from tqdm.auto import tqdm

logger = logging.getLogger("histcast")


def say(message: str, verbose: bool, log: logging.Logger = logger) -> None:
    """Log `message` at INFO; also print it (stderr) when `verbose` and INFO is not enabled."""
    log.info(message)
    if verbose and not log.isEnabledFor(logging.INFO):
        tqdm.write(f"histcast: {message}", file=sys.stderr)
