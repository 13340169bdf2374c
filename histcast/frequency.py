"""Frequencies of packed timestamps: inference, regularity checks, future timestamps, and a
JSON form for saved models.

A frequency is a pandas offset for datetimes (any alias or offset: "h", "15min", "B", "W-SUN",
"MS", "QS-DEC", `pd.DateOffset(months=1)`, ...) or an int step for integer timestamps. When not
given it is inferred: `pd.infer_freq` on the longest series, else k calendar months (same day
of month and time of day, every step k months: `pd.DateOffset(months=k)`, years as 12k), else
one fixed step shared by every step of the panel.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

_to_offset = pd.tseries.frequencies.to_offset


def show(value):
    """A numpy scalar as the Python value it holds, so that messages read 'a' or 3."""
    return value.item() if isinstance(value, np.generic) else value


def future_timestamps(last, freq, h: int) -> np.ndarray:
    """`(S, h)` timestamps following each `last` timestamp by 1..h steps of `freq`."""
    if is_int_step(freq):
        last = np.asarray(last, dtype=np.int64)
        if len(last) and h > 0 and int(last.max()) + int(freq) * h > np.iinfo(np.int64).max:
            raise OverflowError(f"integer timestamps {h} steps of {freq} after {last.max()}")
        return last[:, None] + int(freq) * np.arange(1, h + 1)
    last = pd.DatetimeIndex(last)
    with warnings.catch_warnings():  # offsets pandas cannot vectorise still give exact dates
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        cols = [(last + k * freq).to_numpy(dtype="datetime64[ns]") for k in range(1, h + 1)]
    return np.stack(cols, axis=1) if cols else np.empty((len(last), 0), "datetime64[ns]")


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
            f"series {show(ids[np.argmax(bad)])!r} has irregular timestamps for {what} "
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
