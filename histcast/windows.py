"""Rolling windows over a packed panel, gathered by index arithmetic.

A window is a pair (series s, cutoff position g): g is the global index in the packed arrays of
the last context point, the context is positions g-C+1..g and the target g+1..g+H. Positions
before the series' start are left padding (NaN, observed mask 0); positions after its end are
missing targets (NaN, masked in the loss). Windows of all series are gathered at once with
tensor indexing: no Python loop over windows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Windows:
    """Window index arrays: series `(W,)` and cutoff global positions `(W,)` (int64)."""

    series: np.ndarray
    cutoff: np.ndarray

    def __len__(self) -> int:
        return len(self.cutoff)

    def take(self, idx) -> Windows:
        return Windows(self.series[idx], self.cutoff[idx])


def training_windows(indptr: np.ndarray, n_train: np.ndarray, min_target: int = 1) -> Windows:
    """Every cutoff whose target has at least `min_target` points inside the training part.

    indptr `(S+1,)`; n_train `(S,)`: points of each series usable for training (its head).
    Series s gives cutoffs at local positions 0 .. n_train[s] - 1 - min_target.
    """
    counts = np.maximum(np.asarray(n_train) - min_target, 0)
    series = np.repeat(np.arange(len(counts)), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    local = np.arange(counts.sum()) - first
    return Windows(series, indptr[:-1][series] + local)


def last_windows(indptr: np.ndarray, back: np.ndarray | int = 0) -> Windows:
    """One window per series whose cutoff lies `back` points before the series' last point."""
    series = np.arange(len(indptr) - 1)
    return Windows(series, indptr[1:] - 1 - np.broadcast_to(back, series.shape))


@dataclass
class Batch:
    """Gathered windows. context `(B, C)` and target `(B, H)` hold NaN where missing;
    ctx_feats `(B, C, F)`, fut_feats `(B, H, F)`; series `(B,)`."""

    context: torch.Tensor
    target: torch.Tensor
    ctx_feats: torch.Tensor
    fut_feats: torch.Tensor
    series: torch.Tensor


def gather(
    values: torch.Tensor,
    feats: torch.Tensor,
    indptr: torch.Tensor,
    series: torch.Tensor,
    cutoff: torch.Tensor,
    context_length: int,
    horizon: int,
    fut_feats: torch.Tensor | None = None,
) -> Batch:
    """Gather windows from packed `values (N,)` and `feats (N, F)`.

    Targets past a series' end are NaN; their features come from `fut_feats (B, H, F)` when
    given (forecasting), else they are zeros.
    """
    start, end = indptr[series].unsqueeze(-1), indptr[series + 1].unsqueeze(-1)
    c = cutoff.unsqueeze(-1)
    ctx_idx = c + torch.arange(1 - context_length, 1, device=c.device)
    tgt_idx = c + torch.arange(1, horizon + 1, device=c.device)
    ctx_ok, tgt_ok = ctx_idx >= start, tgt_idx < end
    nan = torch.tensor(float("nan"), dtype=values.dtype, device=values.device)
    n = len(values) - 1
    context = torch.where(ctx_ok, values[ctx_idx.clamp(0, n)], nan)
    target = torch.where(tgt_ok, values[tgt_idx.clamp(0, n)], nan)
    ctx_feats = feats[ctx_idx.clamp(0, n)] * ctx_ok.unsqueeze(-1)
    if fut_feats is None:
        fut_feats = feats[tgt_idx.clamp(0, n)] * tgt_ok.unsqueeze(-1)
    return Batch(context, target, ctx_feats, fut_feats, series)
