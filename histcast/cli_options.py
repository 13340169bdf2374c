"""The command line's options: the parser of `histcast backtest` and `histcast forecast`, and
the argparse types that check each option before any data is read."""

from __future__ import annotations

import argparse

from . import __version__, datasets
from .checks import int_kind
from .evaluation.baselines import MODELS as BASELINES
from .train import distributed
from .train.config import TrainConfig

NEURAL = {"histgru": "gru", "histtcn": "tcn", "histens": "tcn"}  # histens: 5 TCNs mixed
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


def number_list(text: str) -> list[float]:
    """An argparse type: comma-separated numbers ("0.1,0.5,0.9"), checked by the library."""
    try:
        return [float(x) for x in column_list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, got {text!r}"
        ) from None


def _source_options(src: argparse.ArgumentParser) -> None:
    """What both commands read: the data's columns, frequency and season, and the budget."""
    for name, default in (("id", "unique_id"), ("time", "ds"), ("target", "y")):
        src.add_argument(f"--{name}-col", default=default, help=f"{name} column ({default})")
    src.add_argument("--freq", help="pandas frequency of the time column (default: inferred)")
    src.add_argument(
        "--season-length", type=positive_int,
        help="seasonal period of the baselines and of MASE/MSIS (default: the frequency's)",
    )  # fmt: skip
    src.add_argument(
        "--max-steps", type=positive_int,
        help="training steps of histcast models, exactly (default: the library's budget)",
    )  # fmt: skip


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="histcast",
        description="Probabilistic forecasting with histogram heads (HL-Gaussian loss).",
    )
    p.add_argument("--version", action="version", version=f"histcast {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="{backtest,forecast}")
    src = argparse.ArgumentParser(add_help=False)
    _source_options(src)
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
        "--horizon points (mean, median, central intervals, quantiles) as CSV; or forecast "
        "with a model saved before (--load).",
        epilog="examples:\n  histcast forecast --data sales.csv --horizon 14 --out fc.csv\n"
        "  histcast forecast --data sales.csv --horizon 14 --out fc.csv --save model\n"
        "  histcast forecast --load model --out fc.csv --level 90 --quantiles 0.05,0.95\n"
        "  histcast forecast --data d.csv --horizon 24 --futr-exog a,b --futr-data future.csv "
        "--out fc.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    f.add_argument("--model", default="histtcn", help=f"one of {','.join(ALL_MODELS)}")
    f.add_argument("--out", required=True, help="CSV file to write")
    f.add_argument(
        "--level", type=number_list, default=[80.0, 95.0], metavar="80,95",
        help="central intervals in %% (default 80,95)",
    )  # fmt: skip
    f.add_argument(
        "--quantiles", type=number_list, default=[i / 10 for i in range(1, 10)],
        metavar="0.1,0.5,0.9", help="quantile levels in (0, 1) (default the deciles)",
    )  # fmt: skip
    f.add_argument("--save", metavar="DIR", help="also save the fitted model to DIR")
    f.add_argument(
        "--load", metavar="DIR",
        help="forecast with the model saved in DIR instead of training one (the data, when "
        "given, are the new histories)",
    )  # fmt: skip
    f.add_argument(
        "--futr-data", help="a CSV of unique_id, ds and the --futr-exog columns of the next "
        "--horizon steps (default for --dataset epf: its future file)",
    )  # fmt: skip
    return p
