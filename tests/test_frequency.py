"""Frequencies inferred from few points, anchored monthly steps and dates past 2262."""

import numpy as np
import pandas as pd
import pytest

from histcast.data.frequency import future_timestamps
from histcast.data.panel import from_frame


def one(ds, uid="a"):
    ds = pd.DatetimeIndex(pd.to_datetime(ds))
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": np.arange(len(ds), dtype=float)})


def future(p, h=4) -> list[str]:
    return [str(t)[:10] for t in p.future_ds(h)[0]]


# 2 or 3 points: a calendar offset that steps every timestamp onto the next, not a fixed step
# (a 29-day step from Jan 31 and Feb 29 drifted to Mar 29, Apr 27, ...)
@pytest.mark.parametrize(
    "ds, freq",
    [
        (["2020-01-31", "2020-02-29"], "ME"),
        (["2020-01-31", "2020-02-29", "2020-03-31"], "ME"),
        (["2020-03-31", "2020-06-30"], "QE-DEC"),
        (["2020-03-31", "2020-06-30", "2020-09-30"], "QE-DEC"),
        (["2020-01-31", "2020-04-30"], "QE-JAN"),
        (["2019-12-31", "2020-12-31"], "YE-DEC"),
        (["2020-02-01", "2020-03-01"], "MS"),
        (["2020-01-08", "2020-01-15"], "W-WED"),
        (["2020-01-15", "2020-01-31"], "SME"),
        (["2020-01-31", "2020-03-31"], "2ME"),
        (["2020-04-30", "2020-06-30", "2020-08-31"], "2ME"),
    ],
)
def test_few_points_get_a_calendar_offset(ds, freq):
    p = from_frame(one(ds))
    expected = pd.date_range(ds[-1], periods=5, freq=freq)[1:]
    assert future(p) == [str(t)[:10] for t in expected]


def test_two_point_series_in_a_panel_share_month_ends():
    df = pd.concat([one(["2020-01-31", "2020-02-29"]), one(["2021-04-30", "2021-05-31"], "b")])
    p = from_frame(df)
    assert p.freq == pd.offsets.MonthEnd()
    assert [str(t)[:10] for t in p.future_ds(2)[1]] == ["2021-06-30", "2021-07-31"]


def test_few_points_without_a_calendar_offset_keep_a_fixed_step():
    p = from_frame(one(["2020-01-01", "2020-01-03"]))
    assert future(p, 2) == ["2020-01-05", "2020-01-07"]
    p = from_frame(one(["2020-01-15", "2020-02-15"]))  # the 15th: whole months, not 2 * SME
    assert p.freq == pd.DateOffset(months=1)


# monthly on the 29th-31st: timestamps are first + k months, so Feb 29 does not pull Mar back
MONTHLY_30 = [pd.Timestamp("2020-01-30") + pd.DateOffset(months=k) for k in range(24)]


@pytest.mark.parametrize("freq", [pd.DateOffset(months=1), None])
@pytest.mark.parametrize("start", ["2020-01-30", "2019-01-31", "2019-08-29"])
def test_months_late_in_the_month_are_regular(freq, start):
    ds = [pd.Timestamp(start) + pd.DateOffset(months=k) for k in range(24)]
    p = from_frame(one(ds), freq=freq)
    expected = [pd.Timestamp(start) + pd.DateOffset(months=k) for k in range(24, 28)]
    assert future(p) == [str(t)[:10] for t in expected]
    assert p.drop_last(5).future_ds(5)[0].tolist() == p.ds[-5:].tolist()  # backtest cut
    with pytest.raises(ValueError, match="series 'a' has irregular"):
        from_frame(one(ds).drop(index=5), freq=freq)


def test_monthly_steps_are_counted_from_each_series_start():
    a = one(MONTHLY_30)
    b = one([pd.Timestamp("2020-02-29") + pd.DateOffset(months=k) for k in range(3)], "b")
    p = from_frame(pd.concat([a, b]), freq=pd.DateOffset(months=1))
    assert [str(t)[:10] for t in p.future_ds(2)[1]] == ["2020-05-29", "2020-06-29"]
    shifted = one([*MONTHLY_30[:3], pd.Timestamp("2020-04-29"), *MONTHLY_30[4:]])
    with pytest.raises(ValueError, match="irregular"):  # Mar 30 -> Apr 29 is not a month
        from_frame(shifted, freq=pd.DateOffset(months=1))


@pytest.mark.parametrize("freq", ["ME", "MS", "QE-NOV", "YS", "W-SUN", "B", "SME", "BME", "h"])
def test_anchored_offsets_step_alike_from_first_or_last(freq):
    """Why only `pd.DateOffset` steps are counted from the first timestamp: for anchored
    offsets, k steps at once and k single steps give the same dates."""
    offset = pd.tseries.frequencies.to_offset(freq)
    start = pd.date_range("2019-12-20", periods=1, freq=offset)[0]
    one_by_one = [start]
    for _ in range(40):
        one_by_one.append(one_by_one[-1] + offset)
    assert [start + k * offset for k in range(41)] == one_by_one


# horizons past pd.Timestamp.max: a ValueError saying so, not pandas' OutOfBounds/Overflow
@pytest.mark.parametrize(
    "freq, h",
    [
        ("YS", 300),
        ("D", 100_000),
        ("h", 10**15),
        ("ME", 10**6),
        (pd.DateOffset(months=1), 4000),
        ("D", 2**70),
    ],
)
def test_forecasts_past_2262_are_refused(freq, h):
    offset = pd.tseries.frequencies.to_offset(freq) if isinstance(freq, str) else freq
    p = from_frame(one(pd.date_range("1990-01-01", periods=30, freq=offset)))
    with pytest.raises(ValueError, match=r"past pd.Timestamp.max \(2262-04-11\).*shorten"):
        p.future_ds(h)


