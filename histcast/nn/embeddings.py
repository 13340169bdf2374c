"""Covariate columns -> network features: numeric columns as they are, categorical ones embedded.

A column's cardinality `card` is 0 for a numeric column and K + 1 for a categorical one with K
categories (codes 1..K, 0 = no value: `covariates`). Each categorical column has its own
`nn.Embedding(K + 1, d)` whose code 0 (padding, a missing value) gives zeros.
"""

from __future__ import annotations

import torch
from torch import nn


def embedding_dim(card: int) -> int:
    """Width d of a categorical column's embedding: min(8, ceil(K / 2) + 1) for K categories."""
    return min(8, card // 2 + 1)


def exog_width(cards) -> int:
    """Features `ColumnEmbedding(cards)` gives per step: 1 per numeric column, d per category."""
    return sum(embedding_dim(c) if c else 1 for c in cards)


class ColumnEmbedding(nn.Module):
    """x `(..., E)` (numeric values and categorical codes, float) -> `(..., exog_width(cards))`:
    the numeric columns, then each categorical column's embedding."""

    def __init__(self, cards):
        super().__init__()
        cards = [int(c) for c in cards]
        self.categorical = [j for j, c in enumerate(cards) if c]
        numeric = [j for j, c in enumerate(cards) if not c]
        self.register_buffer("numeric", torch.tensor(numeric, dtype=torch.long), persistent=False)
        self.embeddings = nn.ModuleList(
            nn.Embedding(c, embedding_dim(c), padding_idx=0) for c in cards if c
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = [x[..., self.numeric]] if len(self.numeric) else []
        for j, emb in zip(self.categorical, self.embeddings, strict=True):
            parts.append(emb(x[..., j].long()))
        return torch.cat(parts, -1)
