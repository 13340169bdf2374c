"""Recalibration of predicted histograms on held-out windows (Kuleshov, Fenner & Ermon,
"Accurate Uncertainties for Deep Learning Using Calibrated Regression", ICML 2018).

A forecaster is calibrated when its PIT values F(y) are uniform. Given the PIT values p_1..p_n
of held-out targets, the map G(p) = (share of held-out PIT values <= p), the empirical CDF,
makes the recalibrated CDF G(F(y)) uniform on them. G is kept as knots (p_(i), i / (n + 1)),
linear between them, with G(0) = 0 and G(1) = 1, and applied to a histogram by mapping its CDF
at the bin edges: the new bin probabilities are diff(G(F(edges))) on the same edges (the
composed CDF is read as linear within each bin). G is monotone, so quantiles keep their order;
it cannot move mass outside the support.
"""

from __future__ import annotations

import numpy as np
import torch

MAX_KNOTS = 512  # most knots kept of G (evenly spaced in rank)


def fit_map(pit) -> np.ndarray:
    """G from PIT values `pit (n,)` in [0, 1] (NaN ignored): knots `(2, M)`, M <= MAX_KNOTS + 2,
    the sorted PIT values p_(i) and their levels i / (n + 1) between (0, 0) and (1, 1), both
    rows non-decreasing. Keeping the knots where the PIT values fall (not a fixed grid of
    levels) resolves the tails of a forecast that is far too narrow or wide. With no values,
    the identity."""
    p = np.asarray(pit, np.float64).reshape(-1)
    p = np.sort(np.clip(p[~np.isnan(p)], 0.0, 1.0))
    levels = np.arange(1, len(p) + 1) / (len(p) + 1)
    keep = np.unique(np.linspace(0, len(p) - 1, min(len(p), MAX_KNOTS)).round().astype(int))
    x = np.concatenate([[0.0], p[keep] if len(p) else [], [1.0]])
    y = np.concatenate([[0.0], levels[keep] if len(p) else [], [1.0]])
    return np.stack([x, y])


def apply_map(probs: torch.Tensor, knots) -> torch.Tensor:
    """Recalibrated bin probabilities `(..., K)`: diff(G(F(edges))) with F the CDF of `probs`
    at its K + 1 edges and G (`fit_map`'s knots `(2, M)`) interpolated linearly between knots
    (at tied knots, the highest level: the empirical CDF's right limit)."""
    x, y = (torch.as_tensor(np.asarray(k), dtype=probs.dtype, device=probs.device) for k in knots)
    cdf = torch.cat([torch.zeros_like(probs[..., :1]), probs.cumsum(-1)], -1).clamp(0, 1)
    hi = torch.searchsorted(x, cdf.contiguous(), right=True).clamp(1, len(x) - 1)
    x0, x1, y0, y1 = x[hi - 1], x[hi], y[hi - 1], y[hi]
    t = torch.where(x1 > x0, (cdf - x0) / (x1 - x0).clamp(min=1e-300), torch.ones_like(cdf))
    mapped = y0 + t.clamp(0, 1) * (y1 - y0)
    mapped[..., 0], mapped[..., -1] = 0.0, 1.0
    return mapped.diff(dim=-1).clamp(min=0)
