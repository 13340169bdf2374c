"""HistGRU against seasonal naive on the official M4 hourly split (train -> next 48 hours).

python examples/backtest_m4.py --data-dir ../shared/data   # or set HISTCAST_DATA
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from histcast import HistForecaster, evaluate
from histcast.baselines import SeasonalNaive
from histcast.datasets import load_m4


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=None, help="folder with m4_hourly/ (HISTCAST_DATA)")
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    train, test = load_m4("m4_hourly", args.data_dir)
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
