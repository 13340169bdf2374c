"""Recalibration on small data: the statsmodels sets, with and without `calibration`.

On the four small sets shipped inside statsmodels (co2 weekly, sunspots and nile yearly,
macrodata quarterly) the default budget passes over the windows more than 100 times, so
`val_size="auto"` holds out the last horizon of each series and stops early on it;
`calibration="auto"` also recalibrates the histograms on it. Each set is backtested on its
last 3 windows of its horizon (`cross_validation(h, n_windows=3)`, one fit before the first
window) with default settings (`calibration="none"`) and with `calibration="auto"`; WQL, MSIS,
coverage 80/95. `--validation` scores the 3 windows before those instead (the series without
its last 3 horizons), to choose without the last ones.
Writes results/small_sets.json (or small_sets_validation.json).

    python examples/benchmarks/small_sets.py [--seeds 0] [--sets co2 ...] [--validation]
"""

from __future__ import annotations

import argparse
import warnings

from _common import print_table, write

from histcast import cross_validation, evaluate
from histcast.datasets import load_dataset
from histcast.forecaster import HistForecaster

SETS = ["co2", "sunspots", "nile", "macrodata"]
KEYS = ["WQL", "MSIS", "coverage_80", "coverage_95"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--sets", nargs="+", default=SETS, choices=SETS)
    parser.add_argument("--validation", action="store_true")
    args = parser.parse_args()
    rows = []
    for name in args.sets:
        df, info = load_dataset(name)
        if args.validation:  # without the last 3 horizons of each series
            last = df.groupby("unique_id").cumcount(ascending=False) < 3 * info.horizon
            df = df[~last].reset_index(drop=True)
        for seed in args.seeds:
            models = [
                HistForecaster(horizon=info.horizon, seed=seed, verbose=False,
                               calibration="auto", alias="HistTCN calibrated"),
                HistForecaster(horizon=info.horizon, seed=seed, verbose=False),
            ]  # fmt: skip
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cv = cross_validation(models, df, h=info.horizon, n_windows=3)
                table = evaluate(cv, df, season_length=info.season_length)
            for alias, row in table.iterrows():
                rows.append({"set": name, "model": alias, "seed": seed, **row[KEYS].to_dict()})
                print_table(rows[-1:], ["set", "model", "seed", *KEYS])
    print_table(rows, ["set", "model", "seed", *KEYS])
    name = "small_sets_validation" if args.validation else "small_sets"
    write(name, {"rows": rows}, {"script": vars(args)})


if __name__ == "__main__":
    main()
