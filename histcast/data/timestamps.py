"""Reading a frame's time column: naive datetime64[ns] or int64 steps, one way for every frame.

Strings are read with one format for the whole column (guessed from the first, as pandas
does); a column that reads both day first and month first, to different dates, is refused
(which is meant is not ours to guess), and so is one whose strings need several formats. Time
zones and UTC offsets are refused (converting to UTC moves every timestamp); non-integral
floats and booleans are refused (they are not steps); missing timestamps are refused (not a
gap). `panel.from_frame` reads `df`'s time column here, `exog_frames` `futr_df`'s.
"""

from __future__ import annotations

import datetime
import numbers
import warnings

import numpy as np
import pandas as pd

from .messages import example, show

_NS_FIRST_DAY, _NS_LAST_DAY = np.datetime64("1677-09-22"), np.datetime64("2262-04-11")


def kinds(values) -> set[str]:
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


def parse_timestamps(col: pd.Series, name: str, ids: np.ndarray) -> np.ndarray:
    """A time column `(N,)` as naive datetime64[ns] or int64 steps; raise on missing, zoned,
    ambiguous or unparsable timestamps. `ids (N,)` name a series in messages. Every frame's
    time column (df, futr_df) goes through here, so all are read alike."""
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
    found = kinds(values)
    if "bool" in found:
        raise TypeError(f"column {name!r} holds booleans, not timestamps or integer steps")
    if found == {"number"}:  # Python ints / floats in an object column
        if all(isinstance(v, numbers.Integral) for v in values):
            return _int_steps(values, name)
        return _float_steps(values.astype(np.float64), name, ids)
    if not found <= {"string", "datetime"}:  # e.g. 1 and "2024-01-01": 1 would read as 1 ns
        raise TypeError(
            f"column {name!r} must hold timestamps or integers, not a mix of "
            f"{', '.join(sorted(found))}"
        )
    parsed = _parse_dates(col, name)
    if parsed.dtype == object:  # pandas 2 reads mixed UTC offsets as datetime objects
        raise _zoned(name, "it mixes UTC offsets or time zones")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        raise _zoned(name, f"its timestamps carry a UTC offset or zone ({parsed.dtype.tz})")
    out = _as_ns(parsed.to_numpy(), name)
    bad = np.isnat(out)  # "NaT" or "" strings
    if bad.any():
        raise _missing_timestamps(name, bad, ids)
    return out


def _parse_dates(col: pd.Series, name: str) -> pd.Series:
    """Date strings (and date objects) parsed with ONE format for the whole column.

    The format is guessed from the first date string, as pandas does, month first and day
    first; year-first strings are read as ISO 8601. Strings no format is guessed for are read
    one by one (as pandas does), month first and day first. When both orders read the column,
    to different dates ("01/02/2020"), it is ambiguous and refused rather than guessed.
    """
    text = next((v for v in col if isinstance(v, str) and v.strip() not in _NO_DATE), None)
    fmt = _guess(text) if text is not None else None
    readings = {}
    for label, kwargs in _ways_to_read(text, fmt).items():
        try:
            readings[label] = pd.to_datetime(col, **kwargs)
        except (ValueError, TypeError):
            continue
    if not readings:
        raise _unparsed(col, name, text, fmt)
    (first, parsed), *others = readings.items()
    for other, alt in others:
        if not parsed.equals(alt):
            raise _ambiguous(name, text, first, other)
    return parsed


def _ways_to_read(text: str | None, fmt: str | None) -> dict:
    """`pd.to_datetime` keywords for each reading of a column whose first date is `text`."""
    if text is None:  # date objects only (or missing markers, reported as missing)
        return {"as dates": {}}
    if fmt is None:  # no single format: element by element, as pandas would, in every order
        orders = {
            "month first": {},
            "day first": {"dayfirst": True},
            "year first": {"yearfirst": True},
        }
        return {k: {"format": "mixed", **v} for k, v in orders.items()}
    if fmt.startswith("%Y"):  # nobody writes year, day, month: no order to choose
        return {fmt: {"format": "ISO8601" if fmt.startswith("%Y-%m") else fmt}}
    day_first = _guess(text, dayfirst=True) or fmt
    return {f: {"format": f} for f in dict.fromkeys([fmt, day_first])}


def _ambiguous(name: str, text: str, first: str, other: str) -> ValueError:
    """The error for a column read two ways: formats `first` (month first) and `other`."""
    convert = f"df[{name!r}] = pd.to_datetime(df[{name!r}], format=...)"
    if "%" in first:  # both readings are formats: name them
        convert = (
            f"df[{name!r}] = pd.to_datetime(df[{name!r}], format={other!r}) if days come "
            f"first (format={first!r} if months do)"
        )
        first, other = repr(first), repr(other)
    return ValueError(
        f"column {name!r} has dates whose day/month order is ambiguous: they read both as "
        f"{first} and as {other}, to different dates (e.g. {text!r}); convert the column "
        f"first with {convert}"
    )


_NO_DATE = ("", "NaT", "nat", "NaN", "nan", "None", "NA", "<NA>")  # read as missing timestamps


def _guess(text: str, dayfirst: bool = False) -> str | None:
    """pandas' guess of the format of one date string (None when it has none)."""
    with warnings.catch_warnings():  # it warns when the other order would fit better
        warnings.simplefilter("ignore", UserWarning)
        return pd.tseries.api.guess_datetime_format(text, dayfirst=dayfirst)


def _unparsed(col: pd.Series, name: str, text: str, fmt: str | None) -> Exception:
    """Why no single format reads the column: zones, several formats, or no dates at all."""
    try:
        mixed = pd.to_datetime(col, format="mixed")
    except (ValueError, TypeError) as err:
        if "timezone" in str(err) or "tz-" in str(err):  # mixed offsets or naive + zoned
            return _zoned(name, f"it mixes UTC offsets or time zones ({err})")
        return TypeError(f"column {name!r} must hold timestamps or integers ({err})")
    if isinstance(mixed.dtype, pd.DatetimeTZDtype):
        return _zoned(name, f"its timestamps carry a UTC offset or zone ({mixed.dtype.tz})")
    return ValueError(
        f"column {name!r} holds dates in more than one format (the first, {text!r}, reads as "
        f"{fmt!r}, but not all others do); convert it first, giving the format of its dates: "
        f"df[{name!r}] = pd.to_datetime(df[{name!r}], format=...)"
    )


def _missing_timestamps(name: str, missing: np.ndarray, ids: np.ndarray) -> ValueError:
    return ValueError(
        f"column {name!r} has {int(missing.sum())} missing timestamps, {example(ids, missing)}; "
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
            f"({show(t[bad][0])!r}, {example(ids, bad)}); use integer steps or datetimes"
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
