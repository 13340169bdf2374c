"""A large panel on the CPU: 50,000 hourly series x 1,000 points (50 million rows).

Phases, each timed with the process's peak resident memory after it (the peak is reset before
each phase through /proc/self/clear_refs where Linux allows it):

1. validation and packing (`panel.from_frame`: column checks, sorting, duplicate and regularity
   checks, the float64 packed arrays);
2. `HistForecaster.fit` for one epoch (`steps_per_epoch` = 50 batches of 256 windows) after its
   own validation, packing and robust series ranges;
3. forecasting every series (`predict_distribution`: 50,000 x H histograms of 200 bins) and the
   quantile frame (`forecast`).

Memory: the peak resident size during the phase, and `extra_mb`, the peak less the resident
size when the phase began (what the phase itself needed), compared with the packed arrays
(values float64, timestamps int64, offsets).
Writes results/large_panel.json.

    python examples/benchmarks/large_panel.py [--series 50000] [--length 1000]
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import print_table, resolved_params, write

from histcast.data.panel import Columns, from_frame
from histcast.forecaster import HistForecaster

CLEAR_REFS = Path("/proc/self/clear_refs")


def panel_frame(n_series: int, length: int, seed: int = 0) -> pd.DataFrame:
    """Daily- and weekly-seasonal hourly series of random levels, in long format."""
    rng = np.random.default_rng(seed)
    level = rng.uniform(10, 100, (n_series, 1)).astype(np.float32)
    t = np.arange(length, dtype=np.float32)
    y = level * (1 + 0.3 * np.sin(2 * np.pi * t / 24) + 0.1 * np.sin(2 * np.pi * t / 168))
    y += 0.05 * level * rng.standard_normal((n_series, length), dtype=np.float32)
    ids = pd.Categorical.from_codes(
        np.repeat(np.arange(n_series), length), [f"S{i}" for i in range(n_series)]
    )
    ds = pd.date_range("2020-01-01", periods=length, freq="h")
    return pd.DataFrame({"unique_id": ids.astype(str), "ds": np.tile(ds, n_series), "y": y.ravel()})


def reset_peak() -> bool:
    try:
        CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def status_mb(key: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_mb() -> float:
    """Peak resident memory since the last reset (VmHWM), else since the start (ru_maxrss)."""
    return status_mb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase(rows, name, fn):
    reset_peak()
    before = status_mb("VmRSS") or 0.0
    t0 = time.perf_counter()
    out = fn()
    seconds, peak = time.perf_counter() - t0, peak_mb()
    rows.append({"phase": name, "seconds": seconds, "peak_mb": peak, "extra_mb": peak - before})
    print_table(rows[-1:], ["phase", "seconds", "peak_mb", "extra_mb"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=50_000)
    parser.add_argument("--length", type=int, default=1_000)
    parser.add_argument("--horizon", type=int, default=24)
    args = parser.parse_args()
    rows = []
    df = phase(rows, "build the frame (no target)", lambda: panel_frame(args.series, args.length))
    frame_mb = df.memory_usage(deep=True).sum() / 2**20
    panel = phase(rows, "validation + packing", lambda: from_frame(df, Columns(), None))
    packed_mb = (panel.values.nbytes + panel.ds.nbytes + panel.indptr.nbytes) / 2**20
    del panel
    model = HistForecaster(horizon=args.horizon, max_epochs=1, verbose=False, val_size=0)
    phase(rows, "fit: validation, packing, 1 epoch", lambda: model.fit(df))
    dist = phase(rows, "forecast every series (histograms)", lambda: model.predict_distribution())
    del dist
    fc = phase(rows, "forecast every series (quantile frame)", lambda: model.forecast())
    for row in rows:
        row["extra_over_packed"] = row["extra_mb"] / packed_mb
    print_table(rows, ["phase", "seconds", "peak_mb", "extra_mb", "extra_over_packed"])
    print(f"frame {frame_mb:.0f} MB, packed arrays {packed_mb:.0f} MB, {len(fc)} forecast rows")
    payload = {
        "rows": rows,
        "frame_mb": frame_mb,
        "packed_mb": packed_mb,
        "peak_reset": reset_peak(),
        "n_rows": len(df),
        "training_steps": model.history_[-1]["steps"],
    }
    write("large_panel", payload, {"script": vars(args), "model": resolved_params(model)})


if __name__ == "__main__":
    main()
