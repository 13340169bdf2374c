"""The multi-dataset suite: histcast's default settings next to the library's ETS, Theta and
seasonal naive, with one scorer, on every set with an official test split (M4 hourly, M1
monthly, M3 quarterly and yearly, tourism quarterly) and the exchange rates with GluonTS's split
(the last 5 windows of 30 days, one fit before the first). WQL, MASE, MSIS, coverage 80/95, fit
seconds; the best published figures (Chronos paper, Tables 9-10) beside each set.

Each set is one entry of results/suite.json (a rerun of one set replaces only its entry) and
one calibration plot, results/suite_<set>_calibration.png (share of actuals below each quantile
against its level, per model).

    python examples/benchmarks/suite.py                     # every set, 3 seeds
    python examples/benchmarks/suite.py --sets m3_yearly    # one set
    python examples/benchmarks/suite.py --sets m1_monthly --seeds 0 --baselines ets

`--validation` scores on the validation split instead (each training series without its last
h points, scored on them; the exchange rates without their 5 test windows), to choose
settings without the test sets; `--validation 1` on a second fold one horizon earlier (the
last 2h points of each training series cut, scored on the first h of them; the exchange rates
without 10 windows); `--hist key=value ...` sets HistForecaster arguments (its
rows are named after them) and `--name` the results file.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd
import torch
from _common import RESULTS, data_dir, print_table, resolved_params, write

from histcast import cross_validation, evaluate
from histcast.datasets import FROM_DIR, load_dataset, load_split
from histcast.evaluation.baselines import MODELS as BASELINES
from histcast.evaluation.levels import LEVELS
from histcast.evaluation.metrics import crps_histogram
from histcast.forecaster import HistForecaster

SETS = ["m1_monthly", "m3_quarterly", "m3_yearly", "tourism_quarterly", "m4_hourly",
        "exchange_rate"]  # fmt: skip
PUBLISHED = {  # best published WQL / MASE on the same split (shared/data/README.md)
    "m1_monthly": {"WQL": 0.128, "MASE": 1.023, "source": "Chronos-T5-Base / SCUM"},
    "m3_quarterly": {"WQL": 0.069, "MASE": 1.125, "source": "AutoETS / AutoETS"},
    "m3_yearly": {"WQL": 0.122, "MASE": 2.613, "source": "DeepAR / AutoTheta"},
    "tourism_quarterly": {"WQL": 0.061, "MASE": 1.501, "source": "AutoTheta / SCUM"},
    "m4_hourly": {"WQL": 0.020, "MASE": 0.788, "source": "Chronos-Bolt-Small / Chronos-2"},
    "exchange_rate": {"WQL": None, "MASE": None, "source": "not in the Chronos tables"},
}
EXCHANGE = {"h": 30, "n_windows": 5}  # GluonTS: prediction length 30, 5 rolling test windows
KEYS = ["WQL", "MASE", "MSIS", "coverage_80", "coverage_95", "scaled_CRPS", "sMAPE"]


def split_scores(model, train, test, season) -> tuple[pd.DataFrame, dict, float]:
    """Fit on `train`, forecast the next h points, score on `test`: (cv frame, scores, s)."""
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fc = model.fit(train).forecast(quantiles=LEVELS, level=(80, 95))
    seconds = time.perf_counter() - t0
    if hasattr(model, "predict_distribution"):
        dist, index = model.predict_distribution()
        y = index.merge(test, on=["unique_id", "ds"], how="left")["y"].to_numpy()
        fc[f"{model.alias_}-crps"] = crps_histogram(dist, y)
    cutoff = train.groupby("unique_id")["ds"].max().rename("cutoff")
    cv = test.merge(fc, on=["unique_id", "ds"]).merge(cutoff, on="unique_id")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = evaluate(cv, train, season_length=season).iloc[0].to_dict()
    return cv, scores, seconds


def rolling_scores(model, df, season) -> tuple[pd.DataFrame, dict, float]:
    """GluonTS-style rolling test: one fit before the first of 5 windows of 30 steps."""
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = cross_validation(model, df, **EXCHANGE)
        seconds = time.perf_counter() - t0
        scores = evaluate(cv, df, season_length=season).iloc[0].to_dict()
    return cv, scores, seconds


def validation_split(df: pd.DataFrame, h: int, fold: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each series without its last (fold + 1) h points, and the first h of those points;
    series that would keep fewer than 2 points are left out of the fold."""
    back = df.groupby("unique_id").cumcount(ascending=False)
    cut = (fold + 1) * h
    df = df[df.groupby("unique_id")["y"].transform("size") >= cut + 2]
    back = back[df.index]
    test = (back >= fold * h) & (back < cut)
    return df[back >= cut].reset_index(drop=True), df[test].reset_index(drop=True)


