"""Plots (`histcast.plotting`): the Figures hold the axes, lines, bands and titles they say."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib", reason="plots need matplotlib (the plot extra)")
import matplotlib.pyplot as plt  # noqa: E402

from histcast import plotting  # noqa: E402

LEVELS = (0.1, 0.2, 0.3, 0.4)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def frames(ids=("a", "b", "c"), n=30, h=5):
    """(history, forecasts): n hourly points per series, then h forecast rows with the mean,
    the quantiles of LEVELS and their complements, and the actuals."""
    hist, fc = [], []
    for i, uid in enumerate(ids):
        ds = pd.date_range("2024-01-01", periods=n + h, freq="h")
        y = np.arange(n + h, dtype=float) + 10 * i
        hist.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": y}))
        f = pd.DataFrame({"unique_id": uid, "ds": ds[n:], "y": y[n:], "M": y[n:]})
        for a in (*LEVELS, *(1 - a for a in LEVELS)):
            f[f"M-q-{round(100 * a)}"] = y[n:] + (a - 0.5)
        fc.append(f)
    return pd.concat(hist, ignore_index=True), pd.concat(fc, ignore_index=True)


def test_fan_chart_has_one_panel_per_series_with_bands_mean_and_actuals():
    history, forecasts = frames()
    fig = plotting.fan_chart(history, forecasts, "M", n_history=12)
    assert len(fig.axes) == 3
    for ax, uid in zip(fig.axes, ["a", "b", "c"], strict=True):
        assert ax.get_title(loc="left") == uid
        assert len(ax.collections) == len(LEVELS)  # one band per level
        labels = [line.get_label() for line in ax.get_lines()]
        assert labels == ["history", "M mean", "actual"]
        assert len(ax.get_lines()[0].get_xdata()) == 12  # n_history points before the forecast
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "history", "M mean", "actual",
    ]  # fmt: skip


def test_fan_chart_draws_the_ids_asked_for():
    history, forecasts = frames()
    fig = plotting.fan_chart(history, forecasts, "M", ids=["c"])
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["c"]


def test_pit_histogram_has_a_step_histogram_per_model_and_the_flat_line():
    rng = np.random.default_rng(0)
    pits = {"A": rng.uniform(size=200), "B": np.append(rng.beta(2, 2, size=199), np.nan)}
    fig = plotting.pit_histogram(pits, bins=8)
    (ax,) = fig.axes
    assert ax.get_title() == "PIT histogram" and ax.get_xlabel() == "PIT"
    assert len(ax.patches) == 2  # histtype="step": one outline per model
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["A", "B"]
    (flat,) = ax.get_lines()  # the density of a calibrated model
    np.testing.assert_array_equal(flat.get_ydata(), [1, 1])


def test_reliability_diagram_plots_each_models_shares_against_the_levels():
    _, cv = frames()
    levels = [0.1, 0.6, 0.9]
    for a in levels:
        cv[f"M-q-{round(100 * a)}"] = cv["y"] + (a - 0.5)  # y <= q exactly when a >= 0.5
    fig = plotting.reliability_diagram(cv, ["M"], levels)
    (ax,) = fig.axes
    assert ax.get_title() == "Reliability"
    model, diagonal = ax.get_lines()
    np.testing.assert_allclose(model.get_xdata(), levels)
    np.testing.assert_allclose(model.get_ydata(), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(diagonal.get_xdata(), [0, 1])


def test_training_curves_add_the_validation_panel_only_when_there_is_one():
    rows = [{"epoch": e, "train_loss": 1 / e, "grad_norm": 2.0, "val_crps": np.nan} for e in (1, 2)]
    fig = plotting.training_curves({"m1": rows, "m2": rows})
    assert [ax.get_ylabel() for ax in fig.axes] == ["train loss", "gradient norm (before clipping)"]
    assert all(len(ax.get_lines()) == 2 for ax in fig.axes)  # one line per model
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), [1.0, 0.5])
    held_out = [{**r, "val_crps": 0.1} for r in rows]
    fig = plotting.training_curves({"m1": held_out})
    assert fig.axes[-1].get_ylabel() == "validation CRPS (unit space)" and len(fig.axes) == 3


def test_plots_leave_the_callers_backend_and_pyplot_alone():
    """A plot in a notebook must not switch the backend (plt.show() would stop working) nor
    pile figures into pyplot: the Figures are made without pyplot and returned."""
    import subprocess
    import sys

    code = (
        "import matplotlib\n"
        "matplotlib.use('svg')\n"
        "import matplotlib.pyplot as plt\n"
        "import numpy as np\n"
        "from histcast import plotting\n"
        "fig = plotting.pit_histogram({'m': np.linspace(0.01, 0.99, 50)})\n"
        "assert type(fig).__name__ == 'Figure', type(fig)\n"
        "assert matplotlib.get_backend().lower() == 'svg', matplotlib.get_backend()\n"
        "assert plt.get_fignums() == [], plt.get_fignums()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
