"""The forecasting network: step inputs -> encoder -> per-step features -> head.

Per context step the inputs are [u, observed, calendar features, position], where u is the
unit-scaled value (0 where missing). Consecutive steps are grouped into patches of `patch_size`
steps, each embedded by one linear map (as PatchTST does), so the encoder runs over C / P
patches instead of C steps (a recurrent encoder's cost grows with its sequence length, and a
patch carries the same information). The state is the encoder's output plus a linear "skip"
of the whole context (as N-BEATS/NHITS read it), and every horizon step h is decoded directly
from [state, step embedding e_h, calendar features of step h] (MQ-RNN style).

With a season m > 1 each step h also reads its *seasonal lags*: the C/m context values at the
same phase as h (the last m*ceil(h/m) steps back, then every m further back), with their observed
flags. Seasonal naive and weekly profiles are then one linear map away from the head. With
`step_skip` = d > 0 each step also gets d features from its own linear map of the context
(C -> H x d, as DLinear reads it).

Covariates (`covariates`, neuralforecast's lists): future-known and historical ones join each
context step's inputs, future-known ones also every horizon step's head input, and static ones
join the state through a linear map; categorical columns are embedded (`embeddings`).
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn

from .config import ModelConfig
from .embeddings import ColumnEmbedding, exog_width
from .encoders import make_encoder
from .heads import make_head

F32 = torch.float32


@contextmanager
def float32_default():
    """torch's default dtype set to float32 inside the block, restored after: the network's
    layers take it, and a caller's `torch.set_default_dtype(torch.float64)` must change
    nothing (the same initial weights and forecasts, bit for bit)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


class ForecastNet(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        with float32_default():  # parameters and buffers in float32, whatever the default
            self._build(cfg)

    def _build(self, cfg: ModelConfig) -> None:
        self.cfg = cfg
        if cfg.context_length % cfg.patch_size:
            raise ValueError("context_length must be a multiple of patch_size")
        self.n_patches = cfg.context_length // cfg.patch_size
        d_exog = exog_width(cfg.futr_cards) + exog_width(cfg.hist_cards)  # context covariates
        self.embed = nn.Linear(cfg.patch_size * (3 + cfg.n_features + d_exog), cfg.hidden_size)
        self.encoder = make_encoder(
            cfg.encoder,
            cfg.hidden_size,
            cfg.hidden_size,
            cfg.n_layers,
            self.n_patches,
            cfg.dropout,
        )
        self.skip = nn.Linear(2 * cfg.context_length, cfg.hidden_size)
        self.step = nn.Parameter(torch.randn(cfg.horizon, cfg.step_embedding, dtype=F32) * 0.1)
        lags = seasonal_lag_index(cfg.horizon, cfg.context_length, cfg.season)
        self.register_buffer("lags", lags, persistent=False)
        d_head = cfg.hidden_size + cfg.step_embedding + cfg.n_features + 2 * lags.shape[1]
        d_head += cfg.step_skip + exog_width(cfg.futr_cards)
        self.step_skip = (
            nn.Linear(cfg.context_length, cfg.horizon * cfg.step_skip) if cfg.step_skip else None
        )
        self.head = make_head(
            cfg.head,
            d_head,
            2 * cfg.hidden_size,
            cfg.n_bins,
            cfg.dropout,
            cfg.target,
            cfg.sigma_ratio,
            cfg.horizon,
        )
        pos = torch.linspace(-1, 0, cfg.context_length, dtype=F32)
        self.register_buffer("position", pos, persistent=False)
        # covariates (built last, and only when there are some: a model without them is the same)
        self.futr_in = ColumnEmbedding(cfg.futr_cards) if cfg.futr_cards else None
        self.hist_in = ColumnEmbedding(cfg.hist_cards) if cfg.hist_cards else None
        self.stat_in = (
            nn.Sequential(
                ColumnEmbedding(cfg.stat_cards),
                nn.Linear(exog_width(cfg.stat_cards), cfg.hidden_size),
            )
            if cfg.stat_cards
            else None
        )

    def forward(self, u, ctx_feats, fut_feats, exog=None, y=None, soft=None):
        """Head output and, given targets, the training loss (as nanoGPT's `forward`).

        u `(B, C)` unit-scaled context with NaN for missing, ctx_feats `(B, C, F)`, fut_feats
        `(B, H, F)`; exog (`windows.ExogBatch`, None without covariates) ctx `(B, C, Ef + Eh)`
        (future-known then historical columns: they join the context inputs), fut `(B, H, Ef)`
        (they join every step's head input) and stat `(B, Es)` (a linear map of them joins the
        state); y `(B, H)` unit-space targets (NaN missing) or None; soft `(B, H, K)` a
        teacher's bin probabilities for `target="soft"`. Returns `(out, loss)`, loss None
        without `y`. out is the head's: logits `(B, H, K)` (histogram), loc and scale
        `(B, H, 2)` (gaussian), quantiles `(B, H, Q)` (quantile), or points `(B, H)` (mse);
        `probs(out)` turns any of them into bin probabilities.
        """
        observed = (~torch.isnan(u)).to(u.dtype)
        u = torch.nan_to_num(u)
        pos = self.position.expand_as(u)
        x = torch.cat([u.unsqueeze(-1), observed.unsqueeze(-1), ctx_feats, pos.unsqueeze(-1)], -1)
        if exog is not None:
            x = torch.cat([x, *self._context_exog(exog.ctx)], -1)
        b, h = u.shape[0], self.cfg.horizon
        patches = self.embed(x.reshape(b, self.n_patches, -1))  # (B, C/P, hidden)
        state = self.encoder(patches) + self.skip(torch.cat([u, observed], -1))
        if self.stat_in is not None:
            state = state + self.stat_in(exog.stat)
        per_step = torch.cat(
            [
                fut_feats,
                u[:, self.lags],
                observed[:, self.lags],
                *([self.step_skip(u).reshape(b, h, -1)] if self.step_skip is not None else []),
                *([self.futr_in(exog.fut)] if self.futr_in is not None else []),
            ],
            -1,
        )
        # the head reads cat([state, step embedding, per_step], -1) `(B, H, D)`, passed as parts
        # so that the window's state and the step's embedding enter its first layer once each
        z = [state.unsqueeze(1), self.step.unsqueeze(0), per_step]
        out = self.head(z)
        return out, (None if y is None else self.head.loss(out, y, soft))

    def _context_exog(self, ctx: torch.Tensor) -> list[torch.Tensor]:
        """Features of the context's covariates `(B, C, Ef + Eh)` -> a list of `(B, C, d)`."""
        ef = len(self.cfg.futr_cards)
        modules = ((self.futr_in, ctx[..., :ef]), (self.hist_in, ctx[..., ef:]))
        return [m(x) for m, x in modules if m is not None]

    def probs(self, out: torch.Tensor) -> torch.Tensor:
        """Bin probabilities `(B, H, K)` on the unit grid from the head's output."""
        return self.head.probs(out)


def seasonal_lag_index(horizon: int, context_length: int, season: int) -> torch.Tensor:
    """Context positions at the same phase as each forecast step: int64 `(H, L)`, L = C // m.

    Step h (1-based) lies h steps after the last context position C-1; its latest same-phase
    position is C-1 - (m ceil(h/m) - h), then every m steps back. L = 0 when m <= 1 or C < m.
    """
    n_lags = context_length // season if season > 1 else 0
    h = torch.arange(1, horizon + 1).unsqueeze(-1)
    latest = context_length - 1 - (season * ((h + season - 1) // season) - h)
    return latest - season * torch.arange(n_lags)
