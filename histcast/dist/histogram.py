"""`Histogram`: a batched distribution with a piecewise-uniform density.

Bin k (k = 1..K) spans [e_{k-1}, e_k), has width w_k = e_k - e_{k-1} and probability p_k; the
mass below it is L_k = sum_{j<k} p_j. The density is p_k / w_k inside the support and 0 outside,
so the CDF is piecewise linear and the quantile function is its exact inverse. Everything is
plain torch (float32 or float64, any device) and differentiable with respect to `probs`.
It agrees with `scipy.stats.rv_histogram(..., density=False)` on cdf, ppf, mean and variance.
"""

from __future__ import annotations

import torch


class Histogram:
    """Batched histogram distribution.

    Args:
        edges: bin edges `(..., K+1)`, strictly increasing along the last axis. Leading
            dimensions broadcast against those of `probs` (edges may be shared or per series).
        probs: bin probabilities `(..., K)`, non-negative, summing to 1. Exactly one of `probs`
            and `logits` must be given; `logits` are turned into `probs` with a softmax.
        validate: check the arguments (costs a device sync; internal callers may skip it).
        atol: tolerance on the sum of `probs` and on negative probabilities.
    """

    def __init__(self, edges, probs=None, logits=None, validate=True, atol=1e-4):
        if (probs is None) == (logits is None):
            raise ValueError("give exactly one of `probs` and `logits`")
        if probs is None:
            logits = torch.as_tensor(logits)
            probs = torch.softmax(logits, dim=-1)
        probs = torch.as_tensor(probs)
        edges = torch.as_tensor(edges, dtype=probs.dtype, device=probs.device)
        if edges.ndim < 1 or probs.ndim < 1 or edges.shape[-1] != probs.shape[-1] + 1:
            raise ValueError(
                f"edges must have one more entry than probs on the last axis; got edges "
                f"{tuple(edges.shape)} and probs {tuple(probs.shape)}"
            )
        try:
            batch = torch.broadcast_shapes(edges.shape[:-1], probs.shape[:-1])
        except RuntimeError as err:
            raise ValueError(
                f"batch shapes of edges {tuple(edges.shape)} and probs {tuple(probs.shape)} "
                "do not broadcast"
            ) from err
        if validate:
            _validate(edges, probs, atol)
        k = probs.shape[-1]
        self.edges = edges.expand(*batch, k + 1)
        self.probs = probs.expand(*batch, k)

    # -- shapes and simple summaries ------------------------------------------------------
    @property
    def batch_shape(self) -> torch.Size:
        return self.probs.shape[:-1]

    @property
    def n_bins(self) -> int:
        return self.probs.shape[-1]

    @property
    def widths(self) -> torch.Tensor:
        """Bin widths w_k, `(..., K)`."""
        return self.edges[..., 1:] - self.edges[..., :-1]

    @property
    def mids(self) -> torch.Tensor:
        """Bin midpoints m_k, `(..., K)`."""
        return 0.5 * (self.edges[..., 1:] + self.edges[..., :-1])

    @property
    def mass_below(self) -> torch.Tensor:
        """L_k = sum_{j<k} p_j, `(..., K)`."""
        return torch.cumsum(self.probs, dim=-1) - self.probs

    @property
    def mean(self) -> torch.Tensor:
        """sum_k p_k m_k, `(...)`, summed as e_0 + sum_k p_k (m_k - e_0): probabilities that
        sum to 1 only within float32 rounding then move it by that rounding times the span,
        not times the level (shifting the data shifts the mean exactly)."""
        origin = self.edges[..., 0]
        return origin + (self.probs * (self.mids - origin.unsqueeze(-1))).sum(-1)

    @property
    def variance(self) -> torch.Tensor:
        """sum_k p_k ((m_k - mean)^2 + w_k^2 / 12), `(...)` (centred: shift-invariant)."""
        dev = self.mids - self.mean.unsqueeze(-1)
        return (self.probs * (dev**2 + self.widths**2 / 12)).sum(-1)

    @property
    def stddev(self) -> torch.Tensor:
        return self.variance.sqrt()

    @property
    def median(self) -> torch.Tensor:
        return self.icdf(0.5)

    # -- pointwise functions; `value` has shape sample_shape + batch_shape ------------------
    def _value(self, value) -> torch.Tensor:
        value = torch.as_tensor(value, dtype=self.probs.dtype, device=self.probs.device)
        return value.unsqueeze(-1)  # (..., 1) against the (..., K) bin tensors

    def cdf(self, value) -> torch.Tensor:
        """F(x) = sum_k p_k clip((x - e_{k-1}) / w_k, 0, 1); shape of `value` broadcast."""
        x = self._value(value)
        frac = ((x - self.edges[..., :-1]) / self.widths).clamp(0, 1)
        return (self.probs * frac).sum(-1).clamp(0, 1)

    def log_prob(self, value) -> torch.Tensor:
        """log density: log(p_k / w_k) in bin k, -inf outside [e_0, e_K]."""
        x = self._value(value)
        inside = (x >= self.edges[..., :-1]) & (x < self.edges[..., 1:])
        # the right end of the support belongs to the last bin
        last = torch.zeros_like(inside)
        last[..., -1] = True
        inside = inside | (last & (x == self.edges[..., -1:]))
        density = torch.where(inside, self.probs / self.widths, torch.zeros_like(self.probs))
        return density.sum(-1).log()

    def icdf(self, value) -> torch.Tensor:
        """Exact inverse of the piecewise-linear CDF at levels `value` in [0, 1].

        Finds the first bin k whose cumulative mass reaches tau (so p_k > 0) and interpolates
        linearly inside it; monotone in tau, so quantiles never cross.
        """
        tau = torch.as_tensor(value, dtype=self.probs.dtype, device=self.probs.device)
        shape = torch.broadcast_shapes(tau.shape, self.batch_shape)
        return self._invert(tau.expand(shape).unsqueeze(-1)).squeeze(-1)

    def quantile(self, levels) -> torch.Tensor:
        """Quantiles at a vector of levels `(Q,)`, returned as `(..., Q)`: the Q levels are
        searched in each histogram's cumulative masses at once, so memory is
        O(batch x (K + Q)), not O(Q x batch x K)."""
        levels = torch.as_tensor(levels, dtype=self.probs.dtype, device=self.probs.device)
        check_levels(levels)
        return self._invert(levels.expand(*self.batch_shape, len(levels)))

    def _invert(self, tau: torch.Tensor) -> torch.Tensor:
        """The inverse CDF at levels `tau (*S, Q)`, S a shape the batch shape broadcasts to:
        quantiles `(*S, Q)` (the histogram's arrays are expanded to S, copied only when S is
        larger than the batch shape)."""
        shape, k = tau.shape[:-1], self.n_bins
        cum = torch.cumsum(self.probs, -1).expand(*shape, k).contiguous()
        idx = torch.searchsorted(cum, tau.contiguous()).clamp(max=k - 1)  # (*S, Q)
        p = self.probs.expand(*shape, k).gather(-1, idx)
        below = cum.gather(-1, idx) - p
        lo = self.edges[..., :-1].expand(*shape, k).gather(-1, idx)
        w = self.widths.expand(*shape, k).gather(-1, idx)
        frac = ((tau - below) / p.clamp_min(torch.finfo(p.dtype).tiny)).clamp(0, 1)
        return lo + frac * w

    def crps(self, value) -> torch.Tensor:
        """Closed-form CRPS = integral (F(x) - 1{x >= y})^2 dx, O(K) per value.

        With t_k = clip(y, e_{k-1}, e_k) - e_{k-1}:
        sum_k [L_k^2 t_k + (1 - L_k)^2 (w_k - t_k) + p_k t_k^2 / w_k - p_k w_k (1 - L_k - p_k/3)]
        + |y - clip(y, e_0, e_K)|.
        """
        y = self._value(value)
        lo, hi = self.edges[..., :-1], self.edges[..., 1:]
        w, p, low = self.widths, self.probs, self.mass_below
        t = torch.minimum(torch.maximum(y, lo), hi) - lo
        terms = low**2 * t + (1 - low) ** 2 * (w - t) + p * t**2 / w - p * w * (1 - low - p / 3)
        y = y.squeeze(-1)
        outside = (y - y.clamp(self.edges[..., 0], self.edges[..., -1])).abs()
        return terms.sum(-1) + outside

    def pit(self, value) -> torch.Tensor:
        """Probability integral transform F(y); uniform on [0, 1] when calibrated."""
        return self.cdf(value)

    def sample(self, sample_shape=()) -> torch.Tensor:
        """Draws by inverse transform, `sample_shape + batch_shape`."""
        u = torch.rand(
            *sample_shape, *self.batch_shape, dtype=self.probs.dtype, device=self.probs.device
        )
        return self.icdf(u)

    # -- conveniences ---------------------------------------------------------------------
    def to(self, *args, **kwargs) -> Histogram:
        return Histogram(
            self.edges.to(*args, **kwargs), self.probs.to(*args, **kwargs), validate=False
        )

    def __getitem__(self, index) -> Histogram:
        return Histogram(self.edges[index], self.probs[index], validate=False)

    def __repr__(self) -> str:
        return f"Histogram(batch_shape={tuple(self.batch_shape)}, n_bins={self.n_bins})"


