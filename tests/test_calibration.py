"""Recalibration of histograms by the empirical CDF of held-out PIT values."""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from histcast.datasets.synthetic import make_panel
from histcast.dist.histogram import Histogram
from histcast.forecaster import HistForecaster
from histcast.train.calibration import MAX_KNOTS, apply_map, fit_map

EDGES = torch.linspace(-6, 6, 241, dtype=torch.float64)


def normal_histogram(scale: float) -> Histogram:
    """N(0, scale^2) as a histogram on EDGES (masses by CDF differences)."""
    cdf = torch.as_tensor(stats.norm.cdf(EDGES.numpy(), scale=scale))
    probs = cdf.diff()
    return Histogram(EDGES, probs / probs.sum())


def test_uniform_pit_gives_about_the_identity():
    pit = np.random.default_rng(0).uniform(size=20_000)
    x, y = fit_map(pit)
    assert len(x) == MAX_KNOTS + 2 and (x[0], y[0], x[-1], y[-1]) == (0, 0, 1, 1)
    assert np.all(np.diff(x) >= 0) and np.all(np.diff(y) > 0)
    np.testing.assert_allclose(y, x, atol=0.015)


def test_identity_map_leaves_probabilities_alone():
    probs = torch.distributions.Dirichlet(torch.ones(7, 30)).sample().double()
    probs = probs / probs.sum(-1, keepdim=True)
    out = apply_map(probs, [[0.0, 1.0], [0.0, 1.0]])
    torch.testing.assert_close(out, probs, atol=1e-12, rtol=0)


def test_too_narrow_forecast_is_recalibrated_to_the_truth():
    """Forecast N(0, 0.5^2), truth N(0, 1): PIT values of held-out draws fix the CDF."""
    forecast = normal_histogram(0.5)
    y = torch.as_tensor(np.random.default_rng(1).standard_normal(20_000))
    g = fit_map(forecast.cdf(y).numpy())
    fixed = Histogram(EDGES, apply_map(forecast.probs, g))
    assert torch.isclose(fixed.probs.sum(), torch.tensor(1.0, dtype=torch.float64))
    x = torch.tensor([-2.0, -1.28, -0.5, 0.0, 0.7, 1.64, 2.5], dtype=torch.float64)
    np.testing.assert_allclose(fixed.cdf(x).numpy(), stats.norm.cdf(x.numpy()), atol=0.012)
    q = fixed.quantile([0.1, 0.9])  # the 80% interval of N(0, 1): +-1.2816
    np.testing.assert_allclose(q.numpy(), stats.norm.ppf([0.1, 0.9]), atol=0.05)
    fresh = np.random.default_rng(2).standard_normal(20_000)
    covered = ((fresh >= q[0].item()) & (fresh <= q[1].item())).mean()
    assert abs(covered - 0.8) < 0.015


def test_too_wide_forecast_is_narrowed_and_nan_pits_are_ignored():
    forecast = normal_histogram(2.0)
    y = np.random.default_rng(3).standard_normal(20_000)
    pit = np.concatenate([forecast.cdf(torch.as_tensor(y)).numpy(), [np.nan] * 50])
    fixed = Histogram(EDGES, apply_map(forecast.probs, fit_map(pit)))
    np.testing.assert_allclose(fixed.stddev.item(), 1.0, atol=0.05)


def test_targets_beyond_the_support_put_their_share_in_the_edge_bins():
    probs = torch.full((10,), 0.1, dtype=torch.float64)
    pit = np.concatenate([np.linspace(0.05, 0.95, 90), np.ones(10)])  # 10% above the support
    out = apply_map(probs, fit_map(pit))
    assert out[-1] > 0.15 and torch.isclose(out.sum(), torch.tensor(1.0, dtype=torch.float64))
    assert np.all(np.diff(fit_map(pit), axis=1) >= 0)


def test_empty_pits_give_the_identity():
    np.testing.assert_array_equal(fit_map([]), [[0.0, 1.0], [0.0, 1.0]])
    probs = torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64)
    torch.testing.assert_close(apply_map(probs, fit_map([np.nan])), probs)


@pytest.fixture(scope="module")
def small_fit():
    """A short panel with its last horizon held out."""
    df = make_panel("seasonal", n_series=3, length=120, seed=4).df
    kw = dict(horizon=6, max_epochs=3, steps_per_epoch=20, verbose=False, seed=1, val_size=6)
    return df, kw, HistForecaster(**kw, calibration="auto").fit(df)


@pytest.mark.slow
def test_forecaster_recalibrates_when_it_holds_out(small_fit, tmp_path):
    df, kw, model = small_fit
    assert model.val_size_ == 6 and model.calibration_ is not None
    assert len(model.calibration_) == 2 and len(model.calibration_[0]) == 3 * 6 + 2
    plain = HistForecaster(**kw).fit(df)  # the default: "none"
    assert plain.calibration == "none" and plain.calibration_ is None
    d0, _ = plain.predict_distribution()
    d1, _ = model.predict_distribution()
    torch.testing.assert_close(d1.edges, d0.edges)  # same training, same supports
    expected = apply_map(d0.probs, model.calibration_)
    torch.testing.assert_close(d1.probs, expected)
    model.save(tmp_path / "m")
    loaded = HistForecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.forecast(), model.forecast())


@pytest.mark.slow
def test_no_holdout_means_no_recalibration(small_fit):
    df, kw, _ = small_fit
    model = HistForecaster(**{**kw, "val_size": 0}, calibration="auto").fit(df)
    assert model.calibration_ is None


@pytest.mark.slow
def test_calibration_argument_is_checked(small_fit):
    df, kw, _ = small_fit
    with pytest.raises(ValueError, match="calibration"):
        HistForecaster(**kw, calibration="isotonic").fit(df)
