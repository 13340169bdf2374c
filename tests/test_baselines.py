import numpy as np
import pandas as pd
import pytest
from conftest import check_forecaster

from histcast.baselines import ARIMA, ETS, SeasonalNaive, Theta


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