def hist_params(items: list[str]) -> dict:
    """`key=value` strings -> HistForecaster arguments (values read as JSON when they parse)."""
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def run_set(name: str, seeds, baselines, validation=None, extra=None, prefix="suite") -> dict:
    """Score `name`'s test split, or validation fold `validation` (0, 1) when given."""
    info, extra = FROM_DIR[name], extra or {}
    if name == "exchange_rate":
        df, _ = load_dataset(name, data_dir(name))
        h = EXCHANGE["h"]
        if validation is not None:
            df = validation_split(df, h * EXCHANGE["n_windows"] * (validation + 1))[0]

        def score(m):
            return rolling_scores(m, df, info.season_length)
    else:
        train, test = load_split(name, data_dir(name))
        h = info.horizon
        if validation is not None:
            train, test = validation_split(train, h, validation)

        def score(m):
            return split_scores(m, train, test, info.season_length)

    rows, cvs = [], {}
    for seed in seeds:
        torch.manual_seed(seed)
        alias = "HistTCN" + "".join(f" {k}={v}" for k, v in extra.items())
        model = HistForecaster(horizon=h, seed=seed, verbose=False, alias=alias, **extra)
        cv, scores, seconds = score(model)
        # a backtest fits clones: the rolling set records the arguments only
        params = model.get_params() if name == "exchange_rate" else resolved_params(model)
        rows.append(
            {
                "model": model.alias_,
                "seed": seed,
                **scores,
                "fit_seconds": seconds,
                "params": params,
            }
        )
        cvs.setdefault(model.alias_, cv)
        print_table(rows[-1:], ["model", "seed", *KEYS[:5], "fit_seconds"])
    for key in baselines:
        model = BASELINES[key](horizon=h, season_length=info.season_length)
        cv, scores, seconds = score(model)
        rows.append({"model": model.alias_, "seed": None, **scores, "fit_seconds": seconds,
                     "params": model.get_params()})  # fmt: skip
        cvs[model.alias_] = cv
        print_table(rows[-1:], ["model", *KEYS[:5], "fit_seconds"])
    calibration_plot(name, cvs, prefix)
    return {"horizon": h, "season_length": info.season_length, "rows": rows,
            "summary": summarise(rows), "published": PUBLISHED[name]}  # fmt: skip


def summarise(rows: list[dict]) -> list[dict]:
    """Mean and std over seeds per model (baselines: their one run)."""
    frame = pd.DataFrame(rows)
    out = []
    for model, part in frame.groupby("model", sort=False):
        row = {"model": model, "runs": len(part)}
        for k in [*KEYS, "fit_seconds"]:
            row[k] = float(part[k].mean())
            if len(part) > 1:
                row[f"{k}_std"] = float(part[k].std())
        out.append(row)
    return out


def calibration_plot(name: str, cvs: dict, prefix: str = "suite") -> None:
    """Share of actuals at or below each quantile forecast against its level, per model."""
    try:
        from histcast.evaluation.plots import reliability_diagram
    except ImportError:
        return
    frames = [cv for cv in cvs.values()]
    merged = frames[0][["unique_id", "ds", "y"]]
    for alias, cv in cvs.items():
        cols = [c for c in cv.columns if c.startswith(f"{alias}-q-")]
        merged = merged.merge(cv[["unique_id", "ds", *cols]], on=["unique_id", "ds"])
    fig = reliability_diagram(merged, list(cvs), LEVELS)
    fig.axes[0].set_title(f"Reliability: {name}")
    fig.savefig(RESULTS / f"{prefix}_{name}_calibration.png", dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", default=SETS, choices=SETS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--baselines", default="ets,theta,snaive",
                        help="comma list from " + ",".join(BASELINES))  # fmt: skip
    parser.add_argument("--validation", type=int, nargs="?", const=0, default=None,
                        help="score validation fold 0 (the default) or 1")  # fmt: skip
    parser.add_argument("--hist", nargs="*", default=[], help="HistForecaster key=value")
    parser.add_argument("--name", default=None, help="results file (suite / suite_validation)")
    parser.add_argument("--keep-baselines", action="store_true",
                        help="keep the baselines' rows of a set's previous run")  # fmt: skip
    args = parser.parse_args()
    baselines = [b for b in args.baselines.split(",") if b]
    name_ = args.name or ("suite" if args.validation is None else "suite_validation")
    path = RESULTS / f"{name_}.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    sets = dict(old.get("sets", {}))
    for name in args.sets:
        if data_dir(name) is None:
            continue
        print(f"\n== {name}")
        extra = hist_params(args.hist)
        entry = run_set(name, args.seeds, baselines, args.validation, extra, name_)
        if args.keep_baselines and name in sets:  # the baselines' rows of the previous run
            kept = [r for r in sets[name]["rows"] if r["seed"] is None]
            entry["rows"] += [
                r for r in kept if r["model"] not in {x["model"] for x in entry["rows"]}
            ]
            entry["summary"] = summarise(entry["rows"])
        sets[name] = {**entry, "command_args": vars(args)}
        print_table(sets[name]["summary"], ["model", *KEYS[:5], "fit_seconds"])
    params = {"script": vars(args), "defaults": HistForecaster(horizon=1).get_params()}
    write(name_, {"sets": sets}, params)
    cols = ["set", "model", "WQL", "MASE", "MSIS", "coverage_80", "coverage_95", "fit_seconds"]
    print_table(overview(sets), [*cols, "best WQL", "best MASE"])


def overview(sets: dict) -> list[dict]:
    out = []
    for name, entry in sets.items():
        pub = entry["published"]
        best = {"best WQL": pub["WQL"] or np.nan, "best MASE": pub["MASE"] or np.nan}
        for row in entry["summary"]:
            keys = ["model", "WQL", "MASE", "MSIS", "coverage_80", "coverage_95", "fit_seconds"]
            out.append({"set": name, **{k: row.get(k, np.nan) for k in keys}, **best})
    return out


if __name__ == "__main__":
    main()
