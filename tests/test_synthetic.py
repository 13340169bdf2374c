import numpy as np
import pytest
import torch

from histcast.datasets.synthetic import make_panel


@pytest.mark.parametrize("kind", ["seasonal", "skewed", "bimodal"])
def test_truth_is_calibrated_on_its_own_data(kind):
    panel = make_panel(kind, n_series=10, length=600, seed=1)
    df = panel.df
    truth = panel.truth(df[["unique_id", "ds"]], n_bins=2000)
    pit = truth.pit(torch.tensor(df["y"].to_numpy())).numpy()
    counts = np.histogram(pit, bins=10, range=(0, 1))[0] / len(pit)
    np.testing.assert_allclose(counts, 0.1, atol=0.015)  # 6,000 draws: sd of a share ~0.004


def test_intermittent_truth_matches_sample_frequencies():
    panel = make_panel("intermittent", n_series=10, length=2000, seed=2)
    df = panel.df
    truth = panel.truth(df[["unique_id", "ds"]])
    assert (df["y"] == np.round(df["y"])).all()
    p_zero = truth.cdf(torch.full((len(df),), 0.5, dtype=torch.float64)).mean().item()
    assert (df["y"] == 0).mean() == pytest.approx(p_zero, abs=0.01)
    assert df["y"].mean() == pytest.approx(truth.mean.mean().item(), rel=0.03)
