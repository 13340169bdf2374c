"""What the default network's CPU training step is made of, and what each saving is worth.

One process, alternating variants (this machine's speed drifts by ~25% over minutes, so
variants timed minutes apart cannot be compared): for `HistForecaster(horizon=48, head=...)`'s
network on hourly data (context 336 in 14 patches, TCN, K = 200, batch 256), a whole training
step (zero grads, forward with the loss, backward, AdamW) in four variants:
  * `full`: the TCN run over every patch (`nn.Conv1d` over the whole context, the encoder
    before it was pruned), the head on the concatenated `(B, H, D)` input, per-tensor AdamW;
  * `+ pruned TCN`: the encoder as shipped (each block only at the positions its state reads);
  * `+ head by parts`: the head's first layer by parts (the window state once per window);
  * `shipped`: and fused AdamW: the step `HistForecaster` trains with.
The variants compute the same function (checked: largest output difference printed). Also
the shipped step under bfloat16 autocast (the loss in float32): not an option of the library,
measured for the record. Prints the medians and writes results/step_cost.json.

    python examples/benchmarks/step_cost.py [--repeat 12]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _common import print_table, resolved_params, write
from loss_cost import BATCH, HORIZON, default_network

from histcast.datasets import load_dataset

VARIANTS = ("full", "+ pruned TCN", "+ head by parts", "shipped", "shipped, bf16 autocast")


def full_tcn_state(enc, x: torch.Tensor) -> torch.Tensor:
    """The TCN over every context position (left-padded `Conv1d`s), its last output `(B, hidden)`;
    dropout with the blocks' own one-mask-per-channel `StepDropout`."""
    h = enc.proj(x.transpose(1, 2))
    for b in enc.blocks:
        pad = (b.kernel - 1) * b.dilation
        h1 = torch.relu(b.conv1(torch.nn.functional.pad(h, (pad, 0))))
        h1 = b.drop(h1.transpose(1, 2)).transpose(1, 2)
        h2 = torch.relu(b.conv2(torch.nn.functional.pad(h1, (pad, 0))))
        h = h + b.drop(h2.transpose(1, 2)).transpose(1, 2)
    return h[:, :, -1]


class Case:
    """The network of `HistForecaster(horizon=48, head=head)`, random inputs of its shapes, and
    the patches that switch a variant on."""

    def __init__(self, df, head: str):
        self.model = default_network(df, head, 200)
        net, cfg = self.model.model_, self.model.config_
        torch.manual_seed(0)
        c, f = cfg.context_length, cfg.n_features
        self.inputs = (
            torch.rand(BATCH, c),
            torch.randn(BATCH, c, f),
            torch.randn(BATCH, HORIZON, f),
        )
        self.y = torch.rand(BATCH, HORIZON)
        self.net, self.enc, self.head = net, net.encoder, net.head
        self.forwards = (self.enc.forward, self.head.forward, self.head.loss)
        params = list(net.parameters())
        self.opts = {
            False: torch.optim.AdamW(params, 1e-3, weight_decay=1e-4, foreach=False),
            True: torch.optim.AdamW(params, 1e-3, weight_decay=1e-4, fused=True),
        }

    def set(self, variant: str) -> None:
        i = VARIANTS.index(variant)
        enc_fwd, head_fwd, head_loss = self.forwards
        self.enc.forward = enc_fwd if i >= 1 else (lambda x: full_tcn_state(self.enc, x))
        self.head.forward = head_fwd if i >= 2 else self._head_on_concatenation
        self.head.loss = (
            head_loss if i < 4 else (lambda out, y, soft=None: head_loss(out.float(), y))
        )
        self.opt, self.bf16 = self.opts[i >= 3], i == 4

    def _head_on_concatenation(self, parts):
        """The head's MLP (`nn.Sequential`) on `cat(parts)` `(B, H, D)`, as before `run_mlp`."""
        b, h = parts[-1].shape[:2]
        out = self.head.net(torch.cat([p.expand(b, h, -1) for p in parts], -1))
        return out.squeeze(-1) if out.shape[-1] == 1 else out  # the point head's (B, H)

    def step(self) -> None:
        self.opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            _, loss = self.net(*self.inputs, y=self.y)
        loss.backward()
        self.opt.step()

    def largest_difference(self) -> float:
        """Largest |output| difference between `full` and `shipped`, in eval mode."""
        self.net.eval()
        with torch.no_grad():
            outs = []
            for v in ("full", "shipped"):
                self.set(v)
                outs.append(self.net(*self.inputs)[0])
        self.net.train()
        return float((outs[0] - outs[1]).abs().max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=12, help="rounds of 5 steps per variant")
    args = parser.parse_args()
    torch.set_num_threads(2)
    df, _ = load_dataset("synthetic_seasonal")
    rows, params = [], {"script": vars(args), "batch": BATCH, "horizon": HORIZON, "networks": {}}
    for head in ("histogram", "mse"):
        case = Case(df, head)
        params["networks"][head] = resolved_params(case.model)
        diff = case.largest_difference()
        times = {v: [] for v in VARIANTS}
        for _ in range(args.repeat):
            for v in VARIANTS:
                case.set(v)
                case.step()  # warm-up after switching
                for _ in range(5):
                    t0 = time.perf_counter()
                    case.step()
                    times[v].append(time.perf_counter() - t0)
        full = np.median(times["full"])
        for v in VARIANTS:
            ms = 1e3 * np.median(times[v])
            rows.append({"head": head, "variant": v, "step_ms": ms, "of_full": ms / 1e3 / full,
                         "max_output_diff": diff})  # fmt: skip
    print(f"batch={BATCH} horizon={HORIZON} threads={torch.get_num_threads()}")
    print_table(rows, ["head", "variant", "step_ms", "of_full"])
    write("step_cost", {"rows": rows}, params)


if __name__ == "__main__":
    main()
