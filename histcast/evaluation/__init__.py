"""Evaluation: `metrics` (CRPS, WQL, MASE, sMAPE, MSIS, coverage, PIT), `levels`, `backtest`
(`cross_validation`), `scoring` (`evaluate`), `baselines` (statsmodels models) and `plots`."""
