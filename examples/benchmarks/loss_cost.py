"""Cost of the histogram loss in a training step, against MSE and Gaussian NLL.

For batch 256 x horizon 48 and K bins, each case times forward + backward of
  * `loss`:  the loss alone on leaf outputs (K logits, 1 point, or loc + scale),
  * `step`:  a linear output layer from a 64-wide hidden state plus the loss (what a head adds),
  * `model`: a whole training step of histcast's default network (GRU over a 144-step hourly
    context, MLP head) with the histogram head against the same network with a Gaussian head
    trained by NLL, or by MSE on its location.
Prints a table of milliseconds and ratios to MSE and writes results/loss_cost.json.

    python examples/benchmarks/loss_cost.py
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from _common import print_table, write

from histcast.losses import gaussian_nll, histogram_loss, mse_loss
from histcast.network import ForecastNet, ModelConfig

BATCH, HORIZON, HIDDEN = 256, 48, 64
BINS = (50, 100, 200, 400)


def timeit(fn, repeat=30, warmup=5) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return 1e3 * times[len(times) // 2]  # median, ms


def make_model_case(kind: str, k: int):
    torch.manual_seed(0)
    head = "histogram" if kind == "hist" else "gaussian"
    cfg = ModelConfig(horizon=HORIZON, context_length=144, n_features=4, n_bins=k, head=head,
                      patch_size=24)  # fmt: skip
    net = ForecastNet(cfg)
    u, y = torch.rand(BATCH, 144), torch.rand(BATCH, HORIZON)
    cf, ff = torch.randn(BATCH, 144, 4), torch.randn(BATCH, HORIZON, 4)

    def step():
        out = net(u, cf, ff)
        loss = mse_loss(out[..., 0], y) if kind == "mse" else net.head.loss(out, y)
        loss.backward()

    return step


def make_case(kind: str, k: int, with_layer: bool):
    torch.manual_seed(0)
    y = torch.rand(BATCH, HORIZON)
    width = {"hist": k, "mse": 1, "nll": 2}[kind]
    hidden = torch.randn(BATCH, HORIZON, HIDDEN)
    layer = torch.nn.Linear(HIDDEN, width)
    leaf = torch.randn(BATCH, HORIZON, width, requires_grad=True)

    def step():
        out = layer(hidden) if with_layer else leaf
        if kind == "hist":
            loss = histogram_loss(out, y, "gaussian", 1.0)
        elif kind == "mse":
            loss = mse_loss(out[..., 0], y)
        else:
            loss = gaussian_nll(out[..., 0], F.softplus(out[..., 1]) + 1e-3, y)
        loss.backward()

    return step


def main() -> None:
    torch.set_num_threads(max(1, torch.get_num_threads()))
    rows = []
    for mode in ("loss", "step", "model"):
        for k in BINS:
            kinds = ("hist", "mse", "nll")
            if mode == "model":
                ms = {kind: timeit(make_model_case(kind, k), repeat=15) for kind in kinds}
            else:
                ms = {kind: timeit(make_case(kind, k, mode == "step")) for kind in kinds}
            rows.append(
                {
                    "mode": mode,
                    "n_bins": k,
                    "hist_ms": ms["hist"],
                    "mse_ms": ms["mse"],
                    "nll_ms": ms["nll"],
                    "hist_over_mse": ms["hist"] / ms["mse"],
                    "hist_over_nll": ms["hist"] / ms["nll"],
                }
            )
    print(f"batch={BATCH} horizon={HORIZON} threads={torch.get_num_threads()}")
    print_table(rows, ["mode", "n_bins", "hist_ms", "mse_ms", "nll_ms", "hist_over_mse",
                       "hist_over_nll"])  # fmt: skip
    write("loss_cost", {"batch": BATCH, "horizon": HORIZON, "rows": rows})


if __name__ == "__main__":
    main()
