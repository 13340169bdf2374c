"""Helpers that make error messages read as the user wrote the values."""

from __future__ import annotations

import numpy as np


def show(value):
    """A numpy scalar as the Python value it holds, so that messages read 'a' or 3."""
    return value.item() if isinstance(value, np.generic) else value


def example(ids: np.ndarray, bad: np.ndarray) -> str:
    """ "e.g. in series X", X the first id where `bad`."""
    return f"e.g. in series {show(ids[np.flatnonzero(bad)[0]])!r}"
