"""Classical per-series baselines on statsmodels, with `HistForecaster`'s interface and output.

Each model fits every series on its own. A series too short for a model, or a fit that fails,
falls back to seasonal naive with a warning naming the series: a backtest never dies of one
bad series. Interval forecasts: empirical for `SeasonalNaive`, Gaussian with the model's
forecast variance for `ETS` and `ARIMA`, and with SES's for `Theta` (see its docstring).
Histories are the caller's float64 values, exactly as given. Only `ARIMA` takes covariates
(future-known ones, `futr_exog_list`: statsmodels' `exog`); `cross_validation` warns once that
the others forecast from y alone.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.signal import lfilter
from scipy.stats import norm

from ..checks import check_int
from ..data.calendar import season_length
from ..data.covariates import exog_names
from ..data.exog_frames import aligned, future_frame, kind_of, numbers
from ..data.interop import backend_of, optional_pandas, to_native, to_pandas
from ..data.panel import Columns, from_frame, from_frame_like
from ..estimator import Estimator
from ..frames import (
    check_forecast_args,
    check_h,
    first_steps,
    forecast_index,
    forecast_levels,
    quantile_frame,
)
from .levels import LEVELS


class Baseline(Estimator):
    """Shared fit/forecast plumbing; subclasses implement `_predict(y, h, m) -> (mean, sd)`
    or override `_quantiles(y, h, m, levels) -> (mean (h,), quantiles (h, L))`."""

    name = "Baseline"
    min_length = 2
    _fitted_attr = "panel_"

    def __init__(self, horizon: int, season_length: int | None = None, alias=None, freq=None):
        self.horizon = horizon
        self.season_length = season_length
        self.alias = alias
        self.freq = freq  # as HistForecaster's: None infers it from the data

    @property
    def alias_(self) -> str:
        return self.alias or self.name

    @property
    def _uses_exog(self) -> bool:
        """Whether the model reads covariate columns of `df` (then the panel keeps its order)."""
        return bool(exog_names(getattr(self, "futr_exog_list", None), "futr_exog_list"))

    def fit(self, df: pd.DataFrame, id_col="unique_id", time_col="ds", target_col="y"):
        """Validate and store the histories (models are fit per series at forecast time);
        `df` may be pandas or polars (`histcast.data.interop`)."""
        self._reset()
        check_int("horizon", self.horizon)
        check_int("season_length", self.season_length, optional=True)
        df, backend = to_pandas(df, "df")
        columns = Columns(id_col, time_col, target_col)
        panel = from_frame(df, columns, self.freq, keep_order=self._uses_exog)
        self.columns_, self.panel_, self.backend_ = columns, panel, backend
        self.season_length_ = self.season_length or season_length(panel.freq)
        self.exog_ = self._history_exog(df, panel, columns)
        return self

    def _history_exog(self, df, panel, cols):
        """Covariates of the panel's rows `(N, E)` float64; None for models without them."""
        return None

    def _exog(self, panel, df, futr_df) -> list:
        """Per series, what `_predict` reads of the covariates (None: no covariates)."""
        if futr_df is not None:
            raise ValueError(f"{self.alias_} cannot use covariates, but futr_df was given")
        return [None] * panel.n_series

    def forecast(
        self, df=None, quantiles=LEVELS, level=(80, 95), futr_df=None, *, h=None
    ) -> pd.DataFrame:
        """Forecast frame of the first `h` (None: all `horizon`) steps after each series' end
        (of `df` when given); `futr_df` holds the future-known covariates of a model that uses
        them (`ARIMA`, for all `horizon` steps). The frame is in `df`'s library (pandas or
        polars; the training data's when `df` is None)."""
        self.check_fitted()
        quantiles, level = check_forecast_args(quantiles, level)
        steps = check_h(h, self.horizon)
        native, df, futr_df = df, optional_pandas(df, "df"), optional_pandas(futr_df, "futr_df")
        panel = (
            self.panel_
            if df is None
            else from_frame_like(df, self.columns_, self.panel_.freq, self._uses_exog)
        )
        exog = self._exog(panel, df, futr_df)
        levels = forecast_levels(quantiles, level)
        h, m = self.horizon, self.season_length_
        means, qs = [], []
        for s in range(panel.n_series):
            y = _fill(panel.series(s))
            mean, q = self._safe_quantiles(y, h, m, levels, panel.ids[s], exog[s])
            means.append(mean)
            qs.append(q)
        index = forecast_index(panel.ids, panel.future_ds(h), self.columns_.id, self.columns_.time)
        q = np.concatenate(qs)
        frame = quantile_frame(index, self.alias_, np.concatenate(means), q, quantiles, level)
        frame = first_steps(frame, self.horizon, steps)
        backend = self.backend_ if native is None else backend_of(native)
        return to_native(frame, backend, native, (self.columns_.id, self.columns_.time))

    def _safe_quantiles(self, y, h, m, levels, uid, exog=None):
        if len(y) >= self.min_length:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    mean, q = self._quantiles(y, h, m, levels, exog)
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

    def _quantiles(self, y, h, m, levels, exog=None):
        mean, sd = self._predict(y, h, m) if exog is None else self._predict(y, h, m, exog)
        return mean, mean[:, None] + sd[:, None] * norm.ppf(levels)


