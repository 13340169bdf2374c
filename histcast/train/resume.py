"""Stopping and resuming a training run: the state a checkpoint holds, and Ctrl-C.

`train_state` is what `fit_model` hands its checkpoint after every epoch; `resume` puts it back,
so that the run goes on as if it had never stopped: the same weights, optimizer moments, learning
rate, window draws and dropout draws. On one device and thread count the resumed run's weights
are bit-identical to an uninterrupted run's. `interrupted` is what a Ctrl-C leaves: the best
weights so far (restored by the loop), the history, and a warning.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import torch


def train_state(model, opt, sched, rng, history, best, best_state, bad, steps, done) -> dict:
    """A training run's state at the end of an epoch (tensors and plain values): weights,
    optimizer and scheduler, `steps` taken, `history`, early stopping (`best` score, its
    weights `best_state`, `bad` epochs since), the sampler's numpy Generator state (JSON) and
    torch's RNG states; `done` when the loop has finished."""
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else []
    return plain(
        {
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(),
            "steps": steps,
            "history": history,
            "best": float(best),
            "best_state": best_state,
            "bad": bad,
            "numpy_rng": json.dumps(rng.bit_generator.state),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": cuda,
            "done": bool(done),
        }
    )


def plain(x):
    """`x` with numpy scalars (the scheduler's learning rates) as Python numbers, the same
    values, so that `torch.load(weights_only=True)` reads it; containers are copied."""
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, dict):
        return type(x)((k, plain(v)) for k, v in x.items())
    if isinstance(x, list | tuple):
        return type(x)(plain(v) for v in x)
    return x


def resume(state: dict, model, opt, sched, draw, rng) -> tuple:
    """Put `train_state`'s `state` back into `model`, `opt`, `sched` and the RNGs; replay the
    window sampler `draw` (a generator over `rng`) to where it was. Returns `(history, best,
    best_state, bad, steps, first_epoch)`; first_epoch is infinite when the run had finished."""
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    steps = int(state["steps"])
    for _ in range(steps):  # the sampler's shuffles are its own state: draw them again
        next(draw)
    if json.dumps(rng.bit_generator.state) != state["numpy_rng"]:
        raise ValueError("the checkpoint's window draws do not replay; start over without it")
    torch.set_rng_state(state["torch_rng"].cpu())
    if state["cuda_rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda_rng"]])
    history = list(state["history"])
    first = float("inf") if state["done"] else len(history)
    return history, state["best"], state["best_state"], int(state["bad"]), steps, first


def interrupted(model, history: list, best_state, steps: int, losses: list, resumable: bool):
    """What a Ctrl-C during training leaves: a warning naming step `steps` and the weights kept
    (the best so far, `best_state`, which the loop restores, or the last), and a last
    `history` row marked `"interrupted": True`. Re-raises KeyboardInterrupt when no step was
    taken (nothing to keep); FloatingPointError when the last weights, the only ones, are not
    finite."""
    if steps == 0:
        raise KeyboardInterrupt("training interrupted before its first step: nothing to keep")
    if best_state is None and not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
        raise FloatingPointError(f"training diverged before it was interrupted at step {steps}")
    if history and history[-1]["steps"] == steps:  # stopped after the epoch's row was written
        history[-1]["interrupted"] = True
    else:
        mean = float(torch.stack(losses).float().mean()) if losses else float("nan")
        row = {"epoch": len(history) + 1, "steps": steps, "train_loss": mean}
        history.append({**row, **dict.fromkeys(("grad_norm", "val_crps", "seconds"), np.nan)})
        history[-1]["interrupted"] = True
    if best_state is not None:
        i = int(np.nanargmin([r["val_crps"] for r in history]))
        kept = f"the best weights so far (step {history[i]['steps']}, validation CRPS "
        kept += f"{history[i]['val_crps']:.4g})"
    else:
        kept = "the last weights (no validation set)"
    again = "; fit again with the same checkpoint_dir to resume" if resumable else ""
    warnings.warn(
        f"training interrupted at step {steps} (KeyboardInterrupt): the model keeps {kept} "
        f"and its history{again}",
        stacklevel=4,
    )
