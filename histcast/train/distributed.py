"""Data-parallel training and sharded forecasting with torch.distributed, launched by torchrun.

Under `torchrun --nproc_per_node=N ...` every process (rank) holds the whole packed panel and the
same network. A training step draws one global batch of N x b window indices from the shared
seed, rank r trains on its slice r of it, and the gradients are averaged over ranks (one
all-reduce of the flattened gradients), so N processes with batch b take the steps of one
process with batch N b on the same windows. Validation and forecasting are sharded by window
and series, and gathered. Rank 0 writes outputs. Without torchrun's environment (WORLD_SIZE
unset or 1) every function here is a no-op and nothing is initialised.
"""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.distributed as dist


def setup() -> bool:
    """Join torchrun's process group when its environment says so (WORLD_SIZE > 1): the NCCL
    backend on CUDA, else gloo; each rank takes the GPU `LOCAL_RANK`. Returns `active()`."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        cuda = torch.cuda.is_available()
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if cuda else "gloo")
    return active()


def active() -> bool:
    """True in a process group of more than one rank."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    """The rank that writes files and prints (rank 0; the only one without torchrun)."""
    return rank() == 0


def device(requested: str) -> torch.device:
    """`"auto"`: this rank's GPU under torchrun (`cuda:LOCAL_RANK`), else CUDA when present,
    else the CPU; anything else as given, once `check_available` has found it here."""
    if requested != "auto":
        return check_available(torch.device(requested), requested)
    if not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")) if active() else 0)


def available() -> list[str]:
    """The devices this process can use: 'cpu', then 'cuda:0'... and 'mps' where present."""
    cuda = (
        [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    )
    return ["cpu", *cuda, *(["mps"] if torch.backends.mps.is_available() else [])]


def check_available(dev: torch.device, requested) -> torch.device:
    """`dev`, or a ValueError naming what is available when this machine lacks it (torch would
    fail later, mid-fit, with an AssertionError or a RuntimeError)."""
    if dev.type == "cuda":
        ok, why = torch.cuda.is_available(), "torch.cuda.is_available() is False"
        if ok and (dev.index or 0) >= torch.cuda.device_count():
            ok, why = False, f"torch.cuda.device_count() is {torch.cuda.device_count()}"
    elif dev.type == "mps":
        ok, why = torch.backends.mps.is_available(), "torch.backends.mps.is_available() is False"
    else:
        return dev
    if not ok:
        names = ", ".join(repr(d) for d in available())
        raise ValueError(f"device={requested!r} is not available here ({why}); available: {names}")
    return dev


def barrier() -> None:
    """Wait for every rank (no-op without torchrun)."""
    if active():
        dist.barrier()


def local_slice(idx: np.ndarray) -> np.ndarray:
    """This rank's part of a global index batch: contiguous slice `rank` of `world_size`."""
    return np.array_split(idx, world_size())[rank()] if active() else idx


def broadcast_parameters(model: torch.nn.Module) -> None:
    """Make every rank start from rank 0's weights."""
    if active():
        for t in model.state_dict().values():
            dist.broadcast(t, 0)


def mean_share(n_local: torch.Tensor) -> torch.Tensor:
    """Factor turning this rank's mean over its `n_local` targets into its share of the mean
    over all ranks' targets: world x n_local / sum_r n_r (1 without torchrun). Averaging the
    scaled losses' gradients over ranks then gives the gradient of the global mean, however
    the missing targets fall between ranks."""
    if not active():
        return torch.ones((), dtype=torch.float32, device=n_local.device)
    n = n_local.double()
    return (world_size() * n / all_sum(n).clamp(min=1)).float()


def average_gradients(params) -> None:
    """Replace each gradient by its mean over ranks: one all-reduce of all of them, flattened."""
    if not active():
        return
    grads = [p.grad for p in params if p.grad is not None]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= world_size()
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()


def all_sum(values: torch.Tensor) -> torch.Tensor:
    """Sum of `values` over ranks (a copy; the input is left as it is)."""
    out = values.clone()
    if active():
        dist.all_reduce(out)
    return out


def gather_rows(local: torch.Tensor, counts: list[int]) -> torch.Tensor:
    """Concatenate every rank's `local (n_r, ...)` in rank order; `counts` holds each n_r.
    Rows are padded to the largest n_r for the collective and trimmed after."""
    if not active():
        return local
    pad = max(counts)
    buf = torch.zeros((pad, *local.shape[1:]), dtype=local.dtype, device=local.device)
    buf[: len(local)] = local
    parts = [torch.empty_like(buf) for _ in counts]
    dist.all_gather(parts, buf)
    return torch.cat([p[:n] for p, n in zip(parts, counts, strict=True)])
