"""pandas and polars in and out (`histcast.data.interop`): polars in, polars out, with the same
values as the pandas path; anything else refused with a message naming what is accepted."""

import json

import numpy as np
import pandas as pd
import pytest
from test_covariates import LISTS, make_frames

from histcast import HistEnsemble, HistForecaster, cross_validation, evaluate
from histcast.baselines import ARIMA, SeasonalNaive
from histcast.data.interop import to_native, to_pandas

pl = pytest.importorskip("polars")

FAST = dict(max_steps=20, hidden_size=8, n_bins=20, batch_size=16, verbose=False, val_size=0,
            context_length=24)  # fmt: skip
H = 4


def polars(pdf: pd.DataFrame):
    """A polars copy of a pandas frame, built without histcast (and without pyarrow)."""
    return pl.DataFrame(
        {c: pdf[c].tolist() if pdf[c].dtype.kind not in "fiuM" else pdf[c].to_numpy() for c in pdf}
    )


def assert_same(out, expected: pd.DataFrame):
    """`out` is a polars frame with `expected`'s columns and values, exactly."""
    assert isinstance(out, pl.DataFrame), type(out)
    assert out.columns == [str(c) for c in expected.columns]
    for c in expected.columns:
        got, want = out[c].to_numpy(), expected[c].to_numpy()
        if want.dtype.kind == "M":
            got, want = got.astype("datetime64[ns]"), want.astype("datetime64[ns]")
        elif want.dtype.kind not in "fiu":
            got, want = got.astype(str), want.astype(str)
        np.testing.assert_array_equal(got, want, err_msg=c)


@pytest.fixture(scope="module")
def panel():
    df, _, _ = make_frames()
    return df[["unique_id", "ds", "y"]]


@pytest.fixture(scope="module")
def pair(panel):
    """The same model fitted on the pandas panel and on its polars copy."""
    return (HistForecaster(horizon=H, **FAST).fit(panel),
            HistForecaster(horizon=H, **FAST).fit(polars(panel)))  # fmt: skip


def test_polars_in_polars_out(panel, pair):
    by_pandas, by_polars = pair
    assert (by_pandas.backend_, by_polars.backend_) == ("pandas", "polars")
    expected = by_pandas.forecast(level=[80])
    assert isinstance(expected, pd.DataFrame)
    assert_same(by_polars.forecast(level=[80]), expected)  # df=None: the training data's library
    pdf = polars(panel)
    before = pdf.clone()
    assert_same(by_polars.forecast(pdf, level=[80]), expected)
    assert pdf.equals(before)  # the caller's frame is unchanged
    assert isinstance(by_pandas.forecast(pdf), pl.DataFrame)  # the df's library, not fit's
    assert isinstance(by_polars.forecast(panel), pd.DataFrame)
    dist, index = by_polars.predict_distribution()
    assert_same(index, by_pandas.predict_distribution()[1])
    assert dist.probs.shape[:2] == (3, H)


def test_covariates_as_polars_frames_and_mixed_calls():
    df, futr, static = make_frames()
    by_pandas = HistForecaster(horizon=H, **LISTS, **FAST).fit(df, static_df=static)
    by_polars = HistForecaster(horizon=H, **LISTS, **FAST).fit(polars(df), static_df=polars(static))
    expected = by_pandas.forecast(futr_df=futr)
    assert_same(by_polars.forecast(futr_df=polars(futr)), expected)
    args = dict(futr_df=polars(futr), static_df=polars(static))
    assert_same(by_polars.forecast(polars(df), **args), expected)
    mixed = by_pandas.forecast(df, futr_df=polars(futr), static_df=static)  # pandas df: pandas
    pd.testing.assert_frame_equal(mixed, expected)


def test_ids_and_times_keep_their_polars_dtypes(panel, pair):
    pdf = polars(panel).with_columns(pl.col("unique_id").cast(pl.Categorical))
    fc = pair[1].forecast(pdf)
    assert fc.schema["unique_id"] == pl.Categorical and fc.schema["ds"] == pdf.schema["ds"]
    days = pd.date_range("2024-01-01", periods=30, freq="D").date.tolist()
    daily = pl.DataFrame({"unique_id": [1] * 30 + [2] * 30, "ds": days * 2,
                          "y": np.arange(60.0) % 7})  # fmt: skip
    assert daily.schema["ds"] == pl.Date
    fc = SeasonalNaive(horizon=3).fit(daily).forecast(daily)
    assert fc.schema["ds"] == pl.Date and fc.schema["unique_id"] == pl.Int64
    assert str(fc["ds"][0]) == "2024-01-31"


