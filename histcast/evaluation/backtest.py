"""Rolling-origin cross-validation and evaluation, with statsforecast/neuralforecast semantics.

`cross_validation` puts `n_windows` cutoffs at the end of every series, `step_size` apart; each
window forecasts the `h` points after its cutoff. The output has the id and time columns,
`cutoff`, `y` (the caller's values, float64) and one block of columns per model alias. Models
that give histograms also get an exact `<alias>-crps` column.

Covariates, as neuralforecast backtests them: each window's future-known covariates are the
rows of `df` after its cutoff (`futr_df`), its history's covariates the rows before;
`static_df` goes to the models that list static covariates. Models that cannot use covariates
say so once, with a warning, and forecast from y alone.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..checks import positive_int
from ..data.calendar import season_length as default_season_length
from ..data.covariates import LISTS, exog_names
from ..data.exog_frames import aligned
from ..data.frequency import common_freq, freq_key, freq_name, future_timestamps
from ..data.panel import Columns, from_frame
from ..estimator import check_alias, clone
from ..frames import (
    forecast_frame,
    interval_names,
    is_numeric,
    model_aliases,
    quantile_name,
)
from . import metrics
from .levels import INTERVALS, LEVELS

METRICS = ("CRPS", "scaled_CRPS", "WQL", "MASE", "sMAPE", "MSIS", "coverage_80", "coverage_95")


def cross_validation(
    models, df, h, n_windows=1, step_size=None, refit=False, cols=None, return_models=False,
    static_df=None, freq=None,
):  # fmt: skip
    """Backtest `models` (a list of HistForecaster or baselines, or one model) on `n_windows`
    cutoffs per series.

    `h`, `n_windows` and `step_size` (default `h`) are positive integers; every model must
    forecast at least `h` steps (its `horizon`). `refit=False` trains a neural model once, on
    the data up to the first cutoff, and forecasts later windows from their longer histories;
    `refit=True` retrains it for every window. Baselines fit each series at every cutoff either
    way (they are per-series models). Every model is fitted as a `clone`: the caller's objects
    are never refitted or changed; `return_models=True` returns `(frame, fitted clones)`, the
    clones as fitted for the last window (e.g. for their training history). Covariate
    columns that the models list are read from `df`; `static_df` holds static covariates.
    The frame's `attrs["models"]` lists the model aliases, for `evaluate`. `freq` (default:
    the one the models were given, which must agree) is `df`'s frequency, else inferred.
    """
    cols = cols or Columns()
    h, n_windows = positive_int("h", h), positive_int("n_windows", n_windows)
    step_size = h if step_size is None else positive_int("step_size", step_size)
    models = _check_models(models, h, cols)
    freq = common_freq(models, freq)
    exog = _covariate_columns(models, static_df)
    panel = from_frame(df, cols, freq, keep_order=bool(exog))  # validation, lengths, frequency
    frame = panel.to_frame(cols)
    if exog:  # the covariate columns, in the panel's row order
        frame = pd.concat([frame, aligned(df, panel, exog)], axis=1)
    pos = frame.groupby(cols.id, sort=False).cumcount().to_numpy()
    length = np.repeat(panel.lengths, panel.lengths)
    need = h + (n_windows - 1) * step_size + 2
    short = panel.ids[panel.lengths < need]
    if len(short):
        raise ValueError(
            f"h={h} with n_windows={n_windows}, step_size={step_size} needs series of at least "
            f"{need} points; too short: {list(short[:5])}"
        )
    out, fitted = [], list(models)
    for w in range(n_windows):
        back = h + (n_windows - 1 - w) * step_size  # points after the cutoff, per series
        history = frame[pos < length - back]
        is_after = pos >= length - back
        after = frame[is_after]  # the future-known covariates come from here
        future = frame[is_after & (pos < length - back + h)][[cols.id, cols.time, cols.target]]
        cutoff = history.groupby(cols.id, sort=False)[cols.time].max()
        block = future.assign(cutoff=future[cols.id].map(cutoff))
        for i, model in enumerate(models):
            if refit or w == 0:
                fitted[i] = _fit(clone(model), history, static_df, cols, freq)
            fc = _window_forecast(fitted[i], history, future, cols, after)
            block = block.merge(fc, on=[cols.id, cols.time], how="left")
            _check_forecast_rows(block, fitted[i].alias_, cols)
        out.append(block)
    res = pd.concat(out, ignore_index=True)
    first = [cols.id, cols.time, "cutoff", cols.target]
    res = res[first + [c for c in res.columns if c not in first]]
    res.attrs["models"] = [m.alias_ for m in models]
    res.attrs["freq"] = panel.freq  # for `evaluate`: train_df must have it
    return (res, fitted) if return_models else res


def exog_lists(model) -> tuple[list, list, list] | None:
    """A model's (futr, hist, stat) covariate lists (an ensemble's: its forecaster's); None for
    a model that cannot use covariates."""
    for m in (model, getattr(model, "forecaster", None)):
        if m is not None and hasattr(m, "futr_exog_list"):
            return tuple(exog_names(getattr(m, k, None), k) for k in LISTS)
    return None


def _covariate_columns(models, static_df) -> list[str]:
    """The futr and hist columns some model lists (in order, once each); warns once for every
    model that cannot use covariates when some model does."""
    lists = [exog_lists(m) for m in models]
    names = list(dict.fromkeys(c for ls in lists if ls for c in ls[0] + ls[1]))
    if static_df is not None and not any(ls and ls[2] for ls in lists):
        raise ValueError("static_df was given, but no model lists static covariates")
    if names or static_df is not None:
        for model, ls in zip(models, lists, strict=True):
            if ls is None:
                msg = f"{model.alias_} cannot use covariates; it forecasts from y alone"
                warnings.warn(msg, stacklevel=3)
    return names


def _fit(model, history, static_df, cols, freq=None):
    """Fit a clone on a window's history, given `static_df` and `freq` where it lacks them."""
    kw = dict(id_col=cols.id, time_col=cols.time, target_col=cols.target)
    own = getattr(model, "forecaster", model)  # the clone's: deep copies, never the caller's
    if freq is not None and "freq" in own.get_params() and own.freq is None:
        own.set_params(freq=freq)
    lists = exog_lists(model)
    if lists and lists[2]:
        kw["static_df"] = static_df
    return model.fit(history, **kw)


