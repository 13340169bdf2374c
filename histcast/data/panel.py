"""Validation and packing of long DataFrames (`unique_id, ds, y`) into one ragged panel.

Series are stored the way statsforecast and GluonTS store them: every value in one float64
array `values (N,)`, series s occupying `values[indptr[s]:indptr[s + 1]]`, in time order.
Timestamps are packed the same way (`ds (N,)`), as naive datetime64[ns] or int64 steps.

What `from_frame` accepts, and why the rest is refused rather than guessed:
- ids: one kind of value (all strings, all numbers, ...). Missing ids are refused, and so are
  mixed kinds (`1` and `"1"`): converting them would silently merge or rename series.
- ds: naive datetimes (or strings / dates that parse to them) in local time, or integer steps
  (integral floats such as 1.0, 2.0 from a CSV round trip count as integers). Strings are read
  with one format for the whole column (guessed from the first, as pandas does); a column that
  reads both day first and month first, to different dates, is refused (which is meant is not
  ours to guess), and so is one whose strings need several formats. Time zones and UTC
  offsets are refused (converting to UTC moves every timestamp); non-integral floats and
  booleans are refused (they are not steps); missing timestamps are refused (not a gap).
- columns: a name twice is refused (`df[name]` would be a frame, not a column).
- y: real numbers (NaN = missing) with |y| <= `MAX_ABS` (float64 headroom for spans and
  margins) and non-zero |y| >= `MIN_ABS` (spans of 1% of it stay normal floats); strings,
  booleans, complex numbers and infinities are refused.
- freq: any pandas offset or alias ("h", "15min", "D", "B", "W-SUN", "MS", "ME", "QS-DEC",
  `pd.DateOffset(months=1)`, ...), or an int step for integer ds. When not given it is
  inferred (see `frequency`): `pd.infer_freq`, else a calendar offset (month ends, quarters,
  weeks, ...), else k calendar months, else one fixed step. Timestamps must be `first + k *
  freq`. `freq_to_json` / `freq_from_json` store it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .frequency import check_regular, future_timestamps, is_int_step, stepped_series
from .messages import example as _example
from .messages import show
from .timestamps import kinds as _kinds
from .timestamps import parse_timestamps

MAX_ABS = 1e300  # largest |y| accepted: spans and margins of such values stay finite in float64
MIN_ABS = 1e-290  # smallest non-zero |y|: spans of 1% of it stay normal floats (~1e-308)


@dataclass
class Columns:
    """Names of the id, time and target columns of a long DataFrame (Nixtla's by default)."""

    id: str = "unique_id"
    time: str = "ds"
    target: str = "y"


@dataclass
class Panel:
    """A validated, sorted panel of regularly spaced series.

    ids `(S,)`, values float64 `(N,)` (the user's values, exactly) with NaN for missing,
    indptr int64 `(S+1,)`, ds `(N,)` datetime64[ns] or int64, freq a pandas offset (or an int
    step for integer `ds`). order int64 `(N,)`, when `from_frame` was asked to keep it: the
    position in the caller's frame of each packed row (how its other columns line up).
    """

    ids: np.ndarray
    values: np.ndarray
    indptr: np.ndarray
    ds: np.ndarray
    freq: pd.DateOffset | int
    order: np.ndarray | None = None

    @property
    def n_series(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.indptr)

    @property
    def last_ds(self) -> np.ndarray:
        return self.ds[self.indptr[1:] - 1]

    def series(self, s: int) -> np.ndarray:
        return self.values[self.indptr[s] : self.indptr[s + 1]]

    def future_ds(self, h: int) -> np.ndarray:
        """Timestamps of the next h steps of every series, `(S, h)`, counted from each series'
        first timestamp (as the regularity check counts them); ValueError past 2262."""
        first, stepped = self.ds[self.indptr[:-1]], stepped_series(self.ds, self.indptr, self.freq)
        return future_timestamps(self.last_ds, self.freq, h, first, self.lengths, stepped)

    def to_frame(self, cols: Columns | None = None) -> pd.DataFrame:
        """The long frame of the panel (new arrays: editing it leaves the panel unchanged)."""
        cols = cols or Columns()
        return pd.DataFrame(
            {
                cols.id: np.repeat(self.ids, self.lengths),
                cols.time: self.ds.copy(),
                cols.target: self.values.astype(np.float64),
            }
        )

    def last(self, n: int) -> tuple[Panel, np.ndarray]:
        """The last `n` points of each series (all of a shorter one), and their rows `(M,)` in
        this panel's arrays."""
        keep = np.minimum(self.lengths, n)
        rows = tail_rows(self.indptr, keep)
        indptr = np.concatenate([[0], np.cumsum(keep)])
        return Panel(self.ids, self.values[rows], indptr, self.ds[rows], self.freq), rows

    def drop_last(self, n_last: np.ndarray | int) -> Panel:
        """Panel without the last `n_last` points of each series (a training cut)."""
        n_last = np.broadcast_to(n_last, self.lengths.shape).astype(np.int64)
        keep = self.lengths - n_last
        if (keep < 1).any():
            raise ValueError("cannot cut every point of a series")
        if not n_last.any():
            return self
        mask = head_mask(self.indptr, n_last)
        indptr = np.concatenate([[0], np.cumsum(keep)])
        return Panel(self.ids, self.values[mask], indptr, self.ds[mask], self.freq)


def tail_rows(indptr: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Rows of the last k[s] points of each series s in packed arrays, in order: `(sum k,)`."""
    return np.repeat(indptr[1:] - np.cumsum(k), k) + np.arange(np.sum(k))


def head_mask(indptr: np.ndarray, n_last: np.ndarray) -> np.ndarray:
    """Bool `(N,)`: False at the last n_last[s] points of each series s, True elsewhere."""
    mask = np.ones(indptr[-1], bool)
    mask[tail_rows(indptr, n_last)] = False
    return mask


def from_frame(
    df: pd.DataFrame, cols: Columns | None = None, freq=None, min_obs=2, keep_order=False
) -> Panel:
    """Validate a long DataFrame and pack it into a `Panel`; `df` is never modified.

    Raises ValueError/TypeError naming the offending column or series for: missing or
    duplicate columns, missing or mixed-type ids, missing, time-zoned, non-integral, ambiguous
    (day/month order) or unparsable timestamps, non-numeric, infinite, huge (|y| > `MAX_ABS`)
    or tiny (0 < |y| < `MIN_ABS`) targets, duplicate (id, ds) pairs, irregular timestamps,
    series with fewer than `min_obs` observed values. The panel's arrays are copies: editing
    them never edits `df`. `keep_order` keeps `Panel.order` (covariate columns read by it).
    """
    cols = cols or Columns()
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
    refuse_duplicate_columns(df, "df")
    missing = [c for c in (cols.id, cols.time, cols.target) if c not in df.columns]
    if missing:
        raise ValueError(f"missing column(s) {missing}; the frame has {list(df.columns)}")
    if len(df) == 0:
        raise ValueError("the frame has no rows")
    ids = _ids(df[cols.id], cols.id)
    ds = parse_timestamps(df[cols.time], cols.time, ids)
    y = _target(df[cols.target], cols.target, ids)
    try:  # integer codes in the ids' order: sorting never copies or compares the ids themselves
        codes, uniques = pd.factorize(ids, sort=True)
    except TypeError as err:
        raise TypeError(f"column {cols.id!r} holds ids that cannot be ordered: {err}") from err
    ds = np.asarray(ds)
    order = np.lexsort((ds.view(np.int64) if ds.dtype.kind == "M" else ds, codes))
    # by id, then time (stable); each sorted copy replaces its original at once (peak memory)
    codes = codes[order]
    ds = ds[order]
    values = np.asarray(y, np.float64)[order]
    order = order if keep_order else None
    del y
    same_id = codes[1:] == codes[:-1]  # sorted: a series is a run of equal ids
    dup = same_id & (ds[1:] == ds[:-1])
    _check_duplicates(uniques, codes, ds, dup, cols)
    starts = np.flatnonzero(np.concatenate([[True], ~same_id]))
    ids, indptr = np.asarray(uniques)[codes[starts]], np.append(starts, len(codes)).astype(np.int64)
    del codes, same_id, dup
    freq = check_regular(ids, ds, indptr, freq)
    observed = np.add.reduceat(~np.isnan(values), indptr[:-1])
    short = ids[observed < min_obs]
    if len(short):
        raise ValueError(
            f"series {[show(i) for i in short[:5]]} have fewer than {min_obs} observed values"
            + (f" (and {len(short) - 5} more)" if len(short) > 5 else "")
        )
    return Panel(ids, values, indptr, ds, freq, order)


# -- columns ----------------------------------------------------------------------------------
def refuse_duplicate_columns(frame: pd.DataFrame, where: str) -> None:
    """Raise naming the column names `frame` holds twice (`frame[name]` would be a frame)."""
    twice = list(dict.fromkeys(frame.columns[frame.columns.duplicated()]))
    if twice:
        raise ValueError(
            f"{where} has duplicate column names {[show(c) for c in twice]}; keep one column "
            f"of each name, e.g. {where} = {where}.loc[:, ~{where}.columns.duplicated()]"
        )


def _ids(col: pd.Series, name: str) -> np.ndarray:
    """The id column as an array of one kind of value; missing or mixed ids raise."""
    n_missing = int(col.isna().sum())
    if n_missing:
        raise ValueError(
            f"column {name!r} has {n_missing} missing ids (None/NaN); drop or fill those rows"
        )
    ids = col.to_numpy()
    if ids.dtype == object:
        try:
            kinds = _kinds(ids)
        except TypeError as err:  # unhashable ids (lists, dicts)
            raise TypeError(f"column {name!r} holds unhashable ids: {err}") from err
        if len(kinds) > 1:
            raise TypeError(
                f"column {name!r} mixes ids of different types ({', '.join(sorted(kinds))}); "
                f"make them one type, e.g. df[{name!r}] = df[{name!r}].astype(str)"
            )
    return ids


def _target(col: pd.Series, name: str, ids: np.ndarray) -> np.ndarray:
    """The target as float64 (NaN for missing); raise on non-real, infinite or huge values."""
    dtype = col.dtype
    if pd.api.types.is_object_dtype(dtype):  # Python numbers in an object column are numbers
        kinds = _kinds(col.dropna().to_numpy())
        what = f"object holding {', '.join(sorted(kinds))}"
        is_complex, numeric = "complex" in kinds, kinds <= {"number"}
    else:
        what, is_complex = str(dtype), pd.api.types.is_complex_dtype(dtype)
        numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if is_complex:
        raise TypeError(f"column {name!r} holds complex numbers; pass the real part or modulus")
    if not numeric:
        hint = f"; convert strings with pd.to_numeric(df[{name!r}])" if "str" in what else ""
        raise TypeError(f"column {name!r} must be numeric, got {what}{hint}")
    raw = col.to_numpy()
    with np.errstate(over="ignore"):  # float128 beyond float64: reported as huge below
        y = col.to_numpy(np.float64, na_value=np.nan)
    wide = raw if raw.dtype.kind == "f" and raw.itemsize > 8 else y  # float128: huge, not inf
    huge = np.isfinite(wide) & (np.abs(wide) > MAX_ABS)
    inf = np.isinf(y) & ~huge
    if inf.any():
        raise ValueError(
            f"infinite target values in series {[show(i) for i in pd.unique(ids[inf])[:5]]}"
        )
    if huge.any():
        raise ValueError(
            f"column {name!r} has {int(huge.sum())} values with |y| > {MAX_ABS:g} "
            f"({_example(ids, huge)}); rescale the series"
        )
    tiny = (y != 0) & (np.abs(y) < MIN_ABS)  # NaN: False
    if tiny.any():
        raise ValueError(
            f"column {name!r} has {int(tiny.sum())} non-zero values with |y| < {MIN_ABS:g} "
            f"({_example(ids, tiny)}): float64 loses their digits; rescale the series"
        )
    return y


def _check_duplicates(uniques, codes: np.ndarray, ds: np.ndarray, dup: np.ndarray, cols) -> None:
    """`dup (N-1,)` flags sorted rows equal to the one before them; row i is series
    `uniques[codes[i]]`."""
    if dup.any():
        i = np.argmax(dup) + 1
        when = pd.Timestamp(ds[i]) if ds.dtype.kind == "M" else int(ds[i])
        raise ValueError(
            f"{int(dup.sum())} duplicate ({cols.id}, {cols.time}) rows, e.g. series "
            f"{show(uniques[codes[i]])!r} at {when}"
        )


def from_frame_like(df: pd.DataFrame, cols: Columns, freq, keep_order=False) -> Panel:
    """`from_frame` for new data given to a fitted model: `df` must have the model's
    frequency `freq`. When it does not, the error says what `df` holds instead."""
    try:
        return from_frame(df, cols, freq, keep_order=keep_order)
    except (TypeError, ValueError) as err:
        try:
            own = from_frame(df, cols).freq
        except (TypeError, ValueError):
            raise err from None

        def describe(f):
            return f"integer steps of {f}" if is_int_step(f) else f"frequency {f.freqstr!r}"

        if own == freq:
            raise
        raise ValueError(
            f"the model was fitted on {describe(freq)}; the new data has {describe(own)}"
        ) from err
