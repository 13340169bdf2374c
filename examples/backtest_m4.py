"""histcast's default model against seasonal naive on the official M4 hourly split: fit on the
training set, forecast the next 48 hours, score the test set with `histcast.evaluate` (WQL,
MASE and MSIS with m=24, sMAPE, coverage, ...).

The model is `HistForecaster(horizon=48, max_epochs=30)`: the default network (TCN encoder) with
half the default budget of 60 epochs x 50 steps (about 100 s on 2 CPU cores; `--epochs 60` is
the setting `examples/benchmarks/m4_hourly.py` reports). Data: `--data-dir` or HISTCAST_DATA,
a folder with `m4_hourly/` (`histcast.datasets.download("m4_hourly", folder)` fetches it).

    python examples/backtest_m4.py --data-dir ../shared/data   # or set HISTCAST_DATA
"""

from __future__ import annotations

import argparse
import sys
import time

import pandas as pd

from histcast import HistForecaster, evaluate
from histcast.datasets import load_m4
from histcast.evaluation.baselines import SeasonalNaive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="folder with m4_hourly/ (HISTCAST_DATA)")
    parser.add_argument("--epochs", type=int, default=30, help="epochs of 50 steps (default 60)")
    args = parser.parse_args()
    try:
        train, test = load_m4("m4_hourly", args.data_dir)
    except FileNotFoundError as err:
        print(f"skipped: {err}", file=sys.stderr)
        return
    cutoff = train.groupby("unique_id")["ds"].max().rename("cutoff")
    cv = test.merge(cutoff, on="unique_id")
    for model in (HistForecaster(horizon=48, max_epochs=args.epochs), SeasonalNaive(horizon=48)):
        t0 = time.perf_counter()
        fc = model.fit(train).forecast()
        print(f"{model.alias_}: {time.perf_counter() - t0:.0f}s")
        cv = cv.merge(fc, on=["unique_id", "ds"])
    with pd.option_context("display.width", 160):
        print(evaluate(cv, train, season_length=24).round(4).to_string())


if __name__ == "__main__":
    main()
