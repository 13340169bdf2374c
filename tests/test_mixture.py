"""Mixtures of histograms and exact re-binning (`histcast.mixture`), against hand cases,
brute-force CDFs and numeric integrals."""

import numpy as np
import pytest
import torch
from scipy import integrate

from histcast.dist.histogram import Histogram
from histcast.dist.mixture import cdf_at, mix, rebin, union_edges


def hist(edges, probs):
    return Histogram(
        torch.tensor(edges, dtype=torch.float64), torch.tensor(probs, dtype=torch.float64)
    )


A = ([0.0, 1, 2, 4], [0.2, 0.5, 0.3])
B = ([1.0, 1.5, 2, 3, 5], [0.1, 0.4, 0.4, 0.1])


def random_hists(n, rows, seed=0):
    """n histograms of batch (rows,) with different edges per row and per histogram."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        k = 3 + 2 * i
        widths = torch.rand(rows, k, generator=g, dtype=torch.float64) + 0.05
        start = torch.randn(rows, 1, generator=g, dtype=torch.float64)
        edges = torch.cat([start, start + widths.cumsum(-1)], -1)
        probs = torch.rand(rows, k, generator=g, dtype=torch.float64) ** 3
        out.append(Histogram(edges, probs / probs.sum(-1, keepdim=True)))
    return out


def test_cdf_at_matches_the_histogram_cdf():
    (h,) = random_hists(1, 5)
    x = torch.linspace(-3, 8, 301, dtype=torch.float64).expand(5, -1)
    expected = h.cdf(x.T).T  # Histogram.cdf: value (N, rows)
    torch.testing.assert_close(cdf_at(h, x), expected, rtol=0, atol=1e-12)


def test_rebin_hand_cases():
    a = hist(*A)
    # finer edges inside one bin split its mass linearly
    torch.testing.assert_close(
        rebin(a, torch.tensor([0.0, 0.5, 1, 1.5, 2, 3, 4], dtype=torch.float64)),
        torch.tensor([0.1, 0.1, 0.25, 0.25, 0.15, 0.15], dtype=torch.float64),
    )
    # coarser edges add masses; the mass outside [1.5, 3] goes to the edge bins
    torch.testing.assert_close(
        rebin(a, torch.tensor([1.5, 2, 3], dtype=torch.float64)),
        torch.tensor([0.45 + 0.25, 0.15 + 0.15], dtype=torch.float64),
    )
    # one bin holds everything; its own edges give its own probabilities back
    assert rebin(a, torch.tensor([10.0, 11.0], dtype=torch.float64)).tolist() == [1.0]
    torch.testing.assert_close(rebin(a, a.edges), a.probs, rtol=0, atol=1e-15)


def test_rebin_onto_finer_edges_is_exact():
    """On edges containing the old ones, the new histogram has the same CDF everywhere."""
    (h,) = random_hists(1, 4, seed=1)
    extra = h.edges[:, :1] + torch.rand(4, 7, dtype=torch.float64) * (
        h.edges[:, -1:] - h.edges[:, :1]
    )
    fine = torch.cat([h.edges, extra], -1).sort(-1).values
    g = Histogram(fine, rebin(h, fine))
    x = torch.linspace(-4, 10, 500, dtype=torch.float64).unsqueeze(-1)
    torch.testing.assert_close(g.cdf(x), h.cdf(x), rtol=0, atol=1e-12)


def test_union_edges_hand_case():
    e = union_edges([hist(*A), hist(*B)])
    assert e[:7].tolist() == [0, 1, 1.5, 2, 3, 4, 5]
    assert len(e) == 4 + 5 and (e.diff() > 0).all() and (e[7:] - 5).abs().max() < 1e-7


def test_mixture_cdf_is_the_mean_of_the_members_cdfs():
    hists = random_hists(3, 6)
    m = mix(hists)
    assert m.batch_shape == (6,) and (m.widths > 0).all()
    torch.testing.assert_close(m.probs.sum(-1), torch.ones(6, dtype=torch.float64))
    x = torch.linspace(-4, 12, 2001, dtype=torch.float64).unsqueeze(-1)  # (N, 1) vs batch (6,)
    expected = sum(h.cdf(x) for h in hists) / 3
    torch.testing.assert_close(m.cdf(x), expected, rtol=0, atol=1e-12)
    torch.testing.assert_close(m.mean, sum(h.mean for h in hists) / 3)


def test_mixture_weights_and_hand_case():
    m = mix([hist(*A), hist(*B)], weights=[0.25, 0.75])
    x = torch.tensor([0.5, 1.25, 2.5, 4.5], dtype=torch.float64)
    expected = 0.25 * hist(*A).cdf(x) + 0.75 * hist(*B).cdf(x)
    torch.testing.assert_close(m.cdf(x), expected)
    with pytest.raises(ValueError, match="one entry per histogram"):
        mix([hist(*A), hist(*B)], weights=[1.0])


@pytest.mark.parametrize("y", [-0.5, 0.3, 1.7, 2.2, 4.4, 6.0])
def test_mixture_crps_matches_a_numeric_integral(y):
    a, b = hist(*A), hist(*B)
    m = mix([a, b])

    def integrand(x):
        x64 = torch.tensor(x, dtype=torch.float64)
        f = 0.5 * (a.cdf(x64) + b.cdf(x64))
        return (float(f) - float(x >= y)) ** 2

    kinks = sorted({*A[0], *B[0], y})
    lo, hi = min(kinks[0], y) - 1, max(kinks[-1], y) + 1
    points = [lo, *kinks, hi]
    numeric = sum(
        integrate.quad(integrand, u, v)[0] for u, v in zip(points[:-1], points[1:], strict=True)
    )
    assert float(m.crps(torch.tensor(y, dtype=torch.float64))) == pytest.approx(numeric, abs=1e-9)


def test_mixture_quantiles_invert_the_mixture_cdf_not_average_quantiles():
    a, b = hist([0.0, 1.0], [1.0]), hist([10.0, 11.0], [1.0])
    m = mix([a, b])
    # the mixture's median lies between the modes, at the edge of the gap
    assert float(m.icdf(0.5)) == pytest.approx(1.0)
    assert float(m.icdf(0.75)) == pytest.approx(10.5)
    q = m.quantile(np.linspace(0.05, 0.95, 19))
    torch.testing.assert_close(
        m.cdf(q.unsqueeze(-1).T).squeeze(), torch.linspace(0.05, 0.95, 19, dtype=torch.float64)
    )


def test_shared_edges_average_probabilities():
    edges = torch.linspace(0, 1, 6, dtype=torch.float64).expand(2, 3, -1)
    p1 = torch.softmax(torch.randn(2, 3, 5, dtype=torch.float64), -1)
    p2 = torch.softmax(torch.randn(2, 3, 5, dtype=torch.float64), -1)
    m = mix([Histogram(edges, p1), Histogram(edges, p2)])
    assert m.n_bins == 5
    torch.testing.assert_close(m.probs, (p1 + p2) / 2)
