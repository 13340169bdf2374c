import warnings

import numpy as np
import pytest

from histcast.dist.histogram import Histogram
from histcast.evaluation import metrics

Y = np.array([[10.0, 12.0, 14.0], [1.0, 0.0, 2.0]])
Q_LEVELS = np.array([0.1, 0.5, 0.9])
Q = np.stack([Y - 1, Y + 0.5, Y + 2], -1)  # (2, 3, 3): quantile forecasts per level


def test_quantile_loss_by_hand():
    assert metrics.quantile_loss(3.0, 1.0, 0.9) == pytest.approx(1.8)
    assert metrics.quantile_loss(1.0, 3.0, 0.9) == pytest.approx(0.2)


def test_wql_by_hand():
    # per level: 0.1 -> rho = 0.1 * 1 each; 0.5 -> 0.5 * 0.5; 0.9 -> 0.1 * 2 (6 points each)
    total = Y.sum()  # 39
    expected = np.mean([2 * 6 * 0.1 / total, 2 * 6 * 0.25 / total, 2 * 6 * 0.2 / total])
    assert metrics.wql(Y, Q, Q_LEVELS) == pytest.approx(expected)


def test_wql_skips_missing_actuals():
    y = Y.copy()
    y[0, 0] = np.nan
    keep = ~np.isnan(y)
    assert metrics.wql(y, Q, Q_LEVELS) == pytest.approx(metrics.wql(Y[keep], Q[keep], Q_LEVELS))


def test_mase_and_seasonal_scale_by_hand():
    hist = np.array([1.0, 2.0, 4.0, 7.0, 11.0])
    assert metrics.seasonal_scale(hist, 1) == pytest.approx(2.5)  # diffs 1,2,3,4
    assert metrics.seasonal_scale(hist, 2) == pytest.approx(5.0)  # 3,5,7
    assert metrics.seasonal_scale(hist, 9) == pytest.approx(2.5)  # too short: m = 1
    yhat = Y + np.array([[1.0], [2.0]])  # errors 1 on series 0, 2 on series 1
    assert metrics.mase(Y, yhat, [2.0, 4.0]) == pytest.approx(0.5)


def test_smape_by_hand():
    y = np.array([100.0, 0.0, 50.0])
    yhat = np.array([110.0, 0.0, 0.0])
    expected = np.mean([200 * 10 / 210, 0.0, 200.0])
    assert metrics.smape(y, yhat) == pytest.approx(expected)


def test_msis_and_coverage_by_hand():
    y = np.array([[1.0, 5.0, 10.0]])
    lo, hi = np.array([[0.0, 0.0, 0.0]]), np.array([[2.0, 4.0, 10.0]])
    # widths 2, 4, 10; penalties 0, 40 * 1, 0 -> mean 56/3; scale 2
    assert metrics.msis(y, lo, hi, [2.0]) == pytest.approx(56 / 3 / 2)
    assert metrics.coverage(y, lo, hi) == pytest.approx(2 / 3)


def test_crps_from_quantiles_approaches_exact_crps():
    edges = np.linspace(0, 1, 11)
    probs = np.full(10, 0.1)  # uniform on [0, 1]
    y = np.array([0.3])
    exact = metrics.crps_histogram(Histogram(edges, probs), y)
    levels = (np.arange(999) + 1) / 1000
    approx = metrics.crps_from_quantiles(y, levels[None, :], levels)  # uniform quantile = level
    assert approx[0] == pytest.approx(exact[0], rel=1e-3)
    # the closed form for a uniform on [0, 1]: y^2 - y + 1/3
    assert exact[0] == pytest.approx(0.3**2 - 0.3 + 1 / 3)


def test_pit_of_uniform():
    edges = np.linspace(0, 2, 5)
    got = metrics.pit(Histogram(edges, np.full(4, 0.25)), [0.5, 1.0, 3.0])
    np.testing.assert_allclose(got, [0.25, 0.5, 1])


def test_bad_levels_raise():
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        metrics.wql(Y, Q, [0.1, 0.5, 1.0])


def test_mase_and_msis_leave_out_series_without_a_scale():
    """A constant history (scale 0) or one without a seasonal pair (NaN) cannot scale a
    series: it is left out with a warning, not turned into inf / NaN for the whole panel."""
    y = np.array([[1.0, 2.0], [5.0, 5.0], [3.0, 3.0]])
    yhat = y + np.array([[1.0], [2.0], [4.0]])
    lo, hi = y - 1, y + 1  # width 2, no penalty
    with pytest.warns(UserWarning, match="MASE: 2 of 3 series left out"):
        assert metrics.mase(y, yhat, [2.0, 0.0, np.nan]) == pytest.approx(0.5)
    with pytest.warns(UserWarning, match="MSIS: 1 of 3 series left out"):
        assert metrics.msis(y, lo, hi, [2.0, 0.0, 4.0]) == pytest.approx((1 + 0.5) / 2)
    with pytest.warns(UserWarning):
        assert np.isnan(metrics.mase(y[1:], yhat[1:], [0.0, 0.0]))
    np.testing.assert_array_equal(metrics.scaled([1.0, 0.0, -1.0, np.nan, np.inf]),
                                  [True, False, False, False, False])  # fmt: skip


def test_series_without_observed_actuals_do_not_count():
    y = np.array([[1.0, 2.0], [np.nan, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "mean of empty slice"
        assert metrics.mase(y, y + 1, [1.0, 1.0]) == pytest.approx(1.0)
        assert metrics.msis(y, y - 1, y + 1, [4.0, 1.0]) == pytest.approx(0.5)


def test_interval_score_by_hand():
    # width 2; below by 1: 2 + 40 * 1; above by 2: 2 + 40 * 2
    got = metrics.interval_score([1.0, -1.0, 4.0], [0.0, 0.0, 0.0], [2.0, 2.0, 2.0])
    np.testing.assert_allclose(got, [2.0, 42.0, 82.0])


def test_scores_are_float64():
    y = np.array([[1e8 + 0.5, 1e8 + 1.5]], dtype=np.float64)  # float32 cannot tell these apart
    yhat = np.array([[1e8 + 1.0, 1e8 + 1.0]])
    assert metrics.mase(y, yhat, [1.0]) == 0.5
    assert metrics.smape(y, yhat) > 0
    assert metrics.coverage(y, yhat - 0.25, yhat + 0.75) == 0.5
