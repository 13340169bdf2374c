"""The data path: packed panel -> windows -> unit-space batch.

A window is a pair (series s, cutoff position g): g is the global index in the packed arrays of
the last context point, the context is positions g-C+1..g and the target g+1..g+H. Positions
before the series' start are left padding (NaN, observed mask 0); positions after its end are
missing targets (NaN, masked in the loss). Windows of all series are gathered at once with
tensor indexing: no Python loop over windows.

`UnitWindows` is the one object that turns windows into what the network reads, as Chronos'
tokenizer does for its model: it gathers them from a `Packed` panel, takes each window's support
[lo, hi] (`bins`) and maps context and target to unit space. Forecasts go back to data units
through the same support (`UnitBatch.edges`). Covariates (`covariates`) travel the same path:
packed beside the values, gathered with the same indices, left as they are (already scaled).
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


@dataclass
class TrainingWindows:
    """Every training window of a panel, by number, without their index arrays: series s owns
    the windows first[s] <= i < first[s+1], window i's cutoff is its (i - first[s])-th, at
    global position start[s] + i - first[s]. `take(idx)` finds the series by binary search:
    a 50-million-window panel costs two `(S,)` arrays instead of two `(W,)` ones.

    start `(S,)` global position of each series' first cutoff; first `(S+1,)` cumulative
    window counts."""

    start: np.ndarray
    first: np.ndarray

    def __len__(self) -> int:
        return int(self.first[-1])

    def take(self, idx) -> Windows:
        idx = np.asarray(idx, dtype=np.int64)
        series = np.searchsorted(self.first, idx, "right") - 1
        return Windows(series, self.start[series] + idx - self.first[series])

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.first)

    @property
    def series(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.start)), self.counts)

    @property
    def cutoff(self) -> np.ndarray:
        return self.take(np.arange(len(self))).cutoff


def training_windows(indptr: np.ndarray, n_train: np.ndarray, min_target: int = 1):
    """Every cutoff whose target has at least `min_target` points inside the training part,
    as `TrainingWindows`.

    indptr `(S+1,)`; n_train `(S,)`: points of each series usable for training (its head).
    Series s gives cutoffs at local positions 0 .. n_train[s] - 1 - min_target.
    """
    counts = np.maximum(np.asarray(n_train, dtype=np.int64) - min_target, 0)
    return TrainingWindows(np.asarray(indptr[:-1]), np.concatenate([[0], np.cumsum(counts)]))


def last_windows(indptr: np.ndarray, back: np.ndarray | int = 0) -> Windows:
    """One window per series whose cutoff lies `back` points before the series' last point."""
    series = np.arange(len(indptr) - 1)
    return Windows(series, indptr[1:] - 1 - np.broadcast_to(back, series.shape))


@dataclass
class Batch:
    """Gathered windows in data units. context `(B, C)` and target `(B, H)` hold NaN where
    missing; ctx_feats `(B, C, F)`, fut_feats `(B, H, F)`; with covariates ctx_exog
    `(B, C, Ef + Eh)` (future-known, then historical) and fut_exog `(B, H, Ef)`, zeros where
    the context or target lies outside the series."""

    context: torch.Tensor
    target: torch.Tensor
    ctx_feats: torch.Tensor
    fut_feats: torch.Tensor
    ctx_exog: torch.Tensor | None = None
    fut_exog: torch.Tensor | None = None


def gather(
    values: torch.Tensor,
    feats: torch.Tensor,
    indptr: torch.Tensor,
    series: torch.Tensor,
    cutoff: torch.Tensor,
    context_length: int,
    horizon: int,
    fut_feats: torch.Tensor | None = None,
    futr: torch.Tensor | None = None,
    hist: torch.Tensor | None = None,
    fut_futr: torch.Tensor | None = None,
) -> Batch:
    """Gather windows from packed `values (N,)` and `feats (N, F)`, and the covariates `futr
    (N, Ef)` and `hist (N, Eh)` when given (both or neither).

    Targets past a series' end are NaN; their features come from `fut_feats (B, H, F)` when
    given (forecasting), else they are zeros; so do their future-known covariates, from
    `fut_futr (B, H, Ef)`.
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
    if futr is None:
        return Batch(context, target, ctx_feats, fut_feats)
    ctx_rows = ctx_idx.clamp(0, n)
    ctx_exog = torch.cat([futr[ctx_rows], hist[ctx_rows]], -1) * ctx_ok.unsqueeze(-1)
    if fut_futr is None:
        fut_futr = futr[tgt_idx.clamp(0, n)] * tgt_ok.unsqueeze(-1)
    return Batch(context, target, ctx_feats, fut_feats, ctx_exog, fut_futr)
