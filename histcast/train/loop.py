"""One plain training loop: AdamW, gradient clipping, early stopping on validation CRPS, and the
rule that decides when to hold out a validation set."""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable

import numpy as np
import torch
from tqdm.auto import tqdm

from ..dist.histogram import Histogram, unit_grid
from ..logs import say
from . import distributed
from .config import SCHEDULES, TrainConfig
from .resume import interrupted, resume, train_state

log = logging.getLogger(__name__)  # histcast.train.loop: under the 'histcast' logger


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
    their device, else its per-tensor loop: the same update up to float rounding."""
    kwargs = {"lr": cfg.learning_rate, "weight_decay": cfg.weight_decay}
    try:
        return torch.optim.AdamW(params, fused=True, **kwargs)
    except (RuntimeError, TypeError, ValueError):  # torch < 2.4 on a CPU, or an odd device
        return torch.optim.AdamW(params, **kwargs)


def check_finite(losses: list, norms: list, first_step: int, cfg: TrainConfig) -> None:
    """Raise FloatingPointError naming the first of an epoch's steps (numbered from
    `first_step`) whose loss or gradient norm (scalar tensors) is NaN or infinite: the weights
    are then no longer finite, and every forecast would be NaN. One check per epoch."""
    values = torch.stack([torch.stack(losses).float(), torch.stack(norms).float()])
    bad = ~torch.isfinite(values).all(0)
    if bool(bad.any()):
        i = int(bad.nonzero()[0, 0])
        loss, norm = values[:, i].tolist()
        raise FloatingPointError(
            f"training diverged at step {first_step + i} (loss {loss:.4g}, gradient norm "
            f"{norm:.4g}); lower learning_rate (now {cfg.learning_rate:g}, the default is "
            f"{TrainConfig.learning_rate:g}) or grad_clip (now {cfg.grad_clip:g})"
        )


def fit_model(
    model, make_batch: Callable, n_train: int, val_batches: list, cfg: TrainConfig, weights=None,
    checkpoint=None,
):  # fmt: skip
    """Train `model` on windows `make_batch(idx) -> UnitBatch`; return the history. A batch
    with a `soft` target `(B, H, K)` (`distill.SoftBatch`) is trained against it.

    `weights (n_train,)` (optional) make windows drawn in proportion to them.
    Early stopping restores the weights with the best validation CRPS (when there is a
    validation set); the history holds one row per epoch. A NaN or infinite loss or gradient
    norm stops training with a FloatingPointError naming the step (`check_finite`).

    A `checkpoint` (`histcast.checkpoint.Checkpoint`) gets the run's state after every epoch
    (`resume.train_state`), and a run finds its last state there and goes on from it. Ctrl-C
    (KeyboardInterrupt) ends training with the best weights so far (the last without a
    validation set), the history and a warning (`resume.interrupted`), and returns.

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
    total = cfg.total_steps
    bar = tqdm(total=total, disable=not cfg.verbose, desc="fit", unit="step", leave=False)
    first, losses = 0, []
    if checkpoint is not None and (state := checkpoint.read(_device(model))) is not None:
        history, best, best_state, bad, steps, first = resume(state, model, opt, sched, draw, rng)
    try:
        for epoch in range(math.ceil(total / cfg.steps_per_epoch)):
            if epoch < first:  # held by the checkpoint resumed from
                continue
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
                if steps >= total:
                    break
            check_finite(losses, norms, steps - len(losses) + 1, cfg)
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
            bar.update(len(losses))
            bar.set_postfix(loss=f"{row['train_loss']:.4f}", val_crps=f"{val:.4f}")
            if val < best:
                best, best_state, bad = val, copy.deepcopy(model.state_dict()), 0
            elif val_batches:
                bad += 1
            if checkpoint is not None:
                state = [model, opt, sched, rng, history, best, best_state, bad, steps]
                checkpoint.write(train_state(*state, done=False))
            if bad >= cfg.early_stopping_patience:
                best_epoch = epoch + 1 - bad
                say(
                    f"stopped early at step {steps} of {total}: no better validation CRPS in {bad} "
                    f"epochs; the weights of epoch {best_epoch} (step "
                    f"{history[best_epoch - 1]['steps']}) restored",
                    cfg.verbose and distributed.is_main(),
                    log,
                )
                break
            if steps >= total:
                break
    except KeyboardInterrupt:
        interrupted(model, history, best_state, steps, losses, checkpoint is not None)
    else:
        if checkpoint is not None:  # finished: a later fit resumes to the end at once
            state = [model, opt, sched, rng, history, best, best_state, bad, steps]
            checkpoint.write(train_state(*state, done=True))
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history
