"""Validation and packing of long DataFrames (`unique_id, ds, y`) into one ragged panel.

Series are stored the way statsforecast and GluonTS store them: every value in one float32
array `values (N,)`, series s occupying `values[indptr[s]:indptr[s + 1]]`, in time order.
Timestamps are packed the same way (`ds (N,)`), as naive datetime64[ns] or int64 steps.

What `from_frame` accepts, and why the rest is refused rather than guessed:
- ids: one kind of value (all strings, all numbers, ...). Missing ids are refused, and so are
  mixed kinds (`1` and `"1"`): converting them would silently merge or rename series.
- ds: naive datetimes (or strings / dates that parse to them) in local time, or integer steps
  (integral floats such as 1.0, 2.0 from a CSV round trip count as integers). Time zones and
  UTC offsets are refused (converting to UTC moves every timestamp); non-integral floats and
  booleans are refused (they are not steps); missing timestamps are refused (not a gap).
- y: real numbers (NaN = missing) with |y| <= `MAX_ABS` (float64 headroom for spans and
  margins); strings, booleans, complex numbers and infinities are refused.
- freq: any pandas offset or alias ("h", "15min", "D", "B", "W-SUN", "MS", "ME", "QS-DEC",
  `pd.DateOffset(months=1)`, ...), or an int step for integer ds. When not given it is
  inferred: `pd.infer_freq` on the longest series, else k calendar months (same day of month
  and time of day, every step k months: `pd.DateOffset(months=k)`, years as 12k), else one
  fixed step shared by every step of the panel. `freq_to_json` / `freq_from_json` store it.
"""

from __future__ import annotations

import datetime
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

MAX_ABS = 1e300  # largest |y| accepted: spans and margins of such values stay finite in float64
_NS_FIRST_DAY, _NS_LAST_DAY = np.datetime64("1677-09-22"), np.datetime64("2262-04-11")
_to_offset = pd.tseries.frequencies.to_offset


@dataclass
class Columns:
    """Names of the id, time and target columns of a long DataFrame (Nixtla's by default)."""

    id: str = "unique_id"
    time: str = "ds"
    target: str = "y"


@dataclass
class Panel:
    """A validated, sorted panel of regularly spaced series.

    ids `(S,)`, values float32 `(N,)` with NaN for missing, indptr int64 `(S+1,)`,
    ds `(N,)` datetime64[ns] or int64, freq a pandas offset (or an int step for integer `ds`).
    """

    ids: np.ndarray
    values: np.ndarray
    indptr: np.ndarray
    ds: np.ndarray
    freq: pd.DateOffset | int

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
        """Timestamps of the next h steps of every series, `(S, h)`."""
        return future_timestamps(self.last_ds, self.freq, h)

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

    def drop_last(self, n_last: np.ndarray | int) -> Panel:
        """Panel without the last `n_last` points of each series (a training cut)."""
        keep = self.lengths - np.broadcast_to(n_last, self.lengths.shape)
        if (keep < 1).any():
            raise ValueError("cannot cut every point of a series")
        mask = np.arange(len(self.values)) < np.repeat(self.indptr[:-1] + keep, self.lengths)
        indptr = np.concatenate([[0], np.cumsum(keep)])
        return Panel(self.ids, self.values[mask], indptr, self.ds[mask], self.freq)


def future_timestamps(last, freq, h: int) -> np.ndarray:
    """`(S, h)` timestamps following each `last` timestamp by 1..h steps of `freq`."""
    if _is_int(freq):
        last = np.asarray(last, dtype=np.int64)
        if len(last) and h > 0 and int(last.max()) + int(freq) * h > np.iinfo(np.int64).max:
            raise OverflowError(f"integer timestamps {h} steps of {freq} after {last.max()}")
        return last[:, None] + int(freq) * np.arange(1, h + 1)
    last = pd.DatetimeIndex(last)
    with warnings.catch_warnings():  # offsets pandas cannot vectorise still give exact dates
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        cols = [(last + k * freq).to_numpy(dtype="datetime64[ns]") for k in range(1, h + 1)]
    return np.stack(cols, axis=1) if cols else np.empty((len(last), 0), "datetime64[ns]")


