"""Frequencies of packed timestamps: inference, regularity checks, future timestamps, and a
JSON form for saved models.

A frequency is a pandas offset for datetimes (any alias or offset: "h", "15min", "B", "W-SUN",
"MS", "QS-DEC", `pd.DateOffset(months=1)`, ...) or an int step for integer timestamps. When not
given it is inferred: `pd.infer_freq` on the longest series (3 points or more), else a calendar
offset that steps its first timestamp onto its second (month or quarter ends, weeks, ...: what
two points can say), else k calendar months (`pd.DateOffset(months=k)`, years as 12k), else
one fixed step shared by every step of the panel. Each guess is checked on every series.

Timestamps are `first + k * freq` for k = 0, 1, ...: for a `pd.DateOffset(months=1)` on the
30th that is Jan 30, Feb 29, Mar 30 (day-of-month clipping does not carry over), and the
future goes on the same way. A series `pd.date_range(..., freq=pd.DateOffset(months=1))` made
steps from each timestamp to the next instead (Jan 30, Feb 29, Mar 29: clipping carries over):
it is regular for that offset too, and its future goes on step by step.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .messages import show

_to_offset = pd.tseries.frequencies.to_offset


def future_timestamps(last, freq, h: int, first=None, lengths=None, stepped=None) -> np.ndarray:
    """`(S, h)` timestamps following each `last` timestamp by 1..h steps of `freq`.

    Given each series' `first` timestamp and `lengths`, a `pd.DateOffset(months=...)` step j
    is `first + (lengths - 1 + j) * freq`, anchored at the start (as `check_regular` checks
    it): Jan 30, Feb 29, Mar 30 goes on to Apr 30, not Mar 29 + 1 month; a series whose last
    timestamp is off that grid (one `pd.date_range` made: Jan 30, Feb 29, Mar 29) goes on one
    step at a time, as `pd.date_range` would (Apr 29); `stepped (S,)` (`stepped_series`), when
    given, says which series do so from their whole history. Other offsets step from `last`
    (the same dates for anchored offsets). Raises ValueError for timestamps past
    int64 or `pd.Timestamp.max`.
    """
    if is_int_step(freq):
        last = np.asarray(last, dtype=np.int64)
        if len(last) and h > 0 and int(last.max()) + int(freq) * h > np.iinfo(np.int64).max:
            raise ValueError(
                f"the forecast would run past the largest int64 timestamp ({h} steps of {freq} "
                f"after {last.max()}); shorten the horizon"
            )
        return last[:, None] + int(freq) * np.arange(1, h + 1)
    last = np.asarray(last, dtype="datetime64[ns]")
    if len(last) == 0 or h <= 0:
        return np.empty((len(last), max(h, 0)), "datetime64[ns]")
    chained = np.zeros(len(last), bool)  # series on pd.date_range's grid: step by step
    if first is not None and type(freq) is pd.DateOffset:
        start, skip = np.asarray(first, dtype="datetime64[ns]"), np.asarray(lengths) - 1
        chained = add_steps(start, skip, freq) != last if stepped is None else stepped
        start, skip = np.where(chained, last, start), np.where(chained, 0, skip)
    else:
        start, skip = last, np.zeros(len(last), np.int64)
    too_many = h > np.iinfo(np.int64).max - int(skip.max())  # even 1 ns steps would run past
    if too_many or np.isnat(add_steps(start, skip + h, freq)).any():  # the furthest step first
        raise ValueError(
            f"the forecast would run past pd.Timestamp.max ({pd.Timestamp.max:%Y-%m-%d}), the "
            f"last date pandas can hold: {h} steps of {_name(freq)} after "
            f"{pd.Timestamp(last.max())}; shorten the horizon"
        )
    k = (skip[:, None] + np.arange(1, h + 1)).reshape(-1)
    out = add_steps(np.repeat(start, h), k, freq).reshape(len(last), h)
    if chained.any():
        steps, t = [], last[chained]
        for _ in range(h):
            t = _shift(t, 1, freq)
            steps.append(t)
        out[chained] = np.stack(steps, 1)
    return out


def add_steps(start: np.ndarray, k: np.ndarray, offset) -> np.ndarray:
    """`start + k * offset` elementwise, datetime64[ns] `(n,)`; NaT where past pandas' range.

    One pandas call per distinct k (a fixed-length offset: one numpy sum), so `k * offset` is
    applied in one go, as pandas does: `Jan 30 + 2 * DateOffset(months=1)` is Mar 30."""
    if isinstance(offset, pd.offsets.Tick | pd.offsets.Day):  # fixed length on naive times
        t, top = start.astype(np.int64), np.iinfo(np.int64).max
        room = (np.uint64(top) - t.view(np.uint64)) // np.uint64(offset.nanos)  # top - t >= 0
        past = k > np.minimum(room, top).astype(np.int64)  # exact: no int64 wrap
        t = t + np.where(past, 0, k) * offset.nanos
        return np.where(past, np.datetime64("NaT", "ns"), t.view("datetime64[ns]"))
    out = np.empty(len(k), "datetime64[ns]")
    order = np.argsort(k, kind="stable")
    values, cuts = np.unique(k[order], return_index=True)
    for step, rows in zip(values, np.split(order, cuts[1:]), strict=True):
        out[rows] = _shift(start[rows], int(step), offset)
    return out


def _shift(start: np.ndarray, k: int, offset) -> np.ndarray:
    """`start + k * offset` as datetime64[ns], all NaT when any is past pandas' range."""
    with warnings.catch_warnings():  # offsets pandas cannot vectorise still give exact dates
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        try:
            return (pd.DatetimeIndex(start) + k * offset).as_unit("ns").to_numpy()
        except (pd.errors.OutOfBoundsDatetime, OverflowError):
            return np.full(len(start), np.datetime64("NaT", "ns"))


