"""Decoder heads: map per-step features `(B, H, D)` to a distribution over K unit-space bins.

The features may come as a list of parts that broadcast to `(B, H, D_i)` and concatenate to D
(`run_mlp`): the network passes the window's state and the step embeddings that way.

Every head gives bin probabilities `(B, H, K)` on the unit grid, so forecasts, CRPS and
quantiles are computed the same way whatever the head; the heads differ in their parameters
and their training loss.
"""

from __future__ import annotations

import torch
from torch import nn

from ..dist.histogram import unit_grid
from .layers import mlp, run_mlp
from .losses import gaussian_nll, histogram_loss, mse_loss, pinball_loss, truncated_normal_probs

HEADS = ("histogram", "gaussian", "quantile", "mse")
QUANTILE_LEVELS = (0.01, 0.025, *[i / 20 for i in range(1, 20)], 0.975, 0.99)


class HistogramHead(nn.Module):
    """K logits per step, trained with the histogram loss (`target` kind, `sigma_ratio`)."""

    def __init__(self, d_in, hidden, n_bins, dropout, target="gaussian", sigma_ratio=1.0):
        super().__init__()
        self.n_bins, self.target, self.sigma_ratio = n_bins, target, sigma_ratio
        self.net = mlp(d_in, hidden, n_bins, dropout)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return run_mlp(self.net, z)

    def loss(self, out: torch.Tensor, y: torch.Tensor, soft=None) -> torch.Tensor:
        kind = self.target if soft is None else "soft"  # soft: a distillation target
        return histogram_loss(out, y, kind, self.sigma_ratio, soft)

    def probs(self, out: torch.Tensor) -> torch.Tensor:
        return torch.softmax(out, -1)


def normal_probs(loc: torch.Tensor, scale: torch.Tensor, n_bins: int) -> torch.Tensor:
    """Masses of N(loc, scale^2) on the K unit bins, renormalised: `(...)` -> `(..., K)`."""
    z = (unit_grid(n_bins, loc) - loc.unsqueeze(-1)) / scale.unsqueeze(-1)
    return truncated_normal_probs(z, floor=1e-12)


class GaussianHead(nn.Module):
    """loc and scale per step in unit space, trained by Gaussian NLL (the ablation's rival).

    Its bin probabilities are the normal's masses on the unit grid, truncated to [0, 1].
    """

    def __init__(self, d_in, hidden, n_bins, dropout):
        super().__init__()
        self.n_bins = n_bins
        self.net = mlp(d_in, hidden, 2, dropout)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out = run_mlp(self.net, z)
        scale = nn.functional.softplus(out[..., 1]) + 1e-3
        return torch.stack([out[..., 0], scale], -1)

    def loss(self, out: torch.Tensor, y: torch.Tensor, soft=None) -> torch.Tensor:
        return gaussian_nll(out[..., 0], out[..., 1], y)

    def probs(self, out: torch.Tensor) -> torch.Tensor:
        return normal_probs(out[..., 0], out[..., 1], self.n_bins)


class QuantileHead(nn.Module):
    """Q monotone quantiles per step trained by the pinball loss (MQ-RNN style).

    Quantiles are q_1 + cumsum(softplus(.)), so they never cross. For bin probabilities the
    CDF is piecewise linear through the knots (q_i, a_i), extended linearly to levels 0 and 1
    with the slope of the outermost pair, and read at the unit grid's edges.
    """

    def __init__(self, d_in, hidden, n_bins, dropout, levels=QUANTILE_LEVELS):
        super().__init__()
        self.n_bins = n_bins
        self.register_buffer("levels", torch.tensor(levels, dtype=torch.float32), persistent=False)
        self.net = mlp(d_in, hidden, len(levels), dropout)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out = run_mlp(self.net, z)
        steps = nn.functional.softplus(out[..., 1:]) + 1e-4
        return torch.cat([out[..., :1], out[..., :1] + steps.cumsum(-1)], -1)

    def loss(self, out: torch.Tensor, y: torch.Tensor, soft=None) -> torch.Tensor:
        return pinball_loss(out, y, self.levels)

    def probs(self, out: torch.Tensor) -> torch.Tensor:
        a = self.levels.to(out.dtype)
        lo = out[..., :1] - (out[..., 1:2] - out[..., :1]) * a[0] / (a[1] - a[0])
        hi = out[..., -1:] + (out[..., -1:] - out[..., -2:-1]) * (1 - a[-1]) / (a[-1] - a[-2])
        knots = torch.cat([lo, out, hi], -1)  # (..., Q + 2), increasing
        levels = torch.cat([a.new_zeros(1), a, a.new_ones(1)])
        grid = unit_grid(self.n_bins, out)
        flat = knots.reshape(-1, knots.shape[-1]).contiguous()
        j = torch.searchsorted(flat, grid.expand(len(flat), -1).contiguous())
        j = j.clamp(1, knots.shape[-1] - 1)
        x0, x1 = flat.gather(1, j - 1), flat.gather(1, j)
        t = ((grid - x0) / (x1 - x0)).clamp(0, 1)
        cdf = levels[j - 1] + t * (levels[j] - levels[j - 1])
        inner = cdf.reshape(*out.shape[:-1], -1)[..., 1:-1]  # mass outside [0, 1] -> edge bins
        cdf = nn.functional.pad(nn.functional.pad(inner, (1, 0), value=0.0), (0, 1), value=1.0)
        mass = cdf.diff(dim=-1).clamp_min(0) + 1e-12
        return mass / mass.sum(-1, keepdim=True)


class PointHead(nn.Module):
    """A point forecast per step trained by MSE; its distribution is N(point, s_h^2), where s_h^2
    is a running (EMA, decay 0.99) mean of the squared training residuals of step h."""

    def __init__(self, d_in, hidden, n_bins, dropout, horizon):
        super().__init__()
        self.n_bins = n_bins
        self.net = mlp(d_in, hidden, 1, dropout)
        self.register_buffer("resid_var", torch.full((horizon,), 0.01, dtype=torch.float32))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return run_mlp(self.net, z).squeeze(-1)

    def loss(self, out: torch.Tensor, y: torch.Tensor, soft=None) -> torch.Tensor:
        if self.training:
            with torch.no_grad():
                sq = (out - y) ** 2  # (B, H), NaN where missing
                step = torch.nanmean(sq, 0)
                ok = ~torch.isnan(step)
                self.resid_var[ok] = 0.99 * self.resid_var[ok] + 0.01 * step[ok]
        return mse_loss(out, y)

    def probs(self, out: torch.Tensor) -> torch.Tensor:
        scale = self.resid_var.to(out.dtype).sqrt().clamp_min(1e-4).expand_as(out)
        return normal_probs(out, scale, self.n_bins)


def make_head(kind: str, d_in, hidden, n_bins, dropout, target, sigma_ratio, horizon) -> nn.Module:
    if kind == "histogram":
        return HistogramHead(d_in, hidden, n_bins, dropout, target, sigma_ratio)
    if kind == "gaussian":
        return GaussianHead(d_in, hidden, n_bins, dropout)
    if kind == "quantile":
        return QuantileHead(d_in, hidden, n_bins, dropout)
    if kind == "mse":
        return PointHead(d_in, hidden, n_bins, dropout, horizon)
    raise ValueError(f"unknown head {kind!r}; choose one of {HEADS}")
