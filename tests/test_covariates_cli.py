"""Covariates outside `HistForecaster`: ARIMA's regression on future-known covariates, the
other baselines' refusal, and the command line's `--futr-exog` / `--futr-data` options."""

import json
from functools import partial

import numpy as np
import pandas as pd
import pytest
from test_covariates import make_frames

from histcast import cli
from histcast.cli import main
from histcast.evaluation.baselines import ARIMA, ETS, exog_design
from histcast.forecaster import HistForecaster


def regression_panel(n=150, h=6, seed=0):
    """One daily series y = 5 + 3 x + AR(1) noise with x known ahead: (df, futr_df, truth)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n + h)
    noise = np.zeros(n + h)
    for t in range(1, n + h):
        noise[t] = 0.5 * noise[t - 1] + rng.normal(0, 0.1)
    frame = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2020-01-01", periods=n + h),
                          "y": 5 + 3 * x + noise, "x": x})  # fmt: skip
    return frame.iloc[:n], frame.iloc[n:][["unique_id", "ds", "x"]], frame.iloc[n:]["y"]


def test_arima_regresses_on_future_covariates():
    df, futr, truth = regression_panel()
    with_x = ARIMA(horizon=6, futr_exog_list=["x"]).fit(df).forecast(futr_df=futr)
    plain = ARIMA(horizon=6).fit(df[["unique_id", "ds", "y"]]).forecast()
    err = np.abs(with_x["ARIMA"].to_numpy() - truth.to_numpy()).mean()
    assert err < 0.3 < np.abs(plain["ARIMA"].to_numpy() - truth.to_numpy()).mean()


def test_arima_covariate_errors():
    df, futr, _ = regression_panel()
    model = ARIMA(horizon=6, futr_exog_list=["x"]).fit(df)
    with pytest.raises(ValueError, match=r"ARIMA uses future covariates \['x'\]: pass futr_df"):
        model.forecast()
    with pytest.raises(ValueError, match="futr_df lacks 1 of the 1 x 6"):
        model.forecast(futr_df=futr.iloc[:5])
    with pytest.raises(TypeError, match="ARIMA takes numeric covariates only; 'x' is not"):
        ARIMA(horizon=6, futr_exog_list=["x"]).fit(df.assign(x="high"))
    with pytest.raises(ValueError, match="ETS cannot use covariates, but futr_df was given"):
        ETS(horizon=6).fit(df).forecast(futr_df=futr)


def test_exog_design_leaves_out_dependent_columns():
    day = np.arange(28) % 7
    dummies = (day[:, None] == np.arange(7)).astype(float)  # they sum to 1: one is redundant
    past = np.column_stack([dummies, np.ones(28), np.arange(28.0)])
    x, fut = exog_design(past, past[:3])
    assert x.shape == (28, 7) and fut.shape == (3, 7)  # 6 dummies and the trend
    np.testing.assert_allclose(x.mean(0), 0, atol=1e-12)
    assert exog_design(np.ones((5, 1)), np.ones((2, 1))) == (None, None)


@pytest.fixture
def files(tmp_path, monkeypatch):
    """The test frames as CSV files; the CLI's histcast models made tiny."""
    tiny = partial(HistForecaster, hidden_size=8, context_length=24, max_steps=5, n_bins=20)
    monkeypatch.setattr(cli, "HistForecaster", tiny)
    df, futr, static = make_frames()
    paths = {name: tmp_path / f"{name}.csv" for name in ("data", "future", "static")}
    for name, frame in zip(paths, (df, futr, static), strict=True):
        frame.to_csv(paths[name], index=False)
    return {k: str(v) for k, v in paths.items()}


@pytest.mark.slow
def test_forecast_command_with_covariates(files, tmp_path):
    out = tmp_path / "fc.csv"
    assert main(["forecast", "--data", files["data"], "--horizon", "4", "--model", "histtcn",
                 "--epochs", "1", "--quiet", "--futr-exog", "promo,weather",
                 "--futr-data", files["future"], "--hist-exog", "x", "--stat-exog", "region",
                 "--static-data", files["static"], "--out", str(out)]) == 0  # fmt: skip
    fc = pd.read_csv(out)
    assert len(fc) == 12 and not fc.isna().any().any()
    assert main(["forecast", "--data", files["data"], "--horizon", "4", "--model", "arima",
                 "--futr-exog", "promo", "--futr-data", files["future"],
                 "--out", str(out)]) == 0  # fmt: skip
    assert pd.read_csv(out).columns[2] == "ARIMA"


@pytest.mark.slow
def test_backtest_command_with_covariates(files, tmp_path, capsys):
    out = tmp_path / "bt"
    with pytest.warns(UserWarning, match="SeasonalNaive cannot use covariates"):
        assert main(["backtest", "--data", files["data"], "--horizon", "4", "--windows", "2",
                     "--models", "histtcn,arima,snaive", "--epochs", "1", "--quiet",
                     "--no-plots", "--futr-exog", "promo", "--out", str(out)]) == 0  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())["metrics"]
    assert {m["model"] for m in metrics} == {"HistTCN", "ARIMA", "SeasonalNaive"}


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--stat-exog", "region"], "--stat-exog and --static-data go together"),
        (["--futr-exog", "promo"], "--futr-exog needs --futr-data"),
        (["--futr-exog", "auto"], "--futr-exog auto needs a named data set"),
        (["--futr-exog", "price", "--futr-data", "{future}"], "['price'] listed in"),
        (
            ["--futr-exog", "promo", "--futr-data", "{future}", "--model", "ets"],
            "ETS cannot use covariates",
        ),  # fmt: skip
    ],
)
def test_covariate_options_fail_in_one_line(files, tmp_path, capsys, extra, message):
    argv = ["forecast", "--data", files["data"], "--horizon", "4", "--epochs", "1", "--quiet",
            "--out", str(tmp_path / "fc.csv"), *[a.format(**files) for a in extra]]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