def is_int_step(freq) -> bool:
    """An int step (numpy's timedelta64 is an np.integer, and bool an int: neither counts)."""
    not_int = bool | np.bool_ | np.timedelta64
    return isinstance(freq, int | np.integer) and not isinstance(freq, not_int)


def _as_offset(freq) -> pd.DateOffset:
    """A user's `freq` (alias, offset, timedelta or `freq_to_json` dict) as a forward offset."""
    if isinstance(freq, dict):
        freq = freq_from_json(freq)
    if is_int_step(freq) or isinstance(freq, bool | np.bool_ | float):
        raise TypeError(f"freq={freq!r} is a number (a step for integer ds), but ds holds dates")
    try:
        offset = _to_offset(pd.Timedelta(freq) if isinstance(freq, np.timedelta64) else freq)
    except (ValueError, TypeError) as err:
        raise ValueError(f"freq={freq!r} is not a pandas frequency: {err}") from err
    start = pd.Timestamp("2001-01-01")
    if not start + offset > start:
        raise ValueError(f"freq={freq!r} must move time forward")
    return offset


def check_regular(ids, ds: np.ndarray, indptr: np.ndarray, freq):
    """Infer (or check) one regular frequency; raise naming a series with irregular steps."""
    if np.issubdtype(ds.dtype, np.integer):
        if freq is not None and not is_int_step(freq):
            raise TypeError(f"freq={freq!r}: integer timestamps need an integer step")
        if freq is not None and freq <= 0:
            raise ValueError(f"freq={freq!r}: the integer step must be positive")
        steps, within = _steps_within(ds, indptr)
        inferred = int(_smallest(steps, within)[1]) if within.any() else 1
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
    hint = _holiday_hint(ds, indptr, first_bad)
    _raise_irregular(ids, first_bad, _name(candidates[0]), hint)  # the best guess names it
    raise AssertionError("unreachable")


