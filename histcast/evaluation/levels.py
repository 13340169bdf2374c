"""The default quantile levels and central intervals of forecasts and scores."""

LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # WQL's levels (GluonTS, Chronos)
INTERVALS = (80, 95)  # central intervals in %: M4's 95% (MSIS) and the common 80%
