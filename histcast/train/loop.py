"""One plain training loop: AdamW, gradient clipping, early stopping on validation CRPS, and the
rule that decides when to hold out a validation set."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch
from tqdm.auto import tqdm

from ..data.bins import unit_grid
from ..dist.histogram import Histogram
from . import distributed

SCHEDULES = ("cosine", "constant")
MAX_PASSES = 100  # more passes over the training windows than this: hold out, stop early


@dataclass
class TrainConfig:
    """Optimisation hyperparameters; their defaults are `HistForecaster`'s. An epoch is
    `steps_per_epoch` batches of windows: drawn without replacement (a new shuffle each time all
    windows have been seen), or with replacement in proportion to sampling weights when given."""

    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    batch_size: int = 256
    max_epochs: int = 60
    steps_per_epoch: int = 50
    max_steps: int | None = None
    max_passes: float | None = 10.0
    early_stopping_patience: int = 20
    grad_clip: float = 1.0
    lr_schedule: str = "cosine"
    seed: int = 0
    verbose: bool = True

    @property
    def total_steps(self) -> int:
        """The whole budget T: `max_steps`, else `max_epochs` x `steps_per_epoch`."""
        return self.max_steps or self.max_epochs * self.steps_per_epoch


def passes(cfg: TrainConfig, lengths: np.ndarray) -> float:
    """Passes over the training targets that the budget T makes: T x batch / sum(lengths - 1)."""
    return cfg.total_steps * cfg.batch_size / max(1, int(np.sum(lengths - 1)))


def fit_budget(cfg: TrainConfig, lengths: np.ndarray) -> TrainConfig:
    """The budget that follows the amount of data, three regimes by the passes P that T makes:

    - P <= `max_passes` (large data, e.g. M4 hourly: 2): T as configured;
    - `max_passes` < P <= `MAX_PASSES` (medium, e.g. M3 yearly: 56 passes over 14k windows):
      cut to `max_passes` passes, ceil(max_passes x sum(lengths - 1) / batch) steps (at least
      max_passes / MAX_PASSES x T), over which the cosine schedule then runs;
    - P > `MAX_PASSES` (small data): T as configured, with a holdout and early stopping
      (`holdout_size`).

    `max_passes=None` keeps T everywhere.
    """
    p = passes(cfg, lengths)
    if cfg.max_passes is None or p <= cfg.max_passes or p > MAX_PASSES:
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


def unit_crps(model, batches) -> float:
    """Mean CRPS in unit space over observed targets of validation `batches` (`UnitBatch`es);
    under torchrun each rank scores every `world_size`-th batch and the sums are all-reduced."""
    model.eval()
    sums = torch.zeros(2, dtype=torch.float64)
    with torch.no_grad():
        for batch in batches[distributed.rank() :: distributed.world_size()]:
            y = batch.y
            crps = unit_histogram(model, batch).crps(torch.nan_to_num(y))
            observed = ~torch.isnan(y)
            sums += torch.stack([crps[observed].sum(), observed.sum()]).double().cpu()
    total, count = distributed.all_sum(sums.to(_device(model))).tolist()
    return total / max(count, 1)


def unit_histogram(model, batch) -> Histogram:
    """The model's forecast of a `UnitBatch` as histograms on the unit grid, batch `(B, H)`."""
    probs = model.probs(model(*batch.inputs)[0])
    return Histogram(unit_grid(probs.shape[-1], probs), probs, validate=False)


def _device(model) -> torch.device:
    return next(model.parameters()).device


def batches_of(n: int, size: int, rng: np.random.Generator, weights=None):
    """Endless index batches over range(n), reshuffled at every pass; with `weights (n,)`,
    each batch is drawn with replacement with probabilities proportional to them."""
    if weights is not None:
        cdf = np.cumsum(weights, dtype=np.float64)
        while True:  # inverse-CDF draws: O(size log n) per batch
            yield np.minimum(np.searchsorted(cdf, rng.random(size) * cdf[-1], "right"), n - 1)
    while True:  # rng.permutation(n), in int32 where it fits: half the memory, same order
        order = np.arange(n, dtype=np.int32 if n < 2**31 else np.int64)
        rng.shuffle(order)
        for i in range(0, n - size + 1 if n >= size else 1, size):
            yield order[i : i + size]