def from_frame(df: pd.DataFrame, cols: Columns | None = None, freq=None, min_obs=2) -> Panel:
    """Validate a long DataFrame and pack it into a `Panel`; `df` is never modified.

    Raises ValueError/TypeError naming the offending column or series for: missing columns,
    missing or mixed-type ids, missing, time-zoned, non-integral or unparsable timestamps,
    non-numeric, infinite or huge (|y| > `MAX_ABS`) targets, duplicate (id, ds) pairs,
    irregular timestamps, series with fewer than `min_obs` observed values. The panel's arrays
    are copies: editing them never edits `df`.
    """
    cols = cols or Columns()
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in (cols.id, cols.time, cols.target) if c not in df.columns]
    if missing:
        raise ValueError(f"missing column(s) {missing}; the frame has {list(df.columns)}")
    if len(df) == 0:
        raise ValueError("the frame has no rows")
    ids = _ids(df[cols.id], cols.id)
    ds = _timestamps(df[cols.time], cols.time, ids)
    y = _target(df[cols.target], cols.target, ids)
    frame = pd.DataFrame({"id": ids, "ds": ds, "y": y})
    try:
        frame = frame.sort_values(["id", "ds"], kind="stable", ignore_index=True)
    except TypeError as err:
        raise TypeError(f"column {cols.id!r} holds ids that cannot be ordered: {err}") from err
    sorted_ids, ds_arr = frame["id"].to_numpy(), frame["ds"].to_numpy().copy()
    same_id = sorted_ids[1:] == sorted_ids[:-1]  # sorted: a series is a run of equal ids
    _check_duplicates(sorted_ids, ds_arr, same_id & (ds_arr[1:] == ds_arr[:-1]), cols)
    starts = np.flatnonzero(np.concatenate([[True], ~same_id]))
    ids, indptr = sorted_ids[starts], np.append(starts, len(frame)).astype(np.int64)
    freq = _check_regular(ids, ds_arr, indptr, freq)
    values = frame["y"].to_numpy(np.float32)  # a copy (float64 -> float32)
    observed = np.add.reduceat(~np.isnan(values), indptr[:-1])
    short = ids[observed < min_obs]
    if len(short):
        raise ValueError(
            f"series {[_show(i) for i in short[:5]]} have fewer than {min_obs} observed values"
            + (f" (and {len(short) - 5} more)" if len(short) > 5 else "")
        )
    return Panel(ids, values, indptr, ds_arr, freq)


# -- columns ----------------------------------------------------------------------------------
def _kinds(values) -> set[str]:
    """Kinds of the (non-missing) Python values: number, bool, string, datetime or a type name."""
    kinds = set()
    for v in pd.unique(np.asarray(values, dtype=object)):
        if isinstance(v, bool | np.bool_):
            kinds.add("bool")
        elif isinstance(v, numbers.Number):
            kinds.add("complex" if isinstance(v, complex | np.complexfloating) else "number")
        elif isinstance(v, str):
            kinds.add("string")
        elif isinstance(v, datetime.date | np.datetime64):
            kinds.add("datetime")
        else:
            kinds.add(type(v).__name__)
    return kinds


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


def _show(value):
    """A numpy scalar as the Python value it holds, so that messages read 'a' or 3."""
    return value.item() if isinstance(value, np.generic) else value


def _example(ids: np.ndarray, bad: np.ndarray) -> str:
    return f"e.g. in series {_show(ids[np.flatnonzero(bad)[0]])!r}"


