"""The caller's covariate frames, checked and aligned to a panel (`covariates` encodes them).

- `aligned`: the covariate columns of `df`, in the panel's row order (series, then time);
- `future_frame`: `futr_df`'s rows for every series x future timestamp, in forecast order;
- `static_frame`: `static_df`'s row for every series, in the panel's order.

Each refuses, with a ValueError/TypeError naming the columns and series: a listed column that
is missing; a frame that is not a DataFrame; a column name twice; duplicate rows (futr_df: an
(id, ds) pair twice; static_df: a series twice); a series or future timestamp without its row;
at forecast time (`strict`), columns that the model was not fitted with. futr_df's timestamps
are read as df's are (`timestamps.parse_timestamps`). Frames are read, never modified.
"""

from __future__ import annotations

import numbers as _numbers

import numpy as np
import pandas as pd

from .messages import show
from .panel import Columns, Panel, refuse_duplicate_columns
from .timestamps import kinds, parse_timestamps


def _check_frame(frame, where: str, need: list[str], listed: list[str], what: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{where} must be a pandas DataFrame, got {type(frame).__name__}")
    refuse_duplicate_columns(frame, where)
    absent = [c for c in need if c not in frame.columns]
    if absent:
        raise ValueError(f"{where} lacks column(s) {absent}; it has {list(frame.columns)}")
    missing = [c for c in listed if c not in frame.columns]
    if missing:
        raise ValueError(
            f"column(s) {missing} listed in {what} are missing from {where}; it has "
            f"{list(frame.columns)}"
        )


def aligned(df: pd.DataFrame, panel: Panel, names: list[str]) -> pd.DataFrame:
    """`df[names]` in the row order of `panel` (by series, then time), index 0..N-1: the rows
    `panel.order` that `from_frame(df, keep_order=True)` kept, so `df` is parsed only once."""
    _check_frame(df, "df", [], names, "futr_exog_list / hist_exog_list")
    if not names:
        return pd.DataFrame(index=pd.RangeIndex(panel.indptr[-1]))
    if panel.order is None:
        raise ValueError("the panel was packed without its row order (from_frame(keep_order=))")
    return df[names].iloc[panel.order].reset_index(drop=True)


def _parse_time(frame: pd.DataFrame, like: np.ndarray, where: str, cols: Columns) -> np.ndarray:
    """A frame's time column, read as df's is (`timestamps.parse_timestamps`), in the panel's kind
    (`like`: datetime64[ns] or int64)."""
    ids = frame[cols.id].to_numpy()
    try:
        t = parse_timestamps(frame[cols.time], cols.time, ids)
    except (ValueError, TypeError) as err:
        raise type(err)(f"{where}: {err}") from err
    if t.dtype.kind != like.dtype.kind:
        kind = {"M": "dates", "i": "integer steps"}
        raise TypeError(
            f"{where} column {cols.time!r} holds {kind[t.dtype.kind]}, but df's timestamps are "
            f"{kind[like.dtype.kind]}; give {where} timestamps of df's kind"
        )
    return t


def future_frame(futr_df, names, ids, fut_ds: np.ndarray, cols: Columns) -> pd.DataFrame:
    """The `names` columns of `futr_df` for series `ids (S,)` at `fut_ds (S, H)`, `S x H` rows
    (row-major, as `frames.forecast_index`). Rows for other series or times are ignored."""
    _check_frame(futr_df, "futr_df", [cols.id, cols.time], names, "futr_exog_list")
    extra = [c for c in futr_df.columns if c not in (cols.id, cols.time, cols.target, *names)]
    if extra:
        raise ValueError(
            f"futr_df holds column(s) {extra} the model was not fitted with (its futr_exog_list "
            f"is {names}); pass futr_df[[{cols.id!r}, {cols.time!r}, *futr_exog_list]]"
        )
    _same_kind(futr_df[cols.id], ids, "futr_df", cols.id)
    t = _parse_time(futr_df, fut_ds, "futr_df", cols)
    right = pd.DataFrame({"_id": futr_df[cols.id].to_numpy(), "_t": t, "_row": range(len(t))})
    dup = right.duplicated(["_id", "_t"]).to_numpy()
    if dup.any():
        i = np.argmax(dup)
        raise ValueError(
            f"futr_df has {int(dup.sum())} duplicate ({cols.id}, {cols.time}) rows, e.g. series "
            f"{show(right['_id'].iloc[i])!r} at {right['_t'].iloc[i]}"
        )
    s, h = fut_ds.shape
    index = pd.DataFrame({"_id": np.repeat(ids, h), "_t": fut_ds.reshape(-1)})
    try:
        rows = index.merge(right, on=["_id", "_t"], how="left")["_row"].to_numpy(np.float64)
    except (ValueError, TypeError) as err:  # e.g. int ids in df, strings in futr_df
        raise TypeError(f"futr_df's {cols.id!r} values do not match df's: {err}") from err
    missing = np.isnan(rows)
    if missing.any():
        i = np.argmax(missing)
        series = [show(x) for x in pd.unique(index["_id"][missing])[:5]]
        raise ValueError(
            f"futr_df lacks {int(missing.sum())} of the {s} x {h} (series, timestamp) rows the "
            f"forecast needs, e.g. series {show(index['_id'].iloc[i])!r} at "
            f"{index['_t'].iloc[i]}; series with missing rows: {series}"
        )
    return futr_df[names].iloc[rows.astype(np.int64)].reset_index(drop=True)


def static_frame(static_df, names, ids, cols: Columns, strict: bool) -> pd.DataFrame:
    """The `names` columns of `static_df` for series `ids (S,)`, one row each, in that order.
    `strict` (forecast time): other columns are refused (fit ignores them)."""
    _check_frame(static_df, "static_df", [cols.id], names, "stat_exog_list")
    extra = [c for c in static_df.columns if c not in (cols.id, *names)]
    if strict and extra:
        raise ValueError(
            f"static_df holds column(s) {extra} the model was not fitted with (its "
            f"stat_exog_list is {names})"
        )
    id_col = static_df[cols.id]
    _same_kind(id_col, ids, "static_df", cols.id)
    dup = id_col.duplicated(keep=False).to_numpy()
    if dup.any():
        raise ValueError(
            f"static_df has {int(dup.sum())} rows for series "
            f"{[show(x) for x in pd.unique(id_col[dup])[:5]]}: give one row per series"
        )
    pos = pd.Index(id_col).get_indexer(ids)
    if (pos < 0).any():
        raise ValueError(
            f"static_df lacks the series {[show(x) for x in ids[pos < 0][:5]]}"
            + (f" (and {int((pos < 0).sum()) - 5} more)" if (pos < 0).sum() > 5 else "")
        )
    return static_df[names].iloc[pos].reset_index(drop=True)


def _same_kind(col: pd.Series, ids: np.ndarray, where: str, name: str) -> None:
    """TypeError when `where`'s ids are of another kind than df's (True would match 1)."""
    theirs, ours = kinds(col.dropna().to_numpy()), kinds(ids)
    if theirs and theirs != ours:
        raise TypeError(
            f"{where}'s {name!r} values are {'/'.join(sorted(theirs))}, df's are "
            f"{'/'.join(sorted(ours))}: make them one type"
        )


def kind_of(raw: pd.Series, name: str, where: str) -> str:
    """`"numeric"` (numbers, booleans) or `"categorical"` (pandas category, strings, objects
    that are not all numbers); other dtypes (datetimes, complex) raise."""
    dtype = raw.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_complex_dtype(dtype):
        raise TypeError(f"{where}: column {name!r} holds complex numbers")
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        values = raw.dropna()
        is_number = values.map(lambda v: isinstance(v, _numbers.Real) and not isinstance(v, str))
        return "numeric" if len(values) and is_number.all() else "categorical"
    raise TypeError(
        f"{where}: column {name!r} has dtype {dtype}; covariates are numbers, booleans, strings "
        "or pandas categories"
    )


def numbers(raw: pd.Series, name: str, row_ids, where: str, allow_nan: bool) -> np.ndarray:
    """A numeric covariate as float64 `(N,)`; infinities (and NaN unless `allow_nan`) raise,
    naming the series, and so does a column that is not numeric."""
    if kind_of(raw, name, where) != "numeric":
        raise TypeError(
            f"{where}: column {name!r} must be numeric, as it was in fit; got {raw.dtype}"
        )
    if pd.api.types.is_object_dtype(raw.dtype):  # Python numbers in an object column
        raw = pd.to_numeric(raw)
    x = raw.to_numpy(np.float64, na_value=np.nan)
    bad = np.isinf(x) | (np.isnan(x) & (not allow_nan))
    if bad.any():
        series = [show(s) for s in pd.unique(np.asarray(row_ids)[bad])[:5]]
        what = "infinite or NaN" if not allow_nan else "infinite"
        raise ValueError(
            f"{where}: column {name!r} has {int(bad.sum())} {what} values, in series {series}"
        )
    return x
