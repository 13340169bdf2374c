"""Adaptive bin ranges and the unit-space transform.

For a support [lo, hi] the affine map u = (y - lo) / (hi - lo) sends data to unit space, where
the K bins split [0, 1] evenly; edges in data units are lo + (hi - lo) j / K. The same map
normalises the network's inputs, so series of any scale share one network.

Ranges come from each window's context (`"window"`) or from a series' history (`"series"`).
They are *robust*: with n observed points, the k = ceil(n TRIM) most extreme on each side
(none below `MIN_TRIM_POINTS` points) give the trimmed range [q_lo, q_hi] of width R; values
beyond the fences q_lo - W and q_hi + W are outliers, W = max(R, the series' robust span) for a
window (R for a series), and the range is [min, max] of the rest. On clean data that is
[min, max]; a spike (a data-entry error of 1e6 in a series living in [6, 14]) is left out: it
falls into an edge bin instead of stretching every bin, and the network reads it at the range's
edge (`windows.UnitWindows`). The series' span in W keeps what the series does often: a lone
demand in a window of zeros of an intermittent series is data, not a spike. The range is then
widened by the span floor and `margin` x span per side (`widen`). `margin="auto"`
(`choose_margin`) takes the narrowest of `MARGINS` that leaves at most `MAX_OUTSIDE` = 2% of
the training targets outside the support: targets outside are clipped into the edge bins, so a
larger share would cut into the 2.5% tails of a 95% interval (random-walk data such as exchange
rates needs a wider support than a seasonal series whose range repeats).

Near-constant windows get a floor on the span of `REL_FLOOR` x the series' robust span (of a
constant series: x |centre|; `TINY` for a series of zeros), so the map stays finite. The floor
moves with the data's spread, not its level: forecasts of a + c y are a + c times those of y
for any c > 0 and shift a (as long as float64 holds them).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from ..dist.histogram import unit_grid

BIN_RANGES = ("series", "window")
TRIM = 0.01  # share of a history's points on each side the robust range may leave out
MIN_TRIM_POINTS = 10  # fewer observed points: the range is [min, max]
REL_FLOOR = 0.1
TINY = 1e-300  # the span of a series of zeros (non-zero |y| >= panel.MIN_ABS = 1e-290)
MARGINS = (0.1, 0.2, 0.3, 0.5, 0.75, 1.0)  # candidates of margin="auto", narrowest first
MAX_OUTSIDE = 0.02  # most share of training targets that may fall outside the support
INPUT_CLIP = (-1.0, 2.0)  # unit-space values the network reads and the loss sees


def _larger(a, b):
    """Elementwise maximum of numpy arrays or tensors (NaN-free)."""
    return a + (b - a) * (b > a)


def widen(lo, hi, margin: float, series_span=None):
    """Apply the span floor and the margin: `(lo, hi)` -> `(lo', hi')`, numpy or torch alike.

    span' = max(hi - lo, REL_FLOOR s, TINY) with s the series' robust span `series_span`, or
    |centre| where that is 0 or not given (a constant series); the support is centre +- span'
    (1/2 + margin).
    """
    centre, span = (lo + hi) / 2, hi - lo
    spread = abs(centre) if series_span is None else series_span
    spread = spread + (abs(centre) - spread) * (spread <= 0)  # a constant series: its level
    floor = _larger(spread * REL_FLOOR, spread * 0 + TINY)
    span = _larger(span, floor)
    half = span * (0.5 + margin)
    return centre - half, centre + half


def n_trim(n):
    """Points left out on each side of n observed ones: ceil(n TRIM), 0 below MIN_TRIM_POINTS."""
    if isinstance(n, torch.Tensor):
        return torch.where(n >= MIN_TRIM_POINTS, torch.ceil(n * TRIM), 0).long()
    return np.where(n >= MIN_TRIM_POINTS, np.ceil(n * TRIM), 0).astype(np.int64)


def fences(q_lo, q_hi, min_width=None):
    """(q_lo - W, q_hi + W), W = max(q_hi - q_lo, `min_width`): beyond them a value is an
    outlier."""
    w = q_hi - q_lo
    if min_width is not None:
        w = _larger(w, min_width)
    return q_lo - w, q_hi + w


def series_ranges(values: np.ndarray, indptr: np.ndarray, margin: float | None = None,
                  block: int = 1 << 22):  # fmt: skip
    """Per-series robust support from packed histories (NaN ignored): two float64 `(S,)`.

    `margin=None` gives the raw robust range; a number applies `widen` with that margin and
    the series' own span. A series whose robust range is one value (all but a few points
    equal, e.g. rare demands) gets its full [min, max]: those few are all it varies by. Series
    without an observed value get (0, 0). Computed over blocks of whole series of about
    `block` points.
    """
    n_series, lo, hi = len(indptr) - 1, *np.zeros((2, len(indptr) - 1))
    # blocks of whole series of about `block` points: the sort's temporaries stay that size
    cuts = np.searchsorted(indptr, np.arange(block, indptr[-1], block), "right") - 1
    ends = np.unique(np.append(cuts, n_series))
    for a, b in zip(np.concatenate([[0], ends[:-1]]), ends, strict=True):
        if b > a:
            rows = slice(indptr[a], indptr[b])
            lo[a:b], hi[a:b] = _robust_ranges(values[rows], indptr[a : b + 1] - indptr[a])
    return (lo, hi) if margin is None else widen(lo, hi, margin, hi - lo)


def _robust_ranges(values: np.ndarray, indptr: np.ndarray):
    """`series_ranges` of one block of series (raw ranges)."""
    v = np.asarray(values, dtype=np.float64)
    s = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    order = np.lexsort((v, s))  # by series, then value; NaN last within a series
    ordered = v[order]
    n = np.add.reduceat(~np.isnan(v), indptr[:-1]) if len(v) else np.zeros(0, np.int64)
    n = np.where(np.diff(indptr) > 0, n, 0)
    first, k = indptr[:-1], n_trim(n)
    last = first + np.maximum(n - 1, 0)

    def pick(pos):  # the value at a sorted position
        return ordered[np.clip(pos, 0, max(len(v) - 1, 0))]

    f_lo, f_hi = fences(pick(first + k), pick(last - k))
    below = np.add.reduceat(ordered < f_lo[s], indptr[:-1]) if len(v) else n
    above = np.add.reduceat(ordered > f_hi[s], indptr[:-1]) if len(v) else n  # NaN: False
    lo, hi = pick(first + below), pick(last - above)
    flat = lo == hi  # all but a few points equal: the few are the series' spread, not spikes
    lo, hi = np.where(flat, pick(first), lo), np.where(flat, pick(last), hi)
    return np.where(n > 0, lo, 0.0), np.where(n > 0, hi, 0.0)


def window_ranges(context: torch.Tensor, series=None):
    """Per-window robust range from contexts `(B, C)` with NaN for missing: two tensors `(B,)`
    (before the floor and margin: see `widen`).

    `series` (a pair of `(B,)` tensors, each window's series' robust range) widens the fences
    to at least the series' span, and is the range of windows with no observed value.
    """
    observed = ~torch.isnan(context)
    n = observed.sum(-1)
    k = n_trim(n)  # (B,)
    # at most k values lie beyond a fence, so the k_max + 1 extremes of each side decide the
    # range: topk is O(C) where a sort is O(C log C) (a tenth of a training step on a CPU)
    m = min(int(n_trim(torch.tensor(context.shape[-1]))) + 1, context.shape[-1])
    small = torch.where(observed, context, torch.inf).topk(m, -1, largest=False).values
    big = torch.where(observed, context, -torch.inf).topk(m, -1).values
    width = None if series is None else series[1] - series[0]
    q_lo, q_hi = small.gather(-1, k[:, None])[:, 0], big.gather(-1, k[:, None])[:, 0]
    f_lo, f_hi = fences(q_lo, q_hi, width)
    lo = torch.where(small >= f_lo[:, None], small, torch.inf).amin(-1)
    hi = torch.where(big <= f_hi[:, None], big, -torch.inf).amax(-1)
    if series is not None:
        empty = n == 0
        lo, hi = torch.where(empty, series[0], lo), torch.where(empty, series[1], hi)
    return lo, hi


def to_unit(y, lo, hi):
    """u = (y - lo) / (hi - lo); `lo`, `hi` broadcast against `y`."""
    return (y - lo) / (hi - lo)


def from_unit(u, lo, hi):
    """y = lo + (hi - lo) u, the inverse of `to_unit`."""
    return lo + (hi - lo) * u


def edges(lo: torch.Tensor, hi: torch.Tensor, n_bins: int) -> torch.Tensor:
    """Bin edges in data units, `lo (...)`, `hi (...)` -> `(..., K+1)`."""
    return from_unit(unit_grid(n_bins, lo), lo.unsqueeze(-1), hi.unsqueeze(-1))


def outside_share(u: torch.Tensor) -> float:
    """Share of observed unit-space targets outside [0, 1] (clipped into the edge bins)."""
    observed = ~torch.isnan(u)
    n = int(observed.sum())
    return float(((u < 0) | (u > 1))[observed].sum()) / n if n else 0.0


def choose_margin(outside_share_at, margin: float | str = "auto") -> tuple[float, float]:
    """The support margin and the share of training targets it leaves outside.

    `outside_share_at(m) -> float` measures that share for margin m. With `margin="auto"` the
    candidates `MARGINS` are tried narrowest first and the first leaving at most `MAX_OUTSIDE`
    outside is taken (the widest when none does); a number is used as given.
    """
    candidates = MARGINS if margin == "auto" else (float(margin),)
    for m in candidates:
        share = outside_share_at(m)
        if share <= MAX_OUTSIDE:
            break
    if share > MAX_OUTSIDE:
        at = f"even at the widest margin tried ({m:g})" if margin == "auto" else f"at margin={m:g}"
        warnings.warn(
            f"{share:.1%} of the training targets fall outside their windows' supports {at}; "
            f"the aim is at most {MAX_OUTSIDE:.0%}: forecasts beyond a support are pinned at its "
            "edge. The series move further in a horizon than in a context (fast trends?); give "
            "a larger margin=, or a longer context_length",
            stacklevel=3,
        )
    return m, share
