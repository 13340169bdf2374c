"""The forecast frame format every model shares (Nixtla's conventions), free of torch.

A forecast frame has the id and time columns, then per model alias: `<alias>` (the point
forecast: the mean), `<alias>-median`, `<alias>-lo-<L>` / `<alias>-hi-<L>` for central
intervals of level L (%), and `<alias>-q-<100 a>` for each quantile level a. Backtests add
`cutoff` and the actuals. statsforecast, neuralforecast and utilsforecast read the same frames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LEVELS = tuple(float(x) for x in np.round(np.arange(1, 10) / 10, 2))  # WQL's levels 0.1 .. 0.9
INTERVALS = (80, 95)


def quantile_name(alias: str, level: float) -> str:
    """Column of quantile level a: `<alias>-q-<100 a>` (0.1 -> `-q-10`, 0.025 -> `-q-2.5`)."""
    return f"{alias}-q-{100 * level:g}"


def check_forecast_args(quantiles, level) -> tuple[list[float], list[float]]:
    """Validate quantile levels in (0, 1) and interval levels in (0, 100); two levels whose
    column names would collide (e.g. 0.1 and 0.1000001) are refused."""
    q = [] if quantiles is None else [float(x) for x in np.atleast_1d(quantiles)]
    if any(not 0 < a < 1 for a in q):
        raise ValueError(f"quantile levels must lie in (0, 1); got {q}")
    level = [] if level is None else [float(x) for x in np.atleast_1d(level)]
    if any(not 0 < lv < 100 for lv in level):
        raise ValueError(f"interval levels must lie in (0, 100); got {level}")
    for what, names in (("quantile", [f"{100 * a:g}" for a in q]), ("interval", level)):
        if len(set(map(str, names))) < len(names):
            raise ValueError(f"{what} levels repeat or are too close to name apart: {names}")
    return q, level


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
    out = index.copy()
    out[alias] = mean
    out[f"{alias}-median"] = q[:, 0]
    n = len(quantiles)
    for i, lv in enumerate(level):
        out[f"{alias}-lo-{lv:g}"] = q[:, 1 + n + 2 * i]
        out[f"{alias}-hi-{lv:g}"] = q[:, 2 + n + 2 * i]
    for i, a in enumerate(quantiles):
        out[quantile_name(alias, a)] = q[:, 1 + i]
    return out


def forecast_frame(index, dist, alias, quantiles, level) -> pd.DataFrame:
    """Point (mean), median, interval and quantile columns of a distribution `dist` of batch
    shape `(S, H)` (a `Histogram`, or anything with `.mean` and `.quantile(levels)`)."""
    levels = forecast_levels(quantiles, level)
    q = dist.quantile(levels).reshape(-1, len(levels)).cpu().numpy()
    mean = dist.mean.reshape(-1).cpu().numpy()
    return quantile_frame(index, alias, mean, q, quantiles, level)
