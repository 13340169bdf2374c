"""Helpers shared by the benchmark scripts: where the data is, how results are written.

Every results file records how to reproduce it (`provenance`): the git commit and whether the
working tree differed from it, the exact command line, the date, the machine and library
versions, the data files' sha256, and the parameters the run resolved to (`resolved_params`
for a fitted `HistForecaster`: its constructor arguments plus the choices `fit` made).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import torch

RESULTS = Path(__file__).parent / "results"
REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"
STARTED = datetime.now(timezone.utc).isoformat(timespec="seconds")
_DATA: list[Path] = []  # data folders this run read, for the provenance record


def data_dir(name: str = "m4_hourly") -> Path | None:
    """HISTCAST_DATA, else ../shared/data next to the checkout; None (with a message) if absent."""
    root = Path(os.environ.get("HISTCAST_DATA", SHARED))
    if not (root / name).exists():
        print(f"skipped: no {name} data under {root} (set HISTCAST_DATA)", file=sys.stderr)
        return None
    _DATA.append(root / name)
    return root


def _git(*args: str) -> str | None:
    """Output of a read-only git command in the checkout; None without git or a repository.
    `--no-optional-locks` keeps `status` from touching the index another process may hold."""
    try:
        out = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(REPO), *args],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout


def git_state() -> dict:
    """HEAD's commit and the files that differ from it or are untracked (results/ excluded: the
    run's own outputs). `dirty: true` means the numbers come from code that is not committed."""
    commit = (_git("rev-parse", "HEAD") or "").strip() or None
    status = _git("status", "--porcelain", "--", ".", ":(exclude)examples/benchmarks/results")
    changed = [line[3:] for line in status.splitlines()] if status else []
    return {"commit": commit, "dirty": bool(changed) if status is not None else None,
            "changed": changed}  # fmt: skip


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def provenance() -> dict:
    """What a reader needs to rerun this result and to judge its timings."""
    cuda = torch.cuda.is_available()
    return {
        "git": GIT,
        "command": shlex.join(["python", *sys.argv]),
        "argv": sys.argv,
        "cwd": os.getcwd(),
        "started": STARTED,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "processor": platform.processor(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
            "cuda": torch.cuda.get_device_name(0) if cuda else None,
        },
        "versions": {
            "python": platform.python_version(),
            "histcast": _histcast_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
        },
        "env": {k: os.environ[k] for k in ("HISTCAST_DATA", "OMP_NUM_THREADS") if k in os.environ},
        "data": {
            str(p / f.name): _sha256(f) for p in _DATA for f in sorted(p.iterdir()) if f.is_file()
        },
    }


def _histcast_version() -> str:
    import histcast

    return histcast.__version__


def resolved_params(model) -> dict:
    """The parameters a fitted model actually ran with: `get_params()` (the constructor
    arguments as the user set them, e.g. `margin="auto"`) and what `fit` resolved them to:
    every scalar fitted attribute (`margin_`, `val_size_`, `outside_share_`, a baseline's
    season length...), the inferred `freq_`, and a `HistForecaster`'s network `config_` (with
    its context length and patch size) and number of training steps."""
    fitted = {
        k: v
        for k, v in vars(model).items()
        if k.endswith("_") and not k.startswith("_")
        and (v is None or isinstance(v, bool | int | float | str | np.generic))
    }  # fmt: skip
    if hasattr(model, "freq_"):
        fitted["freq_"] = getattr(model.freq_, "freqstr", model.freq_)
    if hasattr(model, "config_"):
        fitted["config_"] = model.config_.to_dict()
    if getattr(model, "history_", None):
        fitted["steps_"] = model.history_[-1]["steps"]
    return {"class": type(model).__name__, "params": model.get_params(), "fitted": fitted}


def write(name: str, payload: dict, params: dict) -> Path:
    """Write results/<name>.json: `{"meta": provenance(), "params": params, **payload}`.

    `params` is what the script ran: its arguments and the resolved parameters of every model
    (`resolved_params`), never defaults read back from an object after the fact."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    record = {"meta": provenance(), "params": params, **payload}
    path.write_text(json.dumps(record, indent=2, default=_jsonable) + "\n")
    print(f"wrote {path}")
    return path


def _jsonable(x):
    """json.dumps fallback: numpy scalars and arrays, and anything else as its string."""
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)


def print_table(rows: list[dict], cols: list[str]) -> None:
    """Print the `cols` of `rows` as a fixed-width table (strings left, numbers right)."""
    print(" ".join(f"{c:>12}" for c in cols))
    for r in rows:
        cells = [f"{r[c]:>12}" if isinstance(r[c], str) else f"{r[c]:12.4g}" for c in cols]
        print(" ".join(cells))


def best_epoch(history: list[dict]) -> int | None:
    """Epoch (1-based) of the best validation CRPS; None when the fit held nothing out."""
    val = np.array([r["val_crps"] for r in history])
    return None if np.isnan(val).all() else int(np.nanargmin(val)) + 1


GIT = git_state()  # at import, i.e. when the run starts: the code it loaded