def lr_factor(cfg: TrainConfig) -> Callable[[int], float]:
    """Learning-rate multiplier per step: 1 (`"constant"`) or a cosine from 1 down to 0.05 over
    the whole budget T = max_steps or max_epochs x steps_per_epoch (`"cosine"`):
    0.05 + 0.95 (1 + cos(pi t / T)) / 2."""
    if cfg.lr_schedule == "constant":
        return lambda t: 1.0
    if cfg.lr_schedule != "cosine":
        raise ValueError(f"lr_schedule must be one of {SCHEDULES}; got {cfg.lr_schedule!r}")
    total = cfg.total_steps
    return lambda t: 0.05 + 0.475 * (1 + np.cos(np.pi * min(t, total) / total))


def adamw(params: list, cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW over `params`, fused (one kernel for all parameters) where this torch supports it on
    their device, else its per-tensor loop: the same update up to float rounding, 1.2 against
    2.7 ms a step for the default network on 2 CPU cores."""
    kwargs = {"lr": cfg.learning_rate, "weight_decay": cfg.weight_decay}
    try:
        return torch.optim.AdamW(params, fused=True, **kwargs)
    except (RuntimeError, TypeError, ValueError):  # torch < 2.4 on a CPU, or an odd device
        return torch.optim.AdamW(params, **kwargs)


def fit_model(
    model, make_batch: Callable, n_train: int, val_batches: list, cfg: TrainConfig, weights=None
):
    """Train `model` on windows `make_batch(idx) -> UnitBatch`; return the history. A batch
    with a `soft` target `(B, H, K)` (`distill.SoftBatch`) is trained against it.

    `weights (n_train,)` (optional) make windows drawn in proportion to them.
    Early stopping restores the weights with the best validation CRPS (when there is a
    validation set); the history holds one row per epoch.

    Under torchrun (`distributed`), `batch_size` is per rank: every rank draws the same global
    batch of world x batch_size indices from the shared seed and trains on its slice, and the
    gradients are averaged over ranks before clipping, so the steps are those of one process
    with the global batch; dropout draws differ by rank (seed + rank).
    """
    world = distributed.world_size()
    if n_train < world:
        raise ValueError(f"{n_train} training windows cannot be shared by {world} processes")
    distributed.broadcast_parameters(model)
    torch.manual_seed(cfg.seed + distributed.rank())
    rng = np.random.default_rng(cfg.seed)
    opt = adamw(list(model.parameters()), cfg)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor(cfg))
    draw = batches_of(n_train, cfg.batch_size * world, rng, weights)
    history, best, best_state, bad, steps = [], np.inf, None, 0, 0
    bar = tqdm(range(cfg.max_epochs), disable=not cfg.verbose, desc="fit", leave=False)
    for epoch in bar:
        model.train()
        t0, losses, norms = time.perf_counter(), [], []
        for _ in range(cfg.steps_per_epoch):
            batch = make_batch(distributed.local_slice(next(draw)))
            _, loss = model(*batch.inputs, y=batch.y, soft=getattr(batch, "soft", None))
            if world > 1:  # weight ranks by their observed targets: the global batch's mean
                loss = loss * distributed.mean_share((~torch.isnan(batch.y)).sum())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            distributed.average_gradients(model.parameters())
            norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip))
            opt.step()
            sched.step()
            losses.append(loss.detach())
            steps += 1
            if cfg.max_steps is not None and steps >= cfg.max_steps:
                break
        val = unit_crps(model, val_batches) if val_batches else float("nan")
        row = {
            "epoch": epoch + 1,
            "steps": steps,
            "train_loss": float(distributed.all_sum(torch.stack(losses).mean())) / world,
            "grad_norm": float(torch.stack(norms).mean()),
            "val_crps": val,
            "seconds": time.perf_counter() - t0,
        }
        history.append(row)
        bar.set_postfix(loss=f"{row['train_loss']:.4f}", val_crps=f"{val:.4f}")
        if val < best:
            best, best_state, bad = val, copy.deepcopy(model.state_dict()), 0
        elif val_batches:
            bad += 1
        if bad >= cfg.early_stopping_patience or (
            cfg.max_steps is not None and steps >= cfg.max_steps
        ):
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history
