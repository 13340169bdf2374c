"""The shared forecast-frame format, and that it (with the baselines) needs no torch."""

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from histcast.frames import (
    check_forecast_args,
    forecast_frame,
    forecast_index,
    forecast_levels,
    quantile_frame,
    quantile_name,
)


def test_names_levels_and_frame_by_hand():
    assert quantile_name("M", 0.1) == "M-q-10" and quantile_name("M", 0.025) == "M-q-2.5"
    levels = forecast_levels([0.1, 0.9], [80])
    np.testing.assert_allclose(levels, [0.5, 0.1, 0.9, 0.1, 0.9])
    index = forecast_index(np.array(["a", "b"]), np.array([[1, 2], [5, 6]]))
    assert index["unique_id"].tolist() == ["a", "a", "b", "b"] and index["ds"].tolist() == [
        1,
        2,
        5,
        6,
    ]
    q = np.arange(20.0).reshape(4, 5)
    out = quantile_frame(index, "M", np.zeros(4), q, [0.1, 0.9], [80])
    assert list(out.columns) == ["unique_id", "ds", "M", "M-median", "M-lo-80", "M-hi-80",
                                 "M-q-10", "M-q-90"]  # fmt: skip
    np.testing.assert_array_equal(out["M-median"], q[:, 0])
    np.testing.assert_array_equal(out["M-lo-80"], q[:, 3])
    np.testing.assert_array_equal(out["M-q-90"], q[:, 2])
    pd.testing.assert_frame_equal(
        index, forecast_index(np.array(["a", "b"]), np.array([[1, 2], [5, 6]]))
    )


@pytest.mark.parametrize(
    ("quantiles", "level", "match"),
    [([0.5, 1.2], None, r"\(0, 1\)"), ([0.0], None, r"\(0, 1\)"), (None, [100], r"\(0, 100\)"),
     ([0.1, 0.1000000000001], None, "too close"), ([0.2, 0.2], None, "repeat"),
     (None, [80, 80.0], "repeat")],
)  # fmt: skip
def test_bad_levels_are_refused(quantiles, level, match):
    with pytest.raises(ValueError, match=match):
        check_forecast_args(quantiles, level)


def test_frames_and_baselines_do_not_load_torch_or_the_training_loop():
    code = (
        "import sys, histcast.frames, histcast.baselines\n"
        "heavy = ('torch', 'histcast.forecaster', 'histcast.train.loop')\n"
        "bad = [m for m in heavy if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- column names of levels: exact enough to be distinct and correct -------------------------


def _columns(quantiles, level):
    index = forecast_index(np.array(["a"]), np.array([[1]]))
    q, level = check_forecast_args(quantiles, level)
    n = 1 + len(q) + 2 * len(level)
    return list(quantile_frame(index, "M", np.zeros(1), np.zeros((1, n)), q, level).columns[4:])


def test_level_names_keep_enough_digits():
    assert _columns(None, [95, 95.0000001]) == ["M-lo-95", "M-hi-95", "M-lo-95.0000001",
                                                "M-hi-95.0000001"]  # fmt: skip
    assert _columns(None, [99.99999]) == ["M-lo-99.99999", "M-hi-99.99999"]
    assert _columns([0.9999999, 0.07, 0.025], None) == ["M-q-99.99999", "M-q-7", "M-q-2.5"]
    assert _columns(np.linspace(0.1, 0.9, 9), None) == [f"M-q-{10 * k}" for k in range(1, 10)]


@pytest.mark.parametrize(
    ("quantiles", "level", "match"),
    [([0.99999999999], None, "q-100"), ([0.3, 0.1 + 0.2], None, "too close"),
     (None, [99.99999999999], "lo-100"), (None, [95, 95.00000000001], "too close")],
)  # fmt: skip
def test_levels_naming_alike_or_as_a_bound_are_refused(quantiles, level, match):
    with pytest.raises(ValueError, match=match):
        check_forecast_args(quantiles, level)


@pytest.mark.parametrize(
    "bad", [{0.1, 0.9}, [[0.1, 0.9]], ["a"], [None], [0.1j], 0.1j, [True], "0.5",
            np.array([[0.1, 0.9]]), np.array([0.1j])],
)  # fmt: skip
def test_levels_must_be_real_numbers_in_one_dimension(bad):
    with pytest.raises(TypeError, match="quantiles must be None, a number or a 1-D list"):
        check_forecast_args(bad, None)
    with pytest.raises(TypeError, match="level must be None, a number or a 1-D list"):
        check_forecast_args(None, bad)


def test_levels_accept_scalars_and_1d_arrays():
    for quantiles in (0.5, np.float64(0.5), np.array(0.5), [0.5], (0.5,), np.array([0.5]),
                      pd.Series([0.5]), [np.float32(0.5)], [1 / 2]):  # fmt: skip
        assert check_forecast_args(quantiles, 80) == ([0.5], [80.0])
    assert check_forecast_args([], None) == ([], [])


def test_quantile_frame_refuses_an_alias_naming_an_index_column():
    index = forecast_index(np.array(["a"]), np.array([[1]]), id_col="series")
    with pytest.raises(ValueError, match="alias 'series' is the name of the forecast frame"):
        quantile_frame(index, "series", np.zeros(1), np.zeros((1, 1)), [], [])


def test_float32_levels_are_named_by_their_shortest_decimal():
    """float32 0.1 is 0.10000000149: its column is q-10, not q-10.00000015 (a probe's)."""
    from histcast.frames import check_forecast_args

    q, lv = check_forecast_args(np.float32([0.1, 0.5, 0.9]), np.float32([99.9]))
    assert q == [0.1, 0.5, 0.9] and lv == [99.9]


def test_forecast_frame_by_blocks_of_series_equals_one_block():
    import torch

    from histcast.dist.histogram import Histogram

    torch.manual_seed(0)
    probs = torch.softmax(torch.randn(7, 3, 5, dtype=torch.float64), -1)
    edges = torch.cumsum(torch.rand(7, 1, 6, dtype=torch.float64), -1)
    dist = Histogram(edges, probs)
    index = pd.DataFrame({"unique_id": np.repeat(np.arange(7), 3), "ds": np.tile(np.arange(3), 7)})
    whole = forecast_frame(index, dist, "M", (0.1, 0.5), (80,))
    for chunk in (1, 15, 16, 40):  # 1, 1, 1 and 2 series per block
        pd.testing.assert_frame_equal(
            forecast_frame(index, dist, "M", (0.1, 0.5), (80,), chunk), whole
        )
    ref = np.array(
        [dist[s, h].quantile(torch.tensor([0.1])).item() for s in range(7) for h in range(3)]
    )
    np.testing.assert_allclose(whole["M-q-10"], ref, rtol=1e-6)


@pytest.mark.parametrize(
    ("level", "meant"),
    [([0.8], "[80]"), ([0.8, 0.95], "[80, 95]"), ([80, 0.95], "[80, 95]"), (0.5, "[50]"),
     (np.array([0.9]), "[90]")],
)  # fmt: skip
def test_an_interval_level_given_as_a_fraction_is_refused(level, meant):
    """level=[0.8] is an 80% interval given as a fraction, not a 0.8% one (Nixtla's levels are
    percentages): refused with the percentages it probably means."""
    with pytest.raises(ValueError, match=re.escape(f"did you mean level={meant}")):
        check_forecast_args(None, level)
    assert check_forecast_args(None, [1, 50, 99.5])[1] == [1.0, 50.0, 99.5]
