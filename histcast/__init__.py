"""histcast: probabilistic forecasting with histogram heads and the HL-Gaussian loss."""

from .backtest import cross_validation, evaluate
from .datasets import load
from .distributions import Histogram
from .forecaster import HistForecaster

__all__ = ["Histogram", "HistForecaster", "cross_validation", "evaluate", "load"]
__version__ = "0.1.0"
