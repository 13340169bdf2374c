import numpy as np
import pytest
import torch
from scipy import stats

from histcast.data import bins
from histcast.nn.losses import (
    bin_targets,
    cross_entropy,
    gaussian_nll,
    gaussian_target,
    histogram_loss,
    mse_loss,
    pinball_loss,
    scaled_probs,
)

K = 50


@pytest.mark.parametrize("y", [0.0, 0.013, 0.5, 0.731, 0.999, 1.0])
@pytest.mark.parametrize("ratio", [0.5, 0.75, 1.0, 2.0])
def test_gaussian_target_matches_truncnorm(y, ratio):
    sigma = ratio / K
    ref_dist = stats.truncnorm((0 - y) / sigma, (1 - y) / sigma, loc=y, scale=sigma)
    ref = np.diff(ref_dist.cdf(np.linspace(0, 1, K + 1)))
    got = gaussian_target(torch.tensor(y, dtype=torch.float64), K, ratio).numpy()
    np.testing.assert_allclose(got, ref, atol=1e-12)


def test_gaussian_target_float32_keeps_tail_precision():
    y = torch.tensor([0.98], dtype=torch.float32)
    got = gaussian_target(y, K, 1.0)[0].double()
    ref = gaussian_target(y.double(), K, 1.0)[0]
    torch.testing.assert_close(got, ref, atol=1e-6, rtol=0)


@pytest.mark.parametrize("kind", ["gaussian", "dirac", "twohot"])
def test_targets_sum_to_one_and_clip_outside_values(kind):
    y = torch.tensor([-3.0, 0.0, 0.2, 0.55, 1.0, 7.0], dtype=torch.float64)
    p = bin_targets(y, K, kind)
    torch.testing.assert_close(p.sum(-1), torch.ones(6, dtype=torch.float64))
    assert (p >= 0).all()
    # outside values land in the edge bins, like the values at the edges
    torch.testing.assert_close(p[0], p[1])
    torch.testing.assert_close(p[-1], p[-2])


def test_dirac_and_twohot_by_hand():
    y = torch.tensor([0.23, 0.25], dtype=torch.float64)
    d = bin_targets(y, 10, "dirac")
    assert d[0].argmax() == 2 and d[1].argmax() == 2 and d.max() == 1
    t = bin_targets(y, 10, "twohot")
    # centres 0.15, 0.25, ...: 0.23 splits 0.2 / 0.8 between bins 1 and 2; 0.25 is bin 2 alone
    np.testing.assert_allclose(t[0, 1:3].numpy(), [0.2, 0.8])
    np.testing.assert_allclose(t[1, 2].item(), 1.0)
    centres = (torch.arange(10, dtype=torch.float64) + 0.5) / 10
    assert (t[0] * centres).sum().item() == pytest.approx(0.23)


def test_soft_targets_are_passed_through():
    teacher = torch.softmax(torch.randn(4, K), -1)
    logits = torch.randn(4, K)
    y = torch.rand(4)
    got = histogram_loss(logits, y, kind="soft", soft=teacher)
    ref = -(teacher * torch.log_softmax(logits, -1)).sum(-1).mean()
    torch.testing.assert_close(got, ref)
    with pytest.raises(ValueError, match="teacher"):
        histogram_loss(logits, y, kind="soft")
    with pytest.raises(ValueError, match="unknown target"):
        histogram_loss(logits, y, kind="laplace")


def test_loss_gradient_is_q_minus_p():
    torch.manual_seed(0)
    logits = torch.randn(8, 5, K, dtype=torch.float64, requires_grad=True)
    y = torch.rand(8, 5, dtype=torch.float64)
    loss = histogram_loss(logits, y, "gaussian", 0.75)
    loss.backward()
    p = gaussian_target(y, K, 0.75)
    q = torch.softmax(logits.detach(), -1)
    torch.testing.assert_close(logits.grad, (q - p) / 40)


def test_loss_masks_missing_targets():
    logits = torch.randn(3, 4, K)
    y = torch.rand(3, 4)
    y_nan = y.clone()
    y_nan[1, 2] = float("nan")
    keep = ~torch.isnan(y_nan)
    full = -(gaussian_target(y, K) * torch.log_softmax(logits, -1)).sum(-1)
    torch.testing.assert_close(histogram_loss(logits, y_nan), full[keep].mean())
    torch.testing.assert_close(cross_entropy(logits, gaussian_target(y, K)), full.mean())


def test_gradient_stays_bounded_when_y_is_scaled_but_mse_does_not():
    """The paper's argument: d loss / d logits = q - p has norm <= sqrt(2) per row whatever y's
    scale. The histogram loss sees y through the support each window's context gives
    (`bins.window_ranges`), so scaling the data by c leaves its unit targets and gradient
    unchanged; MSE on the raw values grows with c^2 (its gradient with c)."""
    torch.manual_seed(0)
    context = torch.rand(64, 12, dtype=torch.float64)
    y = torch.rand(64, dtype=torch.float64) * 1.4 - 0.2  # some targets outside the context
    norms = {}
    for scale in (1.0, 1e6):
        lo, hi = bins.widen(*bins.window_ranges(context * scale), 0.1)
        u = bins.to_unit(y * scale, lo, hi)
        logits = torch.zeros(64, K, dtype=torch.float64, requires_grad=True)
        histogram_loss(logits, u).backward()
        pred = torch.zeros(64, dtype=torch.float64, requires_grad=True)
        mse_loss(pred, y * scale).backward()
        rows = (logits.grad * 64).norm(dim=-1)  # per-row gradient q - p (the mean divides by 64)
        norms[scale] = (rows, pred.grad.norm().item())
    (hist_small, mse_small), (hist_big, mse_big) = norms[1.0], norms[1e6]
    assert (hist_big <= np.sqrt(2)).all()
    torch.testing.assert_close(hist_big, hist_small)
    assert mse_big > 1e5 * mse_small


