"""Property-based checks (hypothesis) on random valid panels: lengths, scales, gaps as NaN,
frequencies and id types drawn at random; a tiny model is fitted on each."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from histcast.data.frequency import future_timestamps
from histcast.forecaster import HistForecaster

TINY = dict(max_steps=3, hidden_size=8, n_bins=16, context_length=16, step_skip=2, verbose=False)
FREQS = ["h", "D", "W-SUN", "MS", "QS", 1, 7]


@st.composite
def panels(draw):
    """A long frame of 1-3 series of 20-60 points with gaps, a scale and a frequency."""
    freq = draw(st.sampled_from(FREQS))
    n_series = draw(st.integers(1, 3))
    int_ids = draw(st.booleans())
    scale = 10.0 ** draw(st.floats(-3, 3))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    frames = []
    for s in range(n_series):
        n = draw(st.integers(20, 60))
        t = np.arange(n)
        y = scale * (5 + np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.3, n).cumsum() * 0.2)
        y[rng.random(n) < draw(st.sampled_from([0.0, 0.1]))] = np.nan
        y[:2] = scale * 5  # at least two observed values
        if isinstance(freq, int):
            ds = 100 + freq * t
        else:
            ds = pd.date_range("2020-01-01", periods=n, freq=freq)
        frames.append(pd.DataFrame({"unique_id": s if int_ids else f"id{s}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True), freq


def _values(fc: pd.DataFrame) -> np.ndarray:
    return fc.drop(columns=["unique_id", "ds"]).to_numpy(np.float64)


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(
    panel=panels(), horizon=st.integers(1, 6), log_c=st.floats(-250, 250),
    log_a=st.floats(-2, 8), sign=st.sampled_from([-1.0, 1.0]),
)  # fmt: skip
@pytest.mark.slow
def test_forecast_invariants(tmp_path_factory, panel, horizon, log_c, log_a, sign):
    df, freq = panel
    original = df.copy()
    model = HistForecaster(horizon=horizon, seed=1, **TINY).fit(df)
    pd.testing.assert_frame_equal(df, original)  # the caller's frame is never modified
    fc = model.forecast(quantiles=[0.1, 0.25, 0.5, 0.75, 0.9], level=[50, 80, 95])
    values = _values(fc)
    assert np.isfinite(values).all()
    q = fc[[f"HistTCN-q-{a}" for a in (10, 25, 50, 75, 90)]].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()  # quantiles never cross
    lo = fc[[f"HistTCN-lo-{lv}" for lv in (95, 80, 50)]].to_numpy()
    assert (np.diff(lo, axis=1) >= 0).all()  # nested intervals
    last = df.groupby("unique_id")["ds"].max()
    offset = freq if isinstance(freq, int) else pd.tseries.frequencies.to_offset(freq)
    expected = future_timestamps(last.to_numpy(), offset, horizon)
    np.testing.assert_array_equal(fc["ds"].to_numpy().reshape(-1, horizon), expected)
    assert list(pd.unique(fc["unique_id"])) == sorted(df["unique_id"].unique())

    # scale equivariance: forecasts of c y are c times those of y, for any c > 0
    c = 10.0**log_c
    scaled = HistForecaster(horizon=horizon, seed=1, **TINY).fit(df.assign(y=df["y"] * c))
    got = _values(scaled.forecast(quantiles=[0.1, 0.25, 0.5, 0.75, 0.9], level=[50, 80, 95]))
    size = np.nanmax(np.abs(df["y"].to_numpy()))
    np.testing.assert_allclose(got / c, values, rtol=1e-4, atol=1e-4 * size)

    # shift equivariance: forecasts of a + y are a + those of y (no floor from the level)
    a = sign * size * 10.0**log_a
    shifted = HistForecaster(horizon=horizon, seed=1, **TINY).fit(df.assign(y=df["y"] + a))
    got = _values(shifted.forecast(quantiles=[0.1, 0.25, 0.5, 0.75, 0.9], level=[50, 80, 95]))
    np.testing.assert_allclose(got - a, values, rtol=0, atol=1e-4 * size + 1e-12 * abs(a))

    # same seed, same forecasts; save/load gives identical forecasts
    again = (
        HistForecaster(horizon=horizon, seed=1, **TINY)
        .fit(df)
        .forecast(quantiles=[0.1, 0.25, 0.5, 0.75, 0.9], level=[50, 80, 95])
    )
    pd.testing.assert_frame_equal(again, fc)
    path = tmp_path_factory.mktemp("model")
    model.save(path)
    loaded = HistForecaster.load(path)
    pd.testing.assert_frame_equal(loaded.forecast(), model.forecast())
    pd.testing.assert_frame_equal(loaded.forecast(df), model.forecast(df))


@pytest.mark.parametrize("c", [1e-7, 1e-6, 3.7, 1e12])
def test_scale_equivariance_of_the_issue_examples(small_panel, c):
    """The scales a probe found broken: 1e-6 and 1e-7 gave intervals 100-800x too wide."""
    kw = dict(horizon=4, max_epochs=2, steps_per_epoch=5, hidden_size=16, n_bins=50, verbose=False)
    base = _values(HistForecaster(**kw).fit(small_panel).forecast())
    scaled = HistForecaster(**kw).fit(small_panel.assign(y=small_panel["y"] * c)).forecast()
    np.testing.assert_allclose(_values(scaled) / c, base, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("a", [1e4, 1e6, 1e9])
def test_shift_equivariance_of_the_issue_examples(small_panel, a):
    """Shifts a probe found broken: the span floor grew with the level, so y + 1e6 (spread
    about 1) got 80% intervals 800x too wide."""
    kw = dict(horizon=4, max_epochs=2, steps_per_epoch=5, hidden_size=16, n_bins=50, verbose=False)
    base = _values(HistForecaster(**kw).fit(small_panel).forecast())
    shifted = HistForecaster(**kw).fit(small_panel.assign(y=small_panel["y"] + a)).forecast()
    # float64 rounding of y + a can flip a float32 input's last bit: 1e-7 of the value
    np.testing.assert_allclose(_values(shifted) - a, base, rtol=1e-6, atol=1e-4 + 1e-12 * a)
