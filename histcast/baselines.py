"""Classical per-series baselines on statsmodels, with `HistForecaster`'s interface and output.

Each model fits every series on its own. A series too short for a model, or a fit that fails,
falls back to seasonal naive with a warning naming the series: a backtest never dies of one
bad series. Interval forecasts: empirical for `SeasonalNaive`, Gaussian with the model's
forecast variance for `ETS`, `ARIMA` and `Theta`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import norm

from .estimator import Estimator
from .features import season_length
from .frames import LEVELS, check_forecast_args, forecast_index, forecast_levels, quantile_frame
from .panel import Columns, from_frame


class Baseline(Estimator):
    """Shared fit/forecast plumbing; subclasses implement `_predict(y, h, m) -> (mean, sd)`
    or override `_quantiles(y, h, m, levels) -> (mean (h,), quantiles (h, L))`."""

    name = "Baseline"
    min_length = 2
    _fitted_attr = "panel_"

    def __init__(self, horizon: int, season_length: int | None = None, alias: str | None = None):
        self.horizon = horizon
        self.season_length = season_length
        self.alias = alias

    @property
    def alias_(self) -> str:
        return self.alias or self.name

    def fit(self, df: pd.DataFrame, id_col="unique_id", time_col="ds", target_col="y"):
        """Validate and store the histories (models are fit per series at forecast time)."""
        self._reset()
        if not isinstance(self.horizon, int | np.integer) or self.horizon < 1:
            raise ValueError(f"horizon must be a positive integer; got {self.horizon!r}")
        self.columns_ = Columns(id_col, time_col, target_col)
        self.panel_ = from_frame(df, self.columns_)
        self.season_length_ = self.season_length or season_length(self.panel_.freq)
        return self

    def forecast(self, df=None, quantiles=LEVELS, level=(80, 95)) -> pd.DataFrame:
        """Forecast frame of the `horizon` steps after each series' end (of `df` when given)."""
        self.check_fitted()
        quantiles, level = check_forecast_args(quantiles, level)
        panel = self.panel_ if df is None else from_frame(df, self.columns_, self.panel_.freq)
        levels = forecast_levels(quantiles, level)
        h, m = self.horizon, self.season_length_
        means, qs = [], []
        for s in range(panel.n_series):
            y = _fill(panel.series(s).astype(np.float64))
            mean, q = self._safe_quantiles(y, h, m, levels, panel.ids[s])
            means.append(mean)
            qs.append(q)
        index = forecast_index(panel.ids, panel.future_ds(h), self.columns_.id, self.columns_.time)
        q = np.concatenate(qs)
        return quantile_frame(index, self.alias_, np.concatenate(means), q, quantiles, level)

    def _safe_quantiles(self, y, h, m, levels, uid):
        if len(y) >= self.min_length:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    mean, q = self._quantiles(y, h, m, levels)
                if np.isfinite(mean).all() and np.isfinite(q).all():
                    return mean, q
                reason = "non-finite forecasts"
            except Exception as err:  # noqa: BLE001 (any statsmodels failure falls back)
                reason = f"{type(err).__name__}: {err}"
        else:
            reason = f"only {len(y)} points"
        warnings.warn(
            f"{self.alias_}: series {uid!r} falls back to seasonal naive ({reason})", stacklevel=3
        )
        return SeasonalNaive._naive_quantiles(y, h, m, levels)

    def _quantiles(self, y, h, m, levels):
        mean, sd = self._predict(y, h, m)
        return mean, mean[:, None] + sd[:, None] * norm.ppf(levels)


class SeasonalNaive(Baseline):
    """y_{T+h} = y_{T+h-m k}, k = ceil(h/m). Quantiles: empirical quantiles of the in-sample
    seasonal errors y_t - y_{t-m} (centred on their median), scaled by sqrt(k) as for a
    random walk of seasonal steps."""

    name = "SeasonalNaive"

    def _quantiles(self, y, h, m, levels):
        return self._naive_quantiles(y, h, m, levels)

    @staticmethod
    def _naive_quantiles(y, h, m, levels):
        m = m if len(y) > m else 1
        steps = np.arange(h)
        k = steps // m + 1
        mean = y[len(y) - m + steps % m]
        errors = y[m:] - y[:-m]
        # centred on the naive forecast, so the median is the classical seasonal-naive point
        errors = errors - np.median(errors) if len(errors) else np.zeros(1)
        spread = np.quantile(errors, levels)
        return mean, mean[:, None] + np.sqrt(k)[:, None] * spread


class ETS(Baseline):
    """Additive-error ETS (statsmodels `ETSModel`): trend none / additive / damped, additive
    seasonality when two seasons are available, chosen by AICc."""

    name = "ETS"
    min_length = 8

    def _predict(self, y, h, m):
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        series = pd.Series(y)
        seasonal = [None, "add"] if m > 1 and len(y) >= 2 * m + 2 else [None]
        best = None
        for trend, damped in ((None, False), ("add", False), ("add", True)):
            for season in seasonal:
                res = ETSModel(
                    series, error="add", trend=trend, damped_trend=damped, seasonal=season,
                    seasonal_periods=m if season else None,
                ).fit(disp=False)  # fmt: skip
                if best is None or res.aicc < best.aicc:
                    best = res
        pred = best.get_prediction(start=len(y), end=len(y) + h - 1)
        return np.asarray(pred.predicted_mean), np.sqrt(np.asarray(pred.var_pred_mean))


class ARIMA(Baseline):
    """statsmodels ARIMA; (p,1,q) for p, q in {0, 1} plus a seasonal (0,1,1)_m candidate when
    two seasons are available, chosen by AICc."""

    name = "ARIMA"
    min_length = 10

    def _predict(self, y, h, m):
        from statsmodels.tsa.arima.model import ARIMA as SMARIMA

        candidates = [((p, 1, q), (0, 0, 0, 0)) for p in (0, 1) for q in (0, 1)]
        if m > 1 and len(y) >= 2 * m + 2:
            candidates.append(((1, 0, 1), (0, 1, 1, m)))
        best = None
        for order, seasonal in candidates:
            res = SMARIMA(y, order=order, seasonal_order=seasonal).fit()
            if best is None or res.aicc < best.aicc:
                best = res
        fc = best.get_forecast(h)
        return np.asarray(fc.predicted_mean), np.sqrt(np.asarray(fc.var_pred_mean))


class Theta(Baseline):
    """statsmodels `ThetaModel` (deseasonalised when two seasons are available)."""

    name = "Theta"
    min_length = 4
    _alpha = 0.2

    def _predict(self, y, h, m):
        from statsmodels.tsa.forecasting.theta import ThetaModel

        period = m if m > 1 and len(y) >= 2 * m else 1
        res = ThetaModel(pd.Series(y), period=period, deseasonalize=period > 1).fit()
        mean = np.asarray(res.forecast(h))
        pi = res.prediction_intervals(h, alpha=self._alpha)
        sd = (pi["upper"] - pi["lower"]).to_numpy() / (2 * norm.ppf(1 - self._alpha / 2))
        return mean, sd


def _fill(y: np.ndarray) -> np.ndarray:
    """Interpolate missing values (statsmodels' models need complete series)."""
    if np.isnan(y).any():
        y = pd.Series(y).interpolate(limit_direction="both").to_numpy()
    return y


MODELS = {"snaive": SeasonalNaive, "ets": ETS, "arima": ARIMA, "theta": Theta}
