"""Forecast scores with the definitions of GluonTS, the Chronos benchmark and M4.

Conventions: arrays of actuals `y` and forecasts are `(n_series, horizon)` (or anything that
flattens consistently); NaN actuals are missing and are left out of every sum and mean.
Per-series scores (MASE, MSIS) average over the horizon within a row, then over rows; pooled
scores (WQL, coverage, sMAPE, CRPS) average over every observed point.
"""

from __future__ import annotations

import numpy as np
import torch

from .distributions import Histogram, check_levels

DEFAULT_LEVELS = np.round(np.arange(1, 10) / 10, 2)


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


def wql(y, quantiles, levels=DEFAULT_LEVELS) -> float:
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


def crps_histogram(edges, probs, y) -> np.ndarray:
    """Exact CRPS of histogram forecasts: edges `(..., K+1)`, probs `(..., K)`, y `(...)`."""
    dist = Histogram(torch.as_tensor(_arr(edges)), torch.as_tensor(_arr(probs)))
    return dist.crps(torch.as_tensor(_arr(y))).numpy()


def pit(edges, probs, y) -> np.ndarray:
    """Probability integral transform F(y) of histogram forecasts, `(...)`."""
    dist = Histogram(torch.as_tensor(_arr(edges)), torch.as_tensor(_arr(probs)))
    return dist.cdf(torch.as_tensor(_arr(y))).numpy()


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
    """Row means of `values (S, H)` over observed actuals."""
    values = np.where(np.isnan(_arr(y)), np.nan, values)
    return np.nanmean(np.atleast_2d(values), axis=-1)


def mase(y, yhat, scale) -> float:
    """Mean over series of [mean_h |y - yhat| / scale_s]; y, yhat `(S, H)`, scale `(S,)`."""
    err = _per_series(np.abs(_arr(y) - _arr(yhat)), y)
    return float(np.mean(err / _arr(scale).reshape(-1)))


def smape(y, yhat) -> float:
    """M4 sMAPE: mean of 200 |y - yhat| / (|y| + |yhat|) (0 where both are 0)."""
    y, yhat = _arr(y), _arr(yhat)
    obs = ~np.isnan(y)
    num, den = 200 * np.abs(y - yhat)[obs], (np.abs(y) + np.abs(yhat))[obs]
    return float(np.mean(np.divide(num, den, out=np.zeros_like(num), where=den > 0)))


def msis(y, lo, hi, scale, alpha: float = 0.05) -> float:
    """M4 MSIS: mean over series of the mean interval score divided by the seasonal scale.

    IS = (u - l) + (2/alpha)(l - y) 1{y < l} + (2/alpha)(y - u) 1{y > u}.
    """
    y, lo, hi = _arr(y), _arr(lo), _arr(hi)
    score = (hi - lo) + (2 / alpha) * ((lo - y) * (y < lo) + (y - hi) * (y > hi))
    return float(np.mean(_per_series(score, y) / _arr(scale).reshape(-1)))


def coverage(y, lo, hi) -> float:
    """Share of observed actuals inside [lo, hi]."""
    y, lo, hi = _arr(y), _arr(lo), _arr(hi)
    obs = ~np.isnan(y)
    return float(np.mean((y[obs] >= lo[obs]) & (y[obs] <= hi[obs])))
