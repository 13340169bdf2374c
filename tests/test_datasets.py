import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from histcast import datasets
from histcast.panel import from_frame

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(__file__).parents[2] / "shared" / "data"


@pytest.mark.parametrize("name", ["synthetic_seasonal", "synthetic_intermittent", "co2", "sunspots",
                                  "nile", "macrodata"])  # fmt: skip
def test_builtin_datasets_load_and_validate(name):
    df, info = datasets.load(name)
    assert list(df.columns) == ["unique_id", "ds", "y"]
    panel = from_frame(df)
    start = pd.Timestamp("2001-01-01")
    assert start + panel.freq == start + pd.tseries.frequencies.to_offset(info.freq)


def test_m4_wide_fixture(tmp_path):
    for f in ("Hourly-train.csv", "Hourly-test.csv"):
        (tmp_path / f).write_text((FIXTURES / f).read_text())
    train, test = datasets.load_m4("m4_hourly", tmp_path)
    assert train.groupby("unique_id").size().to_dict() == {"H1": 5, "H2": 3}
    assert train["ds"].iloc[0] == pd.Timestamp("1750-01-01")
    h2 = test[test.unique_id == "H2"]
    assert h2["ds"].iloc[0] == pd.Timestamp("1750-01-01 03:00")  # right after its 3 points
    np.testing.assert_allclose(h2["y"], [40, 50])


def test_download_from_a_local_source_then_long_layout(tmp_path):
    base = FIXTURES.resolve().as_uri()
    datasets.download("m4_hourly", tmp_path, base_url=base)
    assert (tmp_path / "m4_hourly" / "train.csv.gz").exists()
    df, info = datasets.load("m4_hourly", tmp_path)
    assert info.horizon == 48 and len(df) == 8 + 4
    datasets.download("exchange_rate", tmp_path, base_url=base)
    ex, _ = datasets.load("exchange_rate", tmp_path)
    assert sorted(ex.unique_id.unique()) == sorted(datasets.EXCHANGE_IDS)
    assert ex.groupby("unique_id").size().eq(5).all()


def test_unknown_name_and_missing_files(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="known: .*m4_hourly"):
        datasets.load("m5")
    with pytest.raises(FileNotFoundError, match="train.csv.gz.*download"):
        datasets.load("m4_weekly", tmp_path)
    monkeypatch.delenv("HISTCAST_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="HISTCAST_DATA"):
        datasets.load("m4_hourly")


@pytest.mark.skipif(not (SHARED / "m4_hourly").exists(), reason="needs ../shared/data (M4 hourly)")
def test_real_m4_hourly_reads():
    train, test = datasets.load_m4("m4_hourly", os.fspath(SHARED))
    assert train.unique_id.nunique() == 414 and len(test) == 414 * 48
