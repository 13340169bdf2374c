"""Seasonal naive on the official M4 hourly split: a check of our metric code.

Published (statsforecast, Chronos benchmark): MASE 1.193, WQL about 0.038 with this quantile
construction. Writes results/m4_snaive.json.

    python examples/benchmarks/m4_snaive.py
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
from _common import data_dir, resolved_params, write

from histcast import evaluate
from histcast.datasets import load_m4
from histcast.evaluation.baselines import SeasonalNaive


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    root = data_dir()
    if root is None:
        return
    train, test = load_m4("m4_hourly", root)
    t0 = time.perf_counter()
    model = SeasonalNaive(horizon=48, season_length=24)
    fc = model.fit(train).forecast()
    seconds = time.perf_counter() - t0
    cutoff = train.groupby("unique_id")["ds"].max().rename("cutoff")
    cv = test.merge(fc, on=["unique_id", "ds"]).merge(cutoff, on="unique_id")
    table = evaluate(cv, train, season_length=24)
    with pd.option_context("display.width", 160):
        print(table.round(4).to_string())
    row = table.loc["SeasonalNaive"].to_dict()
    print(f"published: MASE 1.193, WQL ~0.038; ours: MASE {row['MASE']:.3f}, WQL {row['WQL']:.4f}")
    write("m4_snaive", {"dataset": "m4_hourly", "seconds": seconds, "metrics": row,
                        "published": {"MASE": 1.193, "WQL": 0.038}},
          {"model": resolved_params(model)})  # fmt: skip


if __name__ == "__main__":
    main()