def check_levels(levels: torch.Tensor) -> None:
    """Raise ValueError unless every quantile level lies strictly inside (0, 1)."""
    if levels.numel() and not bool(((levels > 0) & (levels < 1)).all()):
        raise ValueError(f"quantile levels must lie in (0, 1); got {levels.tolist()}")


def _validate(edges: torch.Tensor, probs: torch.Tensor, atol: float) -> None:
    if not torch.isfinite(edges).all():
        raise ValueError("edges must be finite")
    if not (edges[..., 1:] > edges[..., :-1]).all():
        raise ValueError("edges must be strictly increasing along the last axis")
    if not torch.isfinite(probs).all():
        raise ValueError("probs must be finite")
    if (probs < -atol).any():
        raise ValueError(f"probs must be non-negative; smallest is {probs.min().item():.3g}")
    err = (probs.sum(-1) - 1).abs().max().item() if probs.numel() else 0.0
    if err > atol:
        raise ValueError(f"probs must sum to 1 along the last axis; off by up to {err:.3g}")

def unit_grid(n_bins: int, like: torch.Tensor) -> torch.Tensor:
    """The K + 1 evenly spaced unit-space edges j / K, `(K+1,)`, with `like`'s dtype and device."""
    return torch.linspace(0, 1, n_bins + 1, dtype=like.dtype, device=like.device)
