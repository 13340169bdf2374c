"""Adaptive bin ranges and the unit-space transform.

For a support [lo, hi] the affine map u = (y - lo) / (hi - lo) sends data to unit space, where
the K bins split [0, 1] evenly; edges in data units are lo + (hi - lo) j / K. The same map
normalises the network's inputs, so series of any scale share one network.

Ranges come from a series' history (`"series"`) or from each window's context (`"window"`),
widened on each side by `margin` x span. `margin="auto"` (`choose_margin`) takes the
narrowest of `MARGINS` that leaves at most `MAX_OUTSIDE` = 2% of the training targets outside
the support: targets outside are clipped into the edge bins, so a larger share would cut into
the 2.5% tails of a 95% interval (random-walk data such as exchange rates needs a wider support
than a seasonal series whose range repeats). Near-constant histories get a floor on the span of
`REL_FLOOR` x |centre| (at least `ABS_FLOOR`), so the map stays finite.
"""

from __future__ import annotations

import numpy as np
import torch

BIN_RANGES = ("series", "window")
REL_FLOOR = 0.1
ABS_FLOOR = 1e-3
MARGINS = (0.1, 0.2, 0.3, 0.5, 0.75, 1.0)  # candidates of margin="auto", narrowest first
MAX_OUTSIDE = 0.02  # most share of training targets that may fall outside the support


def widen(lo, hi, margin: float):
    """Apply the span floor and the margin: `(lo, hi)` -> `(lo', hi')`, numpy or torch alike."""
    centre, span = (lo + hi) / 2, hi - lo
    floor = abs(centre) * REL_FLOOR
    floor = floor.clip(min=ABS_FLOOR) if isinstance(floor, np.ndarray) else floor.clamp(ABS_FLOOR)
    span = span + (floor - span) * (span < floor)  # where(span < floor, floor, span)
    half = span * (0.5 + margin)
    return centre - half, centre + half


def series_ranges(values: np.ndarray, indptr: np.ndarray, margin: float | None = None):
    """Per-series support from packed histories (NaN ignored): two float64 arrays `(S,)`.

    `margin=None` gives the raw [min, max]; a number applies `widen` with that margin.
    """
    v = values.astype(np.float64)
    lo = np.minimum.reduceat(np.where(np.isnan(v), np.inf, v), indptr[:-1])
    hi = np.maximum.reduceat(np.where(np.isnan(v), -np.inf, v), indptr[:-1])
    return (lo, hi) if margin is None else widen(lo, hi, margin)


def window_ranges(context: torch.Tensor, margin: float, fallback=None):
    """Per-window support from contexts `(B, C)` with NaN for missing: two tensors `(B,)`.

    Windows with no observed value take `fallback` (a pair of `(B,)` tensors) if given.
    """
    observed = ~torch.isnan(context)
    lo = torch.where(observed, context, torch.inf).amin(-1)
    hi = torch.where(observed, context, -torch.inf).amax(-1)
    if fallback is not None:
        empty = ~observed.any(-1)
        lo, hi = torch.where(empty, fallback[0], lo), torch.where(empty, fallback[1], hi)
    return widen(lo, hi, margin)


def to_unit(y, lo, hi):
    """u = (y - lo) / (hi - lo); `lo`, `hi` broadcast against `y`."""
    return (y - lo) / (hi - lo)


def from_unit(u, lo, hi):
    """y = lo + (hi - lo) u, the inverse of `to_unit`."""
    return lo + (hi - lo) * u


def unit_grid(n_bins: int, like: torch.Tensor) -> torch.Tensor:
    """The K + 1 evenly spaced unit-space edges j / K, `(K+1,)`, with `like`'s dtype and device."""
    return torch.linspace(0, 1, n_bins + 1, dtype=like.dtype, device=like.device)


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
    return m, share
