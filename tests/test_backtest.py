import numpy as np
import pandas as pd
import pytest

from histcast.data.panel import Columns, from_frame
from histcast.ensemble import HistEnsemble
from histcast.estimator import NotFittedError
from histcast.evaluation import metrics
from histcast.evaluation.backtest import cross_validation
from histcast.evaluation.baselines import SeasonalNaive
from histcast.evaluation.levels import LEVELS
from histcast.evaluation.scoring import _scales, evaluate
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


# -- argument checks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"h": 0}, "h must be a positive integer; got 0"),
     ({"h": 2.0}, "h must be a positive integer; got 2.0"),
     ({"n_windows": 0}, "n_windows must be a positive integer; got 0"),
     ({"n_windows": True}, "n_windows must be a positive integer; got True"),
     ({"step_size": 0}, "step_size must be a positive integer; got 0"),
     ({"step_size": -1}, "step_size must be a positive integer; got -1")],
)  # fmt: skip
def test_window_arguments_are_positive_integers(panel, kwargs, match):
    args = {"h": 2, "n_windows": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        cross_validation([SeasonalNaive(horizon=3)], panel, **args)


def test_h_beyond_a_models_horizon_names_the_model(panel):
    models = [SeasonalNaive(horizon=4), SeasonalNaive(horizon=2, alias="short")]
    with pytest.raises(ValueError, match="'short' forecasts horizon=2 .* h=3"):
        cross_validation(models, panel, h=3)


def test_models_need_distinct_aliases(panel):
    with pytest.raises(ValueError, match=r"share the alias\(es\) \['SeasonalNaive'\]"):
        cross_validation([SeasonalNaive(horizon=2), SeasonalNaive(horizon=2)], panel, h=2)


def test_actuals_are_the_callers_values(panel):
    df = panel.assign(y=1e8 + np.arange(len(panel)) + 0.123)  # float32 would round these
    cv = cross_validation([SeasonalNaive(horizon=2, season_length=1)], df, h=2, n_windows=2)
    merged = cv.merge(df, on=["unique_id", "ds"], suffixes=("", "_true"))
    assert cv["y"].dtype == np.float64
    np.testing.assert_array_equal(merged["y"], merged["y_true"])
    at_cut = cv.merge(df.rename(columns={"ds": "cutoff", "y": "y_cut"}), on=["unique_id", "cutoff"])
    np.testing.assert_array_equal(at_cut["SeasonalNaive"], at_cut["y_cut"])


# -- evaluate: bad frames, point-only models, unscaled series ----------------------------------


@pytest.fixture
def cv_snaive(panel):
    return cross_validation([SeasonalNaive(horizon=3, season_length=1)], panel, h=3, n_windows=2)


def test_evaluate_names_a_missing_quantile_column(panel, cv_snaive):
    with pytest.raises(
        ValueError, match=r"'SeasonalNaive' lacks column\(s\) \['SeasonalNaive-q-30'"
    ):
        evaluate(cv_snaive.drop(columns="SeasonalNaive-q-30"), panel)
    with pytest.raises(ValueError, match="lacks column"):
        evaluate(cv_snaive.drop(columns="SeasonalNaive-hi-95"), panel)


def test_evaluate_names_series_missing_from_train(panel, cv_snaive):
    with pytest.raises(ValueError, match=r"absent from train_df, e\.g\. \['b'\]"):
        evaluate(cv_snaive, panel[panel.unique_id == "a"])


def test_evaluate_point_only_model_gets_point_scores(panel, cv_snaive):
    """A point forecast (e.g. from another library) is scored on MASE and sMAPE; the
    distributional scores are NaN rather than an error."""
    cv = cv_snaive.assign(Point=cv_snaive["SeasonalNaive-median"] + 0.5)
    table = evaluate(cv, panel, season_length=1, models=["SeasonalNaive", "Point"])
    cv = cv.sort_values(["unique_id", "cutoff", "ds"])
    y, point = (cv[c].to_numpy().reshape(4, 3) for c in ("y", "Point"))
    hist = panel.groupby("unique_id")["y"]
    scales = [metrics.seasonal_scale(hist.get_group(u).to_numpy()[:-k], 1)
              for u in ("a", "b") for k in (6, 3)]  # fmt: skip
    assert table.loc["Point", "MASE"] == pytest.approx(metrics.mase(y, point, scales))
    assert table.loc["Point", "sMAPE"] == pytest.approx(metrics.smape(y, point))
    assert table.loc["Point", ["CRPS", "WQL", "MSIS", "coverage_80"]].isna().all()
    assert table.loc["SeasonalNaive", ["CRPS", "WQL", "MSIS", "coverage_80"]].notna().all()


def test_constant_series_leave_mase_and_msis_with_a_count_and_one_warning(panel):
    df = pd.concat([panel, panel[panel.unique_id == "b"].assign(unique_id="flat", y=3.0)])
    cv = cross_validation([SeasonalNaive(horizon=3, season_length=1)], df, h=3, n_windows=2)
    match = r"leave out 2 of 6 \(series, cutoff\) windows.*'flat'"
    with pytest.warns(UserWarning, match=match) as rec:
        table = evaluate(cv, df, season_length=1)
    assert len(rec) == 1
    row = table.loc["SeasonalNaive"]
    assert np.isfinite(row[["MASE", "MSIS"]].astype(float)).all()
    assert row["n_unscaled"] == 2
    without = evaluate(cv[cv.unique_id != "flat"], df, season_length=1).loc["SeasonalNaive"]
    assert row["MASE"] == pytest.approx(without["MASE"])
    assert row["MSIS"] == pytest.approx(without["MSIS"])
    assert without["n_unscaled"] == 0
    with pytest.warns(UserWarning, match="seasonal scale is zero"):
        per = evaluate(cv, df, season_length=1, per_series=True)
    assert np.isnan(per.loc[("SeasonalNaive", "flat"), "MASE"])
    assert per.loc[("SeasonalNaive", "flat"), "n_unscaled"] == 2
    assert per.loc[("SeasonalNaive", "a"), "n_unscaled"] == 0


def test_evaluate_handles_windows_of_different_lengths(panel, cv_snaive):
    """Rows dropped from a window (e.g. missing actuals filtered out) must not shift the
    per-window MASE/MSIS of the others."""
    cv = cv_snaive.iloc[1:]  # window 1 of series 'a' keeps 2 of its 3 rows
    table = evaluate(cv, panel, season_length=1).loc["SeasonalNaive"]
    padded = cv_snaive.sort_values(["unique_id", "cutoff", "ds"]).copy()
    padded.loc[padded.index[0], "y"] = np.nan  # same window, with the dropped actual missing
    ref = evaluate(padded, panel, season_length=1).loc["SeasonalNaive"]
    pd.testing.assert_series_equal(table, ref)


def test_scales_match_seasonal_scale_per_window():
    rng = np.random.default_rng(0)
    parts = []
    for i, (n, size) in enumerate([(5, 1e-3), (30, 1.0), (50, 1e5), (3, 1.0)]):
        y = rng.normal(size=n) * size
        y[2:][rng.random(n - 2) < 0.2] = np.nan
        parts.append(pd.DataFrame({"unique_id": f"s{i}", "ds": np.arange(n) + i, "y": y}))
    train = pd.concat(parts, ignore_index=True)
    cv = pd.DataFrame({"unique_id": np.repeat(["s0", "s1", "s2", "s3"], 6),
                       "cutoff": np.tile(np.arange(-1, 60, 12), 4)})  # fmt: skip
    cv = cv.assign(ds=cv["cutoff"] + 1, y=1.0, M=1.0)
    for m in (1, 4, 7):
        got = _scales(cv.unique_id.to_numpy(), cv.cutoff.to_numpy(), from_frame(train),
                      train.sort_values(["unique_id", "ds"]).y.to_numpy(), m)  # fmt: skip
        hist = [train[(train.unique_id == u) & (train.ds <= c)].y.to_numpy()
                for u, c in zip(cv.unique_id, cv.cutoff, strict=True)]  # fmt: skip
        expected = [metrics.seasonal_scale(h, m) for h in hist]
        np.testing.assert_allclose(got, expected, rtol=1e-12, equal_nan=True)


# -- the estimator contract: clones, refit ---------------------------------------------------


def _tiny(horizon=3):
    return HistForecaster(horizon=horizon, max_epochs=2, steps_per_epoch=5, hidden_size=8,
                          n_bins=20, verbose=False)  # fmt: skip


def test_refit_trains_every_window(panel):
    cv = cross_validation([_tiny(), SeasonalNaive(horizon=3)], panel, h=3, n_windows=2,
                          refit=True)  # fmt: skip
    assert len(cv) == 2 * 2 * 3
    assert cv[["HistTCN", "HistTCN-crps", "SeasonalNaive"]].notna().all().all()
    assert (cv["HistTCN-q-10"] <= cv["HistTCN-q-90"]).all()
    table = evaluate(cv, panel)
    assert table.loc["HistTCN", "CRPS"] == pytest.approx(cv["HistTCN-crps"].mean())


def test_cross_validation_leaves_the_callers_models_unchanged(panel):
    """The backtest fits clones: a fitted model forecasts exactly as before, an unfitted one
    stays unfitted, and no parameter changes."""
    fitted = [_tiny().fit(panel), SeasonalNaive(horizon=3).fit(panel)]
    unfitted = [_tiny(), SeasonalNaive(horizon=3)]
    before = [m.forecast() for m in fitted]
    params = [m.get_params() for m in fitted + unfitted]
    cross_validation(fitted, panel, h=3, n_windows=2, refit=True)
    cross_validation(unfitted, panel, h=3, n_windows=2)
    for model, fc in zip(fitted, before, strict=True):
        pd.testing.assert_frame_equal(model.forecast(), fc)
    for model in unfitted:
        with pytest.raises(NotFittedError):
            model.forecast()
    assert [m.get_params() for m in fitted + unfitted] == params


# -- model columns: aliases with '-', extra columns, models=, alias checks ----------------------


def _two_dashed(panel):
    models = [SeasonalNaive(horizon=3, season_length=1, alias="s-naive"),
              SeasonalNaive(horizon=3, season_length=2, alias="hist-tcn")]  # fmt: skip
    return cross_validation(models, panel, h=3)


def test_evaluate_scores_aliases_with_dashes(panel):
    cv = _two_dashed(panel)
    assert cv.attrs["models"] == ["s-naive", "hist-tcn"]
    assert evaluate(cv, panel).index.tolist() == ["s-naive", "hist-tcn"]
    cv.attrs = {}  # a frame from elsewhere: the models are inferred from the columns
    assert evaluate(cv, panel).index.tolist() == ["s-naive", "hist-tcn"]
    lone = cv.drop(columns=[c for c in cv if c.startswith("s-naive")])
    assert evaluate(lone, panel).index.tolist() == ["hist-tcn"]


def test_evaluate_ignores_extra_columns(panel, cv_snaive):
    cv = cv_snaive.assign(note=1.0, text="x")
    assert evaluate(cv, panel).index.tolist() == ["SeasonalNaive"]
    cv.attrs = {}  # inferred: numeric columns are models, text columns are not
    assert evaluate(cv.drop(columns="note"), panel).index.tolist() == ["SeasonalNaive"]


def test_evaluate_models_argument(panel):
    cv = _two_dashed(panel).assign(note=1.0)
    assert evaluate(cv, panel, models=["hist-tcn"]).index.tolist() == ["hist-tcn"]
    assert evaluate(cv, panel, models=["note"]).loc["note", "MASE"] > 0  # a point column
    with pytest.raises(ValueError, match="model 'nope' has no column"):
        evaluate(cv, panel, models=["nope"])
    with pytest.raises(ValueError, match="'y' is a fixed column"):
        evaluate(cv, panel, models=["y"])
    with pytest.raises(ValueError, match="must be numeric"):
        evaluate(cv.assign(note="x"), panel, models=["note"])
    with pytest.raises(TypeError, match="models must be a list of model aliases"):
        evaluate(cv, panel, models="hist-tcn")
    with pytest.raises(ValueError, match="names a model twice"):
        evaluate(cv, panel, models=["hist-tcn", "hist-tcn"])


def test_evaluate_names_a_recorded_model_whose_column_is_gone(panel):
    cv = _two_dashed(panel)
    with pytest.raises(ValueError, match="model 's-naive' has no column.*models="):
        evaluate(cv.drop(columns="s-naive"), panel)


@pytest.mark.parametrize(
    ("alias", "error"),
    [("unique_id", ValueError), ("ds", ValueError), ("y", ValueError), ("cutoff", ValueError),
     ("index", ValueError), ("", ValueError), (" ", ValueError), ("m-median", ValueError),
     ("m-lo-80", ValueError), ("m-hi-99.5", ValueError), ("m-q-10", ValueError),
     ("m-crps", ValueError), (5, TypeError)],
)  # fmt: skip
def test_bad_aliases_are_refused(panel, alias, error):
    with pytest.raises(error, match="alias"):
        cross_validation(SeasonalNaive(horizon=2, alias=alias), panel, h=2)
    with pytest.raises(error, match="alias"):
        SeasonalNaive(horizon=2, alias=alias).fit(panel)
    with pytest.raises(error, match="alias"):
        _tiny().set_params(alias=alias).fit(panel)  # refused before any training


def test_aliases_may_not_take_the_callers_column_names(panel):
    df = panel.rename(columns={"unique_id": "series", "y": "target"})
    cols = Columns("series", "ds", "target")
    with pytest.raises(ValueError, match="got 'target'"):
        cross_validation(SeasonalNaive(horizon=2, alias="target"), df, h=2, cols=cols)
    model = SeasonalNaive(horizon=2, alias="series").fit(df, id_col="series", target_col="target")
    with pytest.raises(ValueError, match="alias 'series'"):
        model.forecast()
    with pytest.raises(ValueError, match=r"share the alias\(es\) \['m-1'\]"):
        cross_validation([SeasonalNaive(horizon=2, alias="m-1"),
                          SeasonalNaive(horizon=2, alias="m-1")], panel, h=2)  # fmt: skip


def test_stacked_cross_validation_frames_are_refused_not_scored_nan(panel, cv_snaive):
    """Two runs' frames stacked row-wise leave each model without forecasts in the other's
    rows: every score came out NaN without a word (a probe's)."""
    other = cv_snaive.rename(columns=lambda c: c.replace("SeasonalNaive", "Naive2"))
    stacked = pd.concat([cv_snaive, other], ignore_index=True)
    stacked.attrs = {}
    with pytest.raises(ValueError, match="no forecast in .* rows.*merge the frames"):
        evaluate(stacked, panel)


def test_a_frequency_inference_cannot_find_is_taken_from_freq():
    # business days with a holiday: regular only for the custom offset that knows the holiday
    cbd = pd.offsets.CustomBusinessDay(holidays=["2024-03-29"])
    ds = pd.date_range("2024-01-01", periods=70, freq=cbd)  # to 9 April
    df = pd.DataFrame({"unique_id": "a", "ds": ds, "y": np.arange(70.0)})
    with pytest.raises(ValueError, match="irregular"):
        cross_validation(SeasonalNaive(5, season_length=1), df, h=5)
    models = [SeasonalNaive(5, season_length=1), HistForecaster(5, max_steps=2, verbose=False)]
    cv = cross_validation(models, df, h=5, n_windows=4, freq=cbd)
    # the window after the holiday's week skips it: Thursday 28 March -> Monday 1 April
    assert pd.Timestamp("2024-03-29") not in set(cv["ds"])
    assert pd.Timestamp("2024-04-01") in set(cv["ds"])
    # the naive forecast is the value at the cutoff, so the grid is the caller's
    at = df.set_index("ds")["y"]
    np.testing.assert_array_equal(cv["SeasonalNaive"], at[cv["cutoff"]].to_numpy())
    assert all(m.freq is None for m in models)  # the caller's models are unchanged
    ens = HistEnsemble(HistForecaster(5, max_steps=2, verbose=False), n_members=2)
    cross_validation(ens, df, h=5, freq=cbd)  # an ensemble's template gets it too
    assert ens.forecaster.freq is None
    own = cross_validation(SeasonalNaive(5, season_length=1, freq=cbd), df, h=5, n_windows=4)
    pd.testing.assert_frame_equal(own, cv.drop(columns=[c for c in cv if "HistTCN" in c]))


def test_models_naming_different_frequencies_are_refused(panel):
    models = [SeasonalNaive(3, freq="D"), SeasonalNaive(3, freq="B", alias="other")]
    with pytest.raises(ValueError, match="different frequencies"):
        cross_validation(models, panel, h=3)
    with pytest.raises(ValueError, match="different frequencies"):
        cross_validation(SeasonalNaive(3, freq="D"), panel, h=3, freq="h")
    cross_validation(SeasonalNaive(3, freq="D"), panel, h=3, freq=pd.offsets.Day())  # the same


def test_a_diverged_fit_is_named_wherever_it_surfaces(panel):
    """learning_rate=1e3 makes the loss blow up: fit, cross_validation (refit or not) and an
    ensemble say that training diverged, not that forecasts are missing (issue 30)."""
    model = HistForecaster(horizon=3, learning_rate=1e3, max_steps=6, hidden_size=8, n_bins=20,
                           verbose=False)  # fmt: skip
    diverged = r"training diverged at step \d+ \(loss .*lower learning_rate \(now 1000"
    with pytest.raises(FloatingPointError, match=diverged):
        model.fit(panel)
    assert not hasattr(model, "model_")  # a failed fit does not look fitted
    for refit in (False, True):
        with pytest.raises(FloatingPointError, match=diverged):
            cross_validation(model, panel, h=3, n_windows=2, refit=refit)
    with pytest.raises(FloatingPointError, match=diverged):
        cross_validation(HistEnsemble(model, n_members=2), panel, h=3)


def test_evaluate_refuses_a_train_df_of_another_frequency(panel, cv_snaive):
    """A train_df at another frequency would scale MASE and MSIS by other steps: refused naming
    both frequencies (issue 30), from the frame's record or, without it, from its cutoffs."""
    every_other = panel.groupby("unique_id").nth(slice(None, None, 2))  # every 2 days
    with pytest.raises(
        ValueError, match="train_df has frequency '2D', the cross_validation frame 'D'"
    ):
        evaluate(cv_snaive, every_other)
    bare = cv_snaive.copy()
    bare.attrs.clear()  # e.g. read back from a file
    with pytest.raises(
        ValueError, match=r"frequency '2D', but the cross_validation frame forecasts"
    ):
        evaluate(bare, every_other)
    want = evaluate(cv_snaive, panel)
    pd.testing.assert_frame_equal(evaluate(bare, panel), want)
    hourly = panel.assign(ds=pd.date_range("2024-01-01", periods=len(panel), freq="h"))
    with pytest.raises(ValueError, match="frequency 'h', the cross_validation frame 'D'"):
        evaluate(cv_snaive, hourly)
    steps = panel.assign(ds=panel.groupby("unique_id").cumcount() * 2)  # integer timestamps
    cv_int = cross_validation(SeasonalNaive(horizon=3), steps, h=3)
    assert cv_int.attrs["freq"] == 2
    evaluate(cv_int, steps)
    with pytest.raises(ValueError, match="frequency step 1, the cross_validation frame step 2"):
        evaluate(cv_int, steps.assign(ds=steps.ds // 2))
