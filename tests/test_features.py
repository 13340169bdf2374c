import numpy as np
import pandas as pd
import pytest

from histcast.data.calendar import calendar_features, cycles, n_features, season_length, step_days

DAY, WEEK, YEAR = 1.0, 7.0, 365.25
MONTH = YEAR / 12

# freq, season length (M4 / Chronos), step in days, calendar cycles (days)
TABLE = [
    ("h", 24, 1 / 24, [DAY, WEEK]),
    ("30min", 48, 1 / 48, [DAY, WEEK]),
    ("15min", 96, 1 / 96, [DAY, WEEK]),
    ("2h", 12, 1 / 12, [DAY, WEEK]),
    ("5h", 1, 5 / 24, [DAY, WEEK]),  # a day is not whole steps: no seasonal period
    ("D", 1, 1.0, [WEEK, YEAR]),
    ("B", 1, 7 / 5, [WEEK, YEAR]),  # five steps a week
    ("W-SUN", 1, 7.0, [YEAR]),
    ("W-WED", 1, 7.0, [YEAR]),
    ("MS", 12, MONTH, [YEAR]),
    ("ME", 12, MONTH, [YEAR]),
    (pd.DateOffset(months=1), 12, MONTH, [YEAR]),
    (pd.DateOffset(months=2), 6, 2 * MONTH, [YEAR]),
    ("QS-DEC", 4, 3 * MONTH, [YEAR]),
    ("QE", 4, 3 * MONTH, [YEAR]),
    (pd.DateOffset(months=3), 4, 3 * MONTH, [YEAR]),
    (pd.DateOffset(months=6), 2, 6 * MONTH, [YEAR]),
    ("YS", 1, YEAR, []),
    ("YE", 1, YEAR, []),
    (pd.DateOffset(months=12), 1, YEAR, []),
    (pd.DateOffset(years=1), 1, YEAR, []),
    (1, 1, np.nan, []),  # integer steps carry no calendar
    (np.int64(7), 1, np.nan, []),
]


def offset(freq):
    return pd.tseries.frequencies.to_offset(freq) if isinstance(freq, str) else freq


@pytest.mark.parametrize("freq, season, step, cyc", TABLE, ids=str)
def test_frequency_table(freq, season, step, cyc):
    for f in {id(freq): freq, 0: offset(freq)}.values():  # an alias and its offset alike
        assert season_length(f) == season
        assert step_days(f) == pytest.approx(step, rel=1e-3, nan_ok=True)
        assert cycles(f) == cyc
        assert n_features(f) == 2 * len(cyc)


@pytest.mark.parametrize("freq, season, step, cyc", TABLE, ids=str)
def test_calendar_features_shape_and_range(freq, season, step, cyc):
    if isinstance(freq, int | np.integer):
        ds = np.arange(6).reshape(2, 3)
    else:
        ds = pd.date_range("2024-01-01", periods=6, freq=freq).to_numpy().reshape(2, 3)
    out = calendar_features(ds, offset(freq))
    assert out.shape == (2, 3, n_features(freq)) and out.dtype == np.float32
    sin, cos = np.split(out, 2, axis=-1)
    np.testing.assert_allclose(sin**2 + cos**2, 1, rtol=1e-5)


# features are [sin of each cycle..., cos of each cycle...]; phases count from 1970-01-01
# 00:00 (a Thursday): midnight is day phase 0, 06:00 a quarter day, Thursdays week phase 0
@pytest.mark.parametrize(
    "freq, when, expected",
    [
        ("h", "2024-01-04 00:00", [0, 0, 1, 1]),  # a Thursday at midnight
        ("h", "2024-01-01 00:00", [0, np.sin(-6 * np.pi / 7), 1, np.cos(-6 * np.pi / 7)]),
        ("h", "2024-01-04 06:00", [1, np.sin(np.pi / 14), 0, np.cos(np.pi / 14)]),
        ("30min", "2024-01-04 12:00", [0, np.sin(np.pi / 7), -1, np.cos(np.pi / 7)]),
        ("D", "1970-01-01", [0, 0, 1, 1]),
        ("D", "1970-01-08", [0, np.sin(2 * np.pi * 7 / YEAR), 1, np.cos(2 * np.pi * 7 / YEAR)]),
        ("W-SUN", "1970-07-02 15:00", [0, -1]),  # 182.625 days: half a year
        ("MS", "1970-01-01", [0, 1]),
        (pd.DateOffset(months=1), "1970-01-01", [0, 1]),
        ("QS-DEC", "1970-07-02 15:00", [0, -1]),
    ],
)
def test_calendar_features_at_known_timestamps(freq, when, expected):
    out = calendar_features(np.array([np.datetime64(pd.Timestamp(when))]), offset(freq))
    np.testing.assert_allclose(out[0], expected, atol=1e-6)


def test_features_accept_any_datetime_unit():
    ds = pd.date_range("2024-01-01", periods=4, freq="h")
    ns = calendar_features(ds.to_numpy().astype("datetime64[ns]"), offset("h"))
    s = calendar_features(ds.to_numpy().astype("datetime64[s]"), offset("h"))
    np.testing.assert_array_equal(ns, s)
