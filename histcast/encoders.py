"""Sequence encoders: read a context `(B, C, D_in)` and return a state `(B, hidden)`."""

from __future__ import annotations

import torch
from torch import nn

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
    """Two dilated causal convolutions (kernel k) with a residual connection. Dropout drops whole
    channels of a window (`nn.Dropout1d`, as "spatial dropout" in TCN implementations): one draw
    per channel instead of one per channel and step, which on a CPU is most of its cost."""

    def __init__(self, channels: int, kernel: int, dilation: int, dropout: float):
        super().__init__()
        self.pad = (kernel - 1) * dilation
        self.conv1 = nn.Conv1d(channels, channels, kernel, dilation=dilation)
        self.conv2 = nn.Conv1d(channels, channels, kernel, dilation=dilation)
        self.drop = nn.Dropout1d(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, channels, C)
        h = self.drop(torch.relu(self.conv1(nn.functional.pad(x, (self.pad, 0)))))
        h = self.drop(torch.relu(self.conv2(nn.functional.pad(h, (self.pad, 0)))))
        return x + h


class TCNEncoder(nn.Module):
    """Dilated causal TCN (Bai et al. 2018); dilations 1, 2, 4, ... until the receptive field
    1 + 2 (k - 1) sum(dilations) covers the context. The state is the output at the last step."""

    def __init__(self, d_in: int, hidden: int, context_length: int, dropout: float, kernel=3):
        super().__init__()
        dilations, field = [], 1
        while field < context_length:
            dilations.append(2 ** len(dilations))
            field += 2 * (kernel - 1) * dilations[-1]
        self.receptive_field = field
        self.proj = nn.Conv1d(d_in, hidden, 1)
        self.blocks = nn.Sequential(*(CausalBlock(hidden, kernel, d, dropout) for d in dilations))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.proj(x.transpose(1, 2)))
        return h[:, :, -1]


def make_encoder(kind: str, d_in: int, hidden: int, n_layers: int, context_length: int, dropout):
    if kind == "gru":
        return GRUEncoder(d_in, hidden, n_layers, dropout)
    if kind == "tcn":
        return TCNEncoder(d_in, hidden, context_length, dropout)
    raise ValueError(f"unknown encoder {kind!r}; choose one of {ENCODERS}")
