"""`forecast(h=k)`: the first k of the horizon's steps, for every model kind."""

import pandas as pd
import pytest

from histcast import HistEnsemble, HistForecaster
from histcast.baselines import ARIMA, SeasonalNaive, Theta

FAST = dict(max_steps=4, hidden_size=8, n_bins=20, verbose=False)


@pytest.fixture(scope="module")
def models(small_panel):
    return [
        HistForecaster(horizon=4, **FAST).fit(small_panel),
        HistEnsemble(HistForecaster(horizon=4, **FAST), n_members=2).fit(small_panel),
        SeasonalNaive(horizon=4, season_length=3).fit(small_panel),
        Theta(horizon=4).fit(small_panel),
    ]


@pytest.mark.parametrize("k", [1, 3, 4, None])
def test_h_keeps_the_first_steps_of_the_full_forecast(models, small_panel, k):
    n = small_panel["unique_id"].nunique()
    for model in models:
        full = model.forecast(level=[90])
        part = model.forecast(level=[90], h=k)
        step = full.groupby("unique_id").cumcount()
        expected = full[step < (k or 4)].reset_index(drop=True)
        pd.testing.assert_frame_equal(part, expected)
        assert len(part) == n * (k or 4)
        new = small_panel.groupby("unique_id").head(60)  # new histories too
        pd.testing.assert_frame_equal(
            model.forecast(new, h=2),
            model.forecast(new)[lambda f: f.groupby("unique_id").cumcount() < 2].reset_index(
                drop=True
            ),
        )


@pytest.mark.parametrize(
    ("h", "error", "match"),
    [(5, ValueError, r"h=5 is more steps than the model forecasts \(4\)"),
     (0, ValueError, "h must be a positive integer"), (2.0, ValueError, "positive integer"),
     (True, ValueError, "positive integer")],
)  # fmt: skip
def test_h_beyond_the_horizon_or_not_an_integer_is_refused(models, h, error, match):
    for model in models:
        with pytest.raises(error, match=match):
            model.forecast(h=h)


def test_h_of_an_arima_with_future_covariates(small_panel):
    df = small_panel.assign(x=range(len(small_panel)))
    model = ARIMA(horizon=3, futr_exog_list=["x"]).fit(df)
    last = df.groupby("unique_id")["ds"].max()
    futr = pd.concat(
        pd.DataFrame({"unique_id": uid, "ds": pd.date_range(t, periods=4, freq="h")[1:], "x": 0})
        for uid, t in last.items()
    )
    full, part = model.forecast(futr_df=futr), model.forecast(futr_df=futr, h=1)
    pd.testing.assert_frame_equal(part, full.groupby("unique_id").head(1).reset_index(drop=True))
