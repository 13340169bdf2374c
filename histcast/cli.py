"""Command line: `histcast backtest` and `histcast forecast` (also `python -m histcast`).

Every failure is one line on stderr, `histcast: error: ...`, with exit status 2: arguments are
checked before any data is read or any model trained, and the library's ValueError/TypeError
(bad data) and OSError (files) are reported, never shown as a traceback.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from . import atomic, datasets
from .checks import int_kind
from .data.panel import from_frame
from .ensemble import HistEnsemble
from .evaluation.backtest import cross_validation
from .evaluation.baselines import MODELS as BASELINES
from .evaluation.levels import LEVELS
from .evaluation.scoring import evaluate
from .forecaster import HistForecaster
from .frames import model_aliases, quantile_name
from .train import distributed
from .train.config import TrainConfig

NEURAL = {"histgru": "gru", "histtcn": "tcn", "histens": "tcn"}  # histens: 5 TCNs mixed
ENSEMBLE_SIZE = 5
ALL_MODELS = [*NEURAL, *BASELINES]
DEFAULT_MODELS = "histtcn,histgru,ets,theta,snaive"


class CLIError(Exception):
    """An error shown to the user as one line, without a traceback."""


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are CLIErrors: one line, exit status 2 (not usage + error)."""

    def error(self, message):
        raise CLIError(f"{message} (see {self.prog} --help)")


MAX_INT = 2**31 - 1  # larger counts, horizons and seeds are typos, and overflow downstream


