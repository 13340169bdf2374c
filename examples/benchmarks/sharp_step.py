"""What sharp histograms cost a CPU training step, with and without subnormal gradients.

As a network learns, its histograms sharpen: far bins get probabilities of 1e-40 and less, and
their gradient entries s q_i (s = 1 / n from the mean over n targets) fall below float32's
smallest normal number, 1.2e-38. Matrix products on such subnormal floats run 20-150x slower on
a CPU, and `torch.set_flush_denormal` does not reach the threads that run them. A default M4
hourly fit's backward pass grew from ~1 s to 3-5 s per 50-step epoch that way, until
`losses.scaled_probs` (d902ec9) made the loss's gradient zero below 4e-35 instead.

For the default network (`HistForecaster(horizon=48)`, K = 200, batch 256, random inputs), its
last layer scaled by a factor to spread the logits as training does, this times a whole training
step (forward with the loss, backward, AdamW at learning rate 0, so that the weights and
the sharpness stay as set) in one process, alternating:
  * `autograd`: the loss as log_softmax + gather, differentiated by autograd (its backward forms
    s q_i like the hand-written one before d902ec9);
  * `shipped`: the loss `HistForecaster` trains with.
and prints the share of subnormal entries in each gradient. Writes results/sharp_step.json.

    python examples/benchmarks/sharp_step.py [--scales 1 10 30 100] [--repeat 6]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from _common import print_table, resolved_params, write
from loss_cost import BATCH, HORIZON, default_network

from histcast.datasets import load_dataset
from histcast.nn.losses import sparse_targets

VARIANTS = ("autograd", "shipped")


def autograd_loss(head):
    """The histogram loss as autograd differentiates it: -sum_w w log softmax(logits)[idx_w]."""

    def loss(out, y, soft=None):
        idx, w = sparse_targets(y, out.shape[-1], head.target, head.sigma_ratio)
        nll = -(F.log_softmax(out, -1).gather(-1, idx) * w).sum(-1)
        return nll[~torch.isnan(y)].mean()

    return loss


def step(net, opt, inputs, y) -> torch.Tensor:
    """One training step; returns the logits, their gradient in `.grad`."""
    opt.zero_grad(set_to_none=True)
    out, loss = net(*inputs, y=y)
    out.retain_grad()
    loss.backward()
    opt.step()
    return out


def subnormal_share(grad: torch.Tensor) -> float:
    tiny = torch.finfo(grad.dtype).tiny
    return float(((grad != 0) & (grad.abs() < tiny)).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0, 30.0, 100.0])
    parser.add_argument("--repeat", type=int, default=6, help="rounds of 5 steps per variant")
    args = parser.parse_args()
    torch.set_num_threads(2)
    df, _ = load_dataset("synthetic_seasonal")
    model = default_network(df, "histogram", 200)
    net, head = model.model_, model.model_.head
    last = head.net[-1]
    state = {k: v.clone() for k, v in net.state_dict().items()}
    torch.manual_seed(0)
    c, f = model.config_.context_length, model.config_.n_features
    inputs = (torch.rand(BATCH, c), torch.randn(BATCH, c, f), torch.randn(BATCH, HORIZON, f))
    y = torch.rand(BATCH, HORIZON)
    losses = {"autograd": autograd_loss(head), "shipped": head.loss}
    rows = []
    for scale in args.scales:
        net.load_state_dict(state)
        with torch.no_grad():
            last.weight.mul_(scale)
            last.bias.mul_(scale)
        # lr 0: every step does the whole update's work, and the histograms stay this sharp
        opt = torch.optim.AdamW(net.parameters(), 0.0, weight_decay=0.0, fused=True)
        net.train()
        times, logits = {v: [] for v in VARIANTS}, {}
        for _ in range(args.repeat):
            for v in VARIANTS:
                head.loss = losses[v]
                step(net, opt, inputs, y)  # warm-up after switching
                for _ in range(5):
                    t0 = time.perf_counter()
                    logits[v] = step(net, opt, inputs, y)
                    times[v].append(time.perf_counter() - t0)
        logp = F.log_softmax(logits["shipped"].detach(), -1)
        for v in VARIANTS:
            rows.append({
                "last_layer_scale": scale, "variant": v,
                "step_ms": 1e3 * float(np.median(times[v])),
                "far_bins_below_1e-38": float((logp < np.log(1.2e-38)).float().mean()),
                "subnormal_grad_share": subnormal_share(logits[v].grad),
            })  # fmt: skip
    head.loss = losses["shipped"]
    print(f"batch={BATCH} horizon={HORIZON} K=200 threads={torch.get_num_threads()}")
    print_table(rows, ["last_layer_scale", "variant", "step_ms", "far_bins_below_1e-38",
                       "subnormal_grad_share"])  # fmt: skip
    write("sharp_step", {"rows": rows}, {"script": vars(args), "network": resolved_params(model)})


if __name__ == "__main__":
    main()
