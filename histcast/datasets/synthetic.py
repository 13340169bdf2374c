"""Synthetic panels whose true predictive distribution is known exactly.

Every series is y_t = mu_s(t) + scale_s(t) e_t with independent noise e_t, so given the past
the distribution of y_t is mu_s(t) + scale_s(t) e. mu has a level, a daily cycle and (for
`seasonal`) a weekly one; the noise shape depends on `kind`:

| kind | noise e | scale |
| --- | --- | --- |
| `seasonal` | N(0, 1) | heteroscedastic: larger at the cycle's peak |
| `skewed` | LogNormal(0, 0.75), centred at its median | constant |
| `bimodal` | +-1 with equal chance, plus N(0, 0.1^2) | constant, wide |
| `intermittent` | counts: 0 with prob. 0.6, else Poisson(mu(t)) | - |

`truth(index)` returns the true distributions as a fine `Histogram` (oracle CRPS, quantiles).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..dist.histogram import Histogram

KINDS = ("seasonal", "skewed", "bimodal", "intermittent")
START = pd.Timestamp("2024-01-01")
ZERO_PROB = 0.6
MAX_COUNT = 60


@dataclass
class SyntheticPanel:
    kind: str
    df: pd.DataFrame
    levels: np.ndarray  # (S,)

    def _params(self, index: pd.DataFrame):
        s = index["unique_id"].str[1:].astype(int).to_numpy()
        t = ((index["ds"] - START) / pd.Timedelta(hours=1)).to_numpy()
        return _mu_scale(self.kind, self.levels[s], t)

    def truth(self, index: pd.DataFrame, n_bins: int = 4000) -> Histogram:
        """True distributions of the rows of `index` (unique_id, ds) as a `(rows,)` Histogram."""
        mu, scale = (torch.as_tensor(a, dtype=torch.float64) for a in self._params(index))
        if self.kind == "intermittent":
            return _count_histogram(mu)
        lo, hi = _noise_support(self.kind)
        grid = torch.linspace(lo, hi, n_bins + 1, dtype=torch.float64)
        probs = torch.diff(_noise_cdf(self.kind, grid))
        probs = probs / probs.sum()
        edges = mu[:, None] + scale[:, None] * grid
        return Histogram(edges, probs.expand(len(mu), -1))


def make_panel(kind="bimodal", n_series=20, length=400, seed=0) -> SyntheticPanel:
    """Hourly panel of `n_series` series of `length` points with the `kind` noise above."""
    if kind not in KINDS:
        raise ValueError(f"unknown synthetic kind {kind!r}; choose one of {KINDS}")
    rng = np.random.default_rng(seed)
    top = (1, 8) if kind == "intermittent" else (10, 100)
    levels = rng.uniform(*top, n_series)
    t = np.arange(length, dtype=np.float64)
    mu, scale = _mu_scale(kind, levels[:, None], t[None, :])
    y = mu + scale * _noise(kind, rng, mu.shape) if kind != "intermittent" else _counts(rng, mu)
    df = pd.DataFrame(
        {
            "unique_id": np.repeat([f"S{s}" for s in range(n_series)], length),
            "ds": np.tile(pd.date_range(START, periods=length, freq="h"), n_series),
            "y": y.reshape(-1),
        }
    )
    return SyntheticPanel(kind, df, levels)


def _mu_scale(kind, level, t):
    day = np.sin(2 * np.pi * t / 24)
    mu = level * (1 + 0.3 * day)
    if kind == "seasonal":
        mu = mu + 0.1 * level * np.sin(2 * np.pi * t / 168)
        return mu, 0.05 * level * (1 + 0.8 * (day > 0))
    return mu, (0.15 if kind == "bimodal" else 0.08) * level


def _noise(kind, rng, shape):
    z = rng.standard_normal(shape)
    if kind == "seasonal":
        return z
    if kind == "skewed":
        return np.exp(0.75 * z) - 1
    return rng.choice([-1.0, 1.0], shape) + 0.1 * z  # bimodal


def _noise_cdf(kind, x: torch.Tensor) -> torch.Tensor:
    ndtr = torch.special.ndtr
    if kind == "seasonal":
        return ndtr(x)
    if kind == "skewed":
        return ndtr(torch.log(torch.clamp(x + 1, min=1e-300)) / 0.75) * (x > -1)
    return 0.5 * (ndtr((x + 1) / 0.1) + ndtr((x - 1) / 0.1))


def _noise_support(kind):
    return {"seasonal": (-7.0, 7.0), "skewed": (-1.0, float(np.exp(0.75 * 7) - 1))}.get(
        kind, (-2.0, 2.0)
    )


def _counts(rng, mu):
    return np.where(rng.uniform(size=mu.shape) < ZERO_PROB, 0, rng.poisson(mu)).astype(float)


def _count_histogram(mu: torch.Tensor, half_width: float = 1e-3) -> Histogram:
    """Zero-inflated Poisson as narrow bins around 0..MAX_COUNT with empty bins between."""
    k = torch.arange(MAX_COUNT + 1, dtype=torch.float64)
    logp = k * mu[:, None].log() - mu[:, None] - torch.lgamma(k + 1)
    pmf = (1 - ZERO_PROB) * logp.exp()
    pmf[:, 0] += ZERO_PROB
    pmf = pmf / pmf.sum(-1, keepdim=True)
    edges = torch.stack([k - half_width, k + half_width], -1).reshape(-1)  # 2 (M+1) edges
    probs = torch.zeros(len(mu), 2 * MAX_COUNT + 1, dtype=torch.float64)
    probs[:, 0::2] = pmf
    return Histogram(edges, probs)
