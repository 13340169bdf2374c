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
MONTH_DAYS = 365.25 / 12
STEPS = 240  # 20 years of months (5 leap years), 48 weeks of business days: exact means


def step_days(freq) -> float:
    """Length of one step of `freq` in days (calendar offsets by their mean length).

    `freq` is an offset, an alias ("MS") or an int step (no calendar: NaN).
    """
    if isinstance(freq, int | np.integer):
        return float("nan")
    freq = pd.tseries.frequencies.to_offset(freq)
    start = pd.Timestamp("2001-01-01") + freq  # on an anchor: W-SUN counts whole weeks
    return ((start + STEPS * freq) - start) / pd.Timedelta(days=1) / STEPS


def cycles(freq) -> list[float]:
    """Calendar cycles (in days) that suit `freq`."""
    step = step_days(freq)
    if np.isnan(step):
        return []
    return [c for c in CYCLES_DAYS if 2 <= c / step <= 1000]


def n_features(freq) -> int:
    return 2 * len(cycles(freq))


def calendar_features(ds: np.ndarray, freq, chunk: int = 1 << 20) -> np.ndarray:
    """sin/cos of each cycle's phase: `ds (...)` -> float32 `(..., 2 * n_cycles)`.

    Computed in float64 over `chunk` timestamps at a time, so that a large panel's features
    need their float32 result and not five float64 temporaries of its size."""
    periods, shape = np.asarray(cycles(freq)), np.shape(ds)
    if not len(periods):
        return np.zeros((*shape, 0), np.float32)
    ns = np.asarray(ds, dtype="datetime64[ns]").reshape(-1).view(np.int64)
    out, n = np.empty((len(ns), 2 * len(periods)), np.float32), len(periods)
    for i in range(0, len(ns), chunk):
        phase = 2 * np.pi * (ns[i : i + chunk] / NS_PER_DAY)[:, None] / periods
        out[i : i + chunk, :n], out[i : i + chunk, n:] = np.sin(phase), np.cos(phase)
    return out.reshape(*shape, 2 * n)


def season_length(freq) -> int:
    """The seasonal period M4 and Chronos use for scaling (hourly 24, weekly 1, monthly 12...).

    Sub-daily: steps per day; k-month steps (MS, ME, `pd.DateOffset(months=k)`, QS...): 12 / k
    when k divides 12; daily, weekly, yearly, other steps and int steps: 1.
    """
    step = step_days(freq)
    if np.isnan(step):
        return 1
    if step < 1:  # one day of sub-daily steps (hourly: 24); none if a day is not whole steps
        per_day = 1 / step
        return round(per_day) if abs(per_day - round(per_day)) < 1e-6 * per_day else 1
    if step < 28:
        return 1  # daily and weekly: 1, as in M4
    months = round(step / MONTH_DAYS)  # k-month steps: a year is 12 / k of them (yearly: 1)
    whole = months >= 1 and abs(step / MONTH_DAYS - months) < 0.1 and 12 % months == 0
    return 12 // months if whole else 1
