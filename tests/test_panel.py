import json

import numpy as np
import pandas as pd
import pytest

from histcast.data.exog_frames import aligned, future_frame, static_frame
from histcast.data.frequency import freq_from_json, freq_to_json
from histcast.data.panel import MAX_ABS, MIN_ABS, Columns, from_frame


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


# -- bad inputs found by a probe: refused at their cause, with a message that names it ----------
def one(ds, y=None, ids=None):
    """A one-series frame (or several, given ids) with the given timestamps."""
    n = len(ds)
    y = np.arange(n, dtype=float) if y is None else y
    return pd.DataFrame({"unique_id": ["a"] * n if ids is None else ids, "ds": ds, "y": y})


HOURS = ["2024-01-01 00:00:00", "2024-01-01 01:00:00", "2024-01-01 02:00:00"]
MIXED = [HOURS[0] + "+01:00", HOURS[1] + "+02:00", HOURS[2] + "+02:00"]  # a DST change
PARIS = pd.date_range("2024", periods=3, freq="h", tz="Europe/Paris")
NAT = pd.to_datetime(["2024-01-01", None, "2024-01-03"])
OBJ_STR = pd.Series(["1", "2", "3"], dtype=object)


@pytest.mark.parametrize(
    "df, error, match",
    [
        # 1. UTC offsets in strings (were silently moved to UTC), one offset or mixed
        (one([t + "+02:00" for t in HOURS]), TypeError, "'ds'.*UTC offset.*tz_localize"),
        (one(MIXED), TypeError, "'ds'.*offsets"),
        (one([HOURS[0], HOURS[1] + "+02:00", HOURS[2]]), TypeError, "'ds'.*offsets"),
        (one([t.replace(" ", "T") + "Z" for t in HOURS]), TypeError, "'ds'.*UTC"),
        (one(PARIS), TypeError, "'ds'.*aware"),
        # 2. floats that are not steps (were nanoseconds since 1970); booleans
        (one([1.0, 1.5, 2.0]), TypeError, "'ds'.*float.*not integer steps.*1.5"),
        (one([1.0, np.inf, 3.0]), TypeError, "'ds'.*not integer steps"),
        (one([True, False, True]), TypeError, "'ds'.*booleans"),
        (one(pd.Series([True, False, True], dtype=object)), TypeError, "'ds'.*booleans"),
        (one([1, "2024-01-01", "2024-01-02"]), TypeError, "'ds'.*mix of number, string"),
        (one(np.array([2**63, 2**63 + 1, 2**63 + 2], np.uint64)), ValueError, "beyond int64"),
        (one(np.array(["3000-01-01", "3000-01-02"], "M8[s]")), ValueError, "outside"),
        (one(pd.period_range("2024-01", periods=3, freq="M")), TypeError, "to_timestamp"),
        # 5. missing or mixed-type ids (ended in a numpy sort error)
        (one([1, 2, 3], ids=["a", None, "a"]), ValueError, "'unique_id' has 1 missing ids"),
        (one([1, 2, 3], ids=[1.0, np.nan, np.nan]), ValueError, "'unique_id' has 2 missing ids"),
        (one([1, 2, 1, 2], ids=[1, 1, "b", "b"]), TypeError, "'unique_id' mixes.*number, string"),
        (one([1, 2, 1, 2], ids=[1, 1, "1", "1"]), TypeError, "'unique_id' mixes"),
        # 6. missing timestamps (were reported as a gap)
        (one(NAT), ValueError, "'ds' has 1 missing timestamps, e.g. in series 'a'"),
        (one(["2024-01-01", "NaT", ""]), ValueError, "'ds' has 2 missing timestamps"),
        (one([1.0, np.nan, 3.0]), ValueError, "'ds' has 1 missing timestamps"),
        (one(pd.array([1, None, 3], dtype="Int64")), ValueError, "'ds' has 1 missing timestamps"),
        # 7. targets that are not real numbers, or too large to give finite spans
        (one([1, 2, 3], y=["1", "2", "3"]), TypeError, "'y' must be numeric.*pd.to_numeric"),
        (one([1, 2, 3], y=OBJ_STR), TypeError, "'y' must be numeric"),
        (one([1, 2, 3], y=np.array([1 + 1j, 2, 3])), TypeError, "'y' holds complex"),
        (one([1, 2, 3], y=pd.Series([1 + 1j, 2, 3], dtype=object)), TypeError, "'y' holds complex"),
        (one([1, 2, 3], y=[True, False, True]), TypeError, "'y' must be numeric"),
        (one([1, 2, 3], y=[1.0, -1e301, 3.0]), ValueError, r"1 values with \|y\| > 1e\+300.*'a'"),
        (one([1, 2, 3], y=[1.0, 2.0, np.inf]), ValueError, "infinite.*'a'"),
    ],
)  # fmt: skip
def test_bad_inputs_raise_naming_the_cause(df, error, match):
    with pytest.raises(error, match=match):
        from_frame(df)