def int_at_least(minimum: int):
    """An argparse type: the text as an integer in [minimum, MAX_INT] (`checks.int_kind`)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if abs(value) > MAX_INT:
            raise argparse.ArgumentTypeError(f"must be at most {MAX_INT}, got {text}")
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {int_kind(minimum)}, got {value}")
        return value

    return parse


positive_int, non_negative_int = int_at_least(1), int_at_least(0)


def model_names(names: str) -> list[str]:
    """The comma list of model names, checked against the known models."""
    out = [n.strip().lower() for n in names.split(",") if n.strip()]
    for name in out:
        if name not in ALL_MODELS:
            raise CLIError(f"unknown model {name!r}; choose from {', '.join(ALL_MODELS)}")
    if not out:
        raise CLIError("no models given")
    twice = sorted({n for n in out if out.count(n) > 1})
    if twice:
        raise CLIError(f"--models lists {', '.join(twice)} more than once")
    return out


def make_models(names: list[str], h: int, args, exog=None):
    """Model objects; `--quick` and `--epochs` set the neural budget. `exog` (the covariate
    lists, `covariates`) goes to the neural models, its future-known columns to ARIMA."""
    exog, models = exog or {}, []
    for name in names:
        if name in NEURAL:
            budget = {"max_epochs": 8, "steps_per_epoch": 25} if args.quick else {}
            budget.setdefault("max_epochs", args.epochs)
            model = HistForecaster(
                horizon=h, encoder=NEURAL[name], seed=args.seed, verbose=not args.quiet,
                device=args.device, **budget, **exog,
            )  # fmt: skip
            if name == "histens":
                model = HistEnsemble(model, n_members=ENSEMBLE_SIZE)
            models.append(model)
        elif name == "arima" and exog.get("futr_exog_list"):
            models.append(BASELINES[name](horizon=h, futr_exog_list=exog["futr_exog_list"]))
        else:
            models.append(BASELINES[name](horizon=h))
    return models


def device_name(text: str) -> str:
    """An argparse type: a device this machine has ("auto", "cpu", "cuda", "cuda:1", "mps"),
    checked before any data is read (`distributed.device`)."""
    try:
        distributed.device(text)
    except (RuntimeError, TypeError) as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not a device name ({err})") from err
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err
    return text


def column_list(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def check_covariate_args(args) -> None:
    """Covariate options that need each other, checked before any data is read."""
    if bool(args.stat_exog) != bool(args.static_data):
        raise CLIError("--stat-exog and --static-data go together")
    if getattr(args, "futr_data", None) and not args.futr_exog:
        raise CLIError("--futr-data needs --futr-exog (the columns to read from it)")


def covariates(args, info) -> tuple[dict, pd.DataFrame | None]:
    """The covariate lists (`HistForecaster`'s parameters) and the static frame."""
    futr = args.futr_exog
    if futr == ["auto"]:  # a named data set's own future-known columns
        if info is None or not info.futr_exog:
            raise CLIError("--futr-exog auto needs a named data set with covariates (epf, m5_exog)")
        futr = list(info.futr_exog)
    static = datasets.read_csv(Path(args.static_data)) if args.static_data else None
    lists = {"futr_exog_list": futr, "hist_exog_list": args.hist_exog}
    lists = {k: v for k, v in {**lists, "stat_exog_list": args.stat_exog}.items() if v}
    return lists, static


def future_data(args, exog: dict, cols=("unique_id", "ds")) -> pd.DataFrame | None:
    """`futr_df` of `histcast forecast`: --futr-data, or a named data set's future file, with
    the id, time and future-known columns (those it has: the library names the missing)."""
    futr = exog.get("futr_exog_list")
    if not futr:
        return None
    if args.futr_data:
        frame = datasets.read_csv(Path(args.futr_data))
    elif args.dataset == "epf":
        frame = datasets.load_future(args.dataset, args.data_dir)
    else:
        raise CLIError("--futr-exog needs --futr-data: the covariates of the next --horizon steps")
    return frame[[c for c in (*cols, *futr) if c in frame.columns]]


def read_data(args) -> tuple[pd.DataFrame, datasets.DatasetInfo | None]:
    if args.data is None:
        return datasets.load_dataset(args.dataset or datasets.DEFAULT, args.data_dir)
    if args.dataset is not None:
        raise CLIError("give either --data or --dataset, not both")
    return datasets.read_csv(Path(args.data)), None


def horizon(args, info) -> int:
    if args.horizon is not None:
        return args.horizon
    if info is None:
        raise CLIError("--horizon is required with --data")
    return info.horizon


def backtest(args) -> int:
    names = model_names(args.models)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out} is a file; it names the output directory")
    check_covariate_args(args)
    df, info = read_data(args)
    h = horizon(args, info)
    exog, static = covariates(args, info)
    models = make_models(names, h, args, exog)
    out.mkdir(parents=True, exist_ok=True)  # before training: an unwritable --out fails now
    t0 = time.perf_counter()
    cv, fitted = cross_validation(
        models, df, h=h, n_windows=args.windows, return_models=True, static_df=static
    )
    seconds = time.perf_counter() - t0
    if not main_rank():  # under torchrun rank 0 scores and writes
        return 0
    table = evaluate(cv, df, season_length=info.season_length if info else None)
    write_csv(cv, out / "forecasts.csv")
    result = {
        "dataset": args.data or args.dataset or datasets.DEFAULT,
        "horizon": h,
        "windows": args.windows,
        "seconds": seconds,
        "metrics": table.reset_index().to_dict(orient="records"),
    }
    atomic.write_bytes(out / "metrics.json", json.dumps(result, indent=2).encode())
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table.round(4).to_string())
    print(f"\n{len(cv)} forecasts in {seconds:.0f}s; wrote {out}/forecasts.csv, metrics.json")
    if not args.no_plots:
        write_plots(out, df, cv, fitted, table)
    return 0


