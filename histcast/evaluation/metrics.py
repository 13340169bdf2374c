"""Forecast scores with the definitions of GluonTS, the Chronos benchmark and M4.

Conventions: arrays of actuals `y` and forecasts are `(n_series, horizon)` (or anything that
flattens consistently); NaN actuals are missing and are left out of every sum and mean.
Per-series scores (MASE, MSIS) average over the horizon within a row, then over rows; pooled
scores (WQL, coverage, sMAPE, CRPS) average over every observed point. Rows whose seasonal scale
is zero or undefined (a constant history) are left out of MASE and MSIS with a warning, and
rows without observed actuals do not count. Everything is computed in float64.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from ..dist.histogram import Histogram, check_levels
from .levels import LEVELS


def _arr(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _levels(levels) -> np.ndarray:
    levels = _arr(levels).reshape(-1)
    check_levels(torch.from_numpy(levels))
    return levels


def quantile_loss(y, q, level) -> np.ndarray:
    """Pinball loss rho_a(y, q) = max(a (y - q), (a - 1)(y - q)), elementwise."""
    diff = _arr(y) - _arr(q)
    return np.maximum(level * diff, (level - 1) * diff)


def wql(y, quantiles, levels=LEVELS) -> float:
    """Weighted quantile loss: mean_a [2 sum rho_a(y, q_a) / sum |y|].

    y `(...)`, quantiles `(..., Q)` at `levels (Q,)`; sums run over all series and steps.
    """
    y, q, levels = _arr(y), _arr(quantiles), _levels(levels)
    obs = ~np.isnan(y)
    losses = quantile_loss(y[obs][:, None], q[obs], levels)  # (n_obs, Q)
    return float(np.mean(2 * losses.sum(0) / np.abs(y[obs]).sum()))


def crps_from_quantiles(y, quantiles, levels) -> np.ndarray:
    """CRPS approximated by 2 x the mean pinball loss over a dense grid of levels, `(...)`."""
    y, q, levels = _arr(y), _arr(quantiles), _levels(levels)
    return 2 * quantile_loss(y[..., None], q, levels).mean(-1)


def _actuals(dist: Histogram, y: np.ndarray) -> torch.Tensor:
    """Actuals as a tensor on the histogram's device: reshaped to its batch shape when they
    have as many entries (e.g. flattened `(S*H,)` for `(S, H)`), else broadcast."""
    t = torch.from_numpy(np.nan_to_num(y)).to(dist.probs)
    return t.reshape(dist.batch_shape) if t.numel() == dist.batch_shape.numel() else t


def crps_histogram(dist: Histogram, y) -> np.ndarray:
    """Exact CRPS of histogram forecasts (`Histogram.crps`, closed form) against actuals `y`;
    NaN actuals give NaN. Returns float64 shaped like `y`. The one public CRPS of histograms."""
    y = _arr(y)
    crps = dist.crps(_actuals(dist, y)).double().cpu().numpy().reshape(y.shape)
    return np.where(np.isnan(y), np.nan, crps)


def pit(dist: Histogram, y) -> np.ndarray:
    """Probability integral transform F(y) of histogram forecasts; NaN actuals give NaN."""
    y = _arr(y)
    u = dist.cdf(_actuals(dist, y)).double().cpu().numpy().reshape(y.shape)
    return np.where(np.isnan(y), np.nan, u)


def seasonal_scale(history, m: int) -> float:
    """Mean |y_t - y_{t-m}| over a training history (NaN pairs skipped): the MASE denominator.

    Histories shorter than m + 1 fall back to m = 1, as forecasting libraries do.
    """
    x = _arr(history)
    if x.size <= m:
        m = 1
    diffs = np.abs(x[m:] - x[:-m])
    diffs = diffs[~np.isnan(diffs)]
    return float(diffs.mean()) if diffs.size else float("nan")


def _per_series(values, y) -> np.ndarray:
    """Row means of `values (S, H)` over observed actuals; NaN for rows with none."""
    obs = ~np.isnan(np.atleast_2d(_arr(y)))
    values = np.where(obs, np.atleast_2d(_arr(values)), 0.0)
    count = obs.sum(-1)
    return np.divide(values.sum(-1), count, out=np.full(count.shape, np.nan), where=count > 0)


def scaled(scale) -> np.ndarray:
    """Mask of usable seasonal scales `(S,)`: finite and positive. A constant history has scale
    0 and a history without one seasonal pair has none; MASE and MSIS leave such series out."""
    scale = _arr(scale).reshape(-1)
    return np.isfinite(scale) & (scale > 0)


def _scaled_mean(per_row, scale, name: str) -> float:
    """Mean over rows of `per_row / scale`, leaving out rows without a usable scale (with a
    warning, as the M4 scorer drops series it cannot scale) or without observed actuals."""
    scale = _arr(scale).reshape(-1)
    ok = scaled(scale)
    if not ok.all():
        warnings.warn(
            f"{name}: {int((~ok).sum())} of {ok.size} series left out: their seasonal scale "
            "(mean |y_t - y_(t-m)| of the history) is zero or undefined",
            stacklevel=3,
        )
    ratio = per_row[ok] / scale[ok]
    ratio = ratio[~np.isnan(ratio)]
    return float(ratio.mean()) if ratio.size else float("nan")


def mase(y, yhat, scale) -> float:
    """Mean over series of [mean_h |y - yhat| / scale_s]; y, yhat `(S, H)`, scale `(S,)`.

    Series whose scale is zero or undefined are left out (warned); NaN when none is left.
    """
    return _scaled_mean(_per_series(np.abs(_arr(y) - _arr(yhat)), y), scale, "MASE")


def smape(y, yhat) -> float:
    """M4 sMAPE: mean of 200 |y - yhat| / (|y| + |yhat|) (0 where both are 0)."""
    y, yhat = _arr(y), _arr(yhat)
    obs = ~np.isnan(y)
    num, den = 200 * np.abs(y - yhat)[obs], (np.abs(y) + np.abs(yhat))[obs]
    return float(np.mean(np.divide(num, den, out=np.zeros_like(num), where=den > 0)))


def interval_score(y, lo, hi, alpha: float = 0.05) -> np.ndarray:
    """IS = (u - l) + (2/alpha)(l - y) 1{y < l} + (2/alpha)(y - u) 1{y > u}, elementwise."""
    y, lo, hi = _arr(y), _arr(lo), _arr(hi)
    return (hi - lo) + (2 / alpha) * ((lo - y) * (y < lo) + (y - hi) * (y > hi))


def msis(y, lo, hi, scale, alpha: float = 0.05) -> float:
    """M4 MSIS: mean over series of the mean interval score divided by the seasonal scale.

    Series whose scale is zero or undefined are left out (warned); NaN when none is left.
    """
    return _scaled_mean(_per_series(interval_score(y, lo, hi, alpha), y), scale, "MSIS")


def coverage(y, lo, hi) -> float:
    """Share of observed actuals inside [lo, hi]."""
    y, lo, hi = _arr(y), _arr(lo), _arr(hi)
    obs = ~np.isnan(y)
    return float(np.mean((y[obs] >= lo[obs]) & (y[obs] <= hi[obs])))
