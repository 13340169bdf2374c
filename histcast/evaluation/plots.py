"""Plots: fan charts, PIT histograms, reliability diagrams, training curves (matplotlib)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.interop import to_pandas
from ..frames import quantile_name


def _subplots(nrows: int = 1, ncols: int = 1, **kwargs):
    """A new `matplotlib.figure.Figure` and its axes, made without pyplot: the caller's backend
    and pyplot's list of open figures are left as they are (notebooks display the returned
    Figure; `fig.savefig` writes it)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'histcast[plot]'") from err
    squeeze = kwargs.pop("squeeze", True)
    fig = Figure(**kwargs)
    return fig, fig.subplots(nrows, ncols, squeeze=squeeze)


def fan_chart(history, forecasts, alias, ids=None, n_history=96, levels=(0.1, 0.2, 0.3, 0.4)):
    """Actuals and the mean with nested central bands (q_a, q_{1-a}) for a few series.

    history: long frame (unique_id, ds, y); forecasts: a forecast or cross-validation frame
    with `<alias>-q-<100a>` columns (pandas or polars). Returns the matplotlib Figure.
    """
    history, forecasts = to_pandas(history, "history")[0], to_pandas(forecasts, "forecasts")[0]
    ids = list(ids if ids is not None else forecasts["unique_id"].unique()[:4])
    fig, axes = _subplots(len(ids), 1, figsize=(9, 2.4 * len(ids)), squeeze=False)
    for ax, uid in zip(axes[:, 0], ids, strict=True):
        fc = forecasts[forecasts["unique_id"] == uid]
        past = history[(history["unique_id"] == uid) & (history["ds"] < fc["ds"].min())]
        past = past.tail(n_history)
        ax.plot(past["ds"], past["y"], color="black", lw=1, label="history")
        for a in levels:  # numpy arrays: older matplotlib cannot fill between pandas Series
            lo, hi = fc[quantile_name(alias, a)], fc[quantile_name(alias, 1 - a)]
            x = fc["ds"].to_numpy()
            ax.fill_between(x, lo.to_numpy(float), hi.to_numpy(float), color="tab:blue",
                            alpha=0.15, lw=0)  # fmt: skip
        ax.plot(fc["ds"], fc[alias], color="tab:blue", lw=1.5, label=f"{alias} mean")
        if "y" in fc:
            ax.plot(fc["ds"], fc["y"], color="black", lw=1, ls="--", label="actual")
        ax.set_title(str(uid), fontsize=9, loc="left")
    axes[0, 0].legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def pit_histogram(pit_values: dict, bins: int = 10):
    """Histogram of PIT values per model (flat when calibrated). `{alias: array}` -> Figure."""
    fig, ax = _subplots(figsize=(6, 3.5))
    for alias, pit in pit_values.items():
        ax.hist(np.asarray(pit)[~np.isnan(pit)], bins=bins, range=(0, 1), density=True,
                histtype="step", lw=1.5, label=alias)  # fmt: skip
    ax.axhline(1, color="grey", ls=":")
    ax.set(xlabel="PIT", ylabel="density", title="PIT histogram")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def reliability_diagram(cv: pd.DataFrame, aliases, levels) -> object:
    """Empirical share of actuals below each quantile vs its nominal level, per model (`cv`: a
    cross-validation frame, pandas or polars)."""
    cv = to_pandas(cv, "cv")[0]
    fig, ax = _subplots(figsize=(4.5, 4.5))
    y = cv["y"].to_numpy()
    obs = ~np.isnan(y)
    for alias in aliases:
        emp = [np.mean(y[obs] <= cv[quantile_name(alias, a)].to_numpy()[obs]) for a in levels]
        ax.plot(levels, emp, marker="o", ms=3, label=alias)
    ax.plot([0, 1], [0, 1], color="grey", ls=":")
    ax.set(xlabel="nominal level", ylabel="share of actuals below", title="Reliability")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def training_curves(histories: dict):
    """Train loss, gradient norm and (when a validation set was held out) validation CRPS per
    epoch for `{name: history_}`."""
    panels = [("train_loss", "train loss"), ("grad_norm", "gradient norm (before clipping)")]
    if any(np.isfinite(r["val_crps"]) for h in histories.values() for r in h):
        panels.append(("val_crps", "validation CRPS (unit space)"))
    fig, axes = _subplots(1, len(panels), figsize=(4.5 * len(panels), 3.2))
    for ax, (key, label) in zip(axes, panels, strict=True):
        for name, hist in histories.items():
            ax.plot([r["epoch"] for r in hist], [r[key] for r in hist], label=name)
        ax.set(xlabel="epoch", ylabel=label)
    axes[-1].legend(fontsize=8)
    fig.tight_layout()
    return fig
