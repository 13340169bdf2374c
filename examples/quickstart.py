"""Fit, forecast and backtest on the built-in synthetic panel (about a minute on 2 CPU cores).

python examples/quickstart.py
"""

from histcast import HistForecaster, cross_validation, evaluate, load
from histcast.baselines import ETS, SeasonalNaive


def main() -> None:
    df, info = load("synthetic_seasonal")
    model = HistForecaster(horizon=info.horizon, max_epochs=20, verbose=False).fit(df)
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
