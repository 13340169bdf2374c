"""`evaluate`: score a cross-validation frame per model (CRPS, WQL, MASE, sMAPE, MSIS, coverage).

The definitions are GluonTS's and the M4 competition's (`metrics`); MASE and MSIS scale each
series by its seasonal differences over the training history before each cutoff.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..checks import positive_int
from ..data.calendar import season_length as default_season_length
from ..data.frequency import freq_key, freq_name, future_timestamps
from ..data.interop import to_native, to_pandas
from ..data.panel import Columns, from_frame
from ..frames import interval_names, is_numeric, model_aliases, quantile_name
from . import metrics
from .levels import INTERVALS, LEVELS

METRICS = ("CRPS", "scaled_CRPS", "WQL", "MASE", "sMAPE", "MSIS", "coverage_80", "coverage_95")


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

    `cv` and `train_df` may be pandas or polars. The table is in `cv`'s library: indexed by
    model (and series) in pandas; in polars, which has no index, those are its first columns.
    """
    cv, backend = to_pandas(cv, "cv")
    train_df = to_pandas(train_df, "train_df")[0]
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
    table = pd.DataFrame(rows).set_index(index)
    return table if backend == "pandas" else to_native(table.reset_index(), backend)


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
