"""The shared forecast-frame format, and that it (with the baselines) needs no torch."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from histcast.frames import (
    check_forecast_args,
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
     ([0.1, 0.1000000001], None, "too close"), ([0.2, 0.2], None, "repeat"),
     (None, [80, 80.0], "repeat")],
)  # fmt: skip
def test_bad_levels_are_refused(quantiles, level, match):
    with pytest.raises(ValueError, match=match):
        check_forecast_args(quantiles, level)


def test_frames_and_baselines_do_not_load_torch_or_the_training_loop():
    code = (
        "import sys, histcast.frames, histcast.baselines\n"
        "heavy = ('torch', 'histcast.forecaster', 'histcast.training')\n"
        "bad = [m for m in heavy if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
