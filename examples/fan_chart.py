"""The README's fan chart: histcast's default model on the built-in synthetic panel.

Fits `HistForecaster(horizon=24, max_epochs=10)` — every setting at its default except the
budget: 10 epochs x 50 steps of 256 windows instead of 60 x 50, so that the run takes about a
minute on 2 CPU cores — on `load_dataset("synthetic_seasonal")` (12 hourly series) without each
series' last 24 hours, forecasts those 24 hours and draws four series with
`histcast.plotting.fan_chart`: the history, the forecast mean, central 20/40/60/80% intervals
and the held-out actuals (dashed). Writes examples/fan_chart.png.

    python examples/fan_chart.py [--epochs 10] [--out examples/fan_chart.png]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from histcast import HistForecaster
from histcast.datasets import load_dataset
from histcast.evaluation.plots import fan_chart


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10, help="epochs of 50 steps (default 60)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "fan_chart.png"))
    args = parser.parse_args()
    df, info = load_dataset("synthetic_seasonal")
    h = info.horizon
    train = df[df.groupby("unique_id").cumcount(ascending=False) >= h]  # hold out the last h
    t0 = time.perf_counter()
    model = HistForecaster(horizon=h, max_epochs=args.epochs, verbose=False).fit(train)
    fc = model.forecast().merge(df, on=["unique_id", "ds"])  # adds the actuals, `y`
    print(f"{model.alias_}: fit + forecast {time.perf_counter() - t0:.0f}s, "
          f"{model.history_[-1]['steps']} steps")  # fmt: skip
    fig = fan_chart(df, fc, model.alias_, ids=df["unique_id"].unique()[:4])
    fig.suptitle(f"{model.alias_} (default settings, {args.epochs} x 50 training steps) on "
                 f"synthetic_seasonal: last {h} hours held out", fontsize=9)  # fmt: skip
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
