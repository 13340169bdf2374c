"""Covariates against known truth: panels where y depends on a future-known covariate (a
promotion lifts the level on announced days), on a lagged historical one (yesterday's value of
an indicator) and on a static category (the weekend goes up for one kind of series, down for
the other). Given N(mu, sd^2) noise, the oracle knows mu and sd; with the covariate the model
comes close to the oracle's CRPS, and clearly beats the same model without it.

Each test trains two small models for 400 steps (~6 s each on one CPU thread).
"""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import norm

from histcast.forecaster import HistForecaster

START = pd.Timestamp("2024-01-01")  # a Monday
S, NOISE = 16, 0.1
KW = dict(horizon=24, context_length=48, hidden_size=16, n_bins=50, batch_size=64,
          learning_rate=0.01, max_steps=400, val_size=0, verbose=False)  # fmt: skip


def gaussian_crps(y, mu, sd):
    """CRPS of N(mu, sd^2) at y (Gneiting & Raftery 2007)."""
    z = (y - mu) / sd
    return sd * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi))


def panel(n: int, mean_fn, seed: int = 0):
    """(train, test): S hourly series of n + 24 points, y = mu + NOISE level e; the test holds
    the last 24 with the true mu and sd. mean_fn(s, level, t, rng) -> (mu, covariates)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n + 24)
    ds = pd.date_range(START, periods=n + 24, freq="h")
    train, test = [], []
    for s in range(S):
        level = rng.uniform(10, 100)
        mu, covariates = mean_fn(s, level, t, rng)
        y = mu + NOISE * level * rng.standard_normal(len(t))
        frame = pd.DataFrame({"unique_id": f"s{s}", "ds": ds, "y": y, **covariates})
        train.append(frame.iloc[:n])
        test.append(frame.iloc[n:].assign(mu=mu[n:], sd=NOISE * level))
    return pd.concat(train, ignore_index=True), pd.concat(test, ignore_index=True)


def crps(model, test, **kw) -> tuple[float, float]:
    """Mean CRPS of the model's forecast of the test rows, and the oracle's."""
    dist, index = model.predict_distribution(**kw)
    rows = index.merge(test, on=["unique_id", "ds"])
    y = torch.as_tensor(rows["y"].to_numpy(copy=True)).reshape(dist.batch_shape)
    return float(dist.crps(y).mean()), float(gaussian_crps(rows.y, rows.mu, rows.sd).mean())


def check(with_cov, oracle, without):
    assert with_cov < 1.5 * oracle, (with_cov, oracle)  # observed 1.1-1.4x
    assert without > 2 * with_cov, (without, with_cov)  # observed 2.3-3.1x


@pytest.mark.slow
def test_a_future_known_promotion():
    def promo_mean(s, level, t, rng):
        days = rng.uniform(size=len(t) // 24) < 0.3
        days[-1] = s % 2 == 0  # the forecast day: half the series are on promotion
        promo = np.repeat(days, 24).astype(float)
        return level * (1 + 0.2 * np.sin(2 * np.pi * t / 24) + 0.5 * promo), {"promo": promo}

    train, test = panel(24 * 35, promo_mean)
    model = HistForecaster(futr_exog_list=["promo"], **KW).fit(train)
    with_cov, oracle = crps(model, test, futr_df=test[["unique_id", "ds", "promo"]])
    plain = HistForecaster(**KW).fit(train.drop(columns="promo"))
    check(with_cov, oracle, crps(plain, test)[0])


@pytest.mark.slow
def test_a_lagged_historical_indicator():
    def indicator_mean(s, level, t, rng):
        daily = rng.standard_normal(len(t) // 24 + 1)
        x = np.repeat(daily, 24)[: len(t)]  # known from each day's first hour
        yesterday = np.repeat(np.r_[0.0, daily[:-1]], 24)[: len(t)]
        return level * (1 + 0.2 * np.sin(2 * np.pi * t / 24) + 0.2 * yesterday), {"x": x}

    train, test = panel(24 * 35, indicator_mean)
    model = HistForecaster(hist_exog_list=["x"], **KW).fit(train)
    with_cov, oracle = crps(model, test)
    plain = HistForecaster(**KW).fit(train.drop(columns="x"))
    check(with_cov, oracle, crps(plain, test)[0])


@pytest.mark.slow
def test_a_static_category():
    weekend = np.asarray(pd.date_range(START, periods=24 * 7 * 6 - 24, freq="h").day_of_week >= 5)

    def weekend_mean(s, level, t, rng):
        effect = 0.5 if s % 2 == 0 else -0.25  # "up" series rise at weekends, "down" ones fall
        return level * (1 + 0.2 * np.sin(2 * np.pi * t / 24)) * (1 + effect * weekend[t]), {}

    train, test = panel(24 * 7 * 6 - 48, weekend_mean)  # ends on a Friday: forecast Saturday
    static = pd.DataFrame({"unique_id": [f"s{s}" for s in range(S)],
                           "kind": ["up" if s % 2 == 0 else "down" for s in range(S)]})  # fmt: skip
    model = HistForecaster(stat_exog_list=["kind"], **KW).fit(train, static_df=static)
    with_cov, oracle = crps(model, test)
    plain = HistForecaster(**KW).fit(train)
    check(with_cov, oracle, crps(plain, test)[0])


@pytest.mark.slow
def test_a_given_max_steps_is_trained_and_learns_a_promotion():
    """8 hourly series of 400 points; a future-known promotion adds +15 (noise sd 1). With
    `max_steps=400` and the library's other defaults, all 400 steps run (no data-following cap:
    the budget is the user's) and the median's MAE on the next 24 hours is below 1 (the issue's
    capped run: 2.59, no better than without the covariate)."""
    rng = np.random.default_rng(0)
    n, h = 400, 24
    ds = pd.date_range(START, periods=n + h, freq="h")
    frames = []
    for s in range(8):
        promo = (rng.random(n + h) < 0.15).astype(float)
        y = 20 + 3 * np.sin(2 * np.pi * np.arange(n + h) / 24) + 15 * promo
        y = y + rng.standard_normal(n + h)
        frames.append(pd.DataFrame({"unique_id": f"s{s}", "ds": ds, "y": y, "promo": promo}))
    full = pd.concat(frames, ignore_index=True)
    train = full.groupby("unique_id").head(n)
    test = full.groupby("unique_id").tail(h)
    model = HistForecaster(horizon=h, futr_exog_list=["promo"], max_steps=400, verbose=False)
    model.fit(train)
    assert model.history_[-1]["steps"] == 400
    fc = model.forecast(futr_df=test[["unique_id", "ds", "promo"]], quantiles=[0.5])
    rows = fc.merge(test, on=["unique_id", "ds"])
    mae = float(np.abs(rows["HistTCN-median"] - rows["y"]).mean())
    assert mae < 1.0, mae