def test_float128_beyond_float64_is_huge_not_infinite():
    if np.finfo(np.longdouble).max <= np.finfo(np.float64).max:
        pytest.skip("long double is float64 on this platform")
    y = np.array([1, np.longdouble("1e400"), 3], np.longdouble)
    with pytest.raises(ValueError, match="values with"):
        from_frame(one([1, 2, 3], y=y))


@pytest.mark.parametrize(
    "ds, step",
    [
        ([1.0, 2.0, 3.0], 1),  # integral floats, as after a CSV round trip
        ([0.0, 5.0, 10.0], 5),
        (pd.Series([1, 2, 3], dtype=object), 1),
        (pd.array([1, 2, 3], dtype="Int64"), 1),
    ],
)
def test_integral_floats_and_object_ints_are_integer_steps(ds, step):
    p = from_frame(one(ds))
    assert p.freq == step and p.ds.dtype == np.int64
    np.testing.assert_array_equal(p.future_ds(1)[0], [int(ds[2]) + step])


def test_accepted_target_forms_keep_their_values():
    ok = [1.5, None, 3.0]
    for y in [pd.Series(ok, dtype=object), pd.array(ok, dtype="Float64"), np.float32(ok)]:
        p = from_frame(one([1, 2, 3], y=y))
        assert np.isnan(p.values[1]) and p.values[0] == 1.5 and p.values[2] == 3.0


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")  # float32 values until float64
def test_magnitude_limit_is_inclusive():
    from_frame(one([1, 2, 3], y=[1.0, -MAX_ABS, MAX_ABS]))
    from_frame(one([1, 2, 3], y=[0.0, -MIN_ABS, MIN_ABS]))


@pytest.mark.parametrize("tiny", [1e-303, -1e-310, 5e-324])
def test_values_too_close_to_zero_are_refused(tiny):
    """Their 1% spans would be subnormal floats that have lost their digits (a probe found the
    mean of y * 1e-306 off by 30x)."""
    with pytest.raises(ValueError, match=r"non-zero values with \|y\| < 1e-290.*rescale"):
        from_frame(one([1, 2, 3], y=[1.0, tiny, 0.0]))


def test_ids_of_one_type_sort_as_expected():
    df = one([1, 2, 1, 2], ids=pd.Categorical(["b", "b", "a", "a"]))
    assert list(from_frame(df).ids) == ["a", "b"]
    assert list(from_frame(df.assign(unique_id=[10, 10, 2, 2])).ids) == [2, 10]


# 3. calendar frequencies on any day of the month (were "irregular" with a wrong frequency)
@pytest.mark.parametrize(
    "start, months",
    [("2024-01-15", 1), ("2023-11-28 12:00", 1), ("2024-02-10", 3), ("2000-06-15", 12)],
)
def test_months_on_any_day_are_inferred(start, months):
    offset = pd.DateOffset(months=months)
    df = pd.concat(
        [
            one(pd.date_range(start, periods=12, freq=offset)),
            one(pd.date_range("2010-01-03", periods=2, freq=offset), ids=["b", "b"]),
        ]
    )
    p = from_frame(df)
    assert p.freq == offset
    expected = pd.date_range(start, periods=14, freq=offset)[12:]
    np.testing.assert_array_equal(p.future_ds(2)[0], expected.to_numpy())
    with pytest.raises(ValueError, match="series 'a' has irregular"):
        from_frame(df.drop(index=4))


@pytest.mark.parametrize(
    "freq",
    ["MS", "ME", "QS-DEC", "QE-NOV", "YS", "W-SUN", "W-WED", "h", "15min", "D", "B", "7D",
     pd.DateOffset(months=1), pd.DateOffset(months=3), pd.offsets.MonthEnd(),
     pd.Timedelta("1h"), np.timedelta64(30, "m")],
)  # fmt: skip
def test_given_frequency_is_checked_and_kept(freq):
    td = isinstance(freq, np.timedelta64)  # pandas' to_offset does not take it, from_frame does
    offset = pd.tseries.frequencies.to_offset(pd.Timedelta(freq) if td else freq)
    df = frame(["a", "b"], [12, 8], freq=offset)
    p = from_frame(df, freq=freq)
    assert p.freq == offset
    expected = pd.date_range(p.last_ds[1], periods=3, freq=offset)[1:]
    np.testing.assert_array_equal(p.future_ds(2)[1], expected.to_numpy())
    assert from_frame(df).future_ds(2).tolist() == p.future_ds(2).tolist()  # inferred: same


