import numpy as np
import pandas as pd
import pytest
from conftest import check_forecaster
from scipy.stats import norm

from histcast.estimator import NotFittedError, clone
from histcast.evaluation.baselines import (
    ARIMA,
    ETS,
    SeasonalNaive,
    Theta,
    ses_variance,
    theta_residuals,
)


@pytest.mark.parametrize("model", [SeasonalNaive, ETS, ARIMA, Theta])
def test_baselines_pass_the_smoke_test(small_panel, model):
    check_forecaster(model(horizon=6), small_panel, 6)


def test_seasonal_naive_by_hand():
    y = np.concatenate([np.arange(24.0), np.arange(24.0) + 1])  # seasonal error always +1
    df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024", periods=48, freq="h"), "y": y})
    fc = SeasonalNaive(horizon=26, season_length=24).fit(df).forecast(quantiles=[0.1, 0.9])
    np.testing.assert_allclose(fc["SeasonalNaive"].iloc[:3], [1, 2, 3])
    np.testing.assert_allclose(fc["SeasonalNaive"].iloc[24:], [1, 2])  # second season repeats
    # constant errors: centred spread is 0, so every quantile equals the point
    np.testing.assert_allclose(fc["SeasonalNaive-q-10"], fc["SeasonalNaive"])


def test_seasonal_naive_spread_grows_like_a_random_walk():
    rng = np.random.default_rng(0)
    y = np.tile(np.arange(4.0), 100) + rng.normal(size=400)
    df = pd.DataFrame({"unique_id": "a", "ds": np.arange(400), "y": y})
    fc = SeasonalNaive(horizon=8, season_length=4).fit(df).forecast(quantiles=[0.1, 0.9])
    width = (fc["SeasonalNaive-q-90"] - fc["SeasonalNaive-q-10"]).to_numpy()
    errors = y[4:] - y[:-4]
    ref = np.quantile(errors, 0.9) - np.quantile(errors, 0.1)
    np.testing.assert_allclose(width[:4], ref)
    np.testing.assert_allclose(width[4:], np.sqrt(2) * ref)


def test_short_series_fall_back_with_a_warning():
    df = pd.DataFrame(
        {"unique_id": ["long"] * 40 + ["tiny"] * 4, "ds": list(range(40)) + list(range(4)),
         "y": np.r_[np.sin(np.arange(40)), [1.0, 2.0, 1.0, 2.0]]}
    )  # fmt: skip
    with pytest.warns(UserWarning, match="'tiny' falls back to seasonal naive"):
        fc = ETS(horizon=2, season_length=2).fit(df).forecast()
    np.testing.assert_allclose(fc.loc[fc.unique_id == "tiny", "ETS-median"], [1.0, 2.0])


def test_baseline_forecast_before_fit():
    with pytest.raises(RuntimeError, match="not fitted"):
        Theta(horizon=2).forecast()


# -- Theta's intervals: SES with drift, sigma^2 (1 + (h - 1) alpha^2) --------------------------


def test_theta_residuals_and_ses_variance_by_hand():
    # alpha 0.5, b0 0.2: levels l0 = 1, l1 = 0.5 * 2 + 0.5 * 1 = 1.5; the drift b0/2 *
    # (1 - 0.5^i) / 0.5 adds 0.1 (i = 1) and 0.15 (i = 2): forecasts 1.1 and 1.65
    np.testing.assert_allclose(theta_residuals([1.0, 2.0, 4.0], 0.5, 0.2), [0.9, 2.35])
    np.testing.assert_allclose(ses_variance(2.0, 0.5, 3), [2.0, 2.5, 3.0])
    np.testing.assert_allclose(ses_variance(1.0, 1.0, 4), [1.0, 2.0, 3.0, 4.0])  # random walk


