"""`HistForecaster`: a global GRU/TCN model with a histogram head, fit on long DataFrames."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import torch

from . import persistence
from .checkpoint import Checkpoint, identity
from .checks import check_choice, check_int, check_number
from .data import bins
from .data.batches import Packed, UnitWindows
from .data.calendar import calendar_features, cycles, n_features, season_length, step_days
from .data.covariates import Covariates, check_lists, forecast_exog, has_covariates
from .data.interop import backend_of, optional_pandas, to_native, to_pandas
from .data.panel import Columns, Panel, from_frame, from_frame_like
from .data.windows import last_windows
from .dist.histogram import Histogram
from .estimator import Estimator
from .evaluation.levels import LEVELS
from .evaluation.metrics import pit
from .frames import check_forecast_args, check_h, first_steps, forecast_frame, forecast_index
from .nn.config import ModelConfig
from .nn.encoders import ENCODERS
from .nn.heads import HEADS
from .nn.losses import TARGETS
from .nn.network import ForecastNet
from .train import calibration, distill, distributed
from .train.config import SCHEDULES, TrainConfig
from .train.loop import fit_model, unit_histogram
from .train.plan import plan_fit

log = logging.getLogger("histcast")


def default_context_length(freq, horizon: int) -> int:
    """The longest of 3 horizons, 2 seasons and 2 of the longest calendar cycle that is at most
    200 steps (hourly: 2 weeks = 336; weekly: 2 years = 104), clipped to [16, 512]."""
    steps = [c / step_days(freq) for c in cycles(freq)]
    cycle = max([n for n in steps if n <= 200], default=0)
    return int(np.clip(max(3 * horizon, 2 * season_length(freq), round(2 * cycle)), 16, 512))


def default_patch_size(freq, context_length: int) -> int:
    """One season per patch when that gives 4..64 patches (hourly: 24), else ~16 patches."""
    m = season_length(freq)
    if m > 1 and 4 <= context_length / m <= 64:
        return m
    return max(1, round(context_length / 16))


class HistForecaster(Estimator):
    """Global probabilistic forecaster: a GRU or TCN encoder and a histogram decoder head.

    The defaults are those of `ModelConfig` and `TrainConfig`; docs/defaults.md says how each
    was chosen. Fitted attributes: `model_`, `config_`, `panel_`, `freq_`, `columns_`, `margin_`,
    `outside_share_`, `val_size_`, `history_`, `backend_` (the library of the training frame:
    "pandas" or "polars").

    Args:
        horizon: steps to forecast, H.
        encoder: `"tcn"` (dilated causal convolutions) or `"gru"`.
        context_length: steps read before each forecast, C; None follows the frequency
            (`default_context_length`), rounded up to whole patches.
        patch_size: steps per encoder input patch; None follows the frequency.
        n_bins: histogram bins K.
        target: training target of the histogram loss: `"gaussian"` (HL-Gaussian), `"dirac"`
            or `"twohot"`.
        sigma_ratio: the Gaussian target's sigma in bin widths.
        distill_alpha: weight a of a teacher's histogram in the training target,
            a p_teacher + (1 - a) p_target (`distill`); 0 trains without a teacher.
        bin_range: support of each window: `"window"` (its context) or `"series"` (its
            series' history).
        margin: widening of the support by margin x span per side; `"auto"` takes the narrowest
            of `bins.MARGINS` that leaves at most 2% of training targets outside.
        head: `"histogram"`, or the loss ablation's rivals `"gaussian"`, `"quantile"`, `"mse"`.
        step_skip: features per horizon step from a linear map of the context (0: none).
        hidden_size, n_layers, dropout: network width, GRU depth, dropout rate.
        learning_rate, lr_schedule, weight_decay, grad_clip: AdamW's peak learning rate, its
            schedule (`"cosine"` decays to 5% over the budget, or `"constant"`), weight decay
            and gradient-norm clipping.
        batch_size, max_epochs, steps_per_epoch: windows per batch, and the library's budget
            T = max_epochs x steps_per_epoch batches (an epoch: one validation and one row
            of `history_`).
        max_steps: the batches to train on, exactly (early stopping may end sooner, and says
            so); None (the default) leaves the budget to the library: T, cut by `max_passes`.
            Either way `fit` says in one line what it runs and why (`train.plan`).
        max_passes: with `max_steps=None`, when T would pass over the training windows more
            than this (but at most 100 times, beyond which `val_size="auto"` holds out and
            stops early), train for this many passes instead (`train.plan.fit_budget`); None:
            always T.
        early_stopping_patience: epochs without a better validation CRPS before stopping.
        val_size: points held out per series for early stopping: `"auto"` (`horizon` points
            when the budget exceeds 100 passes over the windows, else none), None (`horizon`)
            or an integer.
        calibration: `"auto"` recalibrates the forecast histograms by the empirical CDF of
            the PIT values of the points `val_size` holds out, when there are any
            (`calibration`); `"none"` (the default) never: on single short series the map
            from one held-out horizon helped some sets and hurt others (docs/defaults.md).
        recency_halflife: draw training windows with weight 0.5 ** (age / half-life), age in
            steps from a window's cutoff to its series' end; None draws uniformly.
        futr_exog_list, hist_exog_list, stat_exog_list: covariate columns (neuralforecast's
            names): known in the future (in `df`, and in `forecast`'s `futr_df` for the
            forecast's steps), known only up to the forecast's start (in `df`), and static
            (in `static_df`, one row per series). Numbers or categories; see `covariates`.
        exog_scaling: numeric covariates are scaled by the median and IQR of each series'
            values (`"series"`) or of the whole column (`"column"`) in `fit`'s data.
        freq: pandas frequency of `ds`; None infers it.
        seed: seeds the network's initialisation and the window draws.
        device: `"auto"` (CUDA when present), `"cpu"`, `"cuda"`, ...
        alias: name of the forecast columns (default `Hist<ENCODER>`).
        verbose: show a progress bar while training.
    """

    def __init__(
        self,
        horizon: int,
        encoder: str = ModelConfig.encoder,
        context_length: int | None = None,
        patch_size: int | None = None,
        n_bins: int = ModelConfig.n_bins,
        target: str = ModelConfig.target,
        sigma_ratio: float = ModelConfig.sigma_ratio,
        distill_alpha: float = 0.0,
        bin_range: str = "window",
        margin: float | str = "auto",
        head: str = ModelConfig.head,
        step_skip: int = ModelConfig.step_skip,
        hidden_size: int = ModelConfig.hidden_size,
        n_layers: int = ModelConfig.n_layers,
        dropout: float = ModelConfig.dropout,
        learning_rate: float = TrainConfig.learning_rate,
        lr_schedule: str = TrainConfig.lr_schedule,
        weight_decay: float = TrainConfig.weight_decay,
        grad_clip: float = TrainConfig.grad_clip,
        batch_size: int = TrainConfig.batch_size,
        max_epochs: int = TrainConfig.max_epochs,
        steps_per_epoch: int = TrainConfig.steps_per_epoch,
        max_steps: int | None = None,
        max_passes: float | None = TrainConfig.max_passes,
        early_stopping_patience: int = TrainConfig.early_stopping_patience,
        val_size: int | str | None = "auto",
        calibration: str = "none",
        recency_halflife: float | None = None,
        futr_exog_list: list[str] | None = None,
        hist_exog_list: list[str] | None = None,
        stat_exog_list: list[str] | None = None,
        exog_scaling: str = "series",
        freq=None,
        seed: int = 0,
        device: str = "auto",
        alias: str | None = None,
        verbose: bool = True,
    ):
        for name, value in list(locals().items()):  # store the arguments as given
            if name != "self":
                setattr(self, name, value)

    @property
    def alias_(self) -> str:
        return self.alias or f"Hist{str(self.encoder).upper()}"

    def _device(self) -> torch.device:
        return distributed.device(self.device)

    def _model_config(self, freq, covariates=None) -> ModelConfig:
        context = self.context_length or default_context_length(freq, self.horizon)
        patch = self.patch_size or default_patch_size(freq, context)
        return ModelConfig(
            horizon=int(self.horizon), context_length=int(-(-context // patch) * patch),
            n_features=n_features(freq), encoder=self.encoder, head=self.head,
            n_bins=self.n_bins, target=self.target, sigma_ratio=self.sigma_ratio,
            hidden_size=self.hidden_size, n_layers=self.n_layers, dropout=self.dropout,
            patch_size=int(patch), season=season_length(freq), step_skip=self.step_skip,
            **(covariates.cards if covariates is not None else {}),
        )  # fmt: skip

    def _train_config(self) -> TrainConfig:
        names = TrainConfig.__dataclass_fields__
        return TrainConfig(**{k: v for k, v in self.get_params().items() if k in names})

    def _windows(self, config: ModelConfig, margin: float) -> UnitWindows:
        """The data path: windows of a packed panel -> unit-space batches."""
        return UnitWindows(config.context_length, config.horizon, self.bin_range, margin)

    # -- fitting ---------------------------------------------------------------------------------
    def fit(
        self, df: pd.DataFrame, static_df=None, id_col="unique_id", time_col="ds", target_col="y",
        teacher=None, checkpoint_dir=None,
    ):  # fmt: skip
        """Validate `df`, train one global model on every series' windows, return `self`.
        `static_df` holds the `stat_exog_list` columns, one row per series. `teacher` (a
        fitted model or ensemble) is distilled with weight `distill_alpha`.

        `checkpoint_dir` (optional): a folder where the training state is written after every
        epoch (`histcast.checkpoint`); a later `fit` with the same arguments and data resumes
        from it (on the same device and threads, to bit-identical weights), one with others is
        refused. Ctrl-C (KeyboardInterrupt) during training keeps the best weights so far (the
        last without a validation set) and the history, warns, and returns the fitted `self`.
        """
        self._reset()
        check_params(self)
        df, backend = to_pandas(df, "df")  # pandas or polars (histcast.data.interop)
        static_df = optional_pandas(static_df, "static_df")
        distributed.setup()  # under torchrun: join its process group
        columns = Columns(id_col, time_col, target_col)
        check_lists(self, columns)
        panel = from_frame(df, columns, self.freq, keep_order=has_covariates(self))
        covariates, exog = Covariates.fit(self, df, static_df, panel, columns)
        config = self._model_config(panel.freq, covariates)
        plan = plan_fit(self, panel, exog, config, self._device())
        log.info("fitting %s on device %s", type(self).__name__, plan.data.values.device)
        ckpt = None
        if checkpoint_dir is not None:
            ckpt = Checkpoint(checkpoint_dir, identity(self, panel, exog, teacher))
        torch.manual_seed(self.seed)
        model = ForecastNet(config).to(plan.data.values.device)
        make_batch = distill.batches(plan.windows, plan.data, plan.train, self, config, teacher,
                                     panel.freq)  # fmt: skip
        history = fit_model(model, make_batch, len(plan.train), plan.val_batches, plan.cfg,
                            plan.weights, ckpt)  # fmt: skip
        self.calibration_ = self._calibration_map(model, plan.val_batches)
        self.columns_, self.freq_, self.panel_, self.config_ = columns, panel.freq, panel, config
        self.margin_, self.outside_share_ = plan.windows.margin, plan.outside_share
        self.val_size_, self.covariates_, self.exog_ = plan.val_size, covariates, exog
        self.backend_ = backend  # the library forecasts are given in when no df is passed
        self.history_, self.model_ = history, model  # model_ last: it means "fitted"
        return self

    def _calibration_map(self, model, val_batches) -> list[float] | None:
        """`calibration.fit_map` of the PIT values of the held-out targets, or None."""
        if self.calibration == "none" or not val_batches:
            return None
        with torch.no_grad():
            pits = [pit(unit_histogram(model, b), b.y.double().cpu()) for b in val_batches]
        return calibration.fit_map(np.concatenate([p.reshape(-1) for p in pits])).tolist()

    # -- forecasting -----------------------------------------------------------------------------
    def predict_distribution(self, df: pd.DataFrame | None = None, futr_df=None, static_df=None):
        """Forecast histograms for the `horizon` steps after each series' end.

        Returns `(Histogram, index)`: a Histogram with batch shape `(S, H)` and float64 edges in
        data units, and a frame with the id and time columns of the S x H forecasts
        (row-major). `df` (optional) gives new histories to forecast from (with their
        covariate columns); otherwise the training data. `futr_df` gives the future-known
        covariates of the H steps (a row per series and step), `static_df` new static ones.
        Frames may be pandas or polars; the index is in `df`'s library (the training data's
        when `df` is None).
        """
        dist, index = self._distribution(df, futr_df, static_df)
        return dist, self._native(index, df)

    def _native(self, frame: pd.DataFrame, df):
        """A result `frame` in `df`'s library (the training data's when `df` is None), its id
        and time columns of `df`'s dtypes."""
        backend = getattr(self, "backend_", "pandas") if df is None else backend_of(df)
        return to_native(frame, backend, df, (self.columns_.id, self.columns_.time))

    def _distribution(self, df=None, futr_df=None, static_df=None):
        """`predict_distribution` with its index as a pandas frame."""
        self.check_fitted()
        df = optional_pandas(df, "df")
        futr_df = optional_pandas(futr_df, "futr_df")
        static_df = optional_pandas(static_df, "static_df")
        panel = self.panel_ if df is None else self._new_panel(df)
        device = next(self.model_.parameters()).device
        fut_ds = panel.future_ds(self.config_.horizon)
        exog, fut_exog = forecast_exog(
            getattr(self, "covariates_", None), getattr(self, "exog_", None), panel,
            self.columns_, fut_ds, df, futr_df, static_df,
        )  # fmt: skip
        data = Packed.tail(panel, self.freq_, device, self.config_.context_length, exog)
        fut = torch.as_tensor(calendar_features(fut_ds, self.freq_), device=device)
        dist = self._histograms(data, last_windows(data.indptr.cpu().numpy()), fut, fut_exog)
        index = forecast_index(panel.ids, fut_ds, self.columns_.id, self.columns_.time)
        return dist, index

    def _histograms(self, data: Packed, wins, fut_feats, fut_exog=None) -> Histogram:
        """Forecast histograms of windows `wins` (W of them): batch shape `(W, H)`, on the CPU.
        fut_feats `(W, H, F)` and fut_exog `(W, H, Ef)` (or None) describe the future steps.
        Under torchrun each rank forecasts a contiguous share of the windows; all are gathered."""
        windows = self._windows(self.config_, self.margin_)
        shares = np.array_split(np.arange(len(wins)), distributed.world_size())
        mine = shares[distributed.rank()]
        counts, (h, k) = [len(s) for s in shares], (self.config_.horizon, self.config_.n_bins)
        f64 = dict(dtype=torch.float64, device=next(self.model_.parameters()).device)
        probs = torch.empty(len(mine), h, k, **f64)  # filled in place: no second copy
        edges = torch.empty(len(mine), 1, k + 1, **f64)
        self.model_.eval()
        with torch.no_grad():
            for chunk in np.array_split(mine, max(1, len(mine) // 2048)) if len(mine) else []:
                fut_x = None if fut_exog is None else fut_exog[chunk]
                batch = windows(data, wins.take(chunk), fut_feats[chunk], fut_x)
                rows = slice(chunk[0] - mine[0], chunk[-1] + 1 - mine[0])
                probs[rows] = self.model_.probs(self.model_(*batch.inputs)[0])
                edges[rows] = batch.edges(self.config_.n_bins)
        if getattr(self, "calibration_", None) is not None:
            probs = calibration.apply_map(probs, self.calibration_)
        probs = distributed.gather_rows(probs, counts)
        edges = distributed.gather_rows(edges, counts)
        return Histogram(edges.cpu(), probs.cpu(), validate=False)

    def forecast(
        self, df=None, quantiles=LEVELS, level=(80, 95), futr_df=None, static_df=None, *, h=None
    ) -> pd.DataFrame:
        """Nixtla-style forecast frame: id, time, `<alias>` (mean), `<alias>-median`,
        `<alias>-lo-<L>` / `<alias>-hi-<L>` for central intervals `level`, and
        `<alias>-q-<100 a>` for each quantile level a in `quantiles`, for the first `h` steps
        (None: all `horizon`). `df`, `futr_df`, `static_df`: as in `predict_distribution`."""
        self.check_fitted()
        quantiles, level = check_forecast_args(quantiles, level)
        h = check_h(h, self.config_.horizon)
        dist, index = self._distribution(df, futr_df, static_df)
        dist, index = dist[:, :h], first_steps(index, self.config_.horizon, h)
        return self._native(forecast_frame(index, dist, self.alias_, quantiles, level), df)

    def _new_panel(self, df: pd.DataFrame) -> Panel:
        keep_order = getattr(self, "covariates_", None) is not None
        return from_frame_like(df, self.columns_, self.freq_, keep_order)

    # -- persistence -----------------------------------------------------------------------------
    def save(self, path, overwrite: bool = False) -> None:
        """Write the fitted model to directory `path` (`persistence.save`); under torchrun rank 0
        writes and the others wait for it. A model already saved there (a folder with
        config.json or ensemble.json) is replaced only with `overwrite=True`
        (FileExistsError otherwise)."""
        self.check_fitted()
        if distributed.is_main():
            persistence.save(self, path, overwrite)
        distributed.barrier()

    @classmethod
    def load(cls, path, device: str = "auto") -> HistForecaster:
        """Rebuild a fitted forecaster written by `save` (`persistence.load`)."""
        return persistence.load(cls, path, device)


def check_params(model: HistForecaster) -> None:
    """Validate the constructor arguments; ValueError naming the argument and what it may be."""
    for name in ("horizon", "n_bins", "hidden_size", "n_layers", "batch_size", "max_epochs",
                 "steps_per_epoch", "early_stopping_patience"):  # fmt: skip
        check_int(name, getattr(model, name), 2 if name == "n_bins" else 1)
    for name in ("context_length", "patch_size", "max_steps"):
        check_int(name, getattr(model, name), 1, optional=True)
    check_int("step_skip", model.step_skip, 0)
    check_int("seed", model.seed, 0)
    for name in ("sigma_ratio", "learning_rate", "grad_clip"):
        check_number(name, getattr(model, name))
    check_number("weight_decay", model.weight_decay, low_open=False)
    check_number("dropout", model.dropout, high=1.0, low_open=False)
    check_number("recency_halflife", model.recency_halflife, optional=True)
    check_number("max_passes", model.max_passes, optional=True)
    if model.margin != "auto":
        check_number("margin", model.margin, low_open=False)
    if model.val_size not in ("auto", None):
        check_int("val_size", model.val_size, 0)
    check_choice("encoder", model.encoder, ENCODERS)
    check_choice("head", model.head, HEADS)
    check_choice("target", model.target, [t for t in TARGETS if t != "soft"])
    distill.check_alpha(model.distill_alpha)
    check_choice("bin_range", model.bin_range, bins.BIN_RANGES)
    check_choice("lr_schedule", model.lr_schedule, SCHEDULES)
    check_choice("calibration", model.calibration, ("auto", "none"))
    try:
        model._device()
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda'...; got {model.device!r}") from err