def _timestamps(col: pd.Series, name: str, ids: np.ndarray) -> np.ndarray:
    """naive datetime64[ns] or int64 steps; raise on missing, zoned or ambiguous timestamps."""
    missing = col.isna().to_numpy()
    if missing.any():
        raise _missing_timestamps(name, missing, ids)
    dtype = col.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        raise _zoned(name, f"it is timezone-aware ({dtype.tz})")
    if isinstance(dtype, pd.PeriodDtype):
        raise TypeError(f"column {name!r} holds periods; convert them with .dt.to_timestamp()")
    if pd.api.types.is_bool_dtype(dtype):
        raise TypeError(f"column {name!r} holds booleans, not timestamps or integer steps")
    if pd.api.types.is_integer_dtype(dtype):
        return _int_steps(col.to_numpy(), name)
    if pd.api.types.is_float_dtype(dtype):
        return _float_steps(col.to_numpy(np.float64), name, ids)
    if pd.api.types.is_datetime64_dtype(dtype):
        return _as_ns(col.to_numpy(), name)
    if not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
        raise TypeError(f"column {name!r} must hold timestamps or integers, got dtype {dtype}")
    values = col.to_numpy()
    kinds = _kinds(values)
    if "bool" in kinds:
        raise TypeError(f"column {name!r} holds booleans, not timestamps or integer steps")
    if kinds == {"number"}:  # Python ints / floats in an object column
        if all(isinstance(v, numbers.Integral) for v in values):
            return _int_steps(values, name)
        return _float_steps(values.astype(np.float64), name, ids)
    if not kinds <= {"string", "datetime"}:  # e.g. 1 and "2024-01-01": 1 would read as 1 ns
        raise TypeError(
            f"column {name!r} must hold timestamps or integers, not a mix of "
            f"{', '.join(sorted(kinds))}"
        )
    try:
        parsed = pd.to_datetime(col, format="mixed")
    except (ValueError, TypeError) as err:
        if "timezone" in str(err) or "tz-" in str(err):  # mixed offsets or naive + zoned
            raise _zoned(name, f"it mixes UTC offsets or time zones ({err})") from err
        raise TypeError(f"column {name!r} must hold timestamps or integers ({err})") from err
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        raise _zoned(name, f"its timestamps carry a UTC offset or zone ({parsed.dtype.tz})")
    out = _as_ns(parsed.to_numpy(), name)
    bad = np.isnat(out)  # "NaT" or "" strings
    if bad.any():
        raise _missing_timestamps(name, bad, ids)
    return out


def _missing_timestamps(name: str, missing: np.ndarray, ids: np.ndarray) -> ValueError:
    return ValueError(
        f"column {name!r} has {int(missing.sum())} missing timestamps, {_example(ids, missing)}; "
        "drop those rows (a missing value is a row with its timestamp and y = NaN)"
    )


def _zoned(name: str, why: str) -> TypeError:
    return TypeError(
        f"column {name!r} is not naive local time: {why}. histcast works on naive timestamps; "
        f"convert with pd.to_datetime(df[{name!r}], utc=True).dt.tz_convert(tz)"
        ".dt.tz_localize(None) for local time in zone tz (or drop tz_convert to keep UTC)"
    )


def _int_steps(t: np.ndarray, name: str) -> np.ndarray:
    """Integer steps as int64, refusing values int64 cannot hold (numpy would wrap them)."""
    big = np.iinfo(np.int64)
    if len(t) and (int(np.max(t)) > big.max or int(np.min(t)) < big.min):
        raise ValueError(f"column {name!r} holds integer timestamps beyond int64")
    return np.asarray(t).astype(np.int64)


def _float_steps(t: np.ndarray, name: str, ids: np.ndarray) -> np.ndarray:
    """Integral floats (1.0, 2.0 after a CSV round trip) as int64 steps; anything else raises."""
    bad = ~np.isfinite(t) | (np.abs(t) >= 2.0**53) | (t != np.round(t))
    if bad.any():
        raise TypeError(
            f"column {name!r} holds float timestamps that are not integer steps "
            f"({_show(t[bad][0])!r}, {_example(ids, bad)}); use integer steps or datetimes"
        )
    return t.astype(np.int64)


def _as_ns(t: np.ndarray, name: str) -> np.ndarray:
    """datetime64 of any unit -> datetime64[ns], refusing dates that ns cannot hold (no wrap)."""
    if t.dtype != np.dtype("datetime64[ns]"):
        # bounds in days: comparing in ns would wrap the out-of-range values being looked for
        ok = np.isnat(t) | ((t >= _NS_FIRST_DAY) & (t < _NS_LAST_DAY))
        if not ok.all():
            raise ValueError(
                f"column {name!r} has timestamps outside {_NS_FIRST_DAY}..{_NS_LAST_DAY} "
                f"(e.g. {t[~ok][0]}), which nanosecond timestamps cannot hold"
            )
    return t.astype("datetime64[ns]")


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
            f"infinite target values in series {[_show(i) for i in pd.unique(ids[inf])[:5]]}"
        )
    if huge.any():
        raise ValueError(
            f"column {name!r} has {int(huge.sum())} values with |y| > {MAX_ABS:g} "
            f"({_example(ids, huge)}); rescale the series"
        )
    return y


