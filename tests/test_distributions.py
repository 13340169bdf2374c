import numpy as np
import properscoring as ps
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from histcast.dist.histogram import Histogram


def random_histogram(rng, k=12, empty=3):
    widths = rng.uniform(0.2, 3.0, k)
    edges = np.concatenate([[rng.normal() * 5], widths]).cumsum()
    probs = rng.dirichlet(np.ones(k))
    probs[rng.choice(k, empty, replace=False)] = 0
    return edges, probs / probs.sum()


@pytest.mark.parametrize("seed", range(5))
def test_matches_scipy_rv_histogram(seed):
    rng = np.random.default_rng(seed)
    edges, probs = random_histogram(rng)
    ref = stats.rv_histogram((probs, edges), density=False)
    h = Histogram(torch.tensor(edges), torch.tensor(probs))
    x = np.linspace(edges[0] - 1, edges[-1] + 1, 301)
    np.testing.assert_allclose(h.cdf(torch.tensor(x)).numpy(), ref.cdf(x), atol=1e-12)
    tau = rng.uniform(0.001, 0.999, 200)
    np.testing.assert_allclose(h.icdf(torch.tensor(tau)).numpy(), ref.ppf(tau), atol=1e-9)
    np.testing.assert_allclose(h.mean.item(), ref.mean(), rtol=1e-10)
    np.testing.assert_allclose(h.variance.item(), ref.var(), rtol=1e-9)
    inside = x[(x > edges[0]) & (x < edges[-1])]
    np.testing.assert_allclose(
        h.log_prob(torch.tensor(inside)).exp().numpy(), ref.pdf(inside), atol=1e-12
    )


def test_quantile_inverts_cdf_inside_bins_with_mass():
    rng = np.random.default_rng(1)
    edges, probs = random_histogram(rng)
    h = Histogram(torch.tensor(edges), torch.tensor(probs))
    k = rng.choice(np.flatnonzero(probs > 0), 50)
    x = edges[k] + rng.uniform(0.01, 0.99, 50) * (edges[k + 1] - edges[k])
    x = torch.tensor(x)
    torch.testing.assert_close(h.icdf(h.cdf(x)), x)


def test_batched_quantiles_are_monotone_and_shaped():
    logits = torch.randn(4, 6, 30)
    edges = torch.linspace(-2, 2, 31).expand(4, 1, 31) * torch.rand(4, 1, 1).add(0.5)
    h = Histogram(edges, logits=logits)
    assert h.batch_shape == (4, 6)
    q = h.quantile([0.05, 0.1, 0.5, 0.9, 0.95])
    assert q.shape == (4, 6, 5)
    assert (q.diff(dim=-1) >= 0).all()
    assert h.sample((7,)).shape == (7, 4, 6)


def test_batched_quantiles_match_scipy_per_histogram():
    """`quantile` searches all levels at once; each histogram against rv_histogram.ppf,
    with bins of zero mass and edges shared by the H steps of a window (broadcast)."""
    rng = np.random.default_rng(7)
    hists = [random_histogram(rng, k=9, empty=2) for _ in range(3)]
    edges = torch.tensor(np.stack([e for e, _ in hists]))[:, None, :]  # (3, 1, 10)
    probs = np.stack([[rng.dirichlet(np.ones(9)) for _ in range(4)] for _ in range(3)])
    probs[..., 4] = 0
    probs /= probs.sum(-1, keepdims=True)
    levels = [0.01, 0.1, 0.25, 0.5, 0.9, 0.99]
    q = Histogram(edges, torch.tensor(probs)).quantile(levels)
    assert q.shape == (3, 4, 6)
    for i in range(3):
        for j in range(4):
            ref = stats.rv_histogram((probs[i, j], hists[i][0]), density=False)
            np.testing.assert_allclose(q[i, j].numpy(), ref.ppf(levels), atol=1e-9)


