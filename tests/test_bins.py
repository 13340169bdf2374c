"""The unit-space transform and bin supports, pinned by hand (as Chronos tests its tokenizer)."""

import warnings

import numpy as np
import pytest
import torch

from histcast.data import bins
from histcast.dist.histogram import unit_grid
from histcast.nn.losses import bin_targets, sparse_targets


def test_widen_by_hand_numpy_and_torch_agree():
    lo, hi = np.array([0.0, 10.0]), np.array([2.0, 30.0])
    wlo, whi = bins.widen(lo, hi, 0.5)
    np.testing.assert_allclose(wlo, [-1.0, 0.0])  # span 2 -> 4 around 1; 20 -> 40 around 20
    np.testing.assert_allclose(whi, [3.0, 40.0])
    tlo, thi = bins.widen(torch.tensor(lo), torch.tensor(hi), 0.5)
    np.testing.assert_array_equal(tlo.numpy(), wlo)
    np.testing.assert_array_equal(thi.numpy(), whi)


def test_span_floor_follows_the_series_spread_not_its_level():
    # a constant window at 5 in a series of span 200: 0.1 x 200; a constant series at 5 (span
    # 0): 0.1 x |5|; a series of zeros: TINY
    lo, hi = bins.widen(np.array([5.0, 5.0]), np.array([5.0, 5.0]), 0.0, np.array([200.0, 0.0]))
    np.testing.assert_allclose(hi - lo, [20.0, 0.5])
    lo, hi = bins.widen(np.array([0.0]), np.array([0.0]), 0.0, np.array([0.0]))
    assert hi[0] - lo[0] == bins.TINY  # a series of zeros still gets a positive span
    lo, hi = np.array([5.0, 0.0, 1.0]), np.array([5.0, 0.0, 4.0])
    span = np.array([200.0, 3.0, 4.0])
    base = np.array(bins.widen(lo, hi, 0.1, span))
    for c in (1e-7, 1e-6, 3.7, 1e12, 1e-250, 1e250):  # no absolute floor: scale-equivariant
        np.testing.assert_allclose(bins.widen(c * lo, c * hi, 0.1, c * span), c * base, rtol=1e-14)
    for a in (-1e9, -3.0, 1e6, 1e12):  # nor a floor from the level: shift-equivariant
        shifted = np.array(bins.widen(a + lo, a + hi, 0.1, span))
        np.testing.assert_allclose(shifted - a, base, atol=1e-14 * abs(a) * 10)


def test_lone_events_of_an_intermittent_series_are_not_spikes():
    """15 zeros and one 8 in a series whose robust span is 10: the window's trimmed range is 0,
    but the fences are at least the series' span apart, so the 8 stays in the range; without
    the series the 8 is a spike, and a 1e6 still is with it."""
    ctx = torch.tensor([[0.0] * 7 + [8.0] + [0.0] * 8, [0.0] * 7 + [1e6] + [0.0] * 8])
    series = (torch.zeros(2, dtype=torch.float64), torch.full((2,), 10.0, dtype=torch.float64))
    lo, hi = bins.window_ranges(ctx.double(), series)
    assert lo.tolist() == [0.0, 0.0] and hi.tolist() == [8.0, 0.0]
    _, alone = bins.window_ranges(ctx.double())
    assert alone.tolist() == [0.0, 0.0]


@pytest.mark.parametrize(("n", "k"), [(1, 0), (9, 0), (10, 1), (100, 1), (101, 2), (336, 4)])
def test_points_left_out_of_the_robust_range(n, k):
    assert bins.n_trim(np.array([n]))[0] == k
    assert bins.n_trim(torch.tensor([n]))[0] == k


def test_window_ranges_by_hand():
    nan = float("nan")
    clean = list(range(6, 15)) + [10.0, 11.0, 12.0]  # 12 points in [6, 14]
    spiked = clean[:5] + [1e6] + clean[6:]
    ctx = torch.tensor([clean, spiked, [3.0, nan, 1.0] + [nan] * 9, [nan] * 12])
    fallback = (torch.full((4,), -7.0), torch.full((4,), 7.0))
    lo, hi = bins.window_ranges(ctx.double(), tuple(f.double() for f in fallback))
    # clean: k = 1, trimmed [7, 13], R = 6, fences [1, 19]: [min, max] = [6, 14] is kept
    # spiked (11 replaced by 1e6): trimmed [7, 14], fences [0, 21]: 1e6 is left out
    # three points: no trimming, [1, 3]; no point: the fallback
    assert lo.tolist() == [6.0, 6.0, 1.0, -7.0]
    assert hi.tolist() == [14.0, 14.0, 3.0, 7.0]


def test_series_ranges_robust_and_widened_ignore_nan():
    values = np.array([1.0, np.nan, 3.0, 5.0, 5.0, 5.0] + list(range(20)) + [1e6], np.float64)
    indptr = np.array([0, 3, 6, 27])
    lo, hi = bins.series_ranges(values, indptr)
    np.testing.assert_array_equal(lo, [1.0, 5.0, 0.0])
    np.testing.assert_array_equal(hi, [3.0, 5.0, 19.0])  # trimmed [1, 19]: 1e6 > 19 + 18
    wlo, whi = bins.series_ranges(values, indptr, margin=0.5)
    np.testing.assert_allclose([wlo[0], whi[0]], [0.0, 4.0])
    assert whi[1] - wlo[1] == pytest.approx(0.1 * 5 * 2)  # floor 0.1 |centre|, then the margin


