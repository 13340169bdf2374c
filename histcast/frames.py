"""The forecast frame format every model shares (Nixtla's conventions), free of torch.

A forecast frame has the id and time columns, then per model alias: `<alias>` (the point
forecast: the mean), `<alias>-median`, `<alias>-lo-<L>` / `<alias>-hi-<L>` for central
intervals of level L (%), and `<alias>-q-<100 a>` for each quantile level a (levels written
with up to 10 significant digits: `-lo-95.0000001`, `-q-2.5`). Backtests add
`cutoff` and the actuals. statsforecast, neuralforecast and utilsforecast read the same frames.
"""

from __future__ import annotations

import numbers
import re

import numpy as np
import pandas as pd

from .checks import check_int
from .data.panel import Columns

SIGNIFICANT = 10  # significant digits of a level (in %) in its column names
RESERVED = ("unique_id", "ds", "y", "cutoff", "index")  # columns no model alias may take
SUFFIX = re.compile(r"-(median|crps|(lo|hi|q)-\d[\d.eE+-]*)$")  # of columns derived from a model's


def level_text(x: float) -> str:
    """A level in % as column names write it: positional, at most `SIGNIFICANT` significant
    digits, no trailing zeros (80 -> '80', 2.5 -> '2.5', 100 * 0.07 -> '7')."""
    return np.format_float_positional(float(x), SIGNIFICANT, fractional=False, trim="-")


def quantile_name(alias: str, level: float) -> str:
    """Column of quantile level a: `<alias>-q-<100 a>` (0.1 -> `-q-10`, 0.025 -> `-q-2.5`)."""
    return f"{alias}-q-{level_text(100 * level)}"


def interval_names(alias: str, level: float) -> tuple[str, str]:
    """Columns `(<alias>-lo-<L>, <alias>-hi-<L>)` of the central interval of level L (%)."""
    text = level_text(level)
    return f"{alias}-lo-{text}", f"{alias}-hi-{text}"


def derived_suffix(name: str) -> str | None:
    """The suffix that makes `name` a column derived from a model's (`-median`, `-crps`,
    `-lo-80`, `-hi-80`, `-q-10`), or None."""
    match = SUFFIX.search(name)
    return match.group(0) if match else None


def check_forecast_args(quantiles, level) -> tuple[list[float], list[float]]:
    """Validate quantile levels in (0, 1) and interval levels in % in [1, 100), each None, a
    real number or a 1-D list/tuple/array of them. An interval level below 1 is refused as a
    fraction given for a percentage (0.8 for 80), as are levels whose column names would be
    equal (e.g. 0.1 and 0.1000000000001) or would read as 0 or 100."""
    q = _real_list("quantiles", quantiles, "[0.1, 0.5, 0.9]")
    if any(not 0 < a < 1 for a in q):
        raise ValueError(f"quantile levels must lie in (0, 1); got {q}")
    level = _real_list("level", level, "[80, 95]")
    if any(not 0 < lv < 100 for lv in level):
        raise ValueError(f"interval levels must lie in (0, 100); got {level}")
    if any(lv < 1 for lv in level):
        meant = [round(100 * lv, 10) if lv < 1 else lv for lv in level]
        meant = [int(m) if m == int(m) else m for m in meant]
        raise ValueError(
            f"interval levels are percentages (80 for a central 80% interval); got {level}: "
            f"did you mean level={meant}?"
        )
    _check_names("quantiles", q, [100 * a for a in q], "q-")
    _check_names("level", level, level, "lo-")
    return q, level


def _shortest(x):
    """A numpy float as the Python float of its shortest decimal: float32 0.1 is 0.1, not
    0.10000000149 (whose column would be named q-10.00000015); other values as they are."""
    if isinstance(x, np.floating) and np.isfinite(x):
        return float(np.format_float_positional(x, unique=True, trim="-"))
    return x.item() if isinstance(x, np.generic) and not isinstance(x, np.bool_) else x


def _real_list(name: str, value, example: str) -> list[float]:
    """`value` (None, a real number, or a 1-D list/tuple/array/Series of them) as floats."""
    if value is None:
        return []
    if isinstance(value, np.ndarray | pd.Series | pd.Index) and value.ndim <= 1:
        value = np.asarray(value)
        value = list(value) if value.ndim else value[()]  # 0-d: a scalar
    if isinstance(value, list | tuple):
        value = [_shortest(x) for x in value]
    value = _shortest(value)
    items = list(value) if isinstance(value, list | tuple) else [value]
    if not all(isinstance(x, numbers.Real) and not isinstance(x, bool | np.bool_) for x in items):
        raise TypeError(
            f"{name} must be None, a number or a 1-D list of numbers such as {example}; "
            f"got {value!r}"
        )
    try:
        return [float(x) for x in items]
    except OverflowError:
        raise ValueError(f"{name} holds a number too large for a float") from None


def _check_names(arg: str, values: list[float], percents: list[float], prefix: str) -> None:
    """Refuse levels that name the same column, or whose name reads as 0 or 100 %."""
    texts = [level_text(p) for p in percents]
    for value, text in zip(values, texts, strict=True):
        if not 0 < float(text) < 100:
            raise ValueError(
                f"{arg} value {value!r} would name its column {prefix}{text}; its columns keep "
                f"{SIGNIFICANT} significant digits of the level in %, so use a level further "
                "from the bounds"
            )
    repeated = sorted({t for t in texts if texts.count(t) > 1}, key=texts.index)
    if repeated:
        same = [v for v, t in zip(values, texts, strict=True) if t == repeated[0]]
        raise ValueError(
            f"{arg} values {same} repeat or are too close to name apart: all name the column "
            f"{prefix}{repeated[0]} ({SIGNIFICANT} significant digits); drop one"
        )


