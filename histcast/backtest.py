"""Rolling-origin cross-validation and evaluation, with statsforecast/neuralforecast semantics.

`cross_validation` puts `n_windows` cutoffs at the end of every series, `step_size` apart; each
window forecasts the `h` points after its cutoff. The output has the id and time columns,
`cutoff`, `y` and one block of columns per model alias. Models that give histograms also get an
exact `<alias>-crps` column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import metrics
from .estimator import clone
from .features import season_length as default_season_length
from .frames import INTERVALS, LEVELS, forecast_frame, quantile_name
from .panel import Columns, from_frame


def cross_validation(models, df, h, n_windows=1, step_size=None, refit=False, cols=None):
    """Backtest `models` (HistForecaster or baselines) on `n_windows` cutoffs per series.

    `refit=False` trains a neural model once, on the data up to the first cutoff, and forecasts
    later windows from their longer histories; `refit=True` retrains it for every window.
    Baselines fit each series at every cutoff either way (they are per-series models).
    Every model is fitted as a `clone`: the caller's objects are never refitted or changed.
    """
    cols = cols or Columns()
    step_size = step_size or h
    panel = from_frame(df, cols)  # validation; also gives lengths and the frequency
    frame = panel.to_frame(cols)
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
        future = frame[(pos >= length - back) & (pos < length - back + h)]
        cutoff = history.groupby(cols.id, sort=False)[cols.time].max()
        block = future.assign(cutoff=future[cols.id].map(cutoff))
        for i, model in enumerate(models):
            if refit or w == 0:
                fitted[i] = clone(model).fit(history, cols.id, cols.time, cols.target)
            fc = _window_forecast(fitted[i], history, future, cols)
            block = block.merge(fc, on=[cols.id, cols.time], how="left")
        out.append(block)
    res = pd.concat(out, ignore_index=True)
    first = [cols.id, cols.time, "cutoff", cols.target]
    return res[first + [c for c in res.columns if c not in first]]


def _window_forecast(model, history, future, cols):
    """One fitted model's forecasts after the cutoff; models that give a predictive
    distribution (`predict_distribution`) add an exact CRPS column."""
    if not hasattr(model, "predict_distribution"):
        return model.forecast(history, quantiles=LEVELS, level=INTERVALS)
    dist, index = model.predict_distribution(history)  # one network pass for both outputs
    fc = forecast_frame(index, dist, model.alias_, LEVELS, INTERVALS)
    y = index.merge(future, on=[cols.id, cols.time], how="left")[cols.target]
    fc[f"{model.alias_}-crps"] = metrics.crps_histogram(dist, y.to_numpy())
    return fc


def model_aliases(cv: pd.DataFrame, cols: Columns | None = None) -> list[str]:
    cols = cols or Columns()
    fixed = {cols.id, cols.time, "cutoff", cols.target}
    return [c for c in cv.columns if c not in fixed and "-" not in c]


def evaluate(cv, train_df, season_length=None, per_series=False, cols=None) -> pd.DataFrame:
    """Scores of every model in a `cross_validation` frame: a tidy (model x metric) table.

    CRPS is exact where the frame has `<alias>-crps`, else 2 x mean pinball over the quantile
    columns; WQL over the levels 0.1..0.9; MASE, sMAPE of the median; MSIS of the 95% interval;
    coverage of the 80% and 95% intervals. MASE and MSIS scale each (series, cutoff) by the
    seasonal difference of `train_df`'s history up to that cutoff. `per_series=True` gives one
    row per (model, series).
    """
    cols = cols or Columns()
    cv = cv.sort_values([cols.id, "cutoff", cols.time], ignore_index=True)
    m = season_length or default_season_length(from_frame(train_df, cols).freq)
    scale = _scales(cv, train_df, m, cols)
    h = int(cv.groupby([cols.id, "cutoff"]).size().iloc[0])
    rows = []
    for alias in model_aliases(cv, cols):
        if per_series:
            for uid, part in cv.groupby(cols.id, sort=True):
                rows.append({"model": alias, cols.id: uid, **_scores(part, alias, h, scale, cols)})
        else:
            rows.append({"model": alias, **_scores(cv, alias, h, scale, cols)})
    index = ["model", cols.id] if per_series else ["model"]
    return pd.DataFrame(rows).set_index(index)


def _scales(cv, train_df, m, cols) -> pd.Series:
    """Seasonal scale per (id, cutoff) from the history up to the cutoff."""
    keys = cv[[cols.id, "cutoff"]].drop_duplicates()
    hist = {uid: g for uid, g in train_df.sort_values([cols.id, cols.time]).groupby(cols.id)}
    out = {}
    for uid, cutoff in keys.itertuples(index=False):
        g = hist[uid]
        y = g.loc[g[cols.time] <= cutoff, cols.target].to_numpy()
        out[(uid, cutoff)] = metrics.seasonal_scale(y, m)
    return pd.Series(out)


def _scores(part, alias, h, scale, cols) -> dict:
    y = part[cols.target].to_numpy(np.float64).reshape(-1, h)
    med = part[f"{alias}-median"].to_numpy().reshape(-1, h)
    q = np.stack([part[quantile_name(alias, a)].to_numpy() for a in LEVELS], -1)
    keys = part[[cols.id, "cutoff"]].iloc[::h]
    s = scale.loc[list(keys.itertuples(index=False, name=None))].to_numpy()
    crps_col = f"{alias}-crps"
    if crps_col in part:
        crps = part[crps_col].to_numpy()
    else:
        crps = metrics.crps_from_quantiles(part[cols.target].to_numpy(), q, LEVELS)
    yy = part[cols.target].to_numpy(np.float64)
    obs = ~np.isnan(yy)
    lo95, hi95 = (part[f"{alias}-{b}-95"].to_numpy().reshape(-1, h) for b in ("lo", "hi"))
    return {
        "CRPS": float(np.mean(crps[obs])),
        "scaled_CRPS": float(np.mean(crps[obs]) / np.mean(np.abs(yy[obs]))),
        "WQL": metrics.wql(yy, q, LEVELS),
        "MASE": metrics.mase(y, med, s),
        "sMAPE": metrics.smape(y, med),
        "MSIS": metrics.msis(y, lo95, hi95, s),
        "coverage_80": metrics.coverage(yy, part[f"{alias}-lo-80"], part[f"{alias}-hi-80"]),
        "coverage_95": metrics.coverage(yy, part[f"{alias}-lo-95"], part[f"{alias}-hi-95"]),
    }
