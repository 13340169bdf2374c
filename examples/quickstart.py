"""Fit, forecast and backtest on the built-in synthetic panel (a few minutes on 2 CPU cores).

`HistForecaster` with its default network and a sixth of the default budget (`--epochs 10` of
60, each of 50 steps of 256 windows), then one backtest window against ETS and seasonal naive
(the backtest fits a copy of the model again: two fits of 500 steps in all, plus ETS on 12
hourly series with a daily season).

    python examples/quickstart.py [--epochs 10]
"""

import argparse

from histcast import HistForecaster, cross_validation, evaluate
from histcast.datasets import load_dataset
from histcast.evaluation.baselines import ETS, SeasonalNaive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10, help="epochs of 50 steps (default 60)")
    args = parser.parse_args()
    df, info = load_dataset("synthetic_seasonal")
    model = HistForecaster(horizon=info.horizon, max_epochs=args.epochs, verbose=False).fit(df)
    fc = model.forecast(quantiles=[0.1, 0.5, 0.9], level=[80])
    print(fc.head())
    dist, index = model.predict_distribution()
    print(f"histograms: {dist}, share of training targets outside the bins: "
          f"{model.outside_share_:.3%}")  # fmt: skip
    models = [model, ETS(horizon=info.horizon), SeasonalNaive(horizon=info.horizon)]
    cv = cross_validation(models, df, h=info.horizon, n_windows=1)
    print(evaluate(cv, df, season_length=info.season_length).round(4))


if __name__ == "__main__":
    main()
