"""Evaluation: `metrics` (CRPS, WQL, MASE, sMAPE, MSIS, coverage, PIT), `backtest`
(`cross_validation`, `evaluate`), `baselines` (statsmodels models) and `plots`."""