def test_comparison_losses_by_hand():
    y = torch.tensor([1.0, 2.0, float("nan")])
    loc, scale = torch.tensor([0.0, 2.0, 5.0]), torch.tensor([1.0, 2.0, 1.0])
    ref = np.mean([stats.norm(0, 1).logpdf(1.0), stats.norm(2, 2).logpdf(2.0)])
    assert gaussian_nll(loc, scale, y).item() == pytest.approx(-ref, rel=1e-6)
    q = torch.tensor([[0.0, 1.0], [3.0, 3.0], [0.0, 0.0]])
    # y=1: rho_.1(1)=.1, rho_.9(0)=0; y=2: rho_.1(-1)=.9, rho_.9(-1)=.1 -> (.05 + .5)/2
    assert pinball_loss(q, y, [0.1, 0.9]).item() == pytest.approx(0.275)
    assert mse_loss(torch.tensor([0.0, 0.0, 0.0]), y).item() == pytest.approx(2.5)


@pytest.mark.parametrize("kind", ["gaussian", "twohot"])
def test_sparse_cross_entropy_backward_passes_gradcheck(kind):
    """The hand-written backward of the histogram loss against finite differences."""
    torch.manual_seed(1)
    logits = torch.randn(3, 4, 12, dtype=torch.float64, requires_grad=True)
    y = torch.rand(3, 4, dtype=torch.float64)
    y[0, 1] = float("nan")
    assert torch.autograd.gradcheck(lambda x: histogram_loss(x, y, kind, 0.8), (logits,))


def test_dense_cross_entropy_backward_passes_gradcheck():
    """The soft (dense-target) path's hand-written backward against finite differences, with a
    target holding exact zeros and negligible bins."""
    torch.manual_seed(2)
    logits = torch.randn(3, 4, 12, dtype=torch.float64, requires_grad=True)
    target = torch.softmax(torch.randn(3, 4, 12, dtype=torch.float64) * 4, -1)
    target[0, 0, :3] = 0.0
    target = target / target.sum(-1, keepdim=True)
    assert torch.autograd.gradcheck(lambda x: cross_entropy(x, target), (logits,))


@pytest.mark.parametrize("kind", ["gaussian", "soft"])
def test_sharp_histograms_give_exact_gradients_without_subnormal_floats(kind):
    """Logits spread over hundreds of nats (a well-trained network's far bins) give float32
    probabilities far below 1e-38; the gradient must match a float64 autograd reference and hold
    no subnormal float (on a CPU they make the next matrix product 20-150x slower), also for
    a negative upstream gradient."""
    torch.manual_seed(3)
    logits = (torch.randn(8, 6, 200) * 60).requires_grad_(True)
    y = torch.rand(8, 6)
    y[1, 2] = float("nan")
    soft = torch.softmax(torch.randn(8, 6, 200) * 40, -1) if kind == "soft" else None
    tiny = torch.finfo(torch.float32).tiny
    for sign in (1.0, -3.0):
        logits.grad = None
        (sign * histogram_loss(logits, y, kind, soft=soft)).backward()
        x64 = logits.detach().double().requires_grad_(True)
        observed = ~torch.isnan(y)
        if kind == "soft":
            target = soft.double()
        else:
            target = bin_targets(y.double(), 200, "gaussian")
        nll = -(target * torch.log_softmax(x64, -1)).sum(-1)
        (sign * nll[observed].mean()).backward()
        g = logits.grad
        assert ((g != 0) & (g.abs() < tiny)).sum() == 0
        assert (g == 0).float().mean() > 0.3  # the far bins are exactly 0
        torch.testing.assert_close(g.double(), x64.grad, rtol=1e-5, atol=1e-7)  # g ~ 1/47


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_scaled_probs_is_the_plain_product_except_where_that_is_subnormal(dtype):
    """s exp(logp) to the bit wherever it is at least 4 tiny, exactly 0 below, never subnormal;
    rows with s = 0, negative s, and scales above 1 included."""
    torch.manual_seed(4)
    tiny = torch.finfo(dtype).tiny
    spread = 60.0 if dtype == torch.float32 else 600.0
    logp = torch.log_softmax(torch.randn(64, 300, dtype=dtype) * spread, -1)
    scale = torch.rand(64, dtype=dtype) * 10.0 ** torch.randint(-9, 2, (64,))
    scale[:3] = torch.tensor([0.0, -1e-4, -3.0], dtype=dtype)
    got = scaled_probs(logp, scale)
    plain = logp.exp() * scale[:, None]
    keep = plain.abs() >= 4 * tiny
    assert torch.equal(got[keep], plain[keep])
    assert (got[~keep] == 0).all() and (~keep).float().mean() > 0.3
    assert (got[0] == 0).all() and (got[1:3] <= 0).all()


def test_sparse_gaussian_targets_match_dense_truncnorm_in_float32():
    """The sparse float32 targets (shared edge tails) against scipy's truncnorm in float64, for
    targets near both edges, inside, and outside the support."""
    y = torch.tensor([-0.3, 0.0, 0.004, 0.37, 0.5, 0.9951, 1.0, 1.2])
    for ratio in (0.3, 1.0, 2.5):
        got = bin_targets(y, K, "gaussian", ratio).double().numpy()
        for row, v in zip(got, y.clamp(0, 1).double().numpy(), strict=True):
            sigma = ratio / K
            ref = stats.truncnorm(-v / sigma, (1 - v) / sigma, loc=v, scale=sigma)
            np.testing.assert_allclose(row, np.diff(ref.cdf(np.linspace(0, 1, K + 1))), atol=2e-7)
