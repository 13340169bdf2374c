"""Decoder heads: map per-step features `(B, H, D)` to a distribution over K unit-space bins.

Every head gives bin probabilities `(B, H, K)` on the unit grid, so forecasts, CRPS and
quantiles are computed the same way whatever the head; the heads differ in their parameters
and their training loss.
"""

from __future__ import annotations

import torch
from torch import nn

from .losses import gaussian_nll, histogram_loss, phi_diff

HEADS = ("histogram", "gaussian")


def mlp(d_in: int, hidden: int, d_out: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(d_in, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, d_out)
    )


class HistogramHead(nn.Module):
    """K logits per step, trained with the histogram loss (`target` kind, `sigma_ratio`)."""

    def __init__(self, d_in, hidden, n_bins, dropout, target="gaussian", sigma_ratio=1.0):
        super().__init__()
        self.n_bins, self.target, self.sigma_ratio = n_bins, target, sigma_ratio
        self.net = mlp(d_in, hidden, n_bins, dropout)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)

    def loss(self, out: torch.Tensor, y: torch.Tensor, soft=None) -> torch.Tensor:
        return histogram_loss(out, y, self.target, self.sigma_ratio, soft)

    def probs(self, out: torch.Tensor) -> torch.Tensor:
        return torch.softmax(out, -1)


class GaussianHead(nn.Module):
    """loc and scale per step in unit space, trained by Gaussian NLL (the ablation's rival).

    Its bin probabilities are the normal's masses on the unit grid, truncated to [0, 1].
    """

    def __init__(self, d_in, hidden, n_bins, dropout):
        super().__init__()
        self.n_bins = n_bins
        self.net = mlp(d_in, hidden, 2, dropout)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out = self.net(z)
        scale = nn.functional.softplus(out[..., 1]) + 1e-3
        return torch.stack([out[..., 0], scale], -1)

    def loss(self, out: torch.Tensor, y: torch.Tensor, soft=None) -> torch.Tensor:
        return gaussian_nll(out[..., 0], out[..., 1], y)

    def probs(self, out: torch.Tensor) -> torch.Tensor:
        grid = torch.linspace(0, 1, self.n_bins + 1, dtype=out.dtype, device=out.device)
        z = (grid - out[..., :1]) / out[..., 1:]
        mass = phi_diff(z[..., :-1], z[..., 1:]) + 1e-12
        return mass / mass.sum(-1, keepdim=True)


def make_head(kind: str, d_in, hidden, n_bins, dropout, target, sigma_ratio) -> nn.Module:
    if kind == "histogram":
        return HistogramHead(d_in, hidden, n_bins, dropout, target, sigma_ratio)
    if kind == "gaussian":
        return GaussianHead(d_in, hidden, n_bins, dropout)
    raise ValueError(f"unknown head {kind!r}; choose one of {HEADS}")
