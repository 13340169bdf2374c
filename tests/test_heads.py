import numpy as np
import pytest
import torch
from scipy import stats

from histcast.dist.histogram import Histogram
from histcast.nn.heads import (
    QUANTILE_LEVELS,
    PointHead,
    QuantileHead,
    make_head,
    normal_probs,
)
from histcast.nn.layers import StepDropout
from histcast.nn.network import seasonal_lag_index


def test_seasonal_lags_are_same_phase_positions():
    # context of C=8 positions (times -7..0), season 4: step h at time h
    idx = seasonal_lag_index(horizon=6, context_length=8, season=4)
    times = idx - 7  # time of each context position
    h = torch.arange(1, 7).unsqueeze(-1)
    assert idx.shape == (6, 2)
    assert ((h - times) % 4 == 0).all()  # same phase
    assert (idx >= 0).all() and (idx <= 7).all()
    assert idx[0].tolist() == [4, 0] and idx[4].tolist() == [4, 0]  # h=1 and h=5: time -3, -7


def test_no_lags_without_a_season():
    assert seasonal_lag_index(5, 48, 1).shape == (5, 0)


def test_normal_probs_match_truncated_normal():
    loc, scale, k = (
        torch.tensor(0.3, dtype=torch.float64),
        torch.tensor(0.2, dtype=torch.float64),
        20,
    )
    p = normal_probs(loc, scale, k).numpy()
    tn = stats.truncnorm((0 - 0.3) / 0.2, (1 - 0.3) / 0.2, loc=0.3, scale=0.2)
    np.testing.assert_allclose(p, np.diff(tn.cdf(np.linspace(0, 1, k + 1))), atol=1e-10)


def test_quantile_head_histogram_reproduces_its_quantiles():
    k = 500
    head = QuantileHead(4, 8, n_bins=k, dropout=0.0)
    torch.manual_seed(0)
    knots = torch.sort(torch.rand(3, len(QUANTILE_LEVELS), dtype=torch.float64) * 0.6 + 0.2)[0]
    grid = torch.linspace(0, 1, k + 1, dtype=torch.float64)
    dist = Histogram(grid, head.probs(knots))
    levels = np.asarray(QUANTILE_LEVELS)
    for row, q in zip(dist.cdf(grid.unsqueeze(-1)).T.numpy(), knots.numpy(), strict=True):
        # reference: the CDF through the knots, linear tails reaching 0 and 1
        lo = q[0] - (q[1] - q[0]) * levels[0] / (levels[1] - levels[0])
        hi = q[-1] + (q[-1] - q[-2]) * (1 - levels[-1]) / (levels[-1] - levels[-2])
        ref = np.interp(grid.numpy(), [lo, *q, hi], [0, *levels, 1])
        np.testing.assert_allclose(row, ref, atol=1e-9)
    got = dist.quantile(torch.tensor(levels))  # within a bin of the knots
    np.testing.assert_allclose(got.numpy(), knots.numpy(), atol=1 / k)


def test_quantile_head_quantiles_never_cross():
    head = QuantileHead(4, 8, n_bins=50, dropout=0.0)
    out = head(torch.randn(7, 5, 4) * 10)
    assert (out.diff(dim=-1) > 0).all()


def test_point_head_spread_tracks_its_residuals():
    torch.manual_seed(0)
    head = PointHead(1, 4, n_bins=100, dropout=0.0, horizon=2)
    head.train()
    out = torch.full((512, 2), 0.5)
    for _ in range(2000):
        y = 0.5 + 0.1 * torch.randn(512, 2)
        head.loss(out, y)
    np.testing.assert_allclose(head.resid_var.sqrt().numpy(), [0.1, 0.1], rtol=0.05)


@pytest.mark.parametrize("kind", ["histogram", "gaussian", "quantile", "mse"])
def test_every_head_gives_bin_probabilities(kind):
    head = make_head(kind, 6, 16, 30, 0.0, "gaussian", 1.0, horizon=5)
    out = head(torch.randn(4, 5, 6))
    probs = head.probs(out)
    assert probs.shape == (4, 5, 30)
    torch.testing.assert_close(probs.sum(-1), torch.ones(4, 5))
    loss = head.loss(out, torch.rand(4, 5))
    loss.backward()
    assert torch.isfinite(loss)


def test_unknown_head():
    with pytest.raises(ValueError, match="unknown head"):
        make_head("nope", 6, 16, 30, 0.0, "gaussian", 1.0, horizon=5)


def test_step_dropout_shares_one_mask_across_steps():
    torch.manual_seed(0)
    drop = StepDropout(0.25)
    x = torch.ones(2000, 6, 8)
    y = drop(x)
    kept = y[:, :1] != 0  # (B, 1, D)
    assert torch.equal(y != 0, kept.expand_as(y))  # every step of a window, same units
    assert torch.allclose(torch.unique(y), torch.tensor([0.0, 1 / 0.75]))
    assert abs(kept.float().mean().item() - 0.75) < 0.01  # keep rate 1 - p, mean preserved
    drop.eval()
    assert torch.equal(drop(x), x)


@pytest.mark.parametrize("kind", ["histogram", "gaussian", "quantile", "mse"])
def test_a_head_reads_broadcast_parts_as_their_concatenation(kind):
    torch.manual_seed(0)
    head = make_head(kind, 12, 16, 20, 0.0, "gaussian", 1.0, horizon=5).double().eval()
    state, step = torch.randn(3, 1, 4).double(), torch.randn(1, 5, 2).double()
    per_step = torch.randn(3, 5, 6).double()
    whole = torch.cat([state.expand(3, 5, 4), step.expand(3, 5, 2), per_step], -1)
    torch.testing.assert_close(head([state, step, per_step]), head(whole), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="head input has 10 features"):
        head([state, per_step])
