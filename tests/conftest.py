import os

import numpy as np
import pandas as pd
import pytest
import torch

from histcast.datasets.synthetic import make_panel

# 2 threads on CI's 2 cores; HISTCAST_TEST_THREADS=1 on a machine shared with other jobs
torch.set_num_threads(int(os.environ.get("HISTCAST_TEST_THREADS", "2")))


def split_last(df: pd.DataFrame, h: int):
    """(train, test): the last h rows of every series are the test."""
    test = df.groupby("unique_id").tail(h)
    return df.drop(test.index), test


@pytest.fixture(scope="session")
def small_panel():
    """Three hourly series of different lengths and scales, one with missing values."""
    rng = np.random.default_rng(0)
    frames = []
    for i, (n, level) in enumerate([(120, 10.0), (90, 1000.0), (60, 0.5)]):
        t = np.arange(n)
        y = level * (1 + 0.3 * np.sin(2 * np.pi * t / 24)) + rng.normal(0, 0.05 * level, n)
        if i == 0:
            y[[10, 11, 50]] = np.nan
        ds = pd.date_range("2024-03-01", periods=n, freq="h")
        frames.append(pd.DataFrame({"unique_id": f"u{i}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="session")
def bimodal():
    return make_panel("bimodal", n_series=20, length=500, seed=0)


def check_forecaster(model, df, h):
    """Smoke test every model passes: fit returns self, columns, monotone quantiles, no NaN."""
    original = df.copy()
    assert model.fit(df) is model
    pd.testing.assert_frame_equal(df, original)  # the caller's frame is untouched
    fc = model.forecast(quantiles=[0.1, 0.5, 0.9], level=[80])
    alias = model.alias_
    expected = ["unique_id", "ds", alias, f"{alias}-median", f"{alias}-lo-80", f"{alias}-hi-80"]
    expected += [f"{alias}-q-10", f"{alias}-q-50", f"{alias}-q-90"]
    assert list(fc.columns) == expected
    assert len(fc) == df["unique_id"].nunique() * h
    assert not fc.isna().any().any()
    q = fc[[f"{alias}-q-10", f"{alias}-q-50", f"{alias}-q-90"]].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()
    last = df.groupby("unique_id")["ds"].max()
    first_future = fc.groupby("unique_id")["ds"].min()
    assert (first_future - last == pd.Timedelta(hours=1)).all()
    return fc