class SeasonalNaive(Baseline):
    """y_{T+h} = y_{T+h-m k}, k = ceil(h/m). Quantiles: empirical quantiles of the in-sample
    seasonal errors y_t - y_{t-m} (centred on their median), scaled by sqrt(k) as for a
    random walk of seasonal steps."""

    name = "SeasonalNaive"

    def _quantiles(self, y, h, m, levels, exog=None):
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
    two seasons are available, chosen by AICc.

    With `futr_exog_list` (numeric, future-known columns of `df`): a regression on them with
    ARIMA errors (statsmodels' `exog`, as SARIMAX), the covariates standardised per series and
    those linearly dependent on a constant and the columns before them left out (a full set of
    dummies, a column constant over the history); `forecast` then needs `futr_df`, as
    `HistForecaster`'s does.
    """

    name = "ARIMA"
    min_length = 10

    def __init__(self, horizon: int, season_length=None, alias=None, futr_exog_list=None,
                 freq=None):  # fmt: skip
        super().__init__(horizon, season_length, alias, freq)
        self.futr_exog_list = futr_exog_list

    def _history_exog(self, df, panel, cols):
        names = exog_names(self.futr_exog_list, "futr_exog_list")
        if not names:
            return None
        frame, rows = aligned(df, panel, names), np.repeat(panel.ids, panel.lengths)
        return self._numeric(frame, names, rows, "df")

    def _numeric(self, frame, names, rows, where) -> np.ndarray:
        for n in names:
            if kind_of(frame[n], n, where) != "numeric":
                raise TypeError(f"{self.alias_} takes numeric covariates only; {n!r} is not")
        return np.stack([numbers(frame[n], n, rows, where, where == "df") for n in names], -1)

    def _exog(self, panel, df, futr_df) -> list:
        names = exog_names(self.futr_exog_list, "futr_exog_list")
        if not names:
            return super()._exog(panel, df, futr_df)
        if futr_df is None:
            raise ValueError(
                f"{self.alias_} uses future covariates {names}: pass futr_df with their values "
                f"for the next {self.horizon} steps of every series"
            )
        past = self.exog_ if df is None else self._history_exog(df, panel, self.columns_)
        frame = future_frame(
            futr_df, names, panel.ids, panel.future_ds(self.horizon), self.columns_
        )
        rows = np.repeat(panel.ids, self.horizon)
        fut = self._numeric(frame, names, rows, "futr_df").reshape(panel.n_series, self.horizon, -1)
        bounds = zip(panel.indptr[:-1], panel.indptr[1:], strict=True)
        return [(past[a:b], fut[s]) for s, (a, b) in enumerate(bounds)]

    def _predict(self, y, h, m, exog=None):
        from statsmodels.tsa.arima.model import ARIMA as SMARIMA

        x, x_future = exog_design(*exog) if exog is not None else (None, None)
        candidates = [((p, 1, q), (0, 0, 0, 0)) for p in (0, 1) for q in (0, 1)]
        if m > 1 and len(y) >= 2 * m + 2:
            candidates.append(((1, 0, 1), (0, 1, 1, m)))
        best = None
        for order, seasonal in candidates:
            res = SMARIMA(y, exog=x, order=order, seasonal_order=seasonal).fit()
            if best is None or res.aicc < best.aicc:
                best = res
        fc = best.get_forecast(h, exog=x_future)
        return np.asarray(fc.predicted_mean), np.sqrt(np.asarray(fc.var_pred_mean))


def exog_design(past: np.ndarray, future: np.ndarray):
    """Regressors of one series for statsmodels: `past (n, E)` (NaN interpolated) and `future
    (h, E)`, standardised by the past's mean and sd, keeping a column only when it is linearly
    independent of a constant and the columns kept before it. `(None, None)` when none is kept."""
    past = np.column_stack([_fill(c) for c in past.T]) if past.size else past
    keep: list[int] = []
    for j in range(past.shape[1]):
        design = np.column_stack([np.ones(len(past)), past[:, keep + [j]]])
        if np.linalg.matrix_rank(design) == design.shape[1]:
            keep.append(j)
    if not keep:
        return None, None
    mean, sd = past[:, keep].mean(0), past[:, keep].std(0)
    return (past[:, keep] - mean) / sd, (future[:, keep] - mean) / sd


class Theta(Baseline):
    """The standard Theta method (statsmodels `ThetaModel`, theta = 2), deseasonalised when two
    seasons are available and the series tests seasonal.

    Theta is SES with drift b0 / 2 (Hyndman & Billah 2003), so its forecast errors are those of
    SES: variance sigma^2 (1 + (h - 1) alpha^2), alpha the fitted smoothing parameter and
    sigma^2 the mean squared in-sample one-step residual of the (deseasonalised) series; the
    spread is reseasonalised as the point forecast is (as R's `forecast::thetaf` does).
    statsmodels' own `prediction_intervals` are not used: they take sigma^2 from an ARIMA(0,1,1)
    on the raw (still seasonal) series and grow it by 1 + (alpha - 1)^2 per step, far too wide.
    """

    name = "Theta"
    min_length = 4

    def _predict(self, y, h, m):
        from statsmodels.tsa.forecasting.theta import ThetaModel

        period = m if m > 1 and len(y) >= 2 * m else 1
        res = ThetaModel(pd.Series(y), period=period, deseasonalize=period > 1).fit()
        mean = np.asarray(res.forecast(h), dtype=np.float64)
        b0, alpha = float(res.params["b0"]), float(res.params["alpha"])
        season, past = _theta_seasons(res, len(y), h, period)
        additive = res.model.method.startswith("add")
        y_adj = y - past if additive else y / past
        sigma2 = np.mean(theta_residuals(y_adj, alpha, b0) ** 2)
        sd = np.sqrt(ses_variance(sigma2, alpha, h))
        return mean, sd if additive else sd * season


def theta_residuals(y, alpha: float, b0: float) -> np.ndarray:
    """In-sample one-step residuals `(n - 1,)` of the Theta method (theta = 2) on `y (n,)`.

    The forecast of y_i from y_0..y_{i-1} is the SES level l_{i-1} (l_t = alpha y_t +
    (1 - alpha) l_{t-1}, started at y_0 as statsmodels does) plus the drift
    b0 / 2 * (1 - (1 - alpha)^i) / alpha: statsmodels' one-step forecast at every origin.
    """
    y = np.asarray(y, dtype=np.float64)
    level = lfilter([alpha], [1.0, alpha - 1.0], y, zi=[(1.0 - alpha) * y[0]])[0]
    i = np.arange(1, len(y))
    drift = (1 - (1 - alpha) ** i) / alpha if alpha > 0 else np.zeros(len(i))  # as statsmodels
    return y[1:] - (level[:-1] + b0 / 2 * drift)


def ses_variance(sigma2: float, alpha: float, h: int) -> np.ndarray:
    """Forecast variance of SES at steps 1..h, `(h,)`: sigma^2 (1 + (j - 1) alpha^2)."""
    return sigma2 * (1 + np.arange(h) * alpha**2)


def _theta_seasons(res, n: int, h: int, period: int) -> tuple[np.ndarray, np.ndarray]:
    """Seasonal factors of a fitted `ThetaModel` for the h future `(h,)` and n past `(n,)`
    steps (ones / zeros when not deseasonalised), read from its public `forecast_components`."""
    comp = res.forecast_components(max(h, period))["seasonal"].to_numpy(np.float64)
    # comp[k] is the factor of position (n + k) % period; position t has k = (t - n) % period
    return comp[:h], comp[(np.arange(n) - n) % period]


def _fill(y: np.ndarray) -> np.ndarray:
    """Interpolate missing values (statsmodels' models need complete series)."""
    if np.isnan(y).any():
        y = pd.Series(y).interpolate(limit_direction="both").to_numpy()
    return y


MODELS = {"snaive": SeasonalNaive, "ets": ETS, "arima": ARIMA, "theta": Theta}
