"""Layers shared by the encoders and the heads."""

from __future__ import annotations

import torch
from torch import nn


class StepDropout(nn.Module):
    """Dropout with one mask per window, shared by its horizon steps: x `(B, H, D)`, mask
    `(B, 1, D)` scaled by 1 / (1 - p). The same regulariser on the per-window state as
    `nn.Dropout`, for 1/H of the random numbers."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.rand(*x.shape[:-2], 1, x.shape[-1], dtype=x.dtype, device=x.device) >= self.p
        return x * (keep.to(x.dtype) / (1 - self.p))


def mlp(d_in: int, hidden: int, d_out: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(d_in, hidden), nn.GELU(), StepDropout(dropout), nn.Linear(hidden, d_out)
    )


def run_mlp(net: nn.Sequential, z) -> torch.Tensor:
    """`net(cat(z, -1))` for a list `z` of parts that broadcast to `(B, H, D_i)`, or `net(z)`
    for one tensor. The first layer is b + sum_i z_i W_i^T (W_i: the columns of part i), so a
    part shared by all steps `(B, 1, D_i)` or all windows `(1, H, D_i)` is multiplied once,
    not H or B times, and the concatenation is never formed."""
    parts = [z] if isinstance(z, torch.Tensor) else z
    first, start = net[0], 0
    x = first.bias
    for part in parts:
        width = part.shape[-1]
        x = x + nn.functional.linear(part, first.weight[:, start : start + width])
        start += width
    if start != first.in_features:
        raise ValueError(f"head input has {start} features; the head reads {first.in_features}")
    return net[1:](x)
