import numpy as np

from histcast.windows import recency_weights
from histcast.training import batches_of
from histcast.windows import training_windows


def test_recency_weights_halve_every_halflife():
    indptr = np.array([0, 5, 8])  # series of 5 and 3 points
    win = training_windows(indptr, np.array([5, 3]))  # cutoffs at local 0..3 and 0..1
    w = recency_weights(win, indptr, halflife=2)
    ages = np.array([4, 3, 2, 1, 2, 1])  # steps from each cutoff to its series' last point
    np.testing.assert_allclose(w, 0.5 ** (ages / 2))
    assert recency_weights(win, indptr, None) is None


def test_weighted_batches_follow_the_weights():
    rng = np.random.default_rng(0)
    weights = np.array([1.0, 0.0, 2.0, 5.0, 0.0, 2.0])
    draw = batches_of(len(weights), 1000, rng, weights)
    counts = np.bincount(np.concatenate([next(draw) for _ in range(200)]), minlength=6)
    share = counts / counts.sum()
    np.testing.assert_allclose(share, weights / weights.sum(), atol=0.005)  # 200k draws
    assert counts[1] == counts[4] == 0  # zero weight: never drawn


def test_unweighted_batches_visit_every_window_once_per_pass():
    draw = batches_of(12, 4, np.random.default_rng(0))
    first_pass = np.concatenate([next(draw) for _ in range(3)])
    assert sorted(first_pass) == list(range(12))
