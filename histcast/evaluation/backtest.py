"""Rolling-origin cross-validation, with statsforecast/neuralforecast semantics (`scoring`
scores its frames).

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
from ..data.covariates import LISTS, exog_names
from ..data.exog_frames import aligned
from ..data.frequency import common_freq
from ..data.interop import optional_pandas, to_native, to_pandas
from ..data.panel import Columns, from_frame
from ..estimator import check_alias, clone
from ..frames import (
    forecast_frame,
)
from . import metrics
from .levels import INTERVALS, LEVELS


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
    `df` and `static_df` may be pandas or polars; the frame is in `df`'s library (a polars
    frame has no `attrs`: `evaluate` then infers the models from its columns).
    """
    native, (df, backend) = df, to_pandas(df, "df")
    static_df = optional_pandas(static_df, "static_df")
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
    keys = {cols.id: cols.id, cols.time: cols.time, "cutoff": cols.time}
    res = to_native(res, backend, native, keys)
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
