import numpy as np
import pandas as pd
import pytest
import torch

from histcast.bins import edges, from_unit, series_ranges, to_unit, widen, window_ranges
from histcast.panel import from_frame
from histcast.windows import gather, last_windows, training_windows


def frame(ids, lengths, freq="h", start="2024-01-01"):
    parts = [
        pd.DataFrame(
            {
                "unique_id": i,
                "ds": pd.date_range(start, periods=n, freq=freq),
                "y": np.arange(n) + k * 100.0,
            }
        )
        for k, (i, n) in enumerate(zip(ids, lengths, strict=True))
    ]
    return pd.concat(parts, ignore_index=True)


def test_packing_sorts_and_keeps_order():
    df = frame(["b", "a"], [3, 2]).sample(frac=1, random_state=0)
    p = from_frame(df)
    assert list(p.ids) == ["a", "b"]
    np.testing.assert_array_equal(p.indptr, [0, 2, 5])
    np.testing.assert_array_equal(p.values, [100, 101, 0, 1, 2])
    assert p.freq == pd.tseries.frequencies.to_offset("h")
    assert p.future_ds(2)[1, 0] == np.datetime64("2024-01-01T03:00")


@pytest.mark.parametrize("freq", ["D", "W-SUN", "MS", "QS", "7D", "15min"])
def test_frequency_inference(freq):
    p = from_frame(frame(["a", "b"], [12, 8], freq=freq))
    expected = pd.date_range(p.last_ds[1], periods=3, freq=freq)[1:]
    np.testing.assert_array_equal(p.future_ds(2)[1], expected.to_numpy())


def test_integer_time_index():
    df = pd.DataFrame({"unique_id": [1, 1, 1, 2, 2], "ds": [0, 2, 4, 10, 12], "y": [1.0] * 5})
    p = from_frame(df)
    assert p.freq == 2
    np.testing.assert_array_equal(p.future_ds(2), [[6, 8], [14, 16]])


@pytest.mark.parametrize(
    "mutate, error, match",
    [
        (lambda d: d.drop(columns="y"), ValueError, "missing column"),
        (lambda d: d.assign(y=d.y.astype(str)), TypeError, "numeric"),
        (lambda d: d.assign(y=d.y.where(d.index != 3, np.inf)), ValueError, "infinite.*'a'"),
        (lambda d: pd.concat([d, d.iloc[[6]]]), ValueError, "duplicate.*'b'"),
        (lambda d: d.drop(index=2), ValueError, "series 'a' has irregular"),
        (lambda d: d.assign(y=np.where(d.unique_id == "b", np.nan, d.y)), ValueError, "fewer"),
        (lambda d: d.assign(ds=["x"] * len(d)), TypeError, "timestamps"),
    ],
)
def test_bad_frames_raise(mutate, error, match):
    with pytest.raises(error, match=match):
        from_frame(mutate(frame(["a", "b"], [5, 4])))


def test_input_frame_is_not_modified():
    df = frame(["b", "a"], [3, 4]).iloc[::-1]
    copy = df.copy()
    from_frame(df)
    pd.testing.assert_frame_equal(df, copy)


# -- bins -------------------------------------------------------------------------------------
def test_unit_round_trip_and_edges():
    lo, hi = torch.tensor([0.0, -5.0]), torch.tensor([10.0, 5.0])
    y = torch.tensor([[3.0, 1e22], [-5.0, 0.0]])
    u = to_unit(y, lo[:, None], hi[:, None])
    assert u[0, 0] == pytest.approx(0.3) and u[1, 1] == pytest.approx(0.5)
    torch.testing.assert_close(from_unit(u[:, :1], lo[:, None], hi[:, None]), y[:, :1])
    e = edges(lo, hi, 4)
    torch.testing.assert_close(e[1], torch.tensor([-5.0, -2.5, 0.0, 2.5, 5.0]))


def test_series_ranges_margin_nan_and_constant():
    values = np.array([1.0, np.nan, 3.0, 5.0, 5.0, 5.0], np.float32)
    lo, hi = series_ranges(values, np.array([0, 3, 6]), margin=0.5)
    np.testing.assert_allclose([lo[0], hi[0]], [0.0, 4.0])  # span 2, widened by 1 each side
    assert hi[1] - lo[1] == pytest.approx(0.1 * 5 * 2)  # floor 0.1 |centre|, then the margin
    lo0, hi0 = widen(np.array([0.0]), np.array([0.0]), 0.0)
    assert hi0[0] - lo0[0] > 0


def test_window_ranges_with_fallback():
    ctx = torch.tensor([[1.0, float("nan"), 3.0], [float("nan")] * 3])
    lo, hi = window_ranges(ctx, 0.0, (torch.tensor([9.0, -1.0]), torch.tensor([9.0, 1.0])))
    torch.testing.assert_close(lo, torch.tensor([1.0, -1.0]))
    torch.testing.assert_close(hi, torch.tensor([3.0, 1.0]))


# -- windows ----------------------------------------------------------------------------------
def test_training_windows_and_gather_by_hand():
    values = torch.arange(7.0)  # series 0: 0..3, series 1: 4..6
    indptr = torch.tensor([0, 4, 7])
    w = training_windows(indptr.numpy(), np.array([4, 3]))
    np.testing.assert_array_equal(w.series, [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(w.cutoff, [0, 1, 2, 4, 5])
    feats = torch.arange(7.0)[:, None]
    b = gather(values, feats, indptr, torch.tensor(w.series), torch.tensor(w.cutoff), 3, 2)
    nan = float("nan")
    torch.testing.assert_close(b.context[0], torch.tensor([nan, nan, 0.0]), equal_nan=True)
    torch.testing.assert_close(b.target[2], torch.tensor([3.0, nan]), equal_nan=True)
    torch.testing.assert_close(b.context[4], torch.tensor([nan, 4.0, 5.0]), equal_nan=True)
    torch.testing.assert_close(b.ctx_feats[4, :, 0], torch.tensor([0.0, 4.0, 5.0]))
    last = last_windows(indptr.numpy(), 1)
    np.testing.assert_array_equal(last.cutoff, [2, 5])
