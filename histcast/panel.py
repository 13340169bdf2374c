"""Validation and packing of long DataFrames (`unique_id, ds, y`) into one ragged panel.

Series are stored the way statsforecast and GluonTS store them: every value in one float32
array `values (N,)`, series s occupying `values[indptr[s]:indptr[s + 1]]`, in time order.
Timestamps are packed the same way (`ds (N,)`), as datetime64[ns] or int64 steps.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd


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
        cols = cols or Columns()
        return pd.DataFrame(
            {
                cols.id: np.repeat(self.ids, self.lengths),
                cols.time: self.ds,
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
    if isinstance(freq, int | np.integer):
        return np.asarray(last, dtype=np.int64)[:, None] + freq * np.arange(1, h + 1)
    last = pd.DatetimeIndex(last)
    cols = [(last + k * freq).to_numpy(dtype="datetime64[ns]") for k in range(1, h + 1)]
    return np.stack(cols, axis=1) if cols else np.empty((len(last), 0), "datetime64[ns]")


def from_frame(df: pd.DataFrame, cols: Columns | None = None, freq=None, min_obs=2) -> Panel:
    """Validate a long DataFrame and pack it into a `Panel`; `df` is never modified.

    Raises ValueError/TypeError naming the offending column or series for: missing columns,
    non-numeric or infinite targets, duplicate (id, ds) pairs, irregular or mixed timestamps,
    series with fewer than `min_obs` observed values.
    """
    cols = cols or Columns()
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in (cols.id, cols.time, cols.target) if c not in df.columns]
    if missing:
        raise ValueError(f"missing column(s) {missing}; the frame has {list(df.columns)}")
    if len(df) == 0:
        raise ValueError("the frame has no rows")
    y = df[cols.target]
    if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        raise TypeError(f"column {cols.target!r} must be numeric, got dtype {y.dtype}")
    ds = _timestamps(df[cols.time], cols.time)
    frame = pd.DataFrame({"id": df[cols.id].to_numpy(), "ds": ds, "y": y.to_numpy(np.float64)})
    frame = frame.sort_values(["id", "ds"], kind="stable", ignore_index=True)
    _check_finite(frame)
    _check_duplicates(frame)
    ids, starts, counts = np.unique(frame["id"].to_numpy(), return_index=True, return_counts=True)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    ds_arr = frame["ds"].to_numpy()
    freq = _check_regular(ids, ds_arr, indptr, freq)
    values = frame["y"].to_numpy(np.float32)
    observed = np.add.reduceat(~np.isnan(values), indptr[:-1])
    short = ids[observed < min_obs]
    if len(short):
        raise ValueError(
            f"series {list(short[:5])} have fewer than {min_obs} observed values"
            + (f" (and {len(short) - 5} more)" if len(short) > 5 else "")
        )
    return Panel(ids, values, indptr, ds_arr, freq)


def _timestamps(ds: pd.Series, name: str) -> np.ndarray:
    if pd.api.types.is_integer_dtype(ds):
        return ds.to_numpy(np.int64)
    if isinstance(ds.dtype, pd.DatetimeTZDtype):
        raise TypeError(f"column {name!r} is timezone-aware; convert it to naive local time")
    if pd.api.types.is_datetime64_any_dtype(ds):
        return ds.to_numpy(dtype="datetime64[ns]")
    try:
        return pd.to_datetime(ds, format="mixed").to_numpy(dtype="datetime64[ns]")
    except (ValueError, TypeError) as err:
        raise TypeError(
            f"column {name!r} must hold timestamps or integers (mixed or unparsable: {err})"
        ) from err


def _check_finite(frame: pd.DataFrame) -> None:
    bad = np.isinf(frame["y"].to_numpy())
    if bad.any():
        ids = frame["id"].to_numpy()[bad]
        raise ValueError(f"infinite target values in series {list(pd.unique(ids)[:5])}")


def _check_duplicates(frame: pd.DataFrame) -> None:
    dup = frame.duplicated(["id", "ds"])
    if dup.any():
        first = frame[dup].iloc[0]
        raise ValueError(
            f"{int(dup.sum())} duplicate (unique_id, ds) rows, e.g. series {first['id']!r} "
            f"at {first['ds']}"
        )


def _check_regular(ids, ds: np.ndarray, indptr: np.ndarray, freq):
    """Infer (or check) one regular frequency; raise naming a series with irregular steps."""
    if np.issubdtype(ds.dtype, np.integer):
        steps, within = _steps_within(ds, indptr)
        unique = np.unique(steps[within])
        step = int(freq) if freq is not None else (int(unique.min()) if len(unique) else 1)
        bad = within & (steps != step)
        _raise_irregular(ids, indptr, bad, f"integer step {step}")
        return step
    to_offset = pd.tseries.frequencies.to_offset
    offset = to_offset(freq) if freq is not None else _infer_offset(ds, indptr)
    if isinstance(offset, pd.offsets.Tick):  # fixed step: one vectorised check for the panel
        steps, within = _steps_within(ds.astype(np.int64), indptr)
        bad = within & (steps != pd.Timedelta(offset).value)
        _raise_irregular(ids, indptr, bad, f"frequency {offset.freqstr!r}")
        return offset
    for s in range(len(ids)):  # calendar offsets (months, weeks): one check per series
        chunk = ds[indptr[s] : indptr[s + 1]]
        expected = pd.date_range(chunk[0], periods=len(chunk), freq=offset).to_numpy()
        if not np.array_equal(chunk, expected):
            raise ValueError(
                f"series {ids[s]!r} has irregular timestamps for frequency {offset.freqstr!r} "
                "(gaps or uneven steps); reindex it to a regular grid with NaN for missing y"
            )
    return offset


def _steps_within(t: np.ndarray, indptr: np.ndarray):
    """Consecutive steps of the packed times and a mask of those inside one series."""
    steps = np.diff(t)
    within = np.ones(len(steps), bool)
    within[indptr[1:-1] - 1] = False  # steps across series boundaries do not count
    return steps, within


def _infer_offset(ds: np.ndarray, indptr: np.ndarray) -> pd.DateOffset:
    longest = int(np.argmax(np.diff(indptr)))
    chunk = pd.DatetimeIndex(ds[indptr[longest] : indptr[longest + 1]])
    if len(chunk) < 2:
        raise ValueError("cannot infer a frequency from one-point series; pass freq=")
    with warnings.catch_warnings():  # pandas 3 warns that infer_freq will return an offset
        warnings.simplefilter("ignore")
        inferred = pd.infer_freq(chunk) if len(chunk) >= 3 else None
    if inferred is None:  # fall back to the smallest step seen, then check every series
        inferred = pd.Timedelta(int(np.diff(chunk.asi8).min()))
    return pd.tseries.frequencies.to_offset(inferred)


def _raise_irregular(ids, indptr, bad: np.ndarray, what: str) -> None:
    if bad.any():
        s = int(np.searchsorted(indptr, np.flatnonzero(bad)[0], side="right") - 1)
        raise ValueError(
            f"series {ids[s]!r} has irregular timestamps for {what} (gaps or uneven steps); "
            "reindex it to a regular grid with NaN for missing y"
        )
