"""Covariates on real data: does telling histcast what practitioners know help?

* EPF (four day-ahead electricity markets, hourly; covariates all known a day ahead: a load
  forecast, a generation forecast and weekday dummies): a rolling backtest of the last 7 days,
  24 hours at a time (`cross_validation(h=24, n_windows=7)`, the future covariates of each
  window read from the data, as neuralforecast does; histcast fits once, on the data before
  the first window).
* M5 items (8 Walmart items, daily sales; covariates: the sell price and four event dummies,
  known ahead): one 28-day window at the end.

Models: histcast with the covariates (`futr_exog_list`) and without, seasonal naive, ETS and
ARIMA with the same covariates as regressors (statsmodels' `exog`); histcast over several seeds
(mean and std). Both sets are small (4 and 8 series), so histcast runs with small-data settings
(`SMALL`: 600 steps, dropout 0.3, and on EPF a one-week context), fixed by hand and the same
with and without covariates; `--defaults` adds histcast's default settings as well. WQL, MASE,
MSIS, coverage 80/95, scaled CRPS. Writes results/covariates.json and
results/covariates_epf_fan.png (one market's 7 forecast days).

    python examples/benchmarks/covariates.py [--seeds 0 1 2] [--sets epf m5_exog] [--defaults]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from _common import RESULTS, data_dir, print_table, resolved_params, write

from histcast import cross_validation, evaluate
from histcast.datasets import load_dataset
from histcast.evaluation.baselines import ARIMA, ETS, SeasonalNaive
from histcast.forecaster import HistForecaster

KEYS = ["WQL", "MASE", "MSIS", "coverage_80", "coverage_95", "scaled_CRPS"]
SETS = {  # name: backtest (h, n_windows) and the baselines' season length
    "epf": {"h": 24, "n_windows": 7, "season": 24},
    "m5_exog": {"h": 28, "n_windows": 1, "season": 7},
}
SMALL = {  # small-data settings: exactly 600 steps (max_passes=None: not cut by the data rule)
    "epf": {"context_length": 168, "max_steps": 600, "dropout": 0.3, "max_passes": None},
    "m5_exog": {"max_steps": 600, "dropout": 0.3, "max_passes": None},
}
FAN_MARKET = "DE"


def run(models, df, spec):
    """Backtest `models` on `df`: (cv frame, fitted clones, seconds for all of them)."""
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' convergence notes, "cannot use covariates"
        cv, fitted = cross_validation(
            models, df, h=spec["h"], n_windows=spec["n_windows"], return_models=True
        )
    return cv, fitted, time.perf_counter() - t0


def scores(cv, df, info) -> dict:
    table = evaluate(cv, df, season_length=info.season_length)
    return {alias: row[KEYS].to_dict() for alias, row in table.iterrows()}


def one_set(name, args):
    df, info = load_dataset(name, data_dir(name))
    spec, exog = SETS[name], list(info.futr_exog)
    settings = [("", SMALL[name])] + ([(" (defaults)", {})] if args.defaults else [])
    rows, params, fan = [], {}, None
    for seed in args.seeds:
        models = []
        for suffix, kw in settings:
            models += [
                HistForecaster(horizon=spec["h"], seed=seed, verbose=False, futr_exog_list=exog,
                               alias=f"HistTCN+exog{suffix}", **kw),
                HistForecaster(horizon=spec["h"], seed=seed, verbose=False,
                               alias=f"HistTCN{suffix}", **kw),
            ]  # fmt: skip
        cv, fitted, seconds = run(models, df, spec)
        for alias, s in scores(cv, df, info).items():
            rows.append({"set": name, "model": alias, "seed": seed, **s, "run_seconds": seconds})
            print_table(rows[-1:], ["set", "model", "seed", "WQL", "MASE", "MSIS", "coverage_80"])
        params.update({f"{m.alias_} seed {seed}": resolved_params(m) for m in fitted})
        fan = cv if fan is None else fan
    baselines = [
        SeasonalNaive(horizon=spec["h"], season_length=spec["season"]),
        ETS(horizon=spec["h"], season_length=spec["season"]),
        ARIMA(horizon=spec["h"], season_length=spec["season"], futr_exog_list=exog,
              alias="ARIMA+exog"),
    ]  # fmt: skip
    cv, fitted, seconds = run(baselines, df, spec)
    for alias, s in scores(cv, df, info).items():
        rows.append({"set": name, "model": alias, "seed": None, **s, "run_seconds": seconds})
    params.update({m.alias_: resolved_params(m) for m in fitted})
    return rows, params, fan


def summary(rows) -> list[dict]:
    """Mean and std over seeds per (set, model), and covariates' relative WQL change per seed."""
    frame = pd.DataFrame(rows)
    out = []
    for (name, model), g in frame.groupby(["set", "model"], sort=False):
        row = {"set": name, "model": model, "n_seeds": int(g["seed"].notna().sum())}
        for k in KEYS:
            row[k], row[f"{k}_std"] = float(g[k].mean()), float(g[k].std()) if len(g) > 1 else 0.0
        out.append(row)
    for suffix in ("", " (defaults)"):
        pair = [f"HistTCN+exog{suffix}", f"HistTCN{suffix}"]
        for name, g in frame[frame["model"].isin(pair)].groupby("set", sort=False):
            w = g.pivot(index="seed", columns="model", values="WQL")
            change = (w[pair[0]] / w[pair[1]] - 1).to_numpy()
            std = float(np.std(change, ddof=1)) if len(change) > 1 else 0.0
            out.append({"set": name, "model": f"WQL change with covariates{suffix}",
                        "n_seeds": len(change), "per_seed": change.tolist(),
                        "mean": float(np.mean(change)), "std": std})  # fmt: skip
    return out


def fan_chart(cv, df, path) -> None:
    from histcast.evaluation.plots import fan_chart as plot

    history = df[["unique_id", "ds", "y"]]
    fig = plot(history, cv, "HistTCN+exog", ids=[FAN_MARKET], n_history=72)
    fig.axes[0].set_title(
        f"EPF {FAN_MARKET}: 7 day-ahead forecasts with covariates (mean, 20/40/60/80% intervals)",
        fontsize=9, loc="left",
    )  # fmt: skip
    fig.set_size_inches(10, 3.2)
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--defaults", action="store_true", help="also histcast's defaults")
    args = parser.parse_args()
    rows, params = [], {"script": vars(args)}
    for name in args.sets:
        if data_dir(name) is None:
            continue
        set_rows, set_params, fan = one_set(name, args)
        rows += set_rows
        params[name] = set_params
        if name == "epf":
            fan_chart(
                fan, load_dataset(name, data_dir(name))[0], RESULTS / "covariates_epf_fan.png"
            )
    table = summary(rows)
    print_table([r for r in table if "WQL" in r], ["set", "model", *KEYS])
    for r in table:
        if "per_seed" in r:
            print(f"{r['set']}: {r['model']} {r['mean']:+.1%} (per seed "
                  f"{', '.join(f'{c:+.1%}' for c in r['per_seed'])})")  # fmt: skip
    write("covariates", {"sets": SETS, "small": SMALL, "runs": rows, "summary": table}, params)


if __name__ == "__main__":
    main()
