"""The fit plan: how much to train, what to hold out, how wide the supports, which windows.

`plan_fit` turns a validated panel into what the training loop reads (`FitPlan`), by four rules:

- the budget is `max_steps` when given; left to the library (`fit_budget`), the passes over
  the training windows P = T x batch / sum(lengths - 1) decide between the configured budget
  and a cut to `max_passes`; P > `MAX_PASSES` (small data) also holds out for early stopping
  (`holdout_size`), and `describe_budget` says in one line what was chosen;
- the holdout is the last `val_size` points of every series long enough (`split_holdout`); its
  windows are scored on the supports of the training part;
- the support margin (`bins.choose_margin`) is measured on a sample of training windows whose
  context is at least half full (`margin_sample`);
- windows are drawn uniformly, or by recency (`recency_weights`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace

import numpy as np

from ..data import bins
from ..data.batches import Packed, UnitBatch, UnitWindows
from ..data.panel import Panel
from ..data.windows import TrainingWindows, Windows, last_windows, training_windows
from ..logs import say
from ..nn.config import ModelConfig
from . import distributed
from .config import TrainConfig

log = logging.getLogger(__name__)

MAX_PASSES = 100  # more passes over the training windows than this: hold out, stop early


def passes(cfg: TrainConfig, lengths: np.ndarray) -> float:
    """Passes over the training targets that the budget T makes: T x batch / sum(lengths - 1)."""
    return cfg.total_steps * cfg.batch_size / max(1, int(np.sum(lengths - 1)))


def fit_budget(cfg: TrainConfig, lengths: np.ndarray) -> TrainConfig:
    """The steps to run. `max_steps` given: exactly those (early stopping may end sooner).
    `max_steps=None` leaves the budget to the library: T = max_epochs x steps_per_epoch, which
    then follows the amount of data, three regimes by the passes P that T makes:

    - P <= `max_passes` (large data, e.g. M4 hourly: 2): T as configured;
    - `max_passes` < P <= `MAX_PASSES` (medium, e.g. M3 yearly: 56 passes over 14k windows):
      cut to `max_passes` passes, ceil(max_passes x sum(lengths - 1) / batch) steps (at least
      max_passes / MAX_PASSES x T), over which the cosine schedule then runs;
    - P > `MAX_PASSES` (small data): T as configured, with a holdout and early stopping
      (`holdout_size`).

    `max_passes=None` keeps T everywhere.
    """
    p = passes(cfg, lengths)
    if cfg.max_steps is not None or cfg.max_passes is None or not cfg.max_passes < p <= MAX_PASSES:
        return cfg
    steps = math.ceil(cfg.max_passes * max(1, int(np.sum(lengths - 1))) / cfg.batch_size)
    return replace(cfg, max_steps=min(steps, cfg.total_steps))


def holdout_size(val_size, horizon: int, cfg: TrainConfig, lengths: np.ndarray) -> int:
    """Points held out at the end of each series for early stopping.

    `val_size="auto"`: `horizon` points when the budget would pass over the training windows
    more than `MAX_PASSES` times (T x batch / sum(lengths - 1) > 100: small data), else none;
    None: `horizon`; an integer: itself.
    """
    if val_size == "auto":
        return horizon if passes(cfg, lengths) > MAX_PASSES else 0
    return horizon if val_size is None else int(val_size)


def describe_budget(given: TrainConfig, cfg: TrainConfig, lengths, val_size: int, auto: bool):
    """One line: the steps a fit runs and why, and what it holds out for early stopping."""
    n = max(1, int(np.sum(lengths - 1)))
    p = passes(cfg, lengths)
    if given.max_steps is not None:
        why = "max_steps as given"
    elif cfg.max_steps is not None:
        why = (
            f"max_passes={given.max_passes:g} passes: the configured {given.total_steps:,} "
            f"(max_epochs x steps_per_epoch) would make {passes(given, lengths):.0f}; set "
            "max_steps to choose"
        )
    else:
        why = "max_epochs x steps_per_epoch"
    line = f"training budget: {cfg.total_steps:,} steps of {cfg.batch_size} windows ({why}; "
    line += f"{p:.1f} passes over {n:,} training targets)"
    if val_size:
        rule = f" (val_size='auto': more than {MAX_PASSES} passes)" if auto else ""
        line += f"; the last {val_size} points of each series held out for early stopping{rule}"
    return line


def split_holdout(panel: Panel, val_size: int) -> tuple[Panel, np.ndarray]:
    """Cut the last `val_size` points off every series long enough to keep two points.

    Returns the training panel and `holds_out (S,)`, True where the series was cut.
    """
    holds_out = panel.lengths > val_size + 1
    n_train = np.where(holds_out, panel.lengths - val_size, panel.lengths)
    return panel.drop_last(panel.lengths - n_train), holds_out


def recency_weights(win: Windows, indptr: np.ndarray, halflife: float | None):
    """Sampling weights 0.5 ** (age / halflife) of windows `(W,)`, where age is the number of
    steps from a window's cutoff to its series' last training point; None when `halflife` is."""
    if halflife is None:
        return None
    age = indptr[1:][win.series] - 1 - win.cutoff
    return 0.5 ** (age / halflife)


def margin_sample(win: TrainingWindows, indptr: np.ndarray, context_length: int, seed: int,
                  n=20_000):  # fmt: skip
    """Indices of up to `n` windows (drawn without replacement) whose context holds at least half
    the points a forecast's will, min(C, series length) / 2: the windows on which the share of
    targets outside the support is measured (a window at a series' start sees a few points).

    Series s's pool is its windows from local cutoff ceil(min(C, length) / 2) - 1 on; the
    draw numbers the pools' windows in order and maps the drawn numbers back, so no `(W,)`
    array is built."""
    half = np.ceil(np.minimum(context_length, np.diff(indptr)) / 2).astype(np.int64)
    skip = np.minimum(np.maximum(half - 1, 0), win.counts)  # windows left out at each start
    sizes = win.counts - skip
    pool_first = np.concatenate([[0], np.cumsum(sizes)])
    rng = np.random.default_rng(seed)
    j = rng.choice(int(pool_first[-1]), min(int(pool_first[-1]), n), replace=False)
    series = np.searchsorted(pool_first, j, "right") - 1
    return win.first[series] + skip[series] + j - pool_first[series]


@dataclass
class FitPlan:
    """What one fit trains on: the budget `cfg`, the points held out per series `val_size`, every
    training window `train` of the packed training part `data`, the data path `windows` (with
    the chosen margin) and the share of training targets its supports leave out, the held-out
    `val_batches` and the window sampling `weights (W,)` (None: uniform)."""

    cfg: TrainConfig
    val_size: int
    train: TrainingWindows
    data: Packed
    windows: UnitWindows
    outside_share: float
    val_batches: list[UnitBatch]
    weights: np.ndarray | None


def plan_fit(est, panel: Panel, exog, config: ModelConfig, device) -> FitPlan:
    """The plan of `est` (a `HistForecaster`: its budget, holdout, margin and sampling
    parameters) on `panel` and its packed covariates `exog` (`ExogArrays` or None)."""
    given = est._train_config()
    val_size = holdout_size(est.val_size, est.horizon, given, panel.lengths)
    cfg = fit_budget(given, panel.lengths)
    line = describe_budget(given, cfg, panel.lengths, val_size, est.val_size == "auto")
    say(line, given.verbose and distributed.is_main(), log)
    train_panel, holds_out = split_holdout(panel, val_size)
    train = training_windows(train_panel.indptr, train_panel.lengths)
    if len(train) == 0:
        raise ValueError("no training windows: the series are too short for this horizon")
    cut = exog and exog.drop_last(panel.indptr, panel.lengths - train_panel.lengths)
    data = Packed.from_panel(train_panel, panel.freq, device, exog=cut)  # before the holdout

    def data_path(margin: float) -> UnitWindows:
        return UnitWindows(config.context_length, config.horizon, est.bin_range, margin)

    sample = train.take(margin_sample(train, train_panel.indptr, config.context_length, est.seed))
    margin, share = bins.choose_margin(
        lambda m: bins.outside_share(data_path(m)(data, sample).y), est.margin
    )
    windows = data_path(margin)
    val_batches = holdout_batches(windows, panel, exog, data, val_size, holds_out)
    weights = recency_weights(train, train_panel.indptr, est.recency_halflife)
    return FitPlan(cfg, val_size, train, data, windows, share, val_batches, weights)


def holdout_batches(windows, panel, exog, data: Packed, val_size: int, holds_out, chunk=1024):
    """`UnitBatch`es of the windows that forecast each held-out horizon (series where
    `holds_out`), read from the whole panel on the supports of the training part `data`, in
    chunks of about `chunk` windows; [] when nothing is held out."""
    if not val_size or not holds_out.any():
        return []
    full = Packed.from_panel(panel, panel.freq, data.values.device, ranges=data.ranges, exog=exog)
    val = last_windows(panel.indptr, val_size).take(np.flatnonzero(holds_out))
    chunks = np.array_split(np.arange(len(val)), max(1, len(val) // chunk))
    return [windows(full, val.take(c)) for c in chunks]
