"""Mixtures of histograms and exact re-binning.

A histogram's CDF is piecewise linear between its edges, so a histogram is determined exactly by
its CDF at its edges, and any histogram can be moved onto a finer set of edges without error:
on edges f_0 < ... < f_N that include all of its own, bin j of the new histogram gets
F(f_j) - F(f_{j-1}), and the density inside each new bin stays constant. A mixture
sum_i w_i F_i of histograms is then a histogram on the union of their edges, with bin
probabilities sum_i w_i (F_i(f_j) - F_i(f_{j-1})). When every member has the same edges, that
is simply the weighted mean of their probabilities.

Everything is batched (`(..., K)` tensors, binary search per row); rows are processed in chunks
so that mixing a few hundred-bin histograms over tens of thousands of (series, step) rows stays
within a few hundred MB.
"""

from __future__ import annotations

import torch

from .histogram import Histogram

CHUNK = 4096  # rows per binary-search chunk (bounds the (rows, points) temporaries)
PAD_REL = 1e-12  # spacing of the zero-mass edges that replace repeated union edges


def _flat(x: torch.Tensor, shape, n: int) -> torch.Tensor:
    return x.expand(*shape, n).reshape(-1, n).contiguous()


def cdf_at(hist: Histogram, x: torch.Tensor) -> torch.Tensor:
    """The histogram's CDF at points `x (..., N)` per row of its batch: `(..., N)`.

    For x in bin k = #{edges <= x} (clamped to 1..K): F(x) = L_k + p_k clip((x - e_{k-1}) / w_k,
    0, 1), L_k the mass below bin k; 0 below e_0 and sum_k p_k above e_K. The same values as
    `Histogram.cdf`, but O(N log K) per row instead of O(N K), by binary search.
    """
    probs = hist.probs
    x = torch.as_tensor(x, dtype=probs.dtype, device=probs.device)
    k, n = hist.n_bins, x.shape[-1]
    shape = torch.broadcast_shapes(x.shape[:-1], hist.batch_shape)
    e, p, xs = _flat(hist.edges, shape, k + 1), _flat(probs, shape, k), _flat(x, shape, n)
    out = []
    for i in range(0, max(len(xs), 1), CHUNK):
        ec, pc, xc = e[i : i + CHUNK], p[i : i + CHUNK], xs[i : i + CHUNK]
        idx = (torch.searchsorted(ec, xc, right=True) - 1).clamp(0, k - 1)
        below = (torch.cumsum(pc, -1) - pc).gather(-1, idx)
        lo, hi = ec.gather(-1, idx), ec.gather(-1, idx + 1)
        frac = ((xc - lo) / (hi - lo)).clamp(0, 1)
        out.append(below + pc.gather(-1, idx) * frac)
    return torch.cat(out).reshape(*shape, n)


def rebin(hist: Histogram, edges: torch.Tensor) -> torch.Tensor:
    """Bin probabilities of `hist` on other edges `(..., N+1)` (strictly increasing): `(..., N)`.

    q_j = F(f_j) - F(f_{j-1}); the mass below f_0 goes to the first bin and the mass above f_N to
    the last, so sum_j q_j = sum_k p_k. Exact (not an approximation) when the new edges include
    the old ones inside [f_0, f_N]; otherwise it is the histogram's exact mass on each new bin.
    """
    cdf = cdf_at(hist, edges)
    total = hist.probs.sum(-1, keepdim=True).expand(*cdf.shape[:-1], 1)
    q = cdf.diff(dim=-1)
    first = q[..., :1] + cdf[..., :1]  # mass below f_0
    last = q[..., -1:] + (total - cdf[..., -1:])  # mass above f_N
    if q.shape[-1] == 1:
        return (first + last - q).clamp_min(0)
    return torch.cat([first, q[..., 1:-1], last], -1).clamp_min(0)


def union_edges(hists: list[Histogram]) -> torch.Tensor:
    """The sorted union of the histograms' edges per batch row, `(..., sum_i (K_i + 1))`.

    Every row has the same number of entries; an edge that several histograms share appears
    once in its place, and the spare entries become extra edges just above the row's largest
    one (spaced by max(span 1e-9, |top| 1e-12), so float64 keeps them apart). The bins they add
    carry no mass, so the union still represents each histogram exactly.
    """
    shape = torch.broadcast_shapes(*[h.batch_shape for h in hists])
    e = torch.cat([h.edges.to(torch.float64).expand(*shape, -1) for h in hists], -1)
    e = e.sort(-1).values
    repeat = torch.zeros_like(e, dtype=torch.bool)
    repeat[..., 1:] = e[..., 1:] == e[..., :-1]
    if not repeat.any():
        return e
    order = torch.sort(repeat.to(torch.uint8), dim=-1, stable=True).indices  # repeats last
    e = e.gather(-1, order)
    n = e.shape[-1]
    n_unique = n - repeat.sum(-1, keepdim=True)
    top = e.gather(-1, n_unique - 1)
    step = torch.maximum((top - e[..., :1]) * 1e-9, top.abs() * PAD_REL)
    slot = torch.arange(n, device=e.device) - n_unique + 1  # >= 1 on the spare entries
    return torch.where(slot >= 1, top + step * slot, e)


def same_edges(hists: list[Histogram]) -> bool:
    """Whether all histograms have identical edges on every batch row."""
    first = hists[0].edges
    return all(h.edges.shape == first.shape and torch.equal(h.edges, first) for h in hists[1:])


def mix(hists: list[Histogram], weights=None) -> Histogram:
    """The mixture sum_i w_i H_i of histograms with broadcastable batch shapes (default equal
    weights 1/M), as one float64 `Histogram`.

    Shared edges: probabilities p = sum_i w_i p_i on those edges. Otherwise the union of edges
    (`union_edges`) and p_j = sum_i w_i (F_i(f_j) - F_i(f_{j-1})) (`rebin`). Either way the
    mixture's CDF is sum_i w_i F_i exactly, so its quantiles, mean and CRPS are the mixture's,
    not averages of the members' quantiles.
    """
    if not hists:
        raise ValueError("mix needs at least one histogram")
    m = len(hists)
    w = torch.full((m,), 1 / m, dtype=torch.float64) if weights is None else weights
    w = torch.as_tensor(w, dtype=torch.float64)
    if w.shape != (m,):
        raise ValueError(f"weights must have one entry per histogram ({m}); got {tuple(w.shape)}")
    hists = [h.to(torch.float64) for h in hists]
    w = w.to(hists[0].probs.device)
    if same_edges(hists):
        shape = torch.broadcast_shapes(*[h.batch_shape for h in hists])
        probs = sum(w[i] * h.probs.expand(*shape, -1) for i, h in enumerate(hists))
        return Histogram(hists[0].edges.expand(*shape, -1), probs, validate=False)
    edges = union_edges(hists)
    probs = sum(w[i] * rebin(h, edges) for i, h in enumerate(hists))
    return Histogram(edges, probs, validate=False)