def test_theta_residuals_follow_statsmodels_forecast():
    """The one-step forecasts behind the residuals are statsmodels' own: appending its forecast
    to the series gives a zero residual, and Theta's spread is the SES formula on them."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    y = 50 + np.cumsum(np.random.default_rng(3).normal(0.2, 1.0, 80))
    res = ThetaModel(pd.Series(y), period=1, deseasonalize=False).fit()
    b0, alpha = res.params["b0"], res.params["alpha"]
    step1 = float(res.forecast(1).iloc[0])
    assert theta_residuals(np.r_[y, step1], alpha, b0)[-1] == pytest.approx(0, abs=1e-9)
    df = pd.DataFrame({"unique_id": "a", "ds": np.arange(80), "y": y})
    fc = Theta(horizon=5, season_length=1).fit(df).forecast(quantiles=[], level=[80])
    sd = (fc["Theta-hi-80"] - fc["Theta-lo-80"]).to_numpy() / (2 * norm.ppf(0.9))
    sigma2 = np.mean(theta_residuals(y, alpha, b0) ** 2)
    np.testing.assert_allclose(sd, np.sqrt(sigma2 * (1 + np.arange(5) * alpha**2)))
    np.testing.assert_allclose(fc["Theta"], res.forecast(5))


def _ses_paths(n_series, n, alpha, seed):
    """SES (local level) paths, N(0, 1) noise: y_t = l_(t-1) + e_t, l_t = l_(t-1) + alpha e_t."""
    e = np.random.default_rng(seed).normal(size=(n_series, n))
    level = 100 + np.cumsum(alpha * e, axis=1)
    return np.concatenate([np.full((n_series, 1), 100.0), level[:, :-1]], 1) + e


@pytest.mark.parametrize("m", [1, 4], ids=["plain", "seasonal"])
def test_theta_intervals_cover_their_level(m):
    """Monte Carlo: 200 simulated SES series (alpha 0.3, noise sd 1), 6 steps ahead; the 80% /
    95% intervals cover about 80% / 95% (statsmodels' own 80% intervals: 94%, 100%). Theta's
    own estimation error (alpha, drift, seasonal factors) costs ~1-3 points, hence the tolerance.
    On random walks (alpha = 1) it covers about 77% / 93%: the drift it fits to a driftless
    walk is noise the SES variance does not count."""
    n, h, n_series = 100, 6, 200
    y = _ses_paths(n_series, n + h, 0.3, seed=0)
    if m > 1:  # multiplicative seasonality: the spread must scale with the season too
        y = y * (1 + 0.3 * np.sin(2 * np.pi * np.arange(n + h) / m + 0.5))
    df = pd.DataFrame(
        {"unique_id": np.repeat(np.arange(n_series), n), "ds": np.tile(np.arange(n), n_series),
         "y": y[:, :n].ravel()}
    )  # fmt: skip
    fc = Theta(horizon=h, season_length=m).fit(df).forecast(quantiles=[], level=[80, 95])
    actual = y[:, n:].ravel()
    for level, tol in ((80, 0.05), (95, 0.03)):
        inside = (actual >= fc[f"Theta-lo-{level}"]) & (actual <= fc[f"Theta-hi-{level}"])
        assert inside.mean() == pytest.approx(level / 100, abs=tol), level


# -- estimator contract and exact values ---------------------------------------------------------


@pytest.mark.parametrize("model", [SeasonalNaive, ETS, ARIMA, Theta])
def test_baseline_params_round_trip_and_clone(small_panel, model):
    est = model(horizon=4, season_length=24, alias="mine")
    params = est.get_params()
    exog = {"futr_exog_list": None} if model is ARIMA else {}  # ARIMA takes covariates
    assert params == {"horizon": 4, "season_length": 24, "alias": "mine", "freq": None, **exog}
    assert est.set_params(horizon=6) is est and est.horizon == 6
    assert model(**est.get_params()).get_params() == est.get_params()
    with pytest.raises(ValueError, match="invalid parameter 'horizn'"):
        est.set_params(horizn=3)
    est.fit(small_panel)
    copy = clone(est)
    assert type(copy) is model and copy.get_params() == est.get_params()
    with pytest.raises(NotFittedError):
        copy.forecast()  # a clone is unfitted...
    est.check_fitted()  # ...and the original stays fitted


@pytest.mark.parametrize("bad", [0, -1, 2.0, True])
def test_baseline_rejects_bad_season_length(small_panel, bad):
    with pytest.raises(ValueError, match="season_length must be a positive integer"):
        SeasonalNaive(horizon=2, season_length=bad).fit(small_panel)


def test_seasonal_naive_returns_the_callers_values_exactly():
    y = 1e8 + np.arange(8) + 0.123  # float32 would round these to multiples of 8
    df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024", periods=8, freq="D"), "y": y})
    shuffled = df.sample(frac=1, random_state=0)  # row order does not matter
    fc = SeasonalNaive(horizon=4, season_length=4).fit(shuffled).forecast(level=[80])
    assert fc["SeasonalNaive"].dtype == np.float64
    np.testing.assert_array_equal(fc["SeasonalNaive"], y[4:])
