"""Command line: `histcast backtest` and `histcast forecast` (also `python -m histcast`).

Every failure is one line on stderr, `histcast: error: ...`, with exit status 2: arguments are
checked before any data is read or any model trained, and the library's ValueError/TypeError
(bad data) and OSError (files) are reported, never shown as a traceback.
"""

from __future__ import annotations

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
from .cli_options import ALL_MODELS, NEURAL, CLIError, parser
from .data.covariates import LISTS
from .data.panel import from_frame
from .ensemble import HistEnsemble
from .evaluation.backtest import cross_validation
from .evaluation.baselines import MODELS as BASELINES
from .evaluation.levels import LEVELS
from .evaluation.scoring import evaluate
from .forecaster import HistForecaster
from .frames import model_aliases, quantile_name

ENSEMBLE_SIZE = 5


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
                device=args.device, max_steps=args.max_steps, freq=args.freq, **budget, **exog,
            )  # fmt: skip
            if name == "histens":
                model = HistEnsemble(model, n_members=ENSEMBLE_SIZE)
            models.append(model)
        else:
            kw = {"season_length": args.season_length, "freq": args.freq}
            if name == "arima" and exog.get("futr_exog_list"):
                kw["futr_exog_list"] = exog["futr_exog_list"]
            models.append(BASELINES[name](horizon=h, **kw))
    return models


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
    static = None
    if args.static_data:
        static = to_library(datasets.read_csv(Path(args.static_data), args.id_col), args,
                            "--static-data", need=("id",))  # fmt: skip
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
        frame = datasets.read_csv(Path(args.futr_data), args.id_col)
        frame = to_library(frame, args, "--futr-data", need=("id", "time"))
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
    return to_library(datasets.read_csv(Path(args.data), args.id_col), args, "--data"), None


def column_names(args) -> dict:
    """The user's id, time and target column names -> the library's (unique_id, ds, y)."""
    return {args.id_col: "unique_id", args.time_col: "ds", args.target_col: "y"}


def to_library(frame: pd.DataFrame, args, where: str, need=("id", "time", "target")):
    """`frame` with the --id-col, --time-col and --target-col columns named as the library
    names them; CLIError naming a column the file lacks."""
    names = column_names(args)
    for kind, col in zip(("id", "time", "target"), names, strict=True):
        if kind in need and col not in frame.columns:
            raise CLIError(f"{where} has no column {col!r} (--{kind}-col); it has "
                           f"{list(frame.columns)}")  # fmt: skip
    return frame.rename(columns={k: v for k, v in names.items() if k in frame.columns})


def to_user(frame: pd.DataFrame, args) -> pd.DataFrame:
    """An output frame with the user's id, time and target column names back."""
    return frame.rename(columns={v: k for k, v in column_names(args).items() if k != v})


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
        models, df, h=h, n_windows=args.windows, return_models=True, static_df=static,
        freq=args.freq,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    if not main_rank():  # under torchrun rank 0 scores and writes
        return 0
    season = args.season_length or (info.season_length if info else None)
    table = evaluate(cv, df, season_length=season)
    write_csv(to_user(cv, args), out / "forecasts.csv")
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
    if args.load:
        model, df, info = loaded_model(args)
        params = (model.forecaster if isinstance(model, HistEnsemble) else model).get_params()
        exog = {k: list(params[k]) for k in LISTS if params.get(k) is not None}
        static = covariates(args, info)[1]
    else:
        df, info = read_data(args)
        exog, static = covariates(args, info)
        if exog and names[0] not in NEURAL and set(exog) != {"futr_exog_list"}:
            raise CLIError(f"{names[0]} takes no historical or static covariates")
        if args.save and names[0] not in NEURAL:
            raise CLIError(f"--save keeps histcast models; {names[0]} is a baseline")
        model = make_models(names, horizon(args, info), args, exog)[0]
    futr = future_data(args, exog)
    if not args.load:
        model.fit(df, **({"static_df": static} if static is not None else {}))
        df = None  # forecast from the end of the training data
    if args.save and main_rank():
        model.save(args.save, overwrite=True)  # atomic: a killed save keeps the old model
    kwargs = {"futr_df": futr, "static_df": static}
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    fc = model.forecast(df, quantiles=args.quantiles, level=args.level, **kwargs)
    if not main_rank():
        return 0
    write_csv(to_user(fc, args), out)
    print(f"wrote {len(fc)} rows to {out}")
    return 0


def loaded_model(args):
    """`(model, df or None, info)` of `histcast forecast --load DIR`: a saved forecaster or
    ensemble, and the new histories to forecast from when --data or --dataset gives them."""
    folder = Path(args.load)
    cls = HistEnsemble if (folder / "ensemble.json").exists() else HistForecaster
    model = cls.load(folder, args.device)
    if args.data is None and args.dataset is None:
        df, info = None, None
    else:
        df, info = read_data(args)
    if args.horizon is not None and args.horizon != model.horizon:
        raise CLIError(f"--horizon {args.horizon}: the model in {folder} forecasts "
                       f"{model.horizon} steps")  # fmt: skip
    return model, df, info


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
