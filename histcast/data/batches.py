"""Windows of a packed panel -> unit-space batches: what the network reads."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from . import bins
from .calendar import calendar_features
from .panel import Panel
from .windows import TrainingWindows, Windows, gather


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

    def batches(self, data: Packed, train: TrainingWindows):
        """The plain training batch function `idx -> UnitBatch` of windows `train.take(idx)`."""
        return lambda idx: self(data, train.take(idx))
