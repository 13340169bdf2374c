"""Choose defaults on M4 hourly without touching its test set: the last 48 points of every
training series become a validation target, the model is fit on what comes before (rows before
2026-11-28 held out another 48 inside that for early stopping; the default now holds out
nothing), and the validation forecasts are scored like the benchmark.
Each run appends one row (settings, metrics, seconds) to results/m4_hourly_tuning.json; rows
this version writes also carry the resolved parameters (`params`) and how to rerun them (`meta`:
commit, command line, date, machine); older rows have `settings` only.

    python examples/benchmarks/m4_hourly_tuning.py context_length=336 n_bins=100 [--seed 0]

`--fold 1` validates on the 48 points before those instead (a second, independent check).
"""

from __future__ import annotations

import argparse
import json
import time

import pandas as pd
from _common import RESULTS, best_epoch, data_dir, print_table, provenance, resolved_params

from histcast import evaluate
from histcast.datasets import load_m4
from histcast.evaluation.metrics import crps_histogram
from histcast.forecaster import HistForecaster

COLS = ["WQL", "MASE", "MSIS", "coverage_80", "scaled_CRPS", "epochs", "seconds"]


def parse(pairs: list[str]) -> dict:
    """`key=value` pairs -> kwargs (values parsed as JSON when they can be, else strings)."""
    out = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def split(train, h: int, fold: int = 0):
    """(fit part, `h` validation points of each series, cutoff per series). Fold 0 validates on
    the last `h` points, fold f on the `h` points ending f x h before the end (dropped after)."""
    pos = train.groupby("unique_id").cumcount(ascending=False) - fold * h
    fit, valid = train[pos >= h], train[(pos >= 0) & (pos < h)]
    return fit, valid, fit.groupby("unique_id")["ds"].max().rename("cutoff")


def fit_and_score(model, fit, valid, cutoff, **fit_kwargs) -> tuple[dict, float, pd.DataFrame]:
    """Fit on `fit` (with `fit_kwargs`, e.g. a `teacher`), forecast, score on `valid`:
    (metrics, fit + forecast seconds, cv frame)."""
    t0 = time.perf_counter()
    fc = model.fit(fit, **fit_kwargs).forecast()
    seconds = time.perf_counter() - t0
    dist, index = model.predict_distribution()
    y = index.merge(valid, on=["unique_id", "ds"], how="left")["y"].to_numpy()
    fc[f"{model.alias_}-crps"] = crps_histogram(dist, y)
    cv = valid.merge(fc, on=["unique_id", "ds"]).merge(cutoff, on="unique_id")
    return evaluate(cv, fit, season_length=24).iloc[0].to_dict(), seconds, cv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("settings", nargs="*")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fold", type=int, default=0, help="validation window, 0 = the last")
    parser.add_argument("--tag", default="")
    parser.add_argument("--save", help="write the validation forecasts to this CSV")
    args = parser.parse_args()
    root = data_dir()
    if root is None:
        return
    settings = parse(args.settings)
    fit, valid, cutoff = split(load_m4("m4_hourly", root)[0], 48, args.fold)
    model = HistForecaster(horizon=48, seed=args.seed, verbose=False, **settings)
    metrics, seconds, cv = fit_and_score(model, fit, valid, cutoff)
    if args.save:
        cv.to_csv(args.save, index=False)
    hist = model.history_
    row = {
        "tag": args.tag, "settings": settings, "seed": args.seed, "fold": args.fold, **metrics,
        "epochs": len(hist), "steps": hist[-1]["steps"], "seconds": seconds,
        "best_epoch": best_epoch(hist),
        "context_length": model.config_.context_length,
        "params": resolved_params(model), "meta": provenance(),
    }  # fmt: skip
    print(settings)
    print_table([row], COLS)
    path = RESULTS / "m4_hourly_tuning.json"
    rows = json.loads(path.read_text()) if path.exists() else []
    path.write_text(json.dumps([*rows, row], indent=1, default=float) + "\n")


if __name__ == "__main__":
    main()
