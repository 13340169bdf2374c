import numpy as np
import pandas as pd
import pytest

from histcast import metrics
from histcast.backtest import LEVELS, cross_validation, evaluate
from histcast.baselines import SeasonalNaive
from histcast.forecaster import HistForecaster


@pytest.fixture
def panel():
    rng = np.random.default_rng(1)
    parts = []
    for uid, n in (("a", 30), ("b", 22)):
        ds = pd.date_range("2024-01-01", periods=n, freq="D")
        parts.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": 10 + rng.normal(size=n)}))
    return pd.concat(parts, ignore_index=True)


def test_cutoffs_and_shapes(panel):
    cv = cross_validation([SeasonalNaive(horizon=3, season_length=1)], panel, h=3, n_windows=2,
                          step_size=2)  # fmt: skip
    assert list(cv.columns[:4]) == ["unique_id", "ds", "cutoff", "y"]
    assert len(cv) == 2 * 2 * 3
    cut = cv.groupby("unique_id")["cutoff"].unique()
    # series end at day 30 and 22; windows end 0 and 2 points before the end
    assert list(cut["a"]) == [pd.Timestamp("2024-01-25"), pd.Timestamp("2024-01-27")]
    assert list(cut["b"]) == [pd.Timestamp("2024-01-17"), pd.Timestamp("2024-01-19")]
    assert (cv["ds"] > cv["cutoff"]).all()
    assert (cv["ds"] - cv["cutoff"] <= pd.Timedelta(days=3)).all()
    # the actuals are the panel's values
    merged = cv.merge(panel, on=["unique_id", "ds"], suffixes=("", "_true"))
    np.testing.assert_allclose(merged["y"], merged["y_true"])
    # seasonal naive with m = 1 repeats the value at the cutoff
    at_cut = cv.merge(
        panel.rename(columns={"ds": "cutoff", "y": "y_cut"}), on=["unique_id", "cutoff"]
    )
    np.testing.assert_allclose(at_cut["SeasonalNaive-median"], at_cut["y_cut"])


def test_evaluate_equals_metric_functions(panel):
    cv = cross_validation([SeasonalNaive(horizon=4, season_length=1)], panel, h=4)
    table = evaluate(cv, panel, season_length=1)
    cv = cv.sort_values(["unique_id", "ds"])
    y = cv["y"].to_numpy().reshape(2, 4)
    med = cv["SeasonalNaive-median"].to_numpy().reshape(2, 4)
    q = np.stack([cv[f"SeasonalNaive-q-{100 * a:g}"] for a in LEVELS], -1)
    scales = [metrics.seasonal_scale(panel[panel.unique_id == u].y.to_numpy()[:-4], 1)
              for u in ("a", "b")]  # fmt: skip
    row = table.loc["SeasonalNaive"]
    assert row["MASE"] == pytest.approx(metrics.mase(y, med, scales))
    assert row["WQL"] == pytest.approx(metrics.wql(cv["y"], q, LEVELS))
    assert row["sMAPE"] == pytest.approx(metrics.smape(y, med))
    lo, hi = (cv[f"SeasonalNaive-{b}-95"].to_numpy().reshape(2, 4) for b in ("lo", "hi"))
    assert row["MSIS"] == pytest.approx(metrics.msis(y, lo, hi, scales))
    assert row["coverage_80"] == pytest.approx(
        metrics.coverage(cv["y"], cv["SeasonalNaive-lo-80"], cv["SeasonalNaive-hi-80"])
    )
    per = evaluate(cv, panel, season_length=1, per_series=True)
    assert per.shape[0] == 2


def test_histogram_models_get_exact_crps(panel):
    model = HistForecaster(horizon=3, max_epochs=2, steps_per_epoch=5, n_bins=20, verbose=False)
    cv = cross_validation([model], panel, h=3, n_windows=2, refit=False)
    assert cv["HistTCN-crps"].notna().all()
    table = evaluate(cv, panel)
    assert table.loc["HistTCN", "CRPS"] == pytest.approx(cv["HistTCN-crps"].mean())


def test_horizon_too_long(panel):
    with pytest.raises(ValueError, match="too short.*'b'"):
        cross_validation([SeasonalNaive(horizon=11)], panel, h=11, n_windows=2)
