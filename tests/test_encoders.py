import pytest
import torch

from histcast.encoders import TCNEncoder, make_encoder


def test_tcn_is_causal_and_covers_its_context():
    torch.manual_seed(0)
    tcn = TCNEncoder(3, 8, context_length=14, dropout=0.0).eval()
    assert tcn.receptive_field >= 14
    x = torch.randn(2, 14, 3, requires_grad=True)
    tcn(x).sum().backward()
    assert (x.grad.abs().sum(-1) > 0).all()  # the state reads every step of the context

    def per_step(inputs):  # (B, T, d_in) -> (B, hidden, T)
        return tcn.blocks(tcn.proj(inputs.transpose(1, 2)))

    x2 = x.detach().clone()
    x2[:, 10:] += 1.0  # changing steps >= 10 leaves the outputs before step 10 unchanged
    with torch.no_grad():
        torch.testing.assert_close(per_step(x2)[..., :10], per_step(x.detach())[..., :10])
        assert not torch.allclose(per_step(x2)[..., 10:], per_step(x.detach())[..., 10:])


def test_unknown_encoder():
    with pytest.raises(ValueError, match="unknown encoder"):
        make_encoder("lstm", 3, 8, 1, 14, 0.0)
