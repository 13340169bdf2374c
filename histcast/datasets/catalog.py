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

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .formats import exchange_to_long, m4_to_long, melt
from .synthetic import KINDS, make_panel

M4 = {  # name: (M4 file prefix, pandas freq, horizon, season length)
    "m4_hourly": ("Hourly", "h", 48, 24),
    "m4_daily": ("Daily", "D", 14, 1),
    "m4_weekly": ("Weekly", "7D", 13, 1),
}


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
