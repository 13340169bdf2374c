"""Ensembles and distillation: one default model, the exact mixtures of 3 and 5, and students
distilled from the mixture of 5, on sets with an official test split (default M4 hourly).

Per row seed r the five members have seeds 5r .. 5r+4 (`HistEnsemble`); the single model is
member 0 and the ensemble of 3 is members 0-2, so the rows are paired; the rows "any member"
score each of the five (their `seed` is the member's, `run` is r: the single model's mean and
spread over networks, the reference an ensemble must beat). The students use seed
5r and learn from the ensemble of 5 of the same r (`HistForecaster(distill_alpha=a)
.fit(train, teacher=ensemble)`): a = 0.5 and a = 1 at the default size, and a smaller network
(`--small`: hidden size 32, 100 bins, step skip 8: 44% of the parameters on M4 hourly)
with and without the teacher. Scores: WQL, MASE, MSIS, coverage, CRPS on the official test
set; fit and forecast seconds (an ensemble's fit is the sum of its members'; a student's
includes the teacher's forward passes, not the teacher's fit) and parameter counts. One entry
per set in results/ensemble.json, rewritten after every row: a run replaces the rows of its own
seeds and keeps the others (each row records the commit it ran at), so seeds can be run in
separate sessions and an interrupted run keeps its finished rows.

    python examples/benchmarks/ensemble.py                          # M4 hourly, seeds 0 1 2
    python examples/benchmarks/ensemble.py --sets m1_monthly m3_quarterly
    python examples/benchmarks/ensemble.py --max-steps 20 --seeds 0 --results-dir /tmp/ens
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import _common
import pandas as pd
from _common import data_dir, print_table, resolved_params, write

from histcast import evaluate
from histcast.datasets import FROM_DIR, load_split
from histcast.ensemble import HistEnsemble
from histcast.evaluation.levels import INTERVALS, LEVELS
from histcast.evaluation.metrics import crps_histogram
from histcast.forecaster import HistForecaster
from histcast.frames import forecast_frame

SETS = ["m4_hourly", "m1_monthly", "m3_quarterly", "m3_yearly", "tourism_quarterly"]
KEYS = ["WQL", "MASE", "MSIS", "coverage_80", "coverage_95", "scaled_CRPS", "sMAPE"]
SMALL = {"hidden_size": 32, "n_bins": 100, "step_skip": 8}  # 44% of the default's parameters


def score(model, train, test, season) -> tuple[dict, float]:
    """Forecast from a fitted model, score on `test`: (scores, forecast seconds: histograms
    and the forecast frame's quantiles)."""
    t0 = time.perf_counter()
    dist, index = model.predict_distribution()
    fc = forecast_frame(index, dist, model.alias_, LEVELS, INTERVALS)
    seconds = time.perf_counter() - t0
    y = index.merge(test, on=["unique_id", "ds"], how="left")["y"].to_numpy()
    fc[f"{model.alias_}-crps"] = crps_histogram(dist, y)
    cutoff = train.groupby("unique_id")["ds"].max().rename("cutoff")
    cv = test.merge(fc, on=["unique_id", "ds"]).merge(cutoff, on="unique_id")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = evaluate(cv, train, season_length=season).iloc[0].to_dict()
    return {**scores, "mixture_bins": dist.n_bins}, seconds


def n_params(model) -> int:
    members = getattr(model, "members_", [model])
    return sum(p.numel() for m in members for p in m.model_.parameters())


def row(name, run, model, fit_seconds, train, test, season, seed=None) -> dict:
    """Score `model` as row `name` of run r (its networks' seeds from 5 r; `seed` names one)."""
    scores, forecast_seconds = score(model, train, test, season)
    members = getattr(model, "members_", [model])
    out = {"model": name, "run": run, "seed": run if seed is None else seed,
           "commit": _common.GIT["commit"], **scores,
           "fit_seconds": fit_seconds,
           "forecast_seconds": forecast_seconds, "n_params": n_params(model),
           "params": [resolved_params(m) for m in members]}  # fmt: skip
    print_table([out], ["model", "seed", *KEYS[:4], "fit_seconds", "forecast_seconds"])
    return out


def run_seed(r: int, train, test, info, args, emit) -> None:
    """Fit and score seed r's rows, passing each to `emit` as soon as it is scored."""
    h, m = info.horizon, info.season_length
    budget = {} if args.max_steps is None else {"max_steps": args.max_steps}
    template = HistForecaster(horizon=h, seed=5 * r, verbose=False, **budget)
    ens5 = HistEnsemble(template, n_members=5).fit(train)
    secs = ens5.fit_seconds_
    ens3 = HistEnsemble(template, n_members=3)
    ens3.members_, ens3.fit_seconds_ = ens5.members_[:3], secs[:3]
    emit(row("single (default)", r, ens5.members_[0], secs[0], train, test, m))
    emit(row("ensemble x3", r, ens3, sum(secs[:3]), train, test, m))
    emit(row("ensemble x5", r, ens5, sum(secs), train, test, m))
    for i, member in enumerate(ens5.members_):  # the single model's spread: 5 networks per r
        emit(row("any member", r, member, secs[i], train, test, m, seed=5 * r + i))
    small = json.loads(args.small)
    size = "small " + ",".join(f"{k}={v}" for k, v in small.items())
    students = {
        "student a=0.5": {"distill_alpha": 0.5},
        "student a=1": {"distill_alpha": 1.0},
        f"{size} (no teacher)": small,
        f"{size} student a={args.small_alpha:g}": {**small, "distill_alpha": args.small_alpha},
    }
    for name, settings in students.items():
        model = HistForecaster(horizon=h, seed=5 * r, verbose=False, **budget, **settings)
        t0 = time.perf_counter()
        model.fit(train, teacher=ens5 if settings.get("distill_alpha") else None)
        emit(row(name, r, model, time.perf_counter() - t0, train, test, m))


def summarise(rows: list[dict]) -> list[dict]:
    """Mean and std over seeds per model."""
    frame = pd.DataFrame(rows)
    out = []
    for model, part in frame.groupby("model", sort=False):
        entry = {"model": model, "runs": len(part)}
        for k in [*KEYS, "fit_seconds", "forecast_seconds", "n_params"]:
            entry[k] = float(part[k].mean())
            if len(part) > 1:
                entry[f"{k}_std"] = float(part[k].std())
        out.append(entry)
    return out


def recorder(sets: dict, name: str, info, args):
    """`emit(row)`: add a row to set `name`'s entry of `sets` (whose rows of other seeds than
    `args.seeds` are kept), re-summarise, and rewrite results/ensemble.json."""
    entry = sets.get(name, {})
    rows = [r for r in entry.get("rows", []) if r.get("run", r["seed"]) not in args.seeds]

    def emit(new: dict) -> None:
        rows.append(new)
        sets[name] = {**entry, "horizon": info.horizon, "season_length": info.season_length,
                      "rows": rows, "summary": summarise(rows),
                      "command_args": vars(args)}  # fmt: skip
        write("ensemble", {"sets": sets}, {"script": vars(args)})

    return emit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", default=["m4_hourly"], choices=SETS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--max-steps", type=int, help="training steps of every network (default: the library's"
        " budget); small values are for a smoke test",
    )  # fmt: skip
    parser.add_argument(
        "--small", default=json.dumps(SMALL), help="the smaller student's settings as JSON"
    )
    parser.add_argument("--small-alpha", type=float, default=0.5)
    parser.add_argument("--results-dir", help="write ensemble.json here instead of results/")
    args = parser.parse_args()
    if args.results_dir:
        _common.RESULTS = Path(args.results_dir)
    path = _common.RESULTS / "ensemble.json"
    sets = dict(json.loads(path.read_text()).get("sets", {})) if path.exists() else {}
    for name in args.sets:
        root = data_dir(name)
        if root is None:
            continue
        print(f"\n== {name}")
        info = FROM_DIR[name]
        train, test = load_split(name, root)
        emit = recorder(sets, name, info, args)
        for seed in args.seeds:
            run_seed(seed, train, test, info, args, emit)
        if name in sets:
            columns = ["model", "runs", *KEYS[:5], "fit_seconds", "forecast_seconds", "n_params"]
            print_table(sets[name]["summary"], columns)


if __name__ == "__main__":
    main()
