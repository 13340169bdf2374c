"""Helpers shared by the benchmark scripts: where the data is, how results are written."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

import numpy as np
import torch

RESULTS = Path(__file__).parent / "results"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def data_dir() -> Path | None:
    """HISTCAST_DATA, else ../shared/data next to the checkout; None (with a message) if absent."""
    root = Path(os.environ.get("HISTCAST_DATA", SHARED))
    if not (root / "m4_hourly").exists():
        print(f"skipped: no M4 hourly data under {root} (set HISTCAST_DATA)", file=sys.stderr)
        return None
    return root


def write(name: str, payload: dict) -> Path:
    meta = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"meta": meta, **payload}, indent=2, default=float) + "\n")
    print(f"wrote {path}")
    return path


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
