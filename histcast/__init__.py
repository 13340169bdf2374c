"""histcast: probabilistic forecasting with histogram heads and the HL-Gaussian loss.

The top-level names are imported lazily (PEP 562), so `import histcast.baselines` or
`histcast.frames` does not load torch and the training loop.
"""

from importlib import import_module

_EXPORTS = {
    "Histogram": "dist.histogram",
    "HistEnsemble": "ensemble",
    "HistForecaster": "forecaster",
    "clone": "estimator",
    "cross_validation": "evaluation.backtest",
    "evaluate": "evaluation.scoring",
    "load_dataset": "datasets",
}
__all__ = sorted(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'histcast' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_EXPORTS])