def _check_models(models, h: int, cols: Columns) -> list:
    """A non-empty list of models with distinct, valid aliases (`check_alias`; none may be a
    column of `df`'s either), each forecasting at least h steps."""
    models = [models] if hasattr(models, "fit") else list(models)
    if not models:
        raise ValueError("no models to backtest")
    for model in models:
        check_alias(
            f"the alias of {type(model).__name__}",
            model.alias_,
            taken=(cols.id, cols.time, cols.target),
        )
    aliases = [m.alias_ for m in models]
    repeated = sorted({a for a in aliases if aliases.count(a) > 1})
    if repeated:
        raise ValueError(f"models share the alias(es) {repeated}; give each a distinct alias=")
    for model in models:
        horizon = getattr(model, "horizon", None)
        if isinstance(horizon, int | np.integer) and horizon < h:
            raise ValueError(
                f"model {model.alias_!r} forecasts horizon={horizon} steps but cross_validation "
                f"was asked for h={h}; set its horizon to at least {h}"
            )
    return models


def _check_forecast_rows(block, alias, cols) -> None:
    """Every (series, step) after the cutoff must have a point forecast (no silent NaN)."""
    missing = block[alias].isna().to_numpy()
    if missing.any():
        uids = list(pd.unique(block.loc[missing, cols.id])[:5])
        raise ValueError(
            f"model {alias!r} gave no forecast for {int(missing.sum())} of {len(block)} "
            f"(series, step) pairs after the cutoff, e.g. series {uids}"
        )


def _window_forecast(model, history, future, cols, after):
    """One fitted model's forecasts after the cutoff; models that give a predictive
    distribution (`predict_distribution`) add an exact CRPS column. A model with future-known
    covariates reads them from `after`, the rows after the cutoff."""
    lists = exog_lists(model)
    kw = {"futr_df": after[[cols.id, cols.time, *lists[0]]]} if lists and lists[0] else {}
    if not hasattr(model, "predict_distribution"):
        return model.forecast(history, quantiles=LEVELS, level=INTERVALS, **kw)
    dist, index = model.predict_distribution(history, **kw)  # one network pass for both outputs
    fc = forecast_frame(index, dist, model.alias_, LEVELS, INTERVALS)
    y = index.merge(future, on=[cols.id, cols.time], how="left")[cols.target]
    fc[f"{model.alias_}-crps"] = metrics.crps_histogram(dist, y.to_numpy())
    return fc