def write_plots(out, df, cv, models, table) -> None:
    try:
        from .evaluation import plots as plotting
    except ImportError as err:
        print(f"plots skipped: {err}")
        return
    history = from_frame(df).to_frame()  # `ds` parsed by the library, as the plots compare it
    aliases = model_aliases(cv)
    last = cv[cv["cutoff"] == cv.groupby("unique_id")["cutoff"].transform("max")]
    wql = table["WQL"].dropna()
    fan_alias = str(wql.idxmin()) if len(wql) else aliases[0]  # the fan chart's model: best WQL
    write_figure(plotting.fan_chart(history, last, fan_alias), out / "fan_chart.png")
    write_figure(plotting.reliability_diagram(cv, aliases, LEVELS), out / "reliability.png")
    pits = {a: _pit_from_quantiles(cv, a) for a in aliases}
    write_figure(plotting.pit_histogram(pits), out / "pit.png")
    hists = {m.alias_: m.history_ for m in models if hasattr(m, "history_")}  # fitted clones
    if hists:
        write_figure(plotting.training_curves(hists), out / "training.png")
    print(f"plots: {', '.join(p.name for p in sorted(out.glob('*.png')))}")
    print(f"fan chart: {fan_alias} (lowest WQL)")


def write_csv(frame: pd.DataFrame, file: Path) -> None:
    """The frame as CSV, written atomically: a concurrent writer or a kill never tears it."""
    atomic.write_bytes(file, frame.to_csv(index=False).encode())