def _check_duplicates(ids: np.ndarray, ds: np.ndarray, dup: np.ndarray, cols: Columns) -> None:
    """`dup (N-1,)` flags sorted rows equal to the one before them."""
    if dup.any():
        i = np.argmax(dup) + 1
        when = pd.Timestamp(ds[i]) if ds.dtype.kind == "M" else int(ds[i])
        raise ValueError(
            f"{int(dup.sum())} duplicate ({cols.id}, {cols.time}) rows, e.g. series "
            f"{_show(ids[i])!r} at {when}"
        )


# -- frequency --------------------------------------------------------------------------------
def _is_int(freq) -> bool:
    """An int step (numpy's timedelta64 is an np.integer, and bool an int: neither counts)."""
    not_int = bool | np.bool_ | np.timedelta64
    return isinstance(freq, int | np.integer) and not isinstance(freq, not_int)


def _as_offset(freq) -> pd.DateOffset:
    """A user's `freq` (alias, offset, timedelta or `freq_to_json` dict) as a forward offset."""
    if isinstance(freq, dict):
        freq = freq_from_json(freq)
    if _is_int(freq) or isinstance(freq, bool | np.bool_ | float):
        raise TypeError(f"freq={freq!r} is a number (a step for integer ds), but ds holds dates")
    try:
        offset = _to_offset(pd.Timedelta(freq) if isinstance(freq, np.timedelta64) else freq)
    except (ValueError, TypeError) as err:
        raise ValueError(f"freq={freq!r} is not a pandas frequency: {err}") from err
    start = pd.Timestamp("2001-01-01")
    if not start + offset > start:
        raise ValueError(f"freq={freq!r} must move time forward")
    return offset


def _check_regular(ids, ds: np.ndarray, indptr: np.ndarray, freq):
    """Infer (or check) one regular frequency; raise naming a series with irregular steps."""
    if np.issubdtype(ds.dtype, np.integer):
        if freq is not None and not _is_int(freq):
            raise TypeError(f"freq={freq!r}: integer timestamps need an integer step")
        if freq is not None and freq <= 0:
            raise ValueError(f"freq={freq!r}: the integer step must be positive")
        steps, within = _steps_within(ds, indptr)
        inferred = int(steps[within].min()) if within.any() else 1
        step = int(freq) if freq is not None else inferred
        _raise_irregular(ids, _bad_series(indptr, within & (steps != step)), f"step {step}")
        return step
    if freq is not None:
        offset = _as_offset(freq)
        _raise_irregular(ids, _off_grid(ds, indptr, offset), _name(offset))
        return offset
    candidates = _candidates(ds, indptr)
    first_bad = None
    for offset in candidates:
        bad = _off_grid(ds, indptr, offset)
        if not bad.any():
            return offset
        first_bad = bad if first_bad is None else first_bad
    _raise_irregular(ids, first_bad, _name(candidates[0]))  # the best guess names the culprit
    raise AssertionError("unreachable")


