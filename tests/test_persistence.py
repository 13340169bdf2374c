"""Saved models: round trips, and files that `load` must refuse with one clear error."""

import hashlib
import json
import pickle

import numpy as np
import pandas as pd
import pytest
import torch

from histcast.forecaster import HistForecaster
from histcast.persistence import ids_from_json, ids_to_json

FAST = dict(max_epochs=2, steps_per_epoch=5, hidden_size=16, n_bins=30, verbose=False)


@pytest.fixture(scope="module")
def saved(small_panel, tmp_path_factory):
    model = HistForecaster(horizon=3, **FAST).fit(small_panel)
    path = tmp_path_factory.mktemp("saved") / "m"
    model.save(path)
    return model, path


def copy_of(path, tmp_path):
    dst = tmp_path / "copy"
    dst.mkdir()
    for f in path.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def state_of(path):
    """The state file a saved model's config.json names."""
    return path / json.loads((path / "config.json").read_text())["state_file"]


def test_round_trip_is_identical(saved):
    model, path = saved
    pd.testing.assert_frame_equal(HistForecaster.load(path).forecast(), model.forecast())


def test_truncated_state_is_refused_naming_the_file(saved, tmp_path):
    _, path = saved
    bad = copy_of(path, tmp_path)
    data = (state_of(bad)).read_bytes()
    (state_of(bad)).write_bytes(data[: len(data) - 100])
    with pytest.raises(ValueError, match=r"state-[0-9a-f-]+\.pt does not match the checksum"):
        HistForecaster.load(bad)


def rewrite_state(bad, edit):
    """Edit state.pt and fix the checksum, as a tool that rewrites the file would."""
    state = torch.load(state_of(bad), weights_only=True)
    edit(state)
    torch.save(state, state_of(bad))
    meta = json.loads((bad / "config.json").read_text())
    meta["state_sha256"] = hashlib.sha256((state_of(bad)).read_bytes()).hexdigest()
    (bad / "config.json").write_text(json.dumps(meta))


def test_arrays_that_disagree_with_the_config_are_refused(saved, tmp_path):
    _, path = saved
    bad = copy_of(path, tmp_path)
    rewrite_state(bad, lambda s: s.update(values=s["values"][:-5]))
    with pytest.raises(ValueError, match=r"state-[0-9a-f-]+\.pt: the packed series"):
        HistForecaster.load(bad)


def test_changed_architecture_is_refused(saved, tmp_path):
    _, path = saved
    bad = copy_of(path, tmp_path)
    meta = json.loads((bad / "config.json").read_text())
    meta["model"]["hidden_size"] = 32
    (bad / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="do not fit the architecture"):
        HistForecaster.load(bad)


@pytest.mark.parametrize("cut", [10, 200])
def test_truncated_json_is_refused_naming_the_file(saved, tmp_path, cut):
    _, path = saved
    bad = copy_of(path, tmp_path)
    (bad / "config.json").write_text((path / "config.json").read_text()[:cut])
    with pytest.raises(ValueError, match=r"config\.json is not valid JSON"):
        HistForecaster.load(bad)


def test_missing_files_and_foreign_configs(saved, tmp_path):
    _, path = saved
    with pytest.raises(ValueError, match="does not exist"):
        HistForecaster.load(tmp_path / "nowhere")
    bad = copy_of(path, tmp_path)
    (state_of(bad)).unlink()
    with pytest.raises(ValueError, match="incomplete"):
        HistForecaster.load(bad)
    (bad / "config.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(ValueError, match="not a histcast model config"):
        HistForecaster.load(bad)


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_pickle_with_code_is_refused(saved, tmp_path):
    _, path = saved
    bad = copy_of(path, tmp_path)
    (state_of(bad)).write_bytes(pickle.dumps(Evil()))
    meta = json.loads((bad / "config.json").read_text())
    del meta["state_sha256"]  # even without a checksum, weights_only refuses code
    (bad / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="cannot be read as saved weights"):
        HistForecaster.load(bad)


def test_saved_values_are_exact_float64(saved):
    model, path = saved
    loaded = HistForecaster.load(path)
    assert loaded.panel_.values.dtype == np.float64
    np.testing.assert_array_equal(loaded.panel_.values, model.panel_.values)


def _relabel(df, ids):
    """`df` with its series renamed to `ids` (one per series, in order)."""
    mapping = dict(zip(sorted(df["unique_id"].unique()), ids, strict=False))
    return df.assign(unique_id=df["unique_id"].map(mapping))


@pytest.mark.parametrize(
    "ids",
    [
        [3, 1, 2],
        [0.5, 1.5, 2.5],
        list(pd.to_datetime(["2020-01-01", "2021-06-30", "2022-12-31"])),
        [pd.Timestamp("2020-01-01", tz="Europe/Paris"), pd.Timestamp("2021-01-01", tz="UTC"),
         pd.Timestamp("2022-01-01 12:00", tz="Asia/Tokyo")],
    ],
)  # fmt: skip
def test_ids_of_every_kind_come_back_as_they_were(small_panel, tmp_path, ids):
    df = _relabel(small_panel, ids[: small_panel["unique_id"].nunique()])
    model = HistForecaster(horizon=3, **FAST).fit(df)
    model.save(tmp_path / "m")
    loaded = HistForecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.forecast(), model.forecast())
    assert [type(i) for i in loaded.panel_.ids] == [type(i) for i in model.panel_.ids]


