"""Data sets as long DataFrames (`unique_id, ds, y`) plus their metadata.

* built in, offline: synthetic panels with known true distributions (`synthetic_*`) and series
  shipped inside statsmodels (`co2`, `sunspots`, `nile`, `macrodata`);
* from a directory (argument `data_dir` or the `HISTCAST_DATA` environment variable): the M4
  hourly / weekly / daily sets and the exchange-rate panel, in the long layout histcast writes
  (`m4_hourly/train.csv.gz`, `test.csv.gz`) or the official wide CSVs (`Hourly-train.csv`...).
  `download(name, data_dir)` fetches them from their public sources.

Third-party data files are never shipped with histcast.
"""

from __future__ import annotations

import gzip
import io
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .synthetic import KINDS, make_panel

M4_URL = "https://raw.githubusercontent.com/Mcompetitions/M4-methods/master/Dataset/{split}/{name}"
EXCHANGE_URL = (
    "https://raw.githubusercontent.com/laiguokun/multivariate-time-series-data/master/"
    "exchange_rate/exchange_rate.txt.gz"
)
EXCHANGE_IDS = ["AUD", "GBP", "CAD", "CHF", "CNY", "JPY", "NZD", "SGD"]
M4 = {  # name: (M4 file prefix, pandas freq, horizon, season length)
    "m4_hourly": ("Hourly", "h", 48, 24),
    "m4_daily": ("Daily", "D", 14, 1),
    "m4_weekly": ("Weekly", "7D", 13, 1),
}
M4_START = "1750-01-01"  # M4 withholds real dates; GluonTS's mock start


@dataclass
class DatasetInfo:
    name: str
    freq: str
    horizon: int
    season_length: int
    description: str


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
FROM_DIR = {
    **{
        k: DatasetInfo(k, v[1], v[2], v[3], f"M4 {v[0].lower()} competition data")
        for k, v in M4.items()
    },
    "exchange_rate": DatasetInfo("exchange_rate", "D", 30, 1, "8 daily exchange rates (LSTNet)"),
}
NAMES = sorted({**BUILTIN, **FROM_DIR})
DEFAULT = "synthetic_seasonal"


def load(name: str = DEFAULT, data_dir=None) -> tuple[pd.DataFrame, DatasetInfo]:
    """Return `(df, info)` for a named data set; M4 sets come as train + test concatenated."""
    if name in BUILTIN:
        return _builtin(name), BUILTIN[name]
    if name in FROM_DIR:
        root = _data_dir(data_dir)
        if name == "exchange_rate":
            return _exchange(root), FROM_DIR[name]
        train, test = load_m4(name, root)
        return pd.concat([train, test], ignore_index=True), FROM_DIR[name]
    raise ValueError(f"unknown dataset {name!r}; known: {', '.join(NAMES)}")


def _data_dir(data_dir) -> Path:
    root = data_dir or os.environ.get("HISTCAST_DATA")
    if not root:
        raise FileNotFoundError(
            "no data directory: pass data_dir= (CLI: --data-dir) or set HISTCAST_DATA; "
            "fill it with histcast.datasets.download(name, dir)"
        )
    return Path(root)


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
    wide = d[cols].set_index(ds.to_timestamp())
    return (
        wide.rename_axis("ds")
        .reset_index()
        .melt("ds", var_name="unique_id", value_name="y")[["unique_id", "ds", "y"]]
    )


def _one_series(uid, ds, y) -> pd.DataFrame:
    return pd.DataFrame({"unique_id": uid, "ds": pd.DatetimeIndex(ds), "y": np.asarray(y, float)})