def _candidates(ds: np.ndarray, indptr: np.ndarray) -> list:
    """Frequencies to try, best first: pandas' inference, k calendar months, one fixed step."""
    t = ds.astype(np.int64)
    steps, within = _steps_within(t, indptr)
    if not within.any():
        raise ValueError("cannot infer a frequency from one-point series; pass freq=")
    out = []
    longest = int(np.argmax(np.diff(indptr)))
    chunk = pd.DatetimeIndex(ds[indptr[longest] : indptr[longest + 1]])
    if len(chunk) >= 3:
        with warnings.catch_warnings():  # pandas 3 warns that infer_freq will return an offset
            warnings.simplefilter("ignore")
            inferred = pd.infer_freq(chunk)
        if inferred is not None:
            out.append(_to_offset(inferred))
    months = ds.astype("datetime64[M]")
    in_month = np.diff(t - months.astype("datetime64[ns]").astype(np.int64))[within]
    month_steps = np.diff(months.astype(np.int64))[within]
    if (in_month == 0).all() and (month_steps > 0).all():  # same day and time, whole months
        out.append(pd.DateOffset(months=int(month_steps.min())))
    step = int(steps[within].min())
    day = pd.offsets.Day().nanos
    out.append(pd.offsets.Day(step // day) if step % day == 0 else _to_offset(pd.Timedelta(step)))
    return out


def _off_grid(ds: np.ndarray, indptr: np.ndarray, offset) -> np.ndarray:
    """Series `(S,)` with a step that is not one `offset`, or starting off its anchor."""
    t = ds.astype(np.int64)
    if isinstance(offset, pd.offsets.Tick | pd.offsets.Day):  # fixed length on naive times
        steps, within = _steps_within(t, indptr)
        return _bad_series(indptr, within & (steps != offset.nanos))
    with warnings.catch_warnings():  # pandas loops for a few offsets (custom business days)
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        nxt = (pd.DatetimeIndex(ds[:-1]) + offset).as_unit("ns").asi8
    steps, within = _steps_within(t, indptr)
    bad = _bad_series(indptr, within & (t[1:] != nxt))
    first = pd.DatetimeIndex(ds[indptr[:-1]])
    on = {u: offset.is_on_offset(u) for u in first.unique()}
    return bad | ~np.array([on[u] for u in first], dtype=bool)


def _steps_within(t: np.ndarray, indptr: np.ndarray):
    """Consecutive steps of the packed times and a mask of those inside one series."""
    steps = np.diff(t)
    within = np.ones(len(steps), bool)
    within[indptr[1:-1] - 1] = False  # steps across series boundaries do not count
    return steps, within


def _bad_series(indptr: np.ndarray, bad_steps: np.ndarray) -> np.ndarray:
    """Per-series flag `(S,)` from a flag on the packed steps `(N-1,)`."""
    out = np.zeros(len(indptr) - 1, bool)
    out[np.searchsorted(indptr, np.flatnonzero(bad_steps), side="right") - 1] = True
    return out


def _name(offset) -> str:
    return f"frequency {offset.freqstr!r}" if hasattr(offset, "freqstr") else repr(offset)


def _raise_irregular(ids, bad: np.ndarray, what: str) -> None:
    if bad.any():
        raise ValueError(
            f"series {_show(ids[np.argmax(bad)])!r} has irregular timestamps for {what} "
            "(gaps, uneven steps or a start off the frequency's anchor); reindex it to a regular "
            "grid with NaN for missing y"
        )


# -- persistence ------------------------------------------------------------------------------
def freq_to_json(freq) -> str | int | dict | None:
    """A JSON-able form of a frequency that `freq_from_json` turns back into an equal one.

    int step -> int; an offset with an alias that parses back (Tick, Day, B, W-SUN, MS, ME,
    QS-DEC, YE-JUN, ...) -> that alias (a string alias is normalised the same way);
    `pd.DateOffset(n=n, months=k, ...)` -> `{"DateOffset": {"months": k, ...}, "n": n,
    "normalize": False}`; None (no frequency given) -> None. Raises TypeError for anything
    else and ValueError for offsets that do not survive the round trip (e.g. custom business
    days with holidays).
    """
    if freq is None or _is_int(freq):
        return None if freq is None else int(freq)
    if isinstance(freq, str):
        freq = _as_offset(freq)
    if type(freq) is pd.DateOffset:  # its alias "<DateOffset: months=1>" does not parse
        if not all(_is_int(v) for v in freq.kwds.values()):
            raise ValueError(f"cannot store {freq!r}: only integer DateOffset fields are stored")
        out = {
            "DateOffset": {k: int(v) for k, v in freq.kwds.items()},
            "n": int(freq.n),
            "normalize": bool(freq.normalize),
        }
    elif isinstance(freq, pd.offsets.BaseOffset):
        out = freq.freqstr
    else:
        raise TypeError(f"freq must be an int step or a pandas offset, got {freq!r}")
    try:
        same = freq_from_json(out) == freq
    except (ValueError, TypeError):
        same = False
    if not same:
        raise ValueError(f"cannot store {freq!r}: it does not survive a round trip")
    return out


def freq_from_json(obj) -> pd.DateOffset | int | None:
    """Inverse of `freq_to_json`: int -> int, alias -> offset, dict -> `pd.DateOffset`."""
    if obj is None or _is_int(obj):
        return None if obj is None else int(obj)
    if isinstance(obj, str):
        return _to_offset(obj)
    if isinstance(obj, dict) and isinstance(obj.get("DateOffset"), dict):
        n, normalize = int(obj.get("n", 1)), bool(obj.get("normalize", False))
        return pd.DateOffset(n=n, normalize=normalize, **obj["DateOffset"])
    raise ValueError(f"not a stored frequency: {obj!r}")
