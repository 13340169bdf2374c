"""Calendar features derived from timestamps and the panel's frequency.

Each feature is sin/cos of the phase of a calendar cycle (day, week, year) measured in days
since the epoch. A cycle is used when it spans between 2 and 1000 steps of the frequency:
hourly data gets day and week, daily gets week and year, weekly, monthly and quarterly get the
year. Integer time indices carry no calendar, so they get none.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CYCLES_DAYS = (1.0, 7.0, 365.25)
NS_PER_DAY = 86_400e9


def step_days(freq) -> float:
    """Length of one step of `freq` in days (calendar offsets by their nominal length)."""
    if isinstance(freq, int | np.integer):
        return float("nan")
    start = pd.Timestamp("2001-01-01") + freq  # on an anchor: W-SUN counts whole weeks
    return ((start + 12 * freq) - start) / pd.Timedelta(days=1) / 12


def cycles(freq) -> list[float]:
    """Calendar cycles (in days) that suit `freq`."""
    step = step_days(freq)
    if np.isnan(step):
        return []
    return [c for c in CYCLES_DAYS if 2 <= c / step <= 1000]


def n_features(freq) -> int:
    return 2 * len(cycles(freq))


def calendar_features(ds: np.ndarray, freq) -> np.ndarray:
    """sin/cos of each cycle's phase: `ds (...)` -> float32 `(..., 2 * n_cycles)`."""
    periods = cycles(freq)
    if not periods:
        return np.zeros((*np.shape(ds), 0), np.float32)
    days = np.asarray(ds, dtype="datetime64[ns]").astype(np.int64) / NS_PER_DAY
    phase = 2 * np.pi * days[..., None] / np.asarray(periods)
    return np.concatenate([np.sin(phase), np.cos(phase)], -1).astype(np.float32)


def season_length(freq) -> int:
    """The seasonal period M4 and Chronos use for scaling (hourly 24, weekly 1, monthly 12...)."""
    step = step_days(freq)
    if np.isnan(step):
        return 1
    if step < 1:
        return int(round(1 / step))  # one day of sub-daily steps (hourly: 24)
    if step < 28:
        return 1  # daily and weekly: 1, as in M4
    if step < 40:
        return 12
    if step < 100:
        return 4
    return 1
