"""Predictive distributions: `histogram` (`Histogram`) and `mixture` (mixtures and exact
re-binning onto other edges)."""
