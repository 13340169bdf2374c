import numpy as np
import pandas as pd
import pytest

from histcast.forecaster import default_context_length, default_patch_size
from histcast.training import TrainConfig, lr_factor


@pytest.mark.parametrize(
    ("freq", "horizon", "expected"),
    [
        ("h", 48, 336),  # two weeks of hours
        ("D", 14, 42),  # three horizons (a year is too long a cycle)
        ("MS", 18, 54),  # three horizons
        ("QS", 8, 24),
    ],
)
def test_default_context_follows_the_frequency(freq, horizon, expected):
    assert default_context_length(pd.tseries.frequencies.to_offset(freq), horizon) == expected


def test_default_context_weekly_covers_two_years():
    c = default_context_length(pd.tseries.frequencies.to_offset("W-SUN"), 13)
    assert 104 <= c <= 106


def test_default_context_for_integer_index():
    assert default_context_length(1, 10) == 30


def test_default_patch_is_one_day_for_hourly():
    assert default_patch_size(pd.tseries.frequencies.to_offset("h"), 336) == 24


def test_cosine_schedule_by_hand():
    f = lr_factor(TrainConfig(lr_schedule="cosine", max_steps=100))
    np.testing.assert_allclose([f(0), f(50), f(100), f(500)], [1.0, 0.525, 0.05, 0.05])
    assert lr_factor(TrainConfig(lr_schedule="constant"))(10) == 1.0
    with pytest.raises(ValueError, match="lr_schedule"):
        lr_factor(TrainConfig(lr_schedule="step"))