def test_log_prob_is_a_density_and_minus_inf_outside():
    h = Histogram(torch.tensor([0.0, 0.5, 2.5]), torch.tensor([0.5, 0.5]))
    lp = h.log_prob(torch.tensor([-0.1, 0.25, 1.0, 2.5, 2.6]))
    expected = [-np.inf, 0.0, np.log(0.25), np.log(0.25), -np.inf]
    np.testing.assert_allclose(lp.numpy(), expected)


def test_samples_follow_the_cdf():
    torch.manual_seed(0)
    h = Histogram(torch.tensor([0.0, 1.0, 3.0, 4.0]), torch.tensor([0.2, 0.5, 0.3]))
    s = h.sample((20000,))
    for x in (0.5, 1.0, 2.0, 3.5):
        assert abs((s <= x).double().mean().item() - h.cdf(x).item()) < 0.015


# -- CRPS --------------------------------------------------------------------------------
HAND = (np.arange(11.0), np.array([0, 0, 0.2, 0.3, 0.1, 0, 0, 0, 0, 0.4]))


def test_crps_hand_computed_case():
    h = Histogram(torch.tensor(HAND[0]), torch.tensor(HAND[1]))
    assert h.crps(torch.tensor(0.15, dtype=torch.float64)).item() == pytest.approx(3.99, abs=1e-12)


def crps_integral(edges, probs, y):
    ref = stats.rv_histogram((probs, edges), density=False)
    lo, hi = min(edges[0], y) - 1, max(edges[-1], y) + 1
    pts = sorted(set(edges) | {y})
    val, _ = integrate.quad(
        lambda x: (ref.cdf(x) - (x >= y)) ** 2, lo, hi, points=pts, limit=500, epsabs=1e-11
    )
    return val


def crps_energy(edges, probs, y, n=4000):
    """E|X - y| - E|X - X'|/2 by a fine midpoint grid inside every bin."""
    u = (np.arange(n) + 0.5) / n
    x = (edges[:-1, None] + u * np.diff(edges)[:, None]).ravel()
    w = np.repeat(probs / n, n)
    e1 = np.sum(w * np.abs(x - y))
    order = np.argsort(x)
    x, w = x[order], w[order]
    cw, cwx = np.cumsum(w), np.cumsum(w * x)
    # E|X - X'| = 2 sum_i w_i (x_i F_i - sum_{j<=i} w_j x_j) over the sorted support
    e2 = 2 * np.sum(w * (x * cw - cwx))
    return e1 - 0.5 * e2


@pytest.mark.parametrize("y", [-3.0, 0.15, 2.0, 4.7, 9.99, 10.0, 14.0])
def test_crps_against_integral_energy_and_properscoring(y):
    edges, probs = HAND
    h = Histogram(torch.tensor(edges), torch.tensor(probs))
    got = h.crps(torch.tensor(y, dtype=torch.float64)).item()
    assert got == pytest.approx(crps_integral(edges, probs, y), abs=1e-7)
    assert got == pytest.approx(crps_energy(edges, probs, y), abs=1e-5)


@pytest.mark.parametrize("y", [-1.0, 0.3, 1.7, 2.2, 4.5])
def test_crps_against_properscoring_quadrature_on_few_bins(y):
    # crps_quadrature integrates adaptively and struggles with many kinks: keep to 3 bins
    edges, probs = np.array([0.0, 1.0, 1.5, 3.0]), np.array([0.3, 0.5, 0.2])
    ref = stats.rv_histogram((probs, edges), density=False)
    quad = ps.crps_quadrature(np.array([y]), ref, xmin=min(y, 0.0), xmax=max(y, 3.0), tol=1e-5)
    got = Histogram(torch.tensor(edges), torch.tensor(probs)).crps(torch.tensor(y))
    assert got.item() == pytest.approx(float(quad[0]), abs=1e-5)


