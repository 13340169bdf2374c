import pytest
import torch

from histcast.nn.encoders import TCNEncoder, make_encoder


def full_tcn(tcn: TCNEncoder, x: torch.Tensor) -> torch.Tensor:
    """The TCN run over every context step, as `nn.Conv1d` layers with left padding: x
    `(B, T, d_in)` -> `(B, hidden, T)` (the reference the pruned encoder must equal)."""
    h = tcn.proj(x.transpose(1, 2))
    for block in tcn.blocks:
        pad = (block.kernel - 1) * block.dilation
        h1 = torch.relu(block.conv1(torch.nn.functional.pad(h, (pad, 0))))
        h = h + torch.relu(block.conv2(torch.nn.functional.pad(h1, (pad, 0))))
    return h


@pytest.mark.parametrize("length", [1, 2, 5, 14, 29, 30, 64])
def test_tcn_state_is_the_last_step_of_the_full_causal_convolution(length):
    torch.manual_seed(length)
    tcn = TCNEncoder(3, 8, context_length=length, dropout=0.3).eval()
    x = torch.randn(4, length, 3, dtype=torch.float64)
    tcn = tcn.double()
    torch.testing.assert_close(tcn(x), full_tcn(tcn, x)[..., -1], rtol=1e-12, atol=1e-12)


def test_tcn_is_causal_and_covers_its_context():
    torch.manual_seed(0)
    tcn = TCNEncoder(3, 8, context_length=14, dropout=0.0).eval()
    assert tcn.receptive_field >= 14
    x = torch.randn(2, 14, 3, requires_grad=True)
    tcn(x).sum().backward()
    assert (x.grad.abs().sum(-1) > 0).all()  # the state reads every step of the context

    x2 = x.detach().clone()
    x2[:, 10:] += 1.0  # changing steps >= 10 leaves the outputs before step 10 unchanged
    with torch.no_grad():
        before, after = full_tcn(tcn, x.detach()), full_tcn(tcn, x2)
        torch.testing.assert_close(after[..., :10], before[..., :10])
        assert not torch.allclose(after[..., 10:], before[..., 10:])


def test_tcn_dropout_drops_whole_channels_of_a_window():
    torch.manual_seed(0)
    block = TCNEncoder(3, 64, context_length=14, dropout=0.5).blocks[0]
    h = block.drop(torch.ones(2, 7, 64))
    assert set(h.unique().tolist()) == {0.0, 2.0}
    assert (h == h[:, :1]).all()  # the same mask at every step of a window


def test_unknown_encoder():
    with pytest.raises(ValueError, match="unknown encoder"):
        make_encoder("lstm", 3, 8, 1, 14, 0.0)