# -- M4 and exchange rate from a directory ------------------------------------------------------
def load_m4(name: str, data_dir=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) long frames of an M4 set from `data_dir`.

    Looks for `<dir>/<name>/train.csv.gz` + `test.csv.gz` (long) or the official wide files
    `<Prefix>-train.csv` + `<Prefix>-test.csv` in `<dir>` or `<dir>/<name>`.
    """
    prefix, freq = M4[name][:2]
    root = _data_dir(data_dir)
    long = [root / name / f"{split}.csv.gz" for split in ("train", "test")]
    if all(p.exists() for p in long):
        return tuple(pd.read_csv(p, parse_dates=["ds"]) for p in long)
    for folder in (root, root / name):
        wide = [folder / f"{prefix}-{split}.csv" for split in ("train", "test")]
        if all(p.exists() for p in wide):
            train = wide_to_long(pd.read_csv(wide[0]), freq)
            last = train.groupby("unique_id", sort=False)["ds"].max()
            return train, wide_to_long(pd.read_csv(wide[1]), freq, start=last)
    raise FileNotFoundError(
        f"{name}: expected {long[0]} and {long[1]} (long) or {prefix}-train.csv and "
        f"{prefix}-test.csv (wide, M4 format) in {root}; get them with "
        f"histcast.datasets.download({name!r}, {str(root)!r})"
    )


def wide_to_long(wide: pd.DataFrame, freq: str, start=None) -> pd.DataFrame:
    """M4 wide layout (id column `V1`, values padded with NA) -> long frame.

    Series start at `M4_START`, or one step after `start[id]` (a Series of last timestamps).
    """
    ids = wide.iloc[:, 0].astype(str).to_numpy()
    values = wide.iloc[:, 1:].to_numpy(np.float64)
    counts = (~np.isnan(values)).sum(1)  # M4 pads each row with trailing NA only
    offset = pd.tseries.frequencies.to_offset(freq)
    firsts = (
        pd.DatetimeIndex(start.loc[ids].to_numpy()) + offset
        if start is not None
        else pd.DatetimeIndex([M4_START] * len(ids))
    )
    step = np.concatenate([np.arange(c) for c in counts])
    ds = np.repeat(firsts.to_numpy(), counts) + pd.Timedelta(offset).to_timedelta64() * step
    return pd.DataFrame(
        {"unique_id": np.repeat(ids, counts), "ds": ds, "y": values[~np.isnan(values)]}
    )


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
    raw.columns = EXCHANGE_IDS
    raw.index = pd.date_range("1990-01-01", periods=len(raw), freq="D")
    return (
        raw.rename_axis("ds")
        .reset_index()
        .melt("ds", var_name="unique_id", value_name="y")[["unique_id", "ds", "y"]]
    )


def download(name: str, data_dir, base_url: str | None = None) -> Path:
    """Fetch an M4 set or the exchange-rate file into `data_dir/<name>/` in histcast's long
    layout. `base_url` replaces the public source (tests use a `file://` folder)."""
    folder = Path(data_dir) / name
    folder.mkdir(parents=True, exist_ok=True)
    if name == "exchange_rate":
        url = f"{base_url}/exchange_rate.txt.gz" if base_url else EXCHANGE_URL
        raw = pd.read_csv(io.BytesIO(gzip.decompress(_fetch(url))), header=None)
        exchange_to_long(raw).to_csv(folder / "data.csv.gz", index=False)
        return folder
    if name not in M4:
        raise ValueError(
            f"cannot download {name!r}; choose one of {sorted(M4) + ['exchange_rate']}"
        )
    prefix, freq = M4[name][:2]
    frames = {}
    for split in ("Train", "Test"):
        file = f"{prefix}-{split.lower()}.csv"
        url = f"{base_url}/{file}" if base_url else M4_URL.format(split=split, name=file)
        frames[split] = pd.read_csv(io.BytesIO(_fetch(url)))
    train = wide_to_long(frames["Train"], freq)
    test = wide_to_long(frames["Test"], freq, start=train.groupby("unique_id")["ds"].max())
    train.to_csv(folder / "train.csv.gz", index=False)
    test.to_csv(folder / "test.csv.gz", index=False)
    return folder


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (public data URLs)
        return response.read()
