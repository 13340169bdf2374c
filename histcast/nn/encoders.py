"""Sequence encoders: read a context `(B, C, D_in)` and return a state `(B, hidden)`."""

from __future__ import annotations

import torch
from torch import nn

from .layers import StepDropout

ENCODERS = ("gru", "tcn")


class GRUEncoder(nn.Module):
    """Stacked GRU; the state is the last layer's hidden state after the last context step."""

    def __init__(self, d_in: int, hidden: int, n_layers: int, dropout: float):
        super().__init__()
        self.gru = nn.GRU(
            d_in, hidden, n_layers, batch_first=True, dropout=dropout if n_layers > 1 else 0.0
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h = self.gru(x)
        return h[-1]


class CausalBlock(nn.Module):
    """Two dilated causal convolutions (kernel k, dilation d) with a residual connection,
    evaluated only at the positions the encoder's state needs (`TCNEncoder`).

    Its input is `(B, |S_in|, channels)`: the block's input at positions S_in, channels last.
    conv1 runs at S_mid and conv2 at S_out (the positions the next block reads), both as one
    matrix product over the k taps gathered from a row index (a conv at position t reads
    t - (k - 1 - j) d for tap j; positions before the context read a zero row). Dropout drops
    whole channels of a window (one mask `(B, 1, channels)`, as "spatial dropout" and
    `nn.Dropout1d` do): one draw per channel instead of one per channel and step."""

    def __init__(self, channels: int, kernel: int, dilation: int, dropout: float):
        super().__init__()
        self.kernel, self.dilation = kernel, dilation
        self.conv1 = nn.Conv1d(channels, channels, kernel, dilation=dilation)
        self.conv2 = nn.Conv1d(channels, channels, kernel, dilation=dilation)
        self.drop = StepDropout(dropout)

    def plan(self, s_out: list[int]) -> list[int]:
        """Index the block for outputs at positions `s_out`; returns S_in, the input positions."""
        offsets = [(self.kernel - 1 - j) * self.dilation for j in range(self.kernel)]
        s_mid = sorted({p - o for p in s_out for o in offsets if p >= o})
        s_in = sorted({p - o for p in s_mid for o in offsets if p >= o})
        for name, s_o, s_i in (("taps1", s_mid, s_in), ("taps2", s_out, s_mid)):
            row = {p: i for i, p in enumerate(s_i)}  # the zero row is len(s_i)
            taps = [[row.get(p - o, len(s_i)) for o in offsets] for p in s_o]
            self.register_buffer(name, torch.tensor(taps), persistent=False)
        self.register_buffer("keep", torch.tensor([s_in.index(p) for p in s_out]), persistent=False)
        return s_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, |S_in|, channels)
        h = self.drop(torch.relu(conv_at(x, self.taps1, self.conv1)))
        h = self.drop(torch.relu(conv_at(h, self.taps2, self.conv2)))
        return x.index_select(1, self.keep) + h


def conv_at(x: torch.Tensor, taps: torch.Tensor, conv: nn.Conv1d) -> torch.Tensor:
    """`conv` at chosen positions: x `(B, N, C_in)`, taps `(M, k)` rows of x (N = zero row)
    -> `(B, M, C_out)`, y_m = b + sum_j W[:, :, j] x[taps[m, j]]."""
    x = nn.functional.pad(x, (0, 0, 0, 1))
    # index_select, not x[:, taps]: its backward is an index_add, where advanced indexing's
    # is an index_put that costs more than the convolutions it saves
    cols = x.index_select(1, taps.flatten()).view(len(x), len(taps), -1)  # (B, M, k C_in)
    weight = conv.weight.permute(0, 2, 1).flatten(1)  # (C_out, k C_in), tap-major
    return nn.functional.linear(cols, weight, conv.bias)


class TCNEncoder(nn.Module):
    """Dilated causal TCN (Bai et al. 2018); dilations 1, 2, 4, ... until the receptive field
    1 + 2 (k - 1) sum(dilations) covers the context. The state is the output at the last step,
    so each block is evaluated only at the positions that output depends on (planned back from
    the last step at construction): the same function as running every block over the whole
    context, with fewer convolutions."""

    def __init__(self, d_in: int, hidden: int, context_length: int, dropout: float, kernel=3):
        super().__init__()
        dilations, field = [], 1
        while field < context_length:
            dilations.append(2 ** len(dilations))
            field += 2 * (kernel - 1) * dilations[-1]
        self.receptive_field = field
        self.proj = nn.Conv1d(d_in, hidden, 1)
        self.blocks = nn.Sequential(*(CausalBlock(hidden, kernel, d, dropout) for d in dilations))
        need = [context_length - 1]
        for block in reversed(self.blocks):
            need = block.plan(need)
        self.register_buffer("inputs", torch.tensor(need), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, d_in) -> (B, hidden)
        x = x.index_select(1, self.inputs)  # (B, |S_in|, d_in): the context steps read
        h = nn.functional.linear(x, self.proj.weight[..., 0], self.proj.bias)
        return self.blocks(h)[:, -1]


def make_encoder(kind: str, d_in: int, hidden: int, n_layers: int, context_length: int, dropout):
    if kind == "gru":
        return GRUEncoder(d_in, hidden, n_layers, dropout)
    if kind == "tcn":
        return TCNEncoder(d_in, hidden, context_length, dropout)
    raise ValueError(f"unknown encoder {kind!r}; choose one of {ENCODERS}")