def test_a_refused_save_leaves_the_model_saved_there_intact(saved, small_panel, tmp_path):
    from decimal import Decimal

    model, path = saved
    target = copy_of(path, tmp_path)
    n = small_panel["unique_id"].nunique()
    odd = HistForecaster(horizon=3, **FAST).fit(
        _relabel(small_panel, [Decimal(i) for i in range(n)])
    )
    with pytest.raises(ValueError, match="cannot be saved.*astype\\(str\\)"):
        odd.save(target, overwrite=True)
    pd.testing.assert_frame_equal(HistForecaster.load(target).forecast(), model.forecast())


def test_paths_that_are_files_are_refused(saved, tmp_path):
    model, _ = saved
    file = tmp_path / "a_file"
    file.write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        model.save(file)
    with pytest.raises(ValueError, match="is a file"):
        HistForecaster.load(file)


def test_timestamp_ids_keep_nanoseconds_and_zones(small_panel, tmp_path):
    """Ids one nanosecond apart stay two series, and zoned ids keep their zone, so the loaded
    model's forecasts merge with the caller's frame (a probe found both lost)."""
    base = pd.Timestamp("2020-01-01")
    stamps = pd.DatetimeIndex([base, base + pd.Timedelta(1, "ns"), base + pd.Timedelta(1, "D")])
    for ids in (stamps, stamps.tz_localize("Europe/Paris")):
        df = _relabel(small_panel, list(ids))
        model = HistForecaster(horizon=3, **FAST).fit(df)
        model.save(tmp_path / "m", overwrite=True)  # the second zone replaces the first
        loaded = HistForecaster.load(tmp_path / "m")
        pd.testing.assert_frame_equal(loaded.forecast(), model.forecast())
        assert loaded.forecast()["unique_id"].nunique() == 3
        # every row of a series meets each of its 3 forecast rows: 3 x len(df)
        assert len(df.merge(loaded.forecast(), on="unique_id")) == 3 * len(df)


@pytest.mark.parametrize(
    "ids",
    [
        np.array([3, -1, 2], dtype=np.int8),
        np.array([7, 65535], dtype=np.uint16),
        np.array([0.1, 1e-7, 3.0], dtype=np.float32),  # not exact in float64's shortest decimal
        np.array([True, False]),
        np.array(["a", "bb"]),
        np.array(["a", "bb"], dtype=object),
    ],
)
def test_ids_keep_their_dtype_through_json(ids):
    back = ids_from_json(json.loads(json.dumps(ids_to_json(ids))))
    assert back.dtype == ids.dtype
    np.testing.assert_array_equal(back, ids)


def test_save_refuses_to_replace_a_saved_model_unless_told(saved, tmp_path):
    model, path = saved
    target = copy_of(path, tmp_path)
    config = (target / "config.json").read_bytes()
    with pytest.raises(FileExistsError, match="already holds a saved model.*overwrite=True"):
        model.save(target)
    assert (target / "config.json").read_bytes() == config  # untouched
    model.save(target, overwrite=True)
    pd.testing.assert_frame_equal(HistForecaster.load(target).forecast(), model.forecast())
    (tmp_path / "empty").mkdir()
    model.save(tmp_path / "empty")  # an existing folder without a model is fine


@pytest.mark.skipif(torch.cuda.is_available(), reason="a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", "mps"])
def test_load_on_a_device_this_machine_lacks_says_so(saved, device):
    if device == "mps" and torch.backends.mps.is_available():
        pytest.skip("a machine without MPS")
    with pytest.raises(ValueError, match=f"device='{device}' is not available here.*'cpu'"):
        HistForecaster.load(saved[1], device=device)