@pytest.mark.parametrize(
    "ds, freq, error, match",
    [
        (["2024-01-15", "2024-02-15", "2024-03-15"], "MS", ValueError, "'a' has irregular.*'MS'"),
        (["2024-01-15", "2024-02-01", "2024-03-01"], "MS", ValueError, "'a' has irregular"),
        (["2024-01-01", "2024-01-02", "2024-01-03"], 1, TypeError, "integer ds.*dates"),
        ([1, 2, 3], "h", TypeError, "integer timestamps need an integer step"),
        ([1, 2, 3], 0, ValueError, "positive"),
        (["2024-01-01", "2024-01-02", "2024-01-03"], "-1D", ValueError, "forward"),
        (["2024-01-01", "2024-01-02", "2024-01-03"], "nonsense", ValueError, "not a pandas"),
    ],
)
def test_wrong_given_frequency_raises(ds, freq, error, match):
    df = one(pd.to_datetime(ds) if isinstance(ds[0], str) else ds)
    with pytest.raises(error, match=match):
        from_frame(df, freq=freq)


def test_irregular_steps_are_not_given_the_smallest_step():
    df = one(pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-08", "2024-02-01"]))
    with pytest.raises(ValueError, match="series 'a' has irregular"):
        from_frame(df)


# 4. every frequency histcast infers or accepts survives JSON
OFFSETS = [
    3, np.int64(2), "h", "15min", "30s", "D", "7D", "168h", "B", "W-SUN", "W-WED", "MS", "ME",
    "2MS", "QS-DEC", "QE-NOV", "YS", "YE-JUN", "BMS", "SME",
    pd.DateOffset(months=1), pd.DateOffset(months=3), pd.DateOffset(months=12),
    pd.DateOffset(years=1), pd.DateOffset(months=1, days=2), 2 * pd.DateOffset(months=1),
]  # fmt: skip


@pytest.mark.parametrize("freq", OFFSETS, ids=str)
def test_freq_json_round_trip(freq):
    freq = pd.tseries.frequencies.to_offset(freq) if isinstance(freq, str) else freq
    stored = json.loads(json.dumps(freq_to_json(freq)))
    back = freq_from_json(stored)
    assert back == freq and type(back) is (int if isinstance(freq, np.integer) else type(freq))


def test_freq_json_round_trips_inferred_frequencies_and_refuses_the_rest():
    for start, freq in [("2024-01-15", pd.DateOffset(months=1)), ("2024-01-07", "W-SUN")]:
        p = from_frame(one(pd.date_range(start, periods=5, freq=freq)))
        assert freq_from_json(json.loads(json.dumps(freq_to_json(p.freq)))) == p.freq
    assert freq_to_json(None) is None and freq_from_json(None) is None
    assert freq_to_json("h") == "h"
    holidays = pd.offsets.CustomBusinessDay(holidays=["2024-01-01"])
    with pytest.raises(ValueError, match="round trip"):
        freq_to_json(holidays)
    for bad in [True, 1.0, [1]]:
        with pytest.raises(TypeError):
            freq_to_json(bad)
    with pytest.raises(ValueError, match="not a stored frequency"):
        freq_from_json({"months": 1})


# 8. the caller's frame is never touched, and the panel's arrays are its own
def test_panel_arrays_are_copies_and_to_frame_keeps_values():
    df = frame(["b", "a"], [3, 4])
    df["y"] = [0.5, -2.25, 1e6, 7.0, 8.0, np.nan, 3.0]  # float32-exact values
    copy = df.copy()
    p = from_frame(df)
    p.values[:] = 0
    p.ds[:] = p.ds[0]
    pd.testing.assert_frame_equal(df, copy)
    p = from_frame(df)
    out = p.to_frame()
    out.loc[0, "y"] = 99.0
    out.loc[0, "ds"] = pd.Timestamp("1999-01-01")
    back = from_frame(df).to_frame()
    expected = df.sort_values(["unique_id", "ds"], ignore_index=True)
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    assert (back["ds"].to_numpy() == expected["ds"].to_numpy()).all()
    pd.testing.assert_frame_equal(df, copy)
    named = p.to_frame(Columns("id", "t", "v"))
    assert list(named.columns) == ["id", "t", "v"]


def test_to_frame_keeps_float64_values_exactly():
    df = one([1, 2, 3], y=[0.1, 1e-300 + 1.0, 123456789.123])
    np.testing.assert_array_equal(from_frame(df).to_frame()["y"], df["y"])


# 9. date strings are read with one format for the whole column (were read one by one, month
# first when ambiguous: DD/MM monthly dates became Jan 1-12)
MONTH_STARTS = pd.date_range("2020-01-01", periods=12, freq="MS")
DAYS = pd.date_range("2020-01-01", periods=30, freq="D")


@pytest.mark.parametrize(
    "strings, expected",
    [
        (DAYS.strftime("%d/%m/%Y"), DAYS),  # day first: only one order reads "13/01/2020"
        (DAYS.strftime("%m/%d/%Y"), DAYS),
        (DAYS.strftime("%d.%m.%Y %H:%M"), DAYS),
        (DAYS.strftime("%Y-%m-%d"), DAYS),
        (DAYS.strftime("%Y%m%d"), DAYS),
        (["2024-01-01", "2024-01-01 01:00:00", "2024-01-01 02:00"], "h"),  # ISO, any precision
        (MONTH_STARTS.strftime("%b %Y"), MONTH_STARTS),  # no single format: read one by one
    ],
)
def test_date_strings_are_read_with_one_format(strings, expected):
    if isinstance(expected, str):
        expected = pd.date_range(strings[0], periods=len(strings), freq=expected)
    np.testing.assert_array_equal(from_frame(one(list(strings))).ds, expected.to_numpy())


@pytest.mark.parametrize(
    "strings, match",
    [
        (MONTH_STARTS.strftime("%d/%m/%Y"), r"day/month order is ambiguous.*format='%d/%m/%Y'"),
        (MONTH_STARTS.strftime("%m/%d/%Y"), r"day/month order is ambiguous.*'01/01/2020'"),
        (MONTH_STARTS.strftime("%d/%m/%y"), "day/month order is ambiguous.*pd.to_datetime"),
        # two-digit years first: read month first and year first they are different dates
        (pd.date_range("2020-01-01", periods=20).strftime("%y-%m-%d"), "year first"),
        (["2020-01-01", "02/01/2020", "2020-01-03"], "more than one format.*format="),
        (["01/13/2020", "2020-01-14", "01/15/2020"], "more than one format"),
    ],
)
def test_ambiguous_or_mixed_date_strings_are_refused(strings, match):
    with pytest.raises(ValueError, match=match):
        from_frame(one(list(strings)))


# 10. futr_df's timestamps are read as df's (were parsed by another rule, raw pandas errors)
def futr_args(start):
    """A futr_df with a `promo` column for a panel starting at `start`, and its other args."""
    p = from_frame(frame(["a", "b"], [5, 4], freq="D", start=start))
    fut_ds = p.future_ds(3)
    ids = np.repeat(p.ids, 3)
    fut = pd.DataFrame({"unique_id": ids, "ds": fut_ds.reshape(-1), "promo": np.arange(6.0)})
    return fut, (["promo"], p.ids, fut_ds, Columns())


def test_futr_df_dates_are_read_as_df_dates():
    fut, args = futr_args("2024-01-10")  # forecasts on Jan 15-17: day first or month first
    expected = future_frame(fut, *args)
    for fmt in ["%d/%m/%Y %H:%M", "%m/%d/%Y", "%Y-%m-%d"]:
        as_text = fut.assign(ds=fut.ds.dt.strftime(fmt))
        pd.testing.assert_frame_equal(future_frame(as_text, *args), expected)
    with pytest.raises(TypeError, match="futr_df column 'ds' holds integer steps.*dates"):
        future_frame(fut.assign(ds=np.arange(len(fut))), *args)
    fut, args = futr_args("2024-01-01")  # forecasts on Jan 6-8: both orders read them
    ambiguous = fut.assign(ds=fut.ds.dt.strftime("%d/%m/%Y"))
    with pytest.raises(ValueError, match="futr_df: column 'ds' has dates whose day/month"):
        future_frame(ambiguous, *args)


# 11. a column name twice (was an AttributeError from deep inside)
def test_duplicate_column_names_are_refused_in_every_frame():
    df = frame(["a", "b"], [5, 4], freq="D").assign(promo=1.0)
    twice = pd.concat([df, df[["promo"]]], axis=1)
    with pytest.raises(ValueError, match=r"df has duplicate column names \['promo'\]"):
        from_frame(twice)
    with pytest.raises(ValueError, match=r"df has duplicate column names \['y'\]"):
        from_frame(pd.concat([df, df[["y"]]], axis=1))
    with pytest.raises(ValueError, match=r"df has duplicate column names \['promo'\]"):
        aligned(twice, from_frame(df, keep_order=True), ["promo"])
    p = from_frame(df)
    fut = pd.DataFrame({"unique_id": "a", "ds": p.future_ds(1)[0], "promo": [1.0]})
    with pytest.raises(ValueError, match=r"futr_df has duplicate column names \['promo'\]"):
        future_frame(pd.concat([fut, fut[["promo"]]], axis=1), ["promo"], p.ids[:1],
                     p.future_ds(1)[:1], Columns())  # fmt: skip
    static = pd.DataFrame({"unique_id": ["a", "b"], "g": [1.0, 2.0]})
    with pytest.raises(ValueError, match=r"static_df has duplicate column names \['g'\]"):
        static_frame(pd.concat([static, static[["g"]]], axis=1), ["g"], p.ids, Columns(), True)
