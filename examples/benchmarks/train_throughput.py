"""Training throughput, peak memory and forecast latency on M4 hourly (414 series, h=48).

For `HistForecaster(horizon=48)`'s default network (TCN encoder) and the same with
`encoder="gru"`, trained for a budget of `--steps` steps (`max_epochs=steps // 50`, so the
cosine schedule spans them; no early stopping): windows per second, the peak resident memory of
the process so far (the TCN row includes the GRU run before it), and the time to forecast all
414 series. Writes results/train_throughput.json.

    python examples/benchmarks/train_throughput.py [--steps 200]
"""

from __future__ import annotations

import argparse
import resource
import time

from _common import data_dir, print_table, resolved_params, write

from histcast.datasets import load_m4
from histcast.forecaster import HistForecaster


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    root = data_dir()
    if root is None:
        return
    train, _ = load_m4("m4_hourly", root)
    rows = []
    for encoder in ("gru", "tcn"):
        model = HistForecaster(
            horizon=48, encoder=encoder, max_epochs=args.steps // 50, steps_per_epoch=50,
            early_stopping_patience=10**6, verbose=False,
        )  # fmt: skip
        t0 = time.perf_counter()
        model.fit(train)
        fit_s = time.perf_counter() - t0
        train_s = sum(r["seconds"] for r in model.history_)
        steps = model.history_[-1]["steps"]
        t0 = time.perf_counter()
        fc = model.forecast()
        forecast_s = time.perf_counter() - t0
        rows.append(
            {
                "encoder": encoder,
                "context_length": model.config_.context_length,
                "patch_size": model.config_.patch_size,
                "n_bins": model.config_.n_bins,
                "batch_size": model.batch_size,
                "steps": steps,
                "train_seconds": train_s,
                "fit_seconds_total": fit_s,
                "windows_per_second": steps * model.batch_size / train_s,
                "seconds_per_step": train_s / steps,
                "forecast_seconds_414_series": forecast_s,
                "forecast_rows": len(fc),
                "peak_rss_mb": peak_rss_mb(),
                "params": resolved_params(model),
            }
        )
    print_table(rows, ["encoder", "windows_per_second", "seconds_per_step", "fit_seconds_total",
                       "forecast_seconds_414_series", "peak_rss_mb"])  # fmt: skip
    write("train_throughput", {"dataset": "m4_hourly", "rows": rows}, {"script": vars(args)})


if __name__ == "__main__":
    main()
