"""`ModelConfig`: the network's architecture hyperparameters, passed whole."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class ModelConfig:
    """Architecture hyperparameters, passed whole to `ForecastNet`. Their defaults are
    `HistForecaster`'s (which derives `context_length`, `patch_size`, `season` and `n_features`
    from the data's frequency)."""

    horizon: int
    context_length: int
    n_features: int = 0
    encoder: str = "tcn"
    head: str = "histogram"
    n_bins: int = 200
    target: str = "gaussian"
    sigma_ratio: float = 1.0
    hidden_size: int = 64
    n_layers: int = 2
    dropout: float = 0.1
    step_embedding: int = 16
    patch_size: int = 1
    season: int = 1
    step_skip: int = 16
    # covariates, one entry per column: 0 numeric, K + 1 categorical (`embeddings`); none: ()
    futr_cards: tuple = ()
    hist_cards: tuple = ()
    stat_cards: tuple = ()

    def to_dict(self) -> dict:
        return asdict(self)