def evaluate(
    cv, train_df, season_length=None, per_series=False, cols=None, models=None
) -> pd.DataFrame:
    """Scores of every model in a `cross_validation` frame: a tidy (model x metric) table.

    CRPS is exact where the frame has `<alias>-crps`, else 2 x mean pinball over the quantile
    columns; WQL over the levels 0.1..0.9; MASE, sMAPE of the median; MSIS of the 95% interval;
    coverage of the 80% and 95% intervals. MASE and MSIS scale each (series, cutoff) window by
    the seasonal difference of `train_df`'s history up to that cutoff; windows whose scale is
    zero (a constant history) or undefined are left out of both, as the M4 scorer does, with
    one warning, and counted in the column `n_unscaled`. `per_series=True` gives one row per
    (model, series). All scores are computed in float64.

    A model with only a point forecast column (`<alias>`, no quantiles or intervals) gets MASE
    and sMAPE of that point forecast and NaN for the distributional scores.

    `models` lists the aliases to score (Nixtla's argument). By default they are the models
    `cross_validation` recorded in `cv.attrs["models"]` (plus any other with an
    `<alias>-median` column); a frame without that record has its models inferred: every numeric
    column that is not the id, time, cutoff, target or a column derived from another
    (`<alias>-median`, `-lo-80`, `-q-10`, `-crps`, ...).
    """
    cols = cols or Columns()
    aliases = _check_cv(cv, cols, models)
    train = from_frame(train_df, cols)
    _check_train_freq(cv, train, cols)
    absent = pd.Index(pd.unique(cv[cols.id])).difference(pd.Index(train.ids))
    if len(absent):
        raise ValueError(
            f"{len(absent)} series of the cross_validation frame are absent from train_df, "
            f"e.g. {list(absent[:5])}; MASE and MSIS scale each series by its history"
        )
    if season_length is not None:
        season_length = positive_int("season_length", season_length)
    m = season_length or default_season_length(train.freq)
    cv = cv.sort_values([cols.id, "cutoff", cols.time], ignore_index=True)
    ids, cutoffs = cv[cols.id].to_numpy(), cv["cutoff"].to_numpy()
    new_series = np.r_[True, ids[1:] != ids[:-1]]
    new_window = new_series | np.r_[True, cutoffs[1:] != cutoffs[:-1]]
    windows, first = np.cumsum(new_window) - 1, np.flatnonzero(new_window)
    steps = np.arange(len(cv)) - first[windows]  # row -> (window, step) cell
    values = train.values
    scale = _scales(ids[first], cutoffs[first], train, values, m)
    unscaled = ~metrics.scaled(scale)
    if unscaled.any():
        warnings.warn(
            f"MASE and MSIS leave out {int(unscaled.sum())} of {len(scale)} (series, cutoff) "
            "windows whose seasonal scale is zero (a constant history) or undefined: series "
            f"{list(pd.unique(ids[first][unscaled])[:5])}",
            stacklevel=2,
        )
    bounds = np.r_[np.flatnonzero(new_series), len(cv)] if per_series else np.r_[0, len(cv)]
    rows = []
    for alias in aliases:
        arrays = _model_arrays(cv, alias, cols)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            key = {"model": alias, cols.id: ids[a]} if per_series else {"model": alias}
            rows.append({**key, **_scores(arrays, slice(a, b), windows, steps, scale)})
    index = ["model", cols.id] if per_series else ["model"]
    return pd.DataFrame(rows).set_index(index)


