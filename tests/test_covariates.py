"""Covariates: schema, scaling and packing by hand, every refused input, save/load, backtests."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from histcast.data.batches import Packed, UnitWindows
from histcast.data.covariates import Covariates, robust_scale
from histcast.data.panel import Columns, from_frame
from histcast.data.windows import training_windows
from histcast.estimator import clone
from histcast.evaluation.backtest import cross_validation
from histcast.forecaster import HistForecaster

FAST = dict(max_steps=6, hidden_size=8, n_bins=20, batch_size=16, verbose=False, val_size=0,
            context_length=24)  # fmt: skip
H = 4
LISTS = dict(futr_exog_list=["promo", "weather"], hist_exog_list=["x"], stat_exog_list=["region"])


def make_frames(lengths=(40, 30, 50), seed=0):
    """(df, futr_df, static_df): three hourly series with a numeric and a categorical
    future-known covariate, a historical one, and a static category."""
    rng = np.random.default_rng(seed)
    frames, futures = [], []
    for i, n in enumerate(lengths):
        ds = pd.date_range("2024-01-01", periods=n + H, freq="h")
        promo = (rng.uniform(size=n + H) < 0.3).astype(float)
        weather = rng.choice(["sun", "rain"], n + H)
        y = 10 * (i + 1) * (1 + 0.5 * promo) + rng.normal(0, 1, n + H)
        frame = pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": y, "promo": promo,
                              "weather": weather, "x": rng.normal(0, 5, n + H)})  # fmt: skip
        frames.append(frame.iloc[:n])
        futures.append(frame.iloc[n:][["unique_id", "ds", "promo", "weather"]])
    static = pd.DataFrame({"unique_id": ["s0", "s1", "s2"], "region": ["north", "south", "north"]})
    return (pd.concat(frames, ignore_index=True), pd.concat(futures, ignore_index=True), static)


@pytest.fixture(scope="module")
def frames():
    return make_frames()


@pytest.fixture(scope="module")
def fitted(frames):
    df, _, static = frames
    return HistForecaster(horizon=H, **LISTS, **FAST).fit(df, static_df=static)


# -- the data path by hand -------------------------------------------------------------------
def test_scaling_and_codes_by_hand():
    df = pd.DataFrame({
        "unique_id": ["a"] * 5 + ["b"] * 4,
        "ds": list(range(5)) + list(range(4)),
        "y": np.arange(9.0),
        "load": [1.0, 2.0, 3.0, 4.0, 5.0, 100.0, 100.0, 100.0, 100.0],
        "dummy": [0, 0, 0, 0, 1, 0, 0, 0, 0],
        "color": ["red", "blue", None, "red", "blue", "green", "red", "red", "red"],
    })  # fmt: skip
    model = HistForecaster(horizon=1, futr_exog_list=["load", "dummy", "color"])
    panel = from_frame(df, keep_order=True)
    cov, exog = Covariates.fit(model, df, None, panel, Columns())
    # per series: (x - median) / IQR; a constant series falls back to a scale of 1
    np.testing.assert_allclose(exog.futr[:5, 0], (np.arange(1, 6) - 3) / 2)
    np.testing.assert_allclose(exog.futr[5:, 0], 0.0)
    np.testing.assert_allclose(exog.futr[:, 1], df["dummy"])  # IQR 0 -> max - min = 1
    assert cov.futr[2].categories == ["blue", "green", "red"]
    np.testing.assert_array_equal(exog.futr[:, 2], [3, 1, 0, 3, 1, 2, 3, 3, 3])  # None -> 0
    assert cov.cards == {"futr_cards": (0, 0, 4), "hist_cards": (), "stat_cards": ()}
    column = HistForecaster(horizon=1, futr_exog_list=["load"], exog_scaling="column")
    _, col = Covariates.fit(column, df, None, panel, Columns())
    np.testing.assert_allclose(col.futr[:, 0], (df["load"] - 5) / (100 - 3))


def test_robust_scale_groups_without_values():
    center, scale = robust_scale(np.array([1.0, 3.0, np.nan]), np.array([0, 0, 1]), 3)
    np.testing.assert_allclose(center, [2.0, 0.0, 0.0])
    np.testing.assert_allclose(scale, [1.0, 1.0, 1.0])  # IQR of [1, 3] is 1


def test_covariates_are_packed_in_the_panel_order_and_gathered_with_the_target():
    df, _, _ = make_frames((6, 5))
    shuffled = df.sample(frac=1, random_state=0)  # rows in any order, as the target
    model = HistForecaster(horizon=2, futr_exog_list=["promo"], hist_exog_list=["x"])
    panel = from_frame(shuffled, keep_order=True)
    _, exog = Covariates.fit(model, shuffled, None, panel, Columns())
    centered = df.groupby("unique_id")["x"].transform(lambda v: v - v.median()).to_numpy()
    iqr = df.groupby("unique_id")["x"].transform(lambda v: v.quantile(0.75) - v.quantile(0.25))
    np.testing.assert_allclose(exog.hist[:, 0], centered / iqr, rtol=1e-5)
    data = Packed.from_panel(panel, panel.freq, "cpu", exog=exog)
    win = training_windows(panel.indptr, panel.lengths)
    batch = UnitWindows(3, 2)(data, win)
    futr, hist = torch.as_tensor(exog.futr), torch.as_tensor(exog.hist)
    for b in range(len(win)):  # by hand: context positions c-2..c, zeros before the start
        start, c = panel.indptr[win.series[b]], win.cutoff[b]
        for j, g in enumerate(range(c - 2, c + 1)):
            expect = torch.cat([futr[g], hist[g]]) if g >= start else torch.zeros(2)
            torch.testing.assert_close(batch.exog.ctx[b, j], expect)
        end = panel.indptr[win.series[b] + 1]
        for j, g in enumerate(range(c + 1, c + 3)):
            torch.testing.assert_close(batch.exog.fut[b, j], futr[g] if g < end else 0 * futr[0])
    assert batch.exog.stat.shape == (len(win), 0)


# -- fit and forecast ------------------------------------------------------------------------
def test_forecast_with_covariates_never_modifies_the_callers_frames(frames):
    df, futr, static = frames
    copies = [f.copy() for f in frames]
    model = HistForecaster(horizon=H, **LISTS, **FAST).fit(df, static_df=static)
    fc = model.forecast(futr_df=futr)
    assert len(fc) == 3 * H and not fc.isna().any().any()
    model.forecast(df=df, futr_df=futr, static_df=static)
    for before, after in zip(copies, frames, strict=True):
        pd.testing.assert_frame_equal(before, after)


def test_unlisted_columns_change_nothing(frames):
    df, _, _ = frames
    plain = HistForecaster(horizon=H, **FAST).fit(df[["unique_id", "ds", "y"]]).forecast()
    extra = HistForecaster(horizon=H, **FAST).fit(df).forecast()  # covariate columns unlisted
    pd.testing.assert_frame_equal(plain, extra)


def test_new_series_at_forecast_time_get_their_own_scalers(fitted, frames):
    df, futr, static = frames
    new = df[df.unique_id == "s1"].assign(unique_id="z", x=lambda d: d.x * 100)
    fut = futr[futr.unique_id == "s1"].assign(unique_id="z")
    with pytest.raises(ValueError, match=r"series \['z'\] were not in fit: pass static_df"):
        fitted.forecast(df=new, futr_df=fut)
    st = pd.DataFrame({"unique_id": ["z"], "region": ["south"]})
    fc = fitted.forecast(df=new, futr_df=fut, static_df=st)
    assert list(fc.unique_id.unique()) == ["z"]


def test_predict_distribution_takes_the_same_covariates(fitted, frames):
    _, futr, _ = frames
    dist, index = fitted.predict_distribution(futr_df=futr)
    fc = fitted.forecast(futr_df=futr, quantiles=[0.5], level=[])
    np.testing.assert_allclose(fc["HistTCN"], dist.mean.reshape(-1).numpy())
    assert dist.batch_shape == (3, H)


# -- refused inputs, each naming the columns and series --------------------------------------
def drop_row(futr):
    return futr.drop(futr.index[futr.unique_id == "s2"][1])


@pytest.mark.parametrize(
    "edit, match",
    [
        (
            lambda f: f.drop(columns="weather"),
            r"\['weather'\] listed in futr_exog_list are "
            "missing from futr_df",
        ),  # fmt: skip
        (drop_row, r"futr_df lacks 1 of the 3 x 4 .* e\.g\. series 's2' at 2024-01-03 03:00"),
        (
            lambda f: f.assign(promo=f.promo.where(f.unique_id != "s1", np.nan)),
            r"futr_df: column 'promo' has 4 infinite or NaN values, in series \['s1'\]",
        ),  # fmt: skip
        (lambda f: f.assign(promo=f.promo.replace(0.0, np.inf)), "infinite or NaN values"),
        (
            lambda f: f.assign(weather=f.weather.where(f.unique_id != "s0", "snow")),
            r"futr_df: column 'weather' holds categories fit did not see, \['snow'\] .*'s0'",
        ),
        (lambda f: pd.concat([f, f.tail(1)]), r"futr_df has 1 duplicate \(unique_id, ds\) rows"),
        (
            lambda f: f.assign(temp=1.0),
            r"futr_df holds column\(s\) \['temp'\] the model was "
            "not fitted with",
        ),  # fmt: skip
        (lambda f: f.assign(promo="a lot"), "futr_df: column 'promo' must be numeric"),
    ],
)
def test_bad_futr_df_is_refused(fitted, frames, edit, match):
    _, futr, _ = frames
    with pytest.raises((ValueError, TypeError), match=match):
        fitted.forecast(futr_df=edit(futr.copy()))


def test_missing_futr_df_and_covariates_the_model_was_not_fitted_with(fitted, frames):
    df, futr, static = frames
    with pytest.raises(ValueError, match=r"uses future covariates \['promo', 'weather'\]"):
        fitted.forecast()
    plain = HistForecaster(horizon=H, **FAST).fit(df)
    with pytest.raises(ValueError, match="futr_df was given, but the model was fitted without"):
        plain.forecast(futr_df=futr)
    with pytest.raises(ValueError, match="static_df was given, but the model was fitted without"):
        plain.forecast(static_df=static)
    with pytest.raises(ValueError, match=r"static_df holds column\(s\) \['size'\] the model"):
        fitted.forecast(futr_df=futr, static_df=static.assign(size=1.0))


@pytest.mark.parametrize(
    "lists, edit, static_edit, match",
    [
        (
            {"futr_exog_list": ["price"]},
            None,
            None,
            r"\['price'\] listed in futr_exog_list / hist_exog_list are missing from df",
        ),
        (
            {"hist_exog_list": ["x"]},
            lambda d: d.assign(x=d.x.replace(d.x.iloc[45], np.inf)),
            None,
            r"df: column 'x' has 1 infinite values, in series \['s1'\]",
        ),
        (
            {"stat_exog_list": ["region"]},
            None,
            lambda s: pd.concat([s, s.iloc[[1]]]),
            r"static_df has 2 rows for series \['s1'\]: give one row per series",
        ),
        ({"stat_exog_list": ["region"]}, None, lambda s: s.iloc[:2], r"lacks the series \['s2'\]"),
        ({"stat_exog_list": ["region"]}, None, lambda s: s.assign(region=None), "missing values"),
        ({"stat_exog_list": ["size"]}, None, lambda s: s, r"\['size'\] listed in stat_exog_list"),
        ({"stat_exog_list": ["region"]}, None, lambda s: None, "fit got no static_df"),
        ({}, None, lambda s: s, "static_df was given to fit, but stat_exog_list is empty"),
        ({"futr_exog_list": "promo"}, None, None, "futr_exog_list must be a list of column"),
        ({"futr_exog_list": ["y"]}, None, None, "which is the id, time or target column"),
        (
            {"futr_exog_list": ["x"], "hist_exog_list": ["x"]},
            None,
            None,
            "'x' is listed in both futr_exog_list and hist_exog_list",
        ),
        ({"futr_exog_list": ["promo"], "exog_scaling": "minmax"}, None, None, "exog_scaling"),
        ({"futr_exog_list": ["ds2"]}, lambda d: d.assign(ds2=d.ds), None, "has dtype datetime"),
    ],
)
def test_bad_fit_inputs_are_refused(frames, lists, edit, static_edit, match):
    df, _, static = frames
    df = edit(df) if edit else df
    st = static_edit(static) if static_edit else None
    with pytest.raises((ValueError, TypeError), match=match):
        HistForecaster(horizon=H, **lists, **FAST).fit(df, static_df=st)


# -- save / load -----------------------------------------------------------------------------
def test_save_load_keeps_the_schema_and_forecasts(fitted, frames, tmp_path):
    df, futr, static = frames
    fitted.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "config.json").read_text())
    assert [c["name"] for c in meta["covariates"]["futr"]] == ["promo", "weather"]
    assert meta["covariates"]["futr"][1]["categories"] == ["rain", "sun"]
    loaded = HistForecaster.load(tmp_path / "m")
    assert loaded.covariates_.to_json() == fitted.covariates_.to_json()
    for k, v in vars(fitted.exog_).items():
        np.testing.assert_array_equal(getattr(loaded.exog_, k), v)
    pd.testing.assert_frame_equal(loaded.forecast(futr_df=futr), fitted.forecast(futr_df=futr))
    new = df[df.unique_id != "s0"]
    pd.testing.assert_frame_equal(
        loaded.forecast(df=new, futr_df=futr, static_df=static),
        fitted.forecast(df=new, futr_df=futr, static_df=static),
    )
    with pytest.raises(ValueError, match="unseen|did not see"):
        loaded.forecast(futr_df=futr.assign(weather="fog"))


def test_saved_covariates_that_disagree_are_refused(fitted, tmp_path):
    fitted.save(tmp_path / "m")
    config = tmp_path / "m" / "config.json"
    meta = json.loads(config.read_text())
    meta["covariates"]["hist"] = []
    config.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="packed covariates .* do not match"):
        HistForecaster.load(tmp_path / "m")


# -- backtests -------------------------------------------------------------------------------
def test_cross_validation_reads_future_covariates_from_df(frames):
    df, _, static = frames
    model = HistForecaster(horizon=H, **LISTS, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: the model can use its covariates
        cv = cross_validation(model, df, h=H, n_windows=1, static_df=static)
    assert [c for c in cv.columns if "-" not in c] == ["unique_id", "ds", "cutoff", "y", "HistTCN"]
    # the same as fitting on the history and passing the rows after the cutoff as futr_df
    last = df.groupby("unique_id").tail(H)
    history = df.drop(last.index)
    fc = (
        clone(model)
        .fit(history, static_df=static)
        .forecast(df=history, futr_df=last[["unique_id", "ds", "promo", "weather"]], level=[80, 95])
    )
    merged = cv.merge(fc, on=["unique_id", "ds"], suffixes=("", "_manual"))
    np.testing.assert_allclose(merged["HistTCN"], merged["HistTCN_manual"])


def test_baselines_without_covariates_say_so_once(frames):
    from histcast.evaluation.baselines import SeasonalNaive

    df, _, _ = frames
    models = [HistForecaster(horizon=H, futr_exog_list=["promo"], **FAST), SeasonalNaive(H)]
    with pytest.warns(UserWarning, match="SeasonalNaive cannot use covariates") as record:
        cross_validation(models, df, h=H, n_windows=3)
    assert sum("cannot use covariates" in str(w.message) for w in record) == 1


def test_ids_of_another_type_never_match_covariate_rows(frames):
    # True == 1 and hash(True) == hash(1): a merge would match a boolean id to series 1
    df, futr, static = make_frames(lengths=(40, 30))
    to_int, to_bool = {"s0": 0, "s1": 1}, {"s0": False, "s1": True}
    model = HistForecaster(horizon=H, **LISTS, **FAST).fit(
        df.assign(unique_id=df.unique_id.map(to_int)),
        static_df=static.iloc[:2].assign(unique_id=[0, 1]),
    )
    with pytest.raises(TypeError, match="futr_df's 'unique_id' values are bool, df's are number"):
        model.forecast(futr_df=futr.assign(unique_id=futr.unique_id.map(to_bool)))
    with pytest.raises(TypeError, match="static_df's 'unique_id' values are bool"):
        model.forecast(
            futr_df=futr.assign(unique_id=futr.unique_id.map(to_int)),
            static_df=static.iloc[:2].assign(unique_id=[False, True]),
        )
    model.forecast(futr_df=futr.assign(unique_id=futr.unique_id.map(to_int)))  # ints: fine


def test_covariate_lists_may_be_any_sequence_of_names(fitted, frames, tmp_path):
    """A pandas Index, a tuple, a numpy array or a Series of names is the list it holds: the
    same forecasts, bit for bit (issue 30: an Index crashed inside pandas); saved as a list. A
    bare string, a set and names that are not strings are refused."""
    df, futr, static = frames
    as_given = dict(futr_exog_list=pd.Index(["promo", "weather"]), hist_exog_list=("x",),
                    stat_exog_list=np.array(["region"]))  # fmt: skip
    model = HistForecaster(horizon=H, **as_given, **FAST).fit(df, static_df=static)
    pd.testing.assert_frame_equal(model.forecast(futr_df=futr), fitted.forecast(futr_df=futr))
    assert isinstance(model.futr_exog_list, pd.Index)  # the argument is kept as given
    model.save(tmp_path / "m")
    loaded = HistForecaster.load(tmp_path / "m")
    assert loaded.futr_exog_list == ["promo", "weather"] and loaded.hist_exog_list == ["x"]
    pd.testing.assert_frame_equal(loaded.forecast(futr_df=futr), fitted.forecast(futr_df=futr))
    series = HistForecaster(horizon=H, hist_exog_list=pd.Series(["x"]), **FAST).fit(df)
    plain = HistForecaster(horizon=H, hist_exog_list=["x"], **FAST).fit(df)
    pd.testing.assert_frame_equal(series.forecast(), plain.forecast())
    for bad in ("promo", {"promo"}, pd.Index([1, 2]), np.array([["promo"]]), 3):
        with pytest.raises(ValueError, match="futr_exog_list must be a list of column names"):
            HistForecaster(horizon=H, futr_exog_list=bad, **FAST).fit(df)


def test_cross_validation_and_arima_take_an_index_of_names(frames):
    from histcast.evaluation.baselines import ARIMA

    df, futr, _ = frames
    names = pd.Index(["promo"])
    models = [HistForecaster(horizon=H, futr_exog_list=names, **FAST),
              ARIMA(H, futr_exog_list=names, alias="AR")]  # fmt: skip
    plain = [HistForecaster(horizon=H, futr_exog_list=["promo"], **FAST),
             ARIMA(H, futr_exog_list=["promo"], alias="AR")]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' convergence warnings
        cv, cv_plain = (cross_validation(m, df, h=H, n_windows=2) for m in (models, plain))
        pd.testing.assert_frame_equal(cv, cv_plain)
        fc = ARIMA(H, futr_exog_list=pd.Series(["promo"])).fit(df)
        assert len(fc.forecast(futr_df=futr[["unique_id", "ds", "promo"]])) == 3 * H
    with pytest.raises(ValueError, match="futr_exog_list must be a list of column names"):
        ARIMA(H, futr_exog_list="promo").fit(df)