def test_crps_against_weighted_ensemble_on_random_histograms():
    rng = np.random.default_rng(3)
    n = 100  # members per bin; properscoring's weighted ensemble is O(members^2)-ish slow
    for _ in range(3):
        edges, probs = random_histogram(rng, k=20, empty=5)
        y = rng.uniform(edges[0] - 2, edges[-1] + 2)
        u = (np.arange(n) + 0.5) / n
        members = (edges[:-1, None] + u * np.diff(edges)[:, None]).ravel()
        weights = np.repeat(probs / n, n)
        ref = ps.crps_ensemble(y, members, weights=weights)
        got = Histogram(torch.tensor(edges), torch.tensor(probs)).crps(torch.tensor(y))
        # a grid of n points per bin differs from the uniform density by O(w^2 / n)
        assert got.item() == pytest.approx(ref, abs=5e-3)


def test_crps_is_batched_and_differentiable():
    logits = torch.randn(5, 3, 20, dtype=torch.float64, requires_grad=True)
    edges = torch.linspace(0, 1, 21, dtype=torch.float64)
    y = torch.rand(5, 3, dtype=torch.float64)
    h = Histogram(edges, logits=logits)
    crps = h.crps(y)
    assert crps.shape == (5, 3)
    crps.sum().backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
    h32 = Histogram(edges.float(), logits=logits.detach().float())
    torch.testing.assert_close(h32.crps(y.float()).double(), crps.detach(), atol=1e-5, rtol=1e-5)


probs_st = st.lists(st.floats(0, 1), min_size=2, max_size=15).filter(lambda p: sum(p) > 0.1)


@settings(max_examples=100, deadline=None)
@given(probs_st, st.floats(-5, 20), st.floats(0.1, 10), st.floats(-100, 100))
def test_crps_properties(p, y, a, b):
    probs = torch.tensor(p, dtype=torch.float64)
    probs = probs / probs.sum()
    edges = torch.linspace(0, 10, len(p) + 1, dtype=torch.float64)
    h = Histogram(edges, probs)
    crps = h.crps(torch.tensor(y, dtype=torch.float64)).item()
    assert crps > 0  # a histogram has a density: never a point mass
    moved = Histogram(a * edges + b, probs).crps(torch.tensor(a * y + b, dtype=torch.float64))
    assert moved.item() == pytest.approx(a * crps, rel=1e-8, abs=1e-9)


def test_crps_tends_to_zero_for_a_point_mass():
    for width in (1.0, 1e-2, 1e-4):
        edges = torch.tensor([0.0, 2.0, 2.0 + width, 5.0], dtype=torch.float64)
        h = Histogram(edges, torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64))
        y = torch.tensor(2.0 + width / 2, dtype=torch.float64)
        # uniform of width w centred on y: E|X - y| - E|X - X'|/2 = w/4 - w/6 = w/12
        assert h.crps(y).item() == pytest.approx(width / 12, rel=1e-6)


# -- bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "edges, probs, match",
    [
        ([0.0, 2.0, 1.0], [0.5, 0.5], "strictly increasing"),
        ([0.0, 1.0, 2.0], [1.2, -0.2], "non-negative"),
        ([0.0, 1.0, 2.0], [0.5, 0.4], "sum to 1"),
        ([0.0, 1.0, 2.0], [0.2, 0.3, 0.5], "one more entry"),
    ],
)
def test_bad_arguments_raise(edges, probs, match):
    with pytest.raises(ValueError, match=match):
        Histogram(torch.tensor(edges), torch.tensor(probs))


def test_bad_levels_and_shapes_raise():
    h = Histogram(torch.tensor([0.0, 1.0, 2.0]), torch.tensor([0.5, 0.5]))
    for bad in ([0.0, 0.5], [0.5, 1.0], [1.5]):
        with pytest.raises(ValueError, match=r"\(0, 1\)"):
            h.quantile(bad)
    with pytest.raises(ValueError, match="broadcast"):
        Histogram(torch.zeros(3, 5).cumsum(-1) + torch.arange(5.0), torch.full((4, 4), 0.25))