def write_figure(fig, file: Path) -> None:
    """A matplotlib figure as PNG, written atomically."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    atomic.write_bytes(file, buffer.getvalue())


def _pit_from_quantiles(cv, alias) -> np.ndarray:
    """PIT on the 0.1..0.9 grid: the share of levels whose quantile lies below y, jittered."""
    q = np.stack([cv[quantile_name(alias, a)] for a in LEVELS], -1)
    below = (q < cv["y"].to_numpy()[:, None]).sum(-1)
    rng = np.random.default_rng(0)
    return (below + rng.uniform(size=len(below))) / (len(LEVELS) + 1)


def forecast(args) -> int:
    names = model_names(args.model)
    if len(names) != 1:
        raise CLIError(f"--model takes one model, got {len(names)}: {', '.join(names)}")
    out = Path(args.out)
    if out.is_dir():
        raise CLIError(f"--out {out} is a directory; it names the CSV file to write")
    folder = out.parent
    if not folder.is_dir():
        raise CLIError(f"--out {out}: no such directory {folder}")
    if not os.access(folder, os.W_OK):
        raise CLIError(f"--out {out}: directory {folder} is not writable")
    check_covariate_args(args)
    df, info = read_data(args)
    exog, static = covariates(args, info)
    if exog and names[0] not in NEURAL and set(exog) != {"futr_exog_list"}:
        raise CLIError(f"{names[0]} takes no historical or static covariates")
    model = make_models(names, horizon(args, info), args, exog)[0]
    futr = future_data(args, exog)
    model.fit(df, **({"static_df": static} if static is not None else {}))
    fc = model.forecast(**({"futr_df": futr} if futr is not None else {}))
    if not main_rank():
        return 0
    write_csv(fc, out)
    print(f"wrote {len(fc)} rows to {out}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="histcast",
        description="Probabilistic forecasting with histogram heads (HL-Gaussian loss).",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="{backtest,forecast}")
    src = argparse.ArgumentParser(add_help=False)
    names = ", ".join(datasets.NAMES)
    src.add_argument("--dataset", help=f"named data set (default {datasets.DEFAULT}): {names}")
    src.add_argument(
        "--data", help="a long CSV with columns unique_id, ds, y (instead of --dataset)"
    )
    src.add_argument(
        "--data-dir", help="directory of the competition / covariate sets (or HISTCAST_DATA)"
    )
    src.add_argument(
        "--horizon", type=positive_int, help="forecast horizon (default: the data set's)"
    )
    src.add_argument("--quick", action="store_true", help="a small training budget, for a demo")
    src.add_argument("--seed", type=non_negative_int, default=0)
    src.add_argument(
        "--epochs",
        type=positive_int,
        default=TrainConfig.max_epochs,
        help=f"most training epochs of neural models ({TrainConfig.max_epochs}, as the library)",
    )
    src.add_argument("--quiet", action="store_true", help="no progress bars")
    src.add_argument(
        "--device", type=device_name, default="auto",
        help="where histcast models train: auto (a GPU when present), cpu, cuda, cuda:1, mps",
    )  # fmt: skip
    src.add_argument(
        "--futr-exog", type=column_list, default=[], metavar="A,B",
        help="future-known covariate columns of the data (auto: a named data set's own); "
        "histcast models and arima use them",
    )  # fmt: skip
    src.add_argument(
        "--hist-exog", type=column_list, default=[], metavar="C,D",
        help="covariate columns known only up to the forecast's start (histcast models)",
    )  # fmt: skip
    src.add_argument(
        "--stat-exog", type=column_list, default=[], metavar="E,F",
        help="static covariate columns of --static-data (histcast models)",
    )  # fmt: skip
    src.add_argument("--static-data", help="a CSV of unique_id and the --stat-exog columns")
    b = sub.add_parser(
        "backtest",
        parents=[src],
        help="rolling-origin backtest with a metrics table and plots",
        description="Backtest histcast models against statsmodels baselines: the last "
        "--windows windows of --horizon points of every series are forecast from the data "
        "before them, scored (CRPS, WQL, MASE, sMAPE, MSIS, coverage) and plotted.",
        epilog="examples:\n  histcast backtest --quick\n"
        "  histcast backtest --dataset co2 --models histtcn,ets,snaive --windows 2\n"
        "  HISTCAST_DATA=data histcast backtest --dataset m4_hourly --models histtcn,snaive\n"
        "  histcast backtest --dataset epf --futr-exog auto --models histtcn,arima --windows 7",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    b.add_argument(
        "--models",
        default=DEFAULT_MODELS,
        help=f"comma list from {','.join(ALL_MODELS)} (default {DEFAULT_MODELS})",
    )
    b.add_argument(
        "--windows", type=positive_int, default=1, help="number of backtest windows (default 1)"
    )
    b.add_argument("--out", default="histcast-out", help="output directory (default histcast-out)")
    b.add_argument("--no-plots", action="store_true")
    f = sub.add_parser(
        "forecast",
        parents=[src],
        help="fit on all the data and write quantile forecasts",
        description="Fit one model on the whole data and write its forecasts of the next "
        "--horizon points (mean, median, 80/95% intervals, deciles) as CSV.",
        epilog="examples:\n  histcast forecast --data sales.csv --horizon 14 --out fc.csv\n"
        "  histcast forecast --data d.csv --horizon 24 --futr-exog a,b --futr-data future.csv "
        "--out fc.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    f.add_argument("--model", default="histtcn", help=f"one of {','.join(ALL_MODELS)}")
    f.add_argument("--out", required=True, help="CSV file to write")
    f.add_argument(
        "--futr-data", help="a CSV of unique_id, ds and the --futr-exog columns of the next "
        "--horizon steps (default for --dataset epf: its future file)",
    )  # fmt: skip
    return p


def main_rank() -> bool:
    """False on the ranks other than 0 of a torchrun launch (`histcast.distributed`)."""
    return os.environ.get("RANK", "0") == "0"


def main(argv=None) -> int:
    """Run the command line; returns the exit status (0, or 2 after a one-line error).
    HISTCAST_DEBUG=1 lets errors raise with their traceback."""
    try:
        args = parser().parse_args(argv)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return backtest(args) if args.command == "backtest" else forecast(args)
    except KeyboardInterrupt:
        print("histcast: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if os.environ.get("HISTCAST_DEBUG"):
            raise
        message = " ".join(str(err).split()) or type(err).__name__  # one line
        if not isinstance(err, (CLIError, ValueError, TypeError, OSError)):  # a bug, not input
            message = f"{type(err).__name__}: {message} (HISTCAST_DEBUG=1 shows the traceback)"
        print(f"histcast: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
