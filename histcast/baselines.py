"""Classical baselines with histcast's interface (the public name of `evaluation.baselines`)."""

from .evaluation.baselines import ARIMA, ETS, MODELS, Baseline, SeasonalNaive, Theta

__all__ = ["ARIMA", "ETS", "MODELS", "Baseline", "SeasonalNaive", "Theta"]
