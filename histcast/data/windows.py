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

from . import bins
from .calendar import calendar_features
from .panel import Panel


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


def split_holdout(panel: Panel, val_size: int) -> tuple[Panel, np.ndarray]:
    """Cut the last `val_size` points off every series long enough to keep two points.

    Returns the training panel and `holds_out (S,)`, True where the series was cut.
    """
    holds_out = panel.lengths > val_size + 1
    n_train = np.where(holds_out, panel.lengths - val_size, panel.lengths)
    return panel.drop_last(panel.lengths - n_train), holds_out


def recency_weights(win: Windows, indptr: np.ndarray, halflife: float | None):
    """Sampling weights 0.5 ** (age / halflife) of windows `(W,)`, where age is the number of
    steps from a window's cutoff to its series' last training point; None when `halflife` is."""
    if halflife is None:
        return None
    age = indptr[1:][win.series] - 1 - win.cutoff
    return 0.5 ** (age / halflife)


def margin_sample(win: TrainingWindows, indptr: np.ndarray, context_length: int, seed: int,
                  n=20_000):  # fmt: skip
    """Indices of up to `n` windows (drawn without replacement) whose context holds at least half
    the points a forecast's will, min(C, series length) / 2: the windows on which the share of
    targets outside the support is measured (a window at a series' start sees a few points).

    Series s's pool is its windows from local cutoff ceil(min(C, length) / 2) - 1 on; the
    draw numbers the pools' windows in order and maps the drawn numbers back, so no `(W,)`
    array is built."""
    half = np.ceil(np.minimum(context_length, np.diff(indptr)) / 2).astype(np.int64)
    skip = np.minimum(np.maximum(half - 1, 0), win.counts)  # windows left out at each start
    sizes = win.counts - skip
    pool_first = np.concatenate([[0], np.cumsum(sizes)])
    rng = np.random.default_rng(seed)
    j = rng.choice(int(pool_first[-1]), min(int(pool_first[-1]), n), replace=False)
    series = np.searchsorted(pool_first, j, "right") - 1
    return win.first[series] + skip[series] + j - pool_first[series]