def _check_train_freq(cv, train, cols) -> None:
    """`train_df`'s frequency must be the cross_validation frame's (its `attrs["freq"]`,
    recorded by `cross_validation`; in a frame without it, each window's first forecast must
    be one step of it after the cutoff): MASE and MSIS scale by its steps."""
    freq, cv_freq = train.freq, cv.attrs.get("freq")
    hint = "pass the data the backtest ran on (MASE and MSIS scale each series by its steps)"
    if cv_freq is not None:
        if freq_key(cv_freq) != freq_key(freq):
            raise ValueError(
                f"train_df has frequency {freq_name(freq)}, the cross_validation frame "
                f"{freq_name(cv_freq)}: {hint}"
            )
        return
    if type(freq) is pd.DateOffset:  # its steps are anchored at a series' start: not checked
        return
    first = cv.groupby([cols.id, "cutoff"], sort=False)[cols.time].min()
    try:
        cut = np.asarray(first.index.get_level_values("cutoff")).astype(train.ds.dtype)
        ds = np.asarray(first).astype(train.ds.dtype)
    except (TypeError, ValueError):
        return  # timestamps of another kind: from_frame's checks of the merge speak for them
    bad = np.flatnonzero(future_timestamps(cut, freq, 1)[:, 0] != ds)
    if len(bad):
        i = bad[0]
        raise ValueError(
            f"train_df has frequency {freq_name(freq)}, but the cross_validation frame forecasts "
            f"{first.index[i][0]!r} at {first.iloc[i]} after the cutoff {first.index[i][1]}, "
            f"not one step later: {hint}"
        )


def _check_cv(cv, cols, models) -> list[str]:
    """The model aliases of a cross_validation frame; ValueError naming what is missing."""
    if not isinstance(cv, pd.DataFrame):
        raise TypeError(f"expected the DataFrame of cross_validation, got {type(cv).__name__}")
    missing = [c for c in (cols.id, cols.time, "cutoff", cols.target) if c not in cv.columns]
    if missing:
        raise ValueError(f"the cross_validation frame lacks column(s) {missing}")
    if len(cv) == 0:
        raise ValueError("the cross_validation frame has no rows")
    if cv.columns.has_duplicates:
        repeated = list(pd.unique(cv.columns[cv.columns.duplicated()]))
        raise ValueError(f"the cross_validation frame repeats column(s) {repeated}")
    aliases = model_aliases(cv, cols, models)
    if not aliases:
        raise ValueError(
            f"no model columns in the cross_validation frame: {list(cv.columns)}; "
            "pass models=[...] to name them"
        )
    for alias in aliases:
        _check_model_column(cv, alias, cols)
        need = _distribution_columns(alias)
        absent = [c for c in need if c not in cv.columns]
        if absent and len(absent) < len(need):
            raise ValueError(
                f"model {alias!r} lacks column(s) {absent}: evaluate needs its median, "
                f"quantiles {list(LEVELS)} and 80% and 95% intervals (cross_validation writes "
                f"them all), or its point column {alias!r} alone for point scores"
            )
    return aliases


def _check_model_column(cv, alias, cols) -> None:
    """A model's point column must be in the frame, numeric, and not a fixed column."""
    if alias in (cols.id, cols.time, "cutoff", cols.target):
        raise ValueError(f"{alias!r} is a fixed column of the cross_validation frame, no model")
    if alias not in cv.columns:
        raise ValueError(
            f"model {alias!r} has no column in the cross_validation frame; its columns are "
            f"{list(cv.columns)}. Pass models=[...] to choose the models to score"
        )
    if not is_numeric(cv[alias]):
        raise ValueError(f"model column {alias!r} must be numeric; it has dtype {cv[alias].dtype}")
    missing = cv[alias].isna().to_numpy()
    if missing.any():
        row = cv.loc[missing].iloc[0]
        raise ValueError(
            f"model {alias!r} has no forecast in {int(missing.sum())} of {len(cv)} rows (e.g. "
            f"series {row[cols.id]!r} at {row[cols.time]}): to score the models of several "
            "cross_validation runs, merge the frames on id, ds, cutoff and y instead of "
            "stacking their rows; or score each frame on its own"
        )


def _distribution_columns(alias: str) -> list[str]:
    bounds = [name for lv in INTERVALS for name in interval_names(alias, lv)]
    return [f"{alias}-median", *[quantile_name(alias, a) for a in LEVELS], *bounds]


def _floats(cv, column) -> np.ndarray:
    """A column as float64; ValueError naming it when it holds something else."""
    try:
        return cv[column].to_numpy(np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"column {column!r} of the cross_validation frame must be numeric"
        ) from None