def test_forecasts_up_to_2262_are_given():
    early = np.array(["1677-09-22", "1969-12-31"], "datetime64[ns]")  # before 1970: negative
    for freq in [pd.offsets.Day(), pd.offsets.Nano(), pd.offsets.MonthEnd()]:
        steps = [(pd.DatetimeIndex(early) + k * freq).as_unit("ns") for k in (1, 2)]
        expected = np.stack([s.to_numpy() for s in steps], axis=1)
        np.testing.assert_array_equal(future_timestamps(early, freq, 2), expected)
    last = np.array(["2262-01-01"], "datetime64[ns]")
    assert str(future_timestamps(last, pd.offsets.Day(), 100)[0, -1])[:10] == "2262-04-11"
    with pytest.raises(ValueError, match="shorten the horizon"):
        future_timestamps(last, pd.offsets.Day(), 101)
    with pytest.raises(ValueError, match="largest int64.*shorten the horizon"):
        future_timestamps(np.array([2**62]), 2**61, 2)


def test_business_days_with_holidays_say_how_to_pass_them():
    cbd = pd.offsets.CustomBusinessDay(holidays=["2024-03-29", "2024-04-01"])
    ds = pd.date_range("2024-01-02", periods=70, freq=cbd)
    df = pd.DataFrame({"unique_id": "a", "ds": ds, "y": 1.0})
    with pytest.raises(ValueError, match=r"holidays=\['2024-03-29', '2024-04-01'\]"):
        from_frame(df)
    panel = from_frame(df, freq=cbd)
    assert list(panel.future_ds(2)[0]) == list(pd.to_datetime(["2024-04-11", "2024-04-12"]))
    # a weekly series with a gap is not business days: no such hint
    weekly = df.assign(ds=pd.date_range("2024-01-01", periods=70, freq="W-MON"))
    with pytest.raises(ValueError, match="irregular") as err:
        from_frame(weekly.drop(index=5))
    assert "holidays" not in str(err.value)


@pytest.mark.parametrize("freq", [pd.DateOffset(months=1), None])
@pytest.mark.parametrize(
    "start, offset",
    [
        ("2020-01-30", pd.DateOffset(months=1)),
        ("2019-01-31", pd.DateOffset(months=1)),
        ("2020-02-29", pd.DateOffset(years=1)),
        ("2019-08-31", pd.DateOffset(months=3)),
    ],
)
def test_a_date_range_of_the_given_offset_is_regular_for_it(freq, start, offset):
    """`pd.date_range(..., freq=pd.DateOffset(months=1))` from the 30th steps from each date to
    the next (Jan 30, Feb 29, Mar 29, ...): regular for that offset (issue 30: it was refused),
    passed or inferred, and its future goes on as pd.date_range would."""
    n, h = 30, 5
    grid = pd.date_range(start, periods=n + h, freq=offset)
    freq = offset if freq is not None else None
    p = from_frame(one(grid[:n]), freq=freq)
    assert p.freq == offset or freq is None  # inferred: whole months (years=1 as months=12)
    assert p.future_ds(h)[0].tolist() == grid[n:].as_unit("ns").to_numpy().tolist()
    assert p.drop_last(h).future_ds(h)[0].tolist() == p.ds[-h:].tolist()  # backtest cut
    with pytest.raises(ValueError, match="series 'a' has irregular"):
        from_frame(one(grid[:n]).drop(index=7), freq=offset)


def test_a_date_range_series_beside_an_anchored_one_and_through_a_model(tmp_path):
    """Each series keeps its own grid: the anchored one (Mar 30) and pd.date_range's (Mar 29)
    in one panel; a forecaster, a baseline, a saved model and a backtest agree on the dates."""
    from histcast.baselines import SeasonalNaive
    from histcast.evaluation.backtest import cross_validation
    from histcast.forecaster import HistForecaster

    month = pd.DateOffset(months=1)
    chained = pd.date_range("2020-01-30", periods=40, freq=month)
    df = pd.concat([one(MONTHLY_30, "anchored"), one(chained, "date_range")], ignore_index=True)
    p = from_frame(df, freq=month)
    fut = p.future_ds(2)
    assert [str(t)[:10] for t in fut[0]] == ["2022-01-30", "2022-02-28"]  # first + k months
    assert (
        fut[1].tolist()
        == pd.date_range(chained[-1], periods=3, freq=month)[1:].as_unit("ns").to_numpy().tolist()
    )
    model = HistForecaster(horizon=2, freq=month, max_steps=2, hidden_size=8, n_bins=10,
                           context_length=8, verbose=False).fit(df)  # fmt: skip
    fc = model.forecast()
    assert fc["ds"].to_numpy().reshape(2, 2).tolist() == fut.tolist()
    base = SeasonalNaive(horizon=2, freq=month).fit(df).forecast()
    assert base["ds"].to_numpy().reshape(2, 2).tolist() == fut.tolist()
    model.save(tmp_path / "m")
    pd.testing.assert_frame_equal(HistForecaster.load(tmp_path / "m").forecast(), fc)
    cv = cross_validation(SeasonalNaive(horizon=2, freq=month), df, h=2, n_windows=2)
    merged = cv.merge(df, on=["unique_id", "ds"], suffixes=("", "_df"))
    assert len(merged) == len(cv) == 2 * 2 * 2
