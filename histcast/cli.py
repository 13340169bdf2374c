"""Command line: `histcast backtest` and `histcast forecast`."""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from . import datasets
from .backtest import cross_validation, evaluate, model_aliases
from .frames import LEVELS
from .baselines import MODELS as BASELINES
from .forecaster import HistForecaster

NEURAL = {"histgru": "gru", "histtcn": "tcn"}
ALL_MODELS = [*NEURAL, *BASELINES]
DEFAULT_MODELS = "histtcn,histgru,ets,theta,snaive"


class CLIError(Exception):
    """An error shown to the user as one line, without a traceback."""


def make_models(names: str, h: int, args):
    """Model objects from a comma list; `--quick` and `--epochs` set the neural budget."""
    models = []
    for name in [n.strip().lower() for n in names.split(",") if n.strip()]:
        if name in NEURAL:
            budget = {"max_epochs": 8, "steps_per_epoch": 25} if args.quick else {}
            budget.setdefault("max_epochs", args.epochs)
            model = HistForecaster(
                horizon=h, encoder=NEURAL[name], seed=args.seed, verbose=not args.quiet, **budget
            )
            models.append(model)
        elif name in BASELINES:
            models.append(BASELINES[name](horizon=h))
        else:
            raise CLIError(f"unknown model {name!r}; choose from {', '.join(ALL_MODELS)}")
    if not models:
        raise CLIError("no models given")
    return models


def read_data(args):
    if args.data:
        path = Path(args.data)
        if not path.exists():
            raise CLIError(f"no such file: {path}")
        df = pd.read_csv(path)
        if "ds" in df:
            ds = df["ds"]
            df["ds"] = ds if pd.api.types.is_integer_dtype(ds) else pd.to_datetime(ds)
        return df, None
    return datasets.load(args.dataset, args.data_dir)


def backtest(args) -> int:
    df, info = read_data(args)
    h = args.horizon or (info.horizon if info else None)
    if h is None:
        raise CLIError("--horizon is required with --data")
    m = info.season_length if info else None
    models = make_models(args.models, h, args)
    t0 = time.perf_counter()
    cv = cross_validation(models, df, h=h, n_windows=args.windows)
    seconds = time.perf_counter() - t0
    table = evaluate(cv, df, season_length=m)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cv.to_csv(out / "forecasts.csv", index=False)
    result = {
        "dataset": args.dataset if not args.data else args.data,
        "horizon": h,
        "windows": args.windows,
        "seconds": seconds,
        "metrics": table.reset_index().to_dict(orient="records"),
    }
    (out / "metrics.json").write_text(json.dumps(result, indent=2))
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table.round(4).to_string())
    print(f"\n{len(cv)} forecasts in {seconds:.0f}s; wrote {out}/forecasts.csv, metrics.json")
    if not args.no_plots:
        write_plots(out, df, cv, models)
    return 0


def write_plots(out, df, cv, models) -> None:
    try:
        from . import plotting
    except ImportError as err:
        print(f"plots skipped: {err}")
        return
    aliases = model_aliases(cv)
    last = cv[cv["cutoff"] == cv.groupby("unique_id")["cutoff"].transform("max")]
    best = aliases[0]
    plotting.fan_chart(df, last, best).savefig(out / "fan_chart.png", dpi=110)
    plotting.reliability_diagram(cv, aliases, LEVELS).savefig(out / "reliability.png", dpi=110)
    pits = {a: _pit_from_quantiles(cv, a) for a in aliases}
    plotting.pit_histogram(pits).savefig(out / "pit.png", dpi=110)
    hists = {m.alias_: m.history_ for m in models if hasattr(m, "history_")}
    if hists:
        plotting.training_curves(hists).savefig(out / "training.png", dpi=110)
    print(f"plots: {', '.join(p.name for p in sorted(out.glob('*.png')))}")


def _pit_from_quantiles(cv, alias) -> np.ndarray:
    """PIT on the 0.1..0.9 grid: the share of levels whose quantile lies below y, jittered."""
    q = np.stack([cv[f"{alias}-q-{100 * a:g}"] for a in LEVELS], -1)
    below = (q < cv["y"].to_numpy()[:, None]).sum(-1)
    rng = np.random.default_rng(0)
    return (below + rng.uniform(size=len(below))) / (len(LEVELS) + 1)


def forecast(args) -> int:
    df, info = read_data(args)
    h = args.horizon or (info.horizon if info else None)
    if h is None:
        raise CLIError("--horizon is required with --data")
    model = make_models(args.model, h, args)[0]
    fc = model.fit(df).forecast()
    fc.to_csv(args.out, index=False)
    print(f"wrote {len(fc)} rows to {args.out}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="histcast",
        description="Probabilistic forecasting with histogram heads (HL-Gaussian loss).",
    )
    sub = p.add_subparsers(dest="command", required=True)
    src = argparse.ArgumentParser(add_help=False)
    names = ", ".join(datasets.NAMES)
    src.add_argument(
        "--dataset", default=datasets.DEFAULT, help=f"named data set ({datasets.DEFAULT}): {names}"
    )
    src.add_argument(
        "--data", help="a long CSV with columns unique_id, ds, y (instead of --dataset)"
    )
    src.add_argument("--data-dir", help="directory of M4 / exchange-rate files (or HISTCAST_DATA)")
    src.add_argument("--horizon", type=int, help="forecast horizon (default: the data set's)")
    src.add_argument("--quick", action="store_true", help="a small training budget, for a demo")
    src.add_argument("--seed", type=int, default=0)
    src.add_argument(
        "--epochs", type=int, default=30, help="most training epochs of neural models (30)"
    )
    src.add_argument("--quiet", action="store_true", help="no progress bars")
    b = sub.add_parser(
        "backtest",
        parents=[src],
        help="rolling-origin backtest with a metrics table and plots",
        description="Backtest histcast models against statsmodels baselines: the last "
        "--windows windows of --horizon points of every series are forecast from the data "
        "before them, scored (CRPS, WQL, MASE, sMAPE, MSIS, coverage) and plotted.",
        epilog="examples:\n  histcast backtest --quick\n"
        "  histcast backtest --dataset co2 --models histtcn,ets,snaive --windows 2\n"
        "  HISTCAST_DATA=data histcast backtest --dataset m4_hourly --models histtcn,snaive",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    b.add_argument(
        "--models",
        default=DEFAULT_MODELS,
        help=f"comma list from {','.join(ALL_MODELS)} (default {DEFAULT_MODELS})",
    )
    b.add_argument("--windows", type=int, default=1, help="number of backtest windows (default 1)")
    b.add_argument("--out", default="histcast-out", help="output directory (default histcast-out)")
    b.add_argument("--no-plots", action="store_true")
    f = sub.add_parser(
        "forecast",
        parents=[src],
        help="fit on all the data and write quantile forecasts",
        description="Fit one model on the whole data and write its forecasts of the next "
        "--horizon points (mean, median, 80/95% intervals, deciles) as CSV.",
        epilog="example:\n  histcast forecast --data sales.csv --horizon 14 --out fc.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    f.add_argument("--model", default="histtcn", help=f"one of {','.join(ALL_MODELS)}")
    f.add_argument("--out", required=True, help="CSV file to write")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return backtest(args) if args.command == "backtest" else forecast(args)
    except (CLIError, ValueError, TypeError, FileNotFoundError) as err:
        print(f"histcast: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