def _holiday_hint(ds: np.ndarray, indptr: np.ndarray, bad: np.ndarray) -> str:
    """For weekday-only dates with weekdays missing (holidays): how to say so with freq=."""
    s = int(np.argmax(bad))
    days = pd.DatetimeIndex(ds[indptr[s] : indptr[s + 1]])
    if (days.day_of_week >= 5).any() or (days != days.normalize()).any():
        return ""
    missing = pd.bdate_range(days[0], days[-1]).difference(days)
    if not 0 < len(missing) <= max(1, len(days) // 10):
        return ""
    dates = ", ".join(f"'{d.date()}'" for d in missing[:3]) + (", ..." if len(missing) > 3 else "")
    return (
        f"; its dates are weekdays with {len(missing)} missing (holidays?): pass "
        f"freq=pd.offsets.CustomBusinessDay(holidays=[{dates}])"
    )


def _candidates(ds: np.ndarray, indptr: np.ndarray) -> list:
    """Frequencies to try, best first: pandas' inference, calendar offsets that step the
    longest series' first timestamp onto its second, k calendar months, one fixed step."""
    steps, within = _steps_within(_as_int(ds), indptr)
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
            out.append(_quarter_starts_as_pandas_3(_to_offset(inferred)))
    out += _calendar(chunk[0], chunk[1])
    smallest, step = _smallest(steps, within)
    months = np.diff(ds[smallest : smallest + 2].astype("datetime64[M]").astype(np.int64))[0]
    if months > 0:  # checked from each series' start, so Jan 30, Feb 29, Mar 30 is monthly
        out.append(pd.DateOffset(months=int(months)))
    day = pd.offsets.Day().nanos
    out.append(pd.offsets.Day(step // day) if step % day == 0 else _to_offset(pd.Timedelta(step)))
    return out


def _quarter_starts_as_pandas_3(offset):
    """pandas 2 infers QS-OCT where pandas 3 infers QS-JAN (the same dates): pandas 3's name."""
    if isinstance(offset, pd.offsets.QuarterBegin | pd.offsets.BQuarterBegin):
        return type(offset)(offset.n, startingMonth=(offset.startingMonth - 1) % 3 + 1)
    return offset


_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_CALENDAR = [  # (alias as pd.infer_freq names it, mean length in days), longest first
    *((f"{a}-{m}", 365.2425) for a in ("YE", "YS", "BYE", "BYS") for m in _MONTHS),
    *((f"{a}-{m}", 91.31) for a in ("QE", "BQE") for m in ("DEC", "OCT", "NOV")),
    *((f"{a}-{m}", 91.31) for a in ("QS", "BQS") for m in ("JAN", "FEB", "MAR")),
    *((a, 30.44) for a in ("ME", "MS", "BME", "BMS")),
    *((a, 15.22) for a in ("SME", "SMS")),
    *((f"W-{d}", 7.0) for d in ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")),
]


def _calendar(t0: pd.Timestamp, t1: pd.Timestamp) -> list:
    """Offsets `n * base` of the `_CALENDAR` bases with `t0` on `base` and `t0 + n * base ==
    t1`: what two points say of a month-end, quarter or weekly series (a fixed step drifts)."""
    out = []
    days = (t1 - t0) / pd.Timedelta(days=1)
    for alias, mean_days in _CALENDAR:
        base = _to_offset(alias)
        if not base.is_on_offset(t0):
            continue
        guess = round(days / mean_days)
        for n in (guess - 1, guess, guess + 1):
            # an even number of semi-months is whole months: the month candidates say it better
            semi_month_pairs = alias.startswith("SM") and n % 2 == 0
            if n >= 1 and not semi_month_pairs and t0 + n * base == t1:
                out.append(n * base)
    return out


def _off_grid(ds: np.ndarray, indptr: np.ndarray, offset) -> np.ndarray:
    """Series `(S,)` whose timestamps are not `first + k * offset` (k = 0, 1, ...), or whose
    first timestamp is off the offset's anchor.

    A `pd.DateOffset(months=...)` step clips the day of month (Jan 30 + 1 month = Feb 29), so
    a series is on its grid either way: its k-th timestamp taken from the first in one go (Jan
    30, Feb 29, Mar 30), or one step from the previous, as `pd.date_range` makes it (Jan 30,
    Feb 29, Mar 29). For every other offset the two give the same dates."""
    steps, within = _steps_within(_as_int(ds), indptr)
    if isinstance(offset, pd.offsets.Tick | pd.offsets.Day):  # fixed length on naive times
        return _bad_series(indptr, within & (steps != offset.nanos))
    bad = _bad_series(indptr, within & (ds[1:] != _shift(ds[:-1], 1, offset)))
    if type(offset) is pd.DateOffset and bad.any():  # or on the grid anchored at the start
        bad &= _off_anchored(ds, indptr, offset)
    first = pd.DatetimeIndex(ds[indptr[:-1]])
    on = {u: offset.is_on_offset(u) for u in first.unique()}
    return bad | ~np.array([on[u] for u in first], dtype=bool)


def _off_anchored(ds: np.ndarray, indptr: np.ndarray, offset) -> np.ndarray:
    """Series `(S,)` whose timestamps are not `first + k * offset` taken in one go."""
    lengths = np.diff(indptr)
    k = np.arange(len(ds)) - np.repeat(indptr[:-1], lengths)
    expected = add_steps(np.repeat(ds[indptr[:-1]], lengths), k, offset)
    return np.logical_or.reduceat(expected != ds, indptr[:-1])


def stepped_series(ds: np.ndarray, indptr: np.ndarray, freq) -> np.ndarray | None:
    """For a `pd.DateOffset` frequency, the series `(S,)` of a regular panel that step from
    each timestamp to the next (`pd.date_range`'s grid) and are off the grid anchored at their
    start; None for other frequencies (the grids are one)."""
    if type(freq) is not pd.DateOffset or len(ds) == 0:
        return None
    return _off_anchored(np.asarray(ds, "datetime64[ns]"), indptr, freq)


def _steps_within(t: np.ndarray, indptr: np.ndarray):
    """Consecutive steps of the packed times and a mask of those inside one series."""
    steps = np.diff(t)
    within = np.ones(len(steps), bool)
    within[indptr[1:-1] - 1] = False  # steps across series boundaries do not count
    return steps, within


def _as_int(ds: np.ndarray) -> np.ndarray:
    """Timestamps as int64 nanoseconds (or steps) without a copy where the dtype allows."""
    return ds.view(np.int64) if ds.dtype == "datetime64[ns]" else np.asarray(ds, np.int64)


def _smallest(steps: np.ndarray, within: np.ndarray) -> tuple[int, int]:
    """Position and size of the smallest step inside a series (`within` has one); `steps`,
    a fresh array of the caller's, gets its boundary steps overwritten (no masked copy)."""
    steps[~within] = np.iinfo(np.int64).max
    i = int(np.argmin(steps))
    return i, int(steps[i])


def _bad_series(indptr: np.ndarray, bad_steps: np.ndarray) -> np.ndarray:
    """Per-series flag `(S,)` from a flag on the packed steps `(N-1,)`."""
    out = np.zeros(len(indptr) - 1, bool)
    out[np.searchsorted(indptr, np.flatnonzero(bad_steps), side="right") - 1] = True
    return out


def _name(offset) -> str:
    return f"frequency {offset.freqstr!r}" if hasattr(offset, "freqstr") else repr(offset)


def _raise_irregular(ids, bad: np.ndarray, what: str, hint: str = "") -> None:
    if bad.any():
        raise ValueError(
            f"series {show(ids[np.argmax(bad)])!r} has irregular timestamps for {what} "
            "(gaps, uneven steps or a start off the frequency's anchor); reindex it to a regular "
            "grid with NaN for missing y" + hint
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
    if freq is None or is_int_step(freq):
        return None if freq is None else int(freq)
    if isinstance(freq, str):
        freq = _as_offset(freq)
    if type(freq) is pd.DateOffset:  # its alias "<DateOffset: months=1>" does not parse
        if not all(is_int_step(v) for v in freq.kwds.values()):
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
    if obj is None or is_int_step(obj):
        return None if obj is None else int(obj)
    if isinstance(obj, str):
        return _to_offset(obj)
    if isinstance(obj, dict) and isinstance(obj.get("DateOffset"), dict):
        n, normalize = int(obj.get("n", 1)), bool(obj.get("normalize", False))
        return pd.DateOffset(n=n, normalize=normalize, **obj["DateOffset"])
    raise ValueError(f"not a stored frequency: {obj!r}")


def common_freq(models, freq=None):
    """The frequency that `freq` and the models' `freq` attributes name (None when none does);
    ValueError when they name different ones (an invalid one is left for `from_frame`)."""
    given = [f for f in [freq, *(getattr(m, "freq", None) for m in models)] if f is not None]
    if len({freq_key(f) for f in given}) > 1:
        raise ValueError(f"the models and freq= name different frequencies: {given}")
    return given[0] if given else None


def freq_key(freq):
    """A frequency as a comparable key: an int step, a pandas offset ("D" and `Day()` are one),
    or, for what is neither, its repr."""
    try:
        return int(freq) if is_int_step(freq) else _as_offset(freq)
    except (TypeError, ValueError):
        return repr(freq)


def freq_name(freq) -> str:
    """How messages name a frequency: "'D'", "'<DateOffset: months=1>'", "step 3"."""
    if is_int_step(freq):
        return f"step {int(freq)}"
    key = freq_key(freq)
    return repr(key.freqstr) if hasattr(key, "freqstr") else repr(freq)
