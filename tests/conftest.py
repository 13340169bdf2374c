import numpy as np
import pandas as pd
import pytest
import torch

from histcast.synthetic import make_panel

torch.set_num_threads(2)


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