def test_baselines_on_polars(panel):
    expected = SeasonalNaive(horizon=H, season_length=24).fit(panel).forecast()
    out = SeasonalNaive(horizon=H, season_length=24).fit(polars(panel)).forecast()
    assert_same(out, expected)
    df, futr, _ = make_frames()
    futr = futr[["unique_id", "ds", "promo"]]
    arima = ARIMA(horizon=H, futr_exog_list=["promo"])
    expected = arima.fit(df).forecast(futr_df=futr)
    assert_same(arima.fit(polars(df)).forecast(futr_df=polars(futr)), expected)


def test_cross_validation_and_evaluate_on_polars(panel):
    models = [HistForecaster(horizon=H, **FAST), SeasonalNaive(horizon=H, season_length=24)]
    expected = cross_validation(models, panel, h=H, n_windows=2)
    cv = cross_validation(models, polars(panel), h=H, n_windows=2)
    assert_same(cv, expected)
    assert cv.schema["cutoff"] == cv.schema["ds"]
    table = evaluate(expected, panel)
    out = evaluate(cv, polars(panel))  # no attrs in polars: the models come from the columns
    assert_same(out, table.reset_index())
    mixed = evaluate(expected, polars(panel))  # a pandas cv: a pandas table
    pd.testing.assert_frame_equal(mixed, table)
    per_series = evaluate(cv, panel, per_series=True)
    assert per_series.columns[:2] == ["model", "unique_id"]


def test_ensemble_on_polars(panel):
    kw = dict(n_members=2)
    expected = HistEnsemble(HistForecaster(horizon=H, **FAST), **kw).fit(panel).forecast()
    ensemble = HistEnsemble(HistForecaster(horizon=H, **FAST), **kw).fit(polars(panel))
    assert_same(ensemble.forecast(), expected)
    assert_same(ensemble.predict_distribution(polars(panel))[1], expected[["unique_id", "ds"]])


def test_save_and_load_keep_the_backend(pair, tmp_path):
    by_polars = pair[1]
    by_polars.save(tmp_path / "m")
    loaded = HistForecaster.load(tmp_path / "m")
    assert loaded.backend_ == "polars"
    assert_same(loaded.forecast(), pair[0].forecast())
    config = tmp_path / "m" / "config.json"  # a model saved before polars: pandas
    meta = json.loads(config.read_text())
    del meta["fitted"]["backend_"]
    config.write_text(json.dumps(meta))
    assert isinstance(HistForecaster.load(tmp_path / "m").forecast(), pd.DataFrame)


ACCEPTED = r"must be a pandas or polars DataFrame \(any eager frame narwhals reads\); got "


@pytest.mark.parametrize(
    "bad, named",
    [([1, 2], "list"), ({"unique_id": ["a"]}, "dict"), (np.zeros((3, 3)), "ndarray"),
     ("lazy", r"LazyFrame; call \.collect\(\) on the LazyFrame first")],
)  # fmt: skip
def test_other_inputs_are_refused_naming_what_is_accepted(panel, pair, bad, named):
    if isinstance(bad, str):
        bad = polars(panel).lazy()
    with pytest.raises(TypeError, match="df " + ACCEPTED + named):
        HistForecaster(horizon=H, **FAST).fit(bad)
    with pytest.raises(TypeError, match="futr_df " + ACCEPTED + named):
        pair[0].forecast(futr_df=bad)
    with pytest.raises(TypeError, match="df " + ACCEPTED + named):
        SeasonalNaive(horizon=H).fit(bad)
    with pytest.raises(TypeError, match="df " + ACCEPTED + named):
        cross_validation(SeasonalNaive(horizon=H), bad, h=H)
    with pytest.raises(TypeError, match="cv " + ACCEPTED + named):
        evaluate(bad, panel)


def test_the_boundary_by_hand():
    df = pl.DataFrame({"id": pl.Series(["b", "a"], dtype=pl.Categorical), "n": [1, None],
                       "s": ["x", None], "x": [0.5, 1.5]})  # fmt: skip
    pdf, backend = to_pandas(df)
    assert backend == "polars" and isinstance(pdf["id"].dtype, pd.CategoricalDtype)
    assert np.isnan(pdf["n"][1]) and pdf["s"].isna()[1]
    out = to_native(pdf, backend)
    assert out["id"].dtype == pl.Categorical and out["s"].to_list() == ["x", None]
    frame = pd.DataFrame({"a": [1]})
    assert to_pandas(frame)[0] is frame and to_pandas(frame)[1] == "pandas"
    assert to_native(frame, "pandas") is frame