def forecast_levels(quantiles, level) -> np.ndarray:
    """Quantile levels in the order `quantile_frame` reads them: the median, `quantiles`,
    then (lo, hi) = (0.5 - L/200, 0.5 + L/200) for each interval level L. float64 `(1+Q+2I,)`."""
    levels = [0.5, *quantiles]
    for lv in level:
        levels += [0.5 - lv / 200, 0.5 + lv / 200]
    return np.asarray(levels, dtype=np.float64)


def forecast_index(ids, future_ds: np.ndarray, id_col="unique_id", time_col="ds"):
    """The id and time columns of S x H forecasts, row-major: ids `(S,)`, future_ds `(S, H)`."""
    h = future_ds.shape[1]
    return pd.DataFrame({id_col: np.repeat(ids, h), time_col: future_ds.reshape(-1)})


def quantile_frame(index, alias, mean, q, quantiles, level) -> pd.DataFrame:
    """Nixtla-style columns from a point forecast `mean (N,)` and `q (N, L)` at
    `forecast_levels(quantiles, level)`, added to a copy of `index (N rows)`."""
    if alias in index.columns:
        raise ValueError(
            f"the model alias {alias!r} is the name of the forecast frame's column {alias!r}; "
            "give the model another alias="
        )
    out = index.copy()
    out[alias] = mean
    out[f"{alias}-median"] = q[:, 0]
    n = len(quantiles)
    for i, lv in enumerate(level):
        lo, hi = interval_names(alias, lv)
        out[lo], out[hi] = q[:, 1 + n + 2 * i], q[:, 2 + n + 2 * i]
    for i, a in enumerate(quantiles):
        out[quantile_name(alias, a)] = q[:, 1 + i]
    return out


def forecast_frame(index, dist, alias, quantiles, level, chunk=1 << 22) -> pd.DataFrame:
    """Point (mean), median, interval and quantile columns of a distribution `dist` of batch
    shape `(S, H)` (a `Histogram`, or anything with `.mean` and `.quantile(levels)` that slices
    along S). Computed over blocks of series of about `chunk` bin values, so the `(S, H, K)`
    temporaries of the quantile search stay that size."""
    levels = forecast_levels(quantiles, level)
    n_series = dist.batch_shape[0]
    size = max(1, dist.batch_shape.numel() * getattr(dist, "n_bins", 1))
    step = max(1, n_series * chunk // size)
    parts = [dist[i : i + step] for i in range(0, n_series, step)] if n_series else [dist]
    q = np.concatenate([p.quantile(levels).reshape(-1, len(levels)).cpu().numpy() for p in parts])
    mean = np.concatenate([p.mean.reshape(-1).cpu().numpy() for p in parts])
    return quantile_frame(index, alias, mean, q, quantiles, level)


def model_aliases(cv: pd.DataFrame, cols: Columns | None = None, models=None) -> list[str]:
    """The models of a cross_validation frame: `models` (a list of aliases) when given; else
    the aliases `cross_validation` recorded in `cv.attrs["models"]`, plus any other model with
    a `<alias>-median` column (e.g. from a frame merged in); else inferred from the columns."""
    cols = cols or Columns()
    if models is not None:
        return _alias_list("models", models)
    recorded = cv.attrs.get("models")
    inferred = _inferred_aliases(cv, cols)
    if recorded is None:
        return inferred
    recorded = _alias_list('cv.attrs["models"]', recorded)
    extra = [c for c in inferred if f"{c}-median" in cv.columns and c not in recorded]
    return [*recorded, *extra]


def _alias_list(name: str, models) -> list[str]:
    """`models` as a non-empty list of distinct strings; TypeError/ValueError otherwise."""
    if isinstance(models, str) or not isinstance(models, list | tuple | pd.Index | np.ndarray):
        raise TypeError(f"{name} must be a list of model aliases, e.g. ['HistTCN']; got {models!r}")
    models = list(models)
    if not models or not all(isinstance(m, str) for m in models):
        raise TypeError(f"{name} must be a non-empty list of model aliases; got {models!r}")
    if len(set(models)) < len(models):
        raise ValueError(f"{name} names a model twice: {models}")
    return models


def _inferred_aliases(cv, cols) -> list[str]:
    """Every numeric column besides id, time, cutoff and target that is not another column
    plus a derived suffix (`-median`, `-crps`, `-lo-80`, `-hi-80`, `-q-10`)."""
    fixed = {cols.id, cols.time, "cutoff", cols.target}
    out = []
    for c in cv.columns:
        if not isinstance(c, str) or c in fixed or not is_numeric(cv[c]):
            continue
        suffix = derived_suffix(c)
        if suffix is None or c[: -len(suffix)] not in cv.columns:
            out.append(c)
    return out


def is_numeric(column: pd.Series) -> bool:
    """Numbers, not booleans."""
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def check_h(h, horizon: int) -> int:
    """The steps a forecast keeps: `h` (None: all `horizon`), an integer in [1, horizon]."""
    if h is None:
        return horizon
    check_int("h", h)
    if h > horizon:
        raise ValueError(
            f"h={h} is more steps than the model forecasts ({horizon}); fit it with horizon >= {h}"
        )
    return int(h)


def first_steps(frame: pd.DataFrame, horizon: int, h: int) -> pd.DataFrame:
    """The rows of the first `h` of each series' `horizon` steps of a forecast frame whose
    rows are series x steps, row-major (as `forecast_index` makes them)."""
    if h == horizon:
        return frame
    keep = np.tile(np.arange(horizon) < h, len(frame) // horizon)
    return frame[keep].reset_index(drop=True)