def test_series_and_window_ranges_agree():
    rng = np.random.default_rng(0)
    values = rng.standard_t(2, size=60)
    values[[3, 40]] = np.nan
    lo, hi = bins.series_ranges(values, np.array([0, 25, 60]))
    ctx = torch.full((2, 35), float("nan"), dtype=torch.float64)
    ctx[0, :25], ctx[1] = torch.tensor(values[:25]), torch.tensor(values[25:])
    wlo, whi = bins.window_ranges(ctx)
    np.testing.assert_array_equal(wlo.numpy(), lo)
    np.testing.assert_array_equal(whi.numpy(), hi)


def test_unit_round_trip_and_edges():
    y = torch.tensor([-5.0, 0.0, 2.5, 10.0, 1e22], dtype=torch.float64)
    lo, hi = torch.tensor(0.0, dtype=torch.float64), torch.tensor(10.0, dtype=torch.float64)
    u = bins.to_unit(y, lo, hi)
    torch.testing.assert_close(u[:4], torch.tensor([-0.5, 0.0, 0.25, 1.0], dtype=torch.float64))
    torch.testing.assert_close(bins.from_unit(u, lo, hi), y)
    e = bins.edges(torch.tensor([0.0, -5.0]), torch.tensor([10.0, 5.0]), 4)
    torch.testing.assert_close(e[1], torch.tensor([-5.0, -2.5, 0.0, 2.5, 5.0]))
    grid = unit_grid(4, torch.zeros(1, dtype=torch.float64))
    assert grid.dtype == torch.float64 and grid.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_values_at_and_beyond_the_edges_land_in_the_edge_bins():
    u = bins.to_unit(torch.tensor([-3.0, 0.0, 10.0, 1e22]), 0.0, 10.0)
    idx, weight = sparse_targets(u, 5, "dirac")
    assert idx.squeeze(-1).tolist() == [0, 0, 4, 4]  # 1e22 lands in the last bin, as in Chronos
    assert bins.outside_share(u) == pytest.approx(2 / 4)


def test_outside_share_ignores_missing():
    u = torch.tensor([[0.5, float("nan"), 1.2], [-0.1, 0.0, 1.0]])
    assert bins.outside_share(u) == pytest.approx(2 / 5)
    assert bins.outside_share(torch.tensor([float("nan")])) == 0.0


def test_choose_margin_takes_the_narrowest_that_fits():
    shares = dict(zip(bins.MARGINS, [0.08, 0.05, 0.02, 0.01, 0.0, 0.0], strict=True))
    seen = []

    def share_at(m):
        seen.append(m)
        return shares[m]

    assert bins.choose_margin(share_at) == (0.3, 0.02)  # <= MAX_OUTSIDE counts
    assert seen == [0.1, 0.2, 0.3]  # narrowest first, stops at the first that fits
    with pytest.warns(UserWarning, match=r"50\.0% .* even at the widest margin tried \(1\);"):
        assert bins.choose_margin(lambda m: 0.5) == (bins.MARGINS[-1], 0.5)  # none fits: widest


def test_choose_margin_fixed_number():
    with pytest.warns(UserWarning, match=r"2\.5% of the training targets .* at margin=0\.25; the"):
        assert bins.choose_margin(lambda m: m / 10, 0.25) == (0.25, 0.025)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # at most 2% outside: no warning
        assert bins.choose_margin(lambda m: 0.02, 0.25) == (0.25, 0.02)


def test_huge_value_lands_in_the_last_bin():
    # as Chronos tests its tokenizer: 1e22 maps far beyond [0, 1], stays finite and exact in
    # unit space, and its target is the last bin (-1e22: the first) with no NaN anywhere
    lo, hi = torch.tensor(0.0), torch.tensor(10.0)
    u = bins.to_unit(torch.tensor([1e22, -1e22]), lo, hi)
    torch.testing.assert_close(u, torch.tensor([1e21, -1e21]))
    torch.testing.assert_close(bin_targets(u, 4, "dirac"), torch.eye(4)[[3, 0]])
    p = bin_targets(u, 4, "gaussian")
    assert torch.isfinite(p).all() and p.argmax(-1).tolist() == [3, 0]
    torch.testing.assert_close(p.sum(-1), torch.ones(2))


def test_a_series_flat_but_for_a_few_points_spans_them():
    """60 zeros and one 5: the 1%-trimmed range is [0, 0], but the 5 is all the series varies
    by (rare demand), so its range is [0, 5] (a probe found its forecasts of y + a were not a +
    those of y: the span floor fell back to the level). A constant series stays a point."""
    values = np.array([0.0] * 30 + [5.0] + [0.0] * 30 + [3.0] * 12)
    lo, hi = bins.series_ranges(values, np.array([0, 61, 73]))
    assert lo.tolist() == [0.0, 3.0] and hi.tolist() == [5.0, 3.0]
