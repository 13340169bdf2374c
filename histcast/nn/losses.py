"""The histogram loss (Imani & White, ICML 2018) and the losses it is compared against.

All targets live in *unit space*: the K bins split [0, 1] evenly (edges j / K), so a value u
falls in bin floor(u K). Targets outside [0, 1] are clipped into the edge bins. Missing targets
are NaN and are masked out of every loss (mean over observed targets only).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

TARGETS = ("gaussian", "dirac", "twohot", "soft")


def normal_masses(z: torch.Tensor) -> torch.Tensor:
    """Phi(z_{i+1}) - Phi(z_i) for increasing standardised edges `z (..., K+1)` -> `(..., K)`,
    from one tail probability t = Phi(-|z|) per edge, to keep float32 precision in the tails:
    t_i - t_{i+1} right of 0, t_{i+1} - t_i left of it, 1 - t_i - t_{i+1} across it."""
    t = torch.special.ndtr(-z.abs())
    lo, hi, t_lo, t_hi = z[..., :-1], z[..., 1:], t[..., :-1], t[..., 1:]
    return torch.where(lo > 0, t_lo - t_hi, torch.where(hi <= 0, t_hi - t_lo, 1 - t_lo - t_hi))


def truncated_normal_probs(z: torch.Tensor, floor: float = 0.0) -> torch.Tensor:
    """Bin masses of a standard normal on bins between standardised edges `z (..., K+1)`, plus
    `floor`, renormalised over the last axis: the normal truncated to the bins' union,
    p_i = (Phi(z_{i+1}) - Phi(z_i)) / sum_j (Phi(z_{j+1}) - Phi(z_j))."""
    mass = normal_masses(z)
    if floor:
        mass = mass + floor
    return mass / mass.sum(-1, keepdim=True)


def sparse_targets(y, n_bins, kind="gaussian", sigma_ratio=1.0):
    """Target bin probabilities as `(index, weight)` pairs, each `(..., W)`.

    Every target but `soft` puts its mass on a few bins around y, so the loss only needs those
    W entries: `dirac` 1, `twohot` 2, `gaussian` the bins within 8 sigma of y (tail mass < 1e-15).
    y `(...)` is in unit space; NaN (missing) is replaced by 0.5 and must be masked by the caller.
    """
    y = torch.nan_to_num(y, nan=0.5).clamp(0, 1)
    k = n_bins
    if kind == "dirac":
        return (y * k).long().clamp(0, k - 1).unsqueeze(-1), torch.ones_like(y).unsqueeze(-1)
    if kind == "twohot":
        # centres c_j = (j + 1/2) / K; mass split linearly between the two around y
        pos = (y * k - 0.5).clamp(0, k - 1)
        lo = pos.floor().long().clamp(max=k - 1)
        frac = pos - lo.to(y.dtype)
        idx = torch.stack([lo, (lo + 1).clamp(max=k - 1)], -1)
        return idx, torch.stack([1 - frac, frac], -1)
    if kind != "gaussian":
        raise ValueError(f"unknown target kind {kind!r}; choose one of {TARGETS}")
    if sigma_ratio <= 0:
        raise ValueError(f"sigma_ratio must be positive; got {sigma_ratio}")
    return _gaussian_sparse(y, k, sigma_ratio)


def _gaussian_sparse(y, k, sigma_ratio):
    """HL-Gaussian bins within 8 sigma of y: `(index, weight)`, each `(..., 2 half + 1)`.

    In bin units y sits at pos = y K, in bin b = floor(pos), f = pos - b into it; offset j's
    edges b + j and b + j + 1 standardise to (j - f) / r and (j + 1 - f) / r (r =
    `sigma_ratio`), shared by neighbouring bins (`normal_masses`). Bins outside [0, 1] are
    dropped and the rest renormalised (the truncated normal)."""
    half = min(math.ceil(8 * sigma_ratio) + 1, k)
    edges = torch.arange(-half, half + 2, device=y.device, dtype=y.dtype)  # (W + 1,)
    pos = y * k
    base = pos.floor().clamp(0, k - 1)
    mass = normal_masses((edges - (pos - base).unsqueeze(-1)) / sigma_ratio)  # (..., W)
    idx = base.long().unsqueeze(-1) + edges[:-1].long()
    mass = mass * ((idx >= 0) & (idx < k))
    return idx.clamp(0, k - 1), mass / mass.sum(-1, keepdim=True)


def gaussian_target(y: torch.Tensor, n_bins: int, sigma_ratio: float = 1.0) -> torch.Tensor:
    """HL-Gaussian target: bin masses of N(y, sigma^2) truncated to [0, 1], `(..., K)`.

    p_i = (Phi((e_i - y)/sigma) - Phi((e_{i-1} - y)/sigma)) / (Phi((1 - y)/sigma) - Phi(-y/sigma)),
    edges e_i = i / K, sigma = sigma_ratio / K (that many bin widths).
    """
    return bin_targets(y, n_bins, "gaussian", sigma_ratio)


def bin_targets(y, n_bins, kind="gaussian", sigma_ratio=1.0, soft=None) -> torch.Tensor:
    """Dense target bin probabilities `(..., K)` for unit-space targets `y (...)`.

    `kind` is one of `gaussian`, `dirac`, `twohot` or `soft` (then `soft (..., K)` is a teacher's
    probability vector and is returned as is).
    """
    if kind == "soft":
        if soft is None or soft.shape[-1] != n_bins:
            raise ValueError("kind='soft' needs teacher probabilities of shape (..., n_bins)")
        return soft
    idx, weight = sparse_targets(y, n_bins, kind, sigma_ratio)
    dense = torch.zeros(*y.shape, n_bins, dtype=weight.dtype, device=weight.device)
    return dense.scatter_add_(-1, idx, weight)


def _masked_mean(values: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
    """Mean of `values` over observed entries (0 when none is observed)."""
    observed = observed.to(values.dtype)
    return (values * observed).sum() / observed.sum().clamp_min(1)


def cross_entropy(logits: torch.Tensor, target: torch.Tensor, observed=None) -> torch.Tensor:
    """-sum_i p_i log softmax(logits)_i, averaged over observed rows.

    logits, target: `(..., K)`; observed: bool `(...)` or None (all observed). The gradient
    with respect to the logits is softmax(logits) - p: bounded, whatever the scale of y.
    """
    nll = _CrossEntropy.apply(logits, target)
    if observed is None:
        return nll.mean()
    return _masked_mean(nll, observed)


def histogram_loss(logits, y, kind="gaussian", sigma_ratio=1.0, soft=None) -> torch.Tensor:
    """Histogram loss for unit-space targets `y (...)` (NaN = missing) and `logits (..., K)`.

    -sum_i p_i log q_i with q = softmax(logits), summed over the few bins where p is non-zero
    (`sparse_targets`), so a step costs one log_softmax over K plus a gather.
    """
    observed = ~torch.isnan(y)
    if kind == "soft":
        if soft is None or soft.shape[-1] != logits.shape[-1]:
            raise ValueError("kind='soft' needs teacher probabilities of shape (..., n_bins)")
        observed = observed & ~torch.isnan(soft).any(-1)
        return cross_entropy(logits, torch.nan_to_num(soft), observed)
    idx, weight = sparse_targets(y, logits.shape[-1], kind, sigma_ratio)
    return _masked_mean(_CrossEntropy.apply(logits, weight, idx), observed)


class _CrossEntropy(torch.autograd.Function):
    """nll = -sum_w weight_w log softmax(logits)[idx_w]: logits `(..., K)`, idx and weight
    `(..., W)` -> `(...)`; idx None means dense, weight `(..., K)` on every bin. One
    hand-written backward,
    d nll / d logits = softmax(logits) sum_w weight_w - scatter(weight),
    built in place from the saved log-probabilities: autograd's version of the same (log_softmax,
    gather) fills a zero tensor for the gather and makes two more passes over `(..., K)`, and
    its products of tiny probabilities are subnormal floats (`scaled_probs`)."""

    @staticmethod
    def forward(ctx, logits, weight, idx=None):
        logp = F.log_softmax(logits, -1)
        ctx.save_for_backward(logp, weight, idx)
        picked = logp if idx is None else logp.gather(-1, idx)
        return -(picked * weight).sum(-1)

    @staticmethod
    def backward(ctx, grad):
        logp, weight, idx = ctx.saved_tensors
        out = scaled_probs(logp, grad * weight.sum(-1))
        if idx is None:  # a teacher's far bins: 0 below 1e-30, so that weight x grad is normal
            # for |grad| > 1e-8 (a mean over fewer than 1e8 targets)
            weight = F.threshold(weight, 1e-30, 0.0)
            return out.sub_(weight * grad.unsqueeze(-1)), None, None
        return out.scatter_add_(-1, idx, -weight * grad.unsqueeze(-1)), None, None


def scaled_probs(logp: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """s exp(logp) for log-probabilities `logp (..., K)` and row scales `scale (...)`, with every
    entry that would be a subnormal float (below `tiny`, 1.2e-38 in float32) set to 0.

    A sharp histogram's far bins have probabilities of 1e-40 and less; times the loss's 1/n
    they would be subnormal floats, on which a CPU's matrix products (the last layer's backward)
    and `exp` are many times slower (`set_flush_denormal` does not reach the threads of a
    matrix product). Each row's log-probabilities are floored at log(2 tiny / |s|), so that
    exp(logp) |s| is never below 2 tiny, then the entries under 4 tiny are zeroed: every other
    entry is exactly the plain product exp(logp) |s| sign(s), and the zeroed ones are < 5e-38.
    """
    tiny = torch.finfo(logp.dtype).tiny
    size = scale.abs().unsqueeze(-1)
    floor = (math.log(2 * tiny) - size.log()).clamp_(max=0.0)  # s = 0: 0, and the row is 0
    out = torch.maximum(logp, floor).exp_().mul_(size)
    out = F.threshold_(out, 4 * tiny, 0.0)
    return out.mul_(scale.sign().unsqueeze(-1))


def gaussian_nll(loc, scale, y) -> torch.Tensor:
    """Gaussian negative log-likelihood log(scale) + (y - loc)^2 / (2 scale^2) + log(2 pi)/2."""
    observed = ~torch.isnan(y)
    y = torch.nan_to_num(y)
    nll = scale.log() + 0.5 * ((y - loc) / scale) ** 2 + 0.5 * math.log(2 * math.pi)
    return _masked_mean(nll, observed)


def pinball_loss(quantiles, y, levels) -> torch.Tensor:
    """Mean pinball loss rho_a(y, q) = max(a (y - q), (a - 1)(y - q)).

    quantiles `(..., Q)`, y `(...)`, levels `(Q,)`.
    """
    levels = torch.as_tensor(levels, dtype=quantiles.dtype, device=quantiles.device)
    observed = ~torch.isnan(y)
    diff = torch.nan_to_num(y).unsqueeze(-1) - quantiles
    rho = torch.maximum(levels * diff, (levels - 1) * diff).mean(-1)
    return _masked_mean(rho, observed)


def mse_loss(pred, y) -> torch.Tensor:
    """Mean squared error over observed targets."""
    observed = ~torch.isnan(y)
    return _masked_mean((pred - torch.nan_to_num(y)) ** 2, observed)
