"""Plots of forecasts and their calibration (the public name of `evaluation.plots`)."""

from .evaluation.plots import fan_chart, pit_histogram, reliability_diagram, training_curves

__all__ = ["fan_chart", "pit_histogram", "reliability_diagram", "training_curves"]
