"""The data path by hand on tiny panels: windows, gathers, holdout, unit-space batches."""

import numpy as np
import pandas as pd
import pytest
import torch

from histcast.data.batches import Packed, UnitWindows
from histcast.data.calendar import calendar_features
from histcast.data.panel import from_frame
from histcast.data.windows import gather, last_windows, training_windows
from histcast.train.plan import margin_sample, recency_weights, split_holdout

NAN = float("nan")


def tiny_panel(values=((0.0, 1.0, 2.0, 3.0), (10.0, 20.0, 30.0))):
    frames = [
        pd.DataFrame(
            {
                "unique_id": f"s{i}",
                "ds": pd.date_range("2024-01-01", periods=len(v), freq="h"),
                "y": v,
            }
        )  # fmt: skip
        for i, v in enumerate(values)
    ]
    return from_frame(pd.concat(frames, ignore_index=True))


def test_training_windows_and_gather_by_hand():
    values = torch.arange(7.0)  # series 0: 0..3, series 1: 4..6
    indptr = torch.tensor([0, 4, 7])
    w = training_windows(indptr.numpy(), np.array([4, 3]))
    np.testing.assert_array_equal(w.series, [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(w.cutoff, [0, 1, 2, 4, 5])
    feats = torch.arange(7.0)[:, None]
    b = gather(values, feats, indptr, torch.tensor(w.series), torch.tensor(w.cutoff), 3, 2)
    torch.testing.assert_close(b.context[0], torch.tensor([NAN, NAN, 0.0]), equal_nan=True)
    torch.testing.assert_close(b.target[2], torch.tensor([3.0, NAN]), equal_nan=True)
    torch.testing.assert_close(b.context[4], torch.tensor([NAN, 4.0, 5.0]), equal_nan=True)
    torch.testing.assert_close(b.ctx_feats[4, :, 0], torch.tensor([0.0, 4.0, 5.0]))
    torch.testing.assert_close(b.fut_feats[2, :, 0], torch.tensor([3.0, 0.0]))  # past the end
    last = last_windows(indptr.numpy(), 1)
    np.testing.assert_array_equal(last.cutoff, [2, 5])
    np.testing.assert_array_equal(last_windows(indptr.numpy()).cutoff, [3, 6])


def test_training_windows_need_min_target_points():
    w = training_windows(np.array([0, 4, 7]), np.array([4, 3]), min_target=2)
    np.testing.assert_array_equal(w.cutoff, [0, 1, 4])


def test_split_holdout_by_hand():
    panel = tiny_panel()
    train, holds_out = split_holdout(panel, 2)
    np.testing.assert_array_equal(holds_out, [True, False])  # 3 points: too short to cut 2
    np.testing.assert_array_equal(train.values, [0.0, 1.0, 10.0, 20.0, 30.0])
    np.testing.assert_array_equal(train.indptr, [0, 2, 5])
    same, none = split_holdout(panel, 0)
    np.testing.assert_array_equal(same.values, panel.values)
    assert none.all()


def test_recency_weights_halve_every_halflife():
    indptr = np.array([0, 5, 8])  # series of 5 and 3 points
    win = training_windows(indptr, np.array([5, 3]))  # cutoffs at local 0..3 and 0..1
    w = recency_weights(win, indptr, halflife=2)
    ages = np.array([4, 3, 2, 1, 2, 1])  # steps from each cutoff to its series' last point
    np.testing.assert_allclose(w, 0.5 ** (ages / 2))
    assert recency_weights(win, indptr, None) is None


def test_margin_sample_keeps_windows_with_half_a_context():
    indptr = np.array([0, 10, 13])  # lengths 10 and 3
    win = training_windows(indptr, np.array([10, 3]))  # local cutoffs 0..8 and 0..1
    idx = margin_sample(win, indptr, context_length=6, seed=0)
    # series 0 needs min(local+1, 6) >= 3: local 2..8; series 1 needs >= 1.5: local 1
    expected = {(0, c) for c in range(2, 9)} | {(1, 11)}
    assert {(int(win.series[i]), int(win.cutoff[i])) for i in idx} == expected
    assert len(margin_sample(win, indptr, 6, seed=0, n=3)) == 3


def test_unit_windows_by_hand():
    panel = tiny_panel()
    data = Packed.from_panel(panel, panel.freq, "cpu")
    np.testing.assert_array_equal(data.lo.numpy(), [0.0, 10.0])  # robust series range
    np.testing.assert_array_equal(data.hi.numpy(), [3.0, 30.0])
    win = training_windows(panel.indptr, panel.lengths).take([2, 4])  # cutoffs 2 and 5
    batch = UnitWindows(context_length=2, horizon=2, bin_range="window", margin=0.5)(data, win)
    # window 0: context [1, 2], span 1 widened to 2 around 1.5 -> [0.5, 2.5]
    # window 1: context [10, 20], span 10 -> [5, 25]
    torch.testing.assert_close(batch.lo, torch.tensor([0.5, 5.0], dtype=torch.float64))
    torch.testing.assert_close(batch.hi, torch.tensor([2.5, 25.0], dtype=torch.float64))
    torch.testing.assert_close(batch.u, torch.tensor([[0.25, 0.75], [0.25, 0.75]]))
    torch.testing.assert_close(batch.y, torch.tensor([[1.25, NAN], [1.25, NAN]]), equal_nan=True)
    edges = batch.edges(4)
    assert edges.shape == (2, 1, 5) and edges.dtype == torch.float64
    torch.testing.assert_close(
        edges[1, 0], torch.tensor([5.0, 10, 15, 20, 25], dtype=torch.float64)
    )


def test_unit_windows_series_range():
    panel = tiny_panel()
    data = Packed.from_panel(panel, panel.freq, "cpu")
    win = last_windows(panel.indptr)
    batch = UnitWindows(context_length=2, horizon=1, bin_range="series", margin=0.0)(data, win)
    torch.testing.assert_close(batch.lo, torch.tensor([0.0, 10.0], dtype=torch.float64))
    torch.testing.assert_close(batch.u[0], torch.tensor([2 / 3, 1.0]))


def test_forecast_features_match_training_features():
    """Train/serve alignment: the calendar features a forecast reads for its future steps are
    those training gathers for the same timestamps, and so are the context inputs."""
    rng = np.random.default_rng(0)
    full = tiny_panel([rng.normal(size=50), rng.normal(size=40)])
    h = 5
    cut = full.drop_last(h)
    wins = UnitWindows(context_length=8, horizon=h, margin=0.1)
    data_full = Packed.from_panel(full, full.freq, "cpu", ranges=(np.zeros(2), np.ones(2)))
    train = wins(data_full, last_windows(full.indptr, h))
    data_cut = Packed.from_panel(cut, cut.freq, "cpu", ranges=(np.zeros(2), np.ones(2)))
    fut = torch.as_tensor(calendar_features(cut.future_ds(h), cut.freq))
    serve = wins(data_cut, last_windows(cut.indptr), fut)
    assert train.fut_feats.shape == (2, h, 4)
    torch.testing.assert_close(serve.fut_feats, train.fut_feats)
    torch.testing.assert_close(serve.ctx_feats, train.ctx_feats)
    torch.testing.assert_close(serve.u, train.u)


@pytest.mark.parametrize("val_size", [0, 3])
def test_split_then_train_windows_never_read_the_holdout(val_size):
    panel = tiny_panel([np.arange(10.0), np.arange(8.0) + 100])
    train, _ = split_holdout(panel, val_size)
    w = training_windows(train.indptr, train.lengths)
    data = Packed.from_panel(train, train.freq, "cpu")
    b = gather(data.values, data.feats, data.indptr, torch.tensor(w.series),
               torch.tensor(w.cutoff), 4, 3)  # fmt: skip
    limit = torch.tensor([9.0 - val_size, 107.0 - val_size])[torch.tensor(w.series)]
    assert (torch.nan_to_num(b.target, nan=-1) <= limit[:, None]).all()


def test_training_windows_by_number_match_the_enumerated_windows():
    # lengths 5, 1 (no window), 0-window series between, 4: take(i) is the i-th window in order
    indptr = np.array([0, 5, 6, 10])
    w = training_windows(indptr, np.array([5, 1, 4]))
    assert len(w) == 4 + 0 + 3
    series = np.array([0, 0, 0, 0, 2, 2, 2])
    cutoff = np.array([0, 1, 2, 3, 6, 7, 8])
    np.testing.assert_array_equal(w.series, series)
    np.testing.assert_array_equal(w.cutoff, cutoff)
    idx = np.array([6, 0, 4, 3, 3])
    got = w.take(idx)
    np.testing.assert_array_equal(got.series, series[idx])
    np.testing.assert_array_equal(got.cutoff, cutoff[idx])


def test_drop_last_of_nothing_is_the_panel_and_of_some_points_by_hand():
    panel = tiny_panel()  # lengths 4 and 3
    assert panel.drop_last(0) is panel
    cut = panel.drop_last(np.array([2, 1]))
    np.testing.assert_array_equal(cut.values, [0.0, 1.0, 10.0, 20.0])
    np.testing.assert_array_equal(cut.indptr, [0, 2, 4])
    np.testing.assert_array_equal(cut.ds, panel.ds[[0, 1, 4, 5]])


def test_panel_last_points_by_hand():
    panel = tiny_panel()  # lengths 4 and 3
    last, rows = panel.last(3)
    np.testing.assert_array_equal(rows, [1, 2, 3, 4, 5, 6])
    np.testing.assert_array_equal(last.values, [1.0, 2.0, 3.0, 10.0, 20.0, 30.0])
    np.testing.assert_array_equal(last.indptr, [0, 3, 6])
    np.testing.assert_array_equal(last.ds, panel.ds[rows])
    short, rows = panel.last(1)
    np.testing.assert_array_equal(short.values, [3.0, 30.0])
    np.testing.assert_array_equal(rows, [3, 6])


def test_packed_tail_keeps_the_whole_series_ranges():
    panel = tiny_panel([np.arange(10.0), np.arange(8.0) + 100])
    tail = Packed.tail(panel, panel.freq, "cpu", context_length=3)
    whole = Packed.from_panel(panel, panel.freq, "cpu")
    torch.testing.assert_close(
        tail.values, torch.tensor([7.0, 8, 9, 105, 106, 107], dtype=torch.float64)
    )
    torch.testing.assert_close(tail.lo, whole.lo)
    torch.testing.assert_close(tail.hi, whole.hi)
    torch.testing.assert_close(tail.feats, whole.feats[[7, 8, 9, 15, 16, 17]])