def _model_arrays(cv, alias, cols) -> dict:
    """float64 row arrays of one model: y, median (the point forecast for point-only models),
    and, when it has them, quantiles `(N, Q)`, CRPS, interval bounds."""
    col = lambda c: _floats(cv, c)  # noqa: E731
    y = col(cols.target)
    if f"{alias}-median" not in cv.columns:
        return {"y": y, "median": col(alias)}
    q = np.stack([col(quantile_name(alias, a)) for a in LEVELS], -1)
    crps_col = f"{alias}-crps"
    crps = col(crps_col) if crps_col in cv else metrics.crps_from_quantiles(y, q, LEVELS)
    bounds = {}
    for lv in INTERVALS:
        bounds[f"lo{lv}"], bounds[f"hi{lv}"] = map(col, interval_names(alias, lv))
    return {"y": y, "median": col(f"{alias}-median"), "q": q, "crps": crps, **bounds}


def _scores(a, rows, windows, steps, scale) -> dict:
    """Scores of one model over the rows `rows` (a slice of whole windows). MASE and MSIS use
    `(window, step)` grids of the windows with a usable scale (NaN padded)."""
    win = windows[rows]
    w = np.unique(win)
    ok = w[metrics.scaled(scale[w])]
    keep = np.isin(win, ok)
    cell = np.searchsorted(ok, win[keep]), steps[rows][keep]
    shape = (len(ok), int(cell[1].max()) + 1 if len(ok) else 0)

    def grid(x):
        out = np.full(shape, np.nan)
        out[cell] = x[rows][keep]
        return out

    y = a["y"][rows]
    out = dict.fromkeys(METRICS, np.nan)
    out["MASE"] = metrics.mase(grid(a["y"]), grid(a["median"]), scale[ok])
    out["sMAPE"] = metrics.smape(y, a["median"][rows])
    if "q" in a:
        obs = ~np.isnan(y)
        crps = a["crps"][rows][obs]
        out["CRPS"] = float(np.mean(crps))
        out["scaled_CRPS"] = float(np.mean(crps) / np.mean(np.abs(y[obs])))
        out["WQL"] = metrics.wql(y, a["q"][rows], LEVELS)
        out["MSIS"] = metrics.msis(grid(a["y"]), grid(a["lo95"]), grid(a["hi95"]), scale[ok])
        for lv in INTERVALS:
            out[f"coverage_{lv}"] = metrics.coverage(y, a[f"lo{lv}"][rows], a[f"hi{lv}"][rows])
    out["n_unscaled"] = len(w) - len(ok)
    return out


def _scales(ids, cutoffs, train, values, m: int) -> np.ndarray:
    """Seasonal scale `(W,)` of each (id, cutoff) window: `metrics.seasonal_scale` of the
    series' history up to the cutoff (lag m, or 1 when the history has no more than m points),
    from running sums over the packed `train` panel (`values` its float64 targets `(N,)`):
    no loop over windows."""
    s = np.searchsorted(train.ids, ids)  # train.ids are sorted and hold every id (checked)
    start, code = train.indptr[:-1], np.repeat(np.arange(train.n_series), train.lengths)
    # history length of each window: rank the timestamps and cutoffs jointly, then search
    # the (series, rank) keys, sorted because the panel is sorted by (series, time)
    n_ds = len(train.ds)
    cut = np.asarray(cutoffs).astype(train.ds.dtype)
    _, rank = np.unique(np.concatenate([train.ds, cut]), return_inverse=True)
    base = np.int64(len(rank) + 1)
    key = code * base + rank[:n_ds]
    end = np.searchsorted(key, s * base + rank[n_ds:], side="right")
    n = end - start[s]
    pos = np.arange(n_ds) - start[code]
    last = np.maximum(end - 1, 0)  # the history's last point (n > 0)
    out = np.full(len(ids), np.nan)
    for lag, use in ((m, n > m), (1, (n <= m) & (n > 1))):
        diff = np.abs(values - np.roll(values, lag))
        diff[pos < lag] = np.nan
        # sums restart with every series (a running sum over the whole panel would cancel
        # the small differences of a series after large ones)
        sums = pd.DataFrame({"total": np.nan_to_num(diff), "count": (~np.isnan(diff)) * 1.0})
        sums = sums.groupby(code).cumsum().to_numpy()[last[use]]
        out[use] = np.divide(sums[:, 0], sums[:, 1], out=out[use], where=sums[:, 1] > 0)
    return out