@dataclass
class Packed:
    """A panel on one device: values `(N,)` float64 (NaN missing), calendar features `(N, F)`,
    indptr `(S+1,)`, and each series' robust range lo, hi `(S,)` float64 (of the history the
    ranges come from, before the span floor and the margin: `bins.series_ranges`). With
    covariates (`covariates.ExogArrays`): futr `(N, Ef)`, hist `(N, Eh)`, stat `(S, Es)`
    float32; None without."""

    values: torch.Tensor
    feats: torch.Tensor
    indptr: torch.Tensor
    lo: torch.Tensor
    hi: torch.Tensor
    futr: torch.Tensor | None = None
    hist: torch.Tensor | None = None
    stat: torch.Tensor | None = None

    @classmethod
    def from_panel(cls, panel: Panel, freq, device, ranges=None, exog=None) -> Packed:
        """Pack `panel` and its covariates `exog` (`ExogArrays` or None); `ranges` (a pair of
        `(S,)` arrays) default to the panel's own."""
        lo, hi = ranges if ranges is not None else bins.series_ranges(panel.values, panel.indptr)
        covariates = (
            [torch.as_tensor(a, device=device) for a in (exog.futr, exog.hist, exog.stat)]
            if exog is not None
            else []
        )
        return cls(
            torch.as_tensor(panel.values, device=device),
            torch.as_tensor(calendar_features(panel.ds, freq), device=device),
            torch.as_tensor(panel.indptr, device=device),
            torch.as_tensor(lo, dtype=torch.float64, device=device),
            torch.as_tensor(hi, dtype=torch.float64, device=device),
            *covariates,
        )

    @classmethod
    def tail(cls, panel: Panel, freq, device, context_length: int, exog=None) -> Packed:
        """`from_panel` of the last `context_length` points of each series, all that the window
        at a series' end reads, with the robust ranges of the whole series: forecasting a long
        panel packs S x C rows, not N."""
        ranges = bins.series_ranges(panel.values, panel.indptr)
        last, rows = panel.last(context_length)
        return cls.from_panel(last, freq, device, ranges, None if exog is None else exog.rows(rows))

    @property
    def ranges(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.lo, self.hi


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


@dataclass
class ExogBatch:
    """Covariates of B windows as `ForecastNet` reads them: ctx `(B, C, Ef + Eh)`, fut
    `(B, H, Ef)`, stat `(B, Es)`, float32 (scaled numbers, categorical codes)."""

    ctx: torch.Tensor
    fut: torch.Tensor
    stat: torch.Tensor


@dataclass
class UnitBatch:
    """Windows in unit space: u `(B, C)` and y `(B, H)` are float32 (value - lo) / (hi - lo)
    clipped to [-1, 2], NaN where missing; ctx_feats `(B, C, F)`, fut_feats `(B, H, F)`;
    support lo, hi `(B,)` float64 in data units; exog the windows' covariates or None."""

    u: torch.Tensor
    ctx_feats: torch.Tensor
    fut_feats: torch.Tensor
    y: torch.Tensor
    lo: torch.Tensor
    hi: torch.Tensor
    exog: ExogBatch | None = None

    @property
    def inputs(self) -> tuple:
        """What `ForecastNet.forward` reads: (u, ctx_feats, fut_feats), and exog when given."""
        if self.exog is None:
            return self.u, self.ctx_feats, self.fut_feats
        return self.u, self.ctx_feats, self.fut_feats, self.exog

    def edges(self, n_bins: int) -> torch.Tensor:
        """Bin edges in data units, float64 `(B, 1, K+1)` (shared by the H steps)."""
        return bins.edges(self.lo.double(), self.hi.double(), n_bins).unsqueeze(1)


@dataclass(frozen=True)
class UnitWindows:
    """Windows of a packed panel -> unit-space batches.

    Each window's support is its context's robust range (`bin_range="window"`; a window with no
    observed value falls back to its series') or its series' (`"series"`), widened by the span
    floor and `margin` (`bins.widen`). Context values the robust range leaves out (spikes) are
    read at its nearest edge, so one data-entry error cannot swamp the network's inputs. Values are
    float64 up to the unit map; u and y enter the network (float32) clipped to
    `bins.INPUT_CLIP` = [-1, 2] (a target that far outside is in an edge bin either way).
    """

    context_length: int
    horizon: int
    bin_range: str = "window"
    margin: float = 0.1

    def __call__(self, data: Packed, win: Windows, fut_feats=None, fut_exog=None) -> UnitBatch:
        """Gather windows `win` (B of them) from `data`; `fut_feats (B, H, F)` and `fut_exog
        (B, H, Ef)` give the calendar features and future-known covariates of steps past the
        series' ends (forecasting)."""
        series = torch.as_tensor(win.series, device=data.values.device)
        cutoff = torch.as_tensor(win.cutoff, device=data.values.device)
        if fut_exog is not None:
            fut_exog = torch.as_tensor(fut_exog, device=data.values.device)
        batch = gather(
            data.values, data.feats, data.indptr, series, cutoff,
            self.context_length, self.horizon, fut_feats, data.futr, data.hist, fut_exog,
        )  # fmt: skip
        series_lo, series_hi = data.lo[series], data.hi[series]
        if self.bin_range == "window":
            lo, hi = bins.window_ranges(batch.context, (series_lo, series_hi))
        else:
            lo, hi = series_lo, series_hi
        # context values the robust range leaves out (spikes) are moved to its edge
        context = torch.minimum(torch.maximum(batch.context, lo.unsqueeze(-1)), hi.unsqueeze(-1))
        lo, hi = bins.widen(lo, hi, self.margin, series_hi - series_lo)
        clip = bins.INPUT_CLIP
        u = bins.to_unit(context, lo.unsqueeze(-1), hi.unsqueeze(-1)).clamp(*clip)
        y = bins.to_unit(batch.target, lo.unsqueeze(-1), hi.unsqueeze(-1)).clamp(*clip)
        u, y = u.float(), y.float()
        exog = None
        if data.futr is not None:
            exog = ExogBatch(batch.ctx_exog, batch.fut_exog, data.stat[series])
        return UnitBatch(u, batch.ctx_feats, batch.fut_feats, y, lo, hi, exog)
