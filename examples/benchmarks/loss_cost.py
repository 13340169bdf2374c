"""Cost of the histogram loss in a training step, against MSE and Gaussian NLL.

For batch 256 x horizon 48 and K bins, each case times forward + backward of
  * `loss`:  the loss alone on leaf outputs (K logits, 1 point, or loc + scale),
  * `step`:  a linear output layer from a 64-wide hidden state plus the loss (what a head adds),
  * `model`: a whole training step (zero grads, forward with the loss, backward; no optimiser
    update) of the network `HistForecaster(horizon=48, n_bins=K)` builds for hourly data, with
    its histogram head, against the same network with the Gaussian head (trained by NLL) and
    the point head (trained by MSE) of the loss ablation.
The `model` networks are the estimator's own: each is fit for one step on the built-in hourly
panel (`synthetic_seasonal`; hourly like M4 hourly, so the same context of 336 steps in patches
of 24, TCN encoder, seasonal lags and per-step skip) and its `model_` timed on random inputs of
its shapes (on the CPU: `device="cpu"`). Prints a table of milliseconds (median of `--repeat`)
and ratios to MSE and writes results/loss_cost.json. Timings need an otherwise idle machine.

    python examples/benchmarks/loss_cost.py [--bins 50 100 200 400] [--repeat 30]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from _common import print_table, resolved_params, write

from histcast.datasets import load_dataset
from histcast.forecaster import HistForecaster
from histcast.nn.losses import gaussian_nll, histogram_loss, mse_loss

BATCH, HORIZON, HIDDEN = 256, 48, 64
HEADS = {"hist": "histogram", "mse": "mse", "nll": "gaussian"}  # case -> HistForecaster head


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


def default_network(df, head: str, k: int) -> HistForecaster:
    """`HistForecaster(horizon=48, head=head, n_bins=k)` with every other argument at its
    default (but the CPU as device), fit for one step on `df` so that it builds its network
    (`model_`)."""
    model = HistForecaster(horizon=HORIZON, head=head, n_bins=k, max_steps=1, device="cpu",
                           verbose=False)  # fmt: skip
    return model.fit(df)


def make_model_case(model: HistForecaster):
    """A training step of `model.model_` on a random batch of its input shapes."""
    torch.manual_seed(0)
    net, cfg = model.model_, model.config_
    c, f = cfg.context_length, cfg.n_features
    u, y = torch.rand(BATCH, c), torch.rand(BATCH, HORIZON)
    cf, ff = torch.randn(BATCH, c, f), torch.randn(BATCH, HORIZON, f)
    net.train()

    def step():
        net.zero_grad(set_to_none=True)
        _, loss = net(u, cf, ff, y=y)
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bins", type=int, nargs="+", default=[50, 100, 200, 400])
    parser.add_argument("--repeat", type=int, default=30, help="timed calls (half for `model`)")
    args = parser.parse_args()
    df, _ = load_dataset("synthetic_seasonal")
    # the Gaussian and point heads do not depend on K: one network each
    networks = {kind: default_network(df, HEADS[kind], 200) for kind in ("mse", "nll")}
    rows = []
    for mode in ("loss", "step", "model"):
        for k in args.bins:
            if mode == "model":
                networks[f"hist K={k}"] = default_network(df, "histogram", k)
                cases = {kind: networks[kind] for kind in ("mse", "nll")}
                cases["hist"] = networks[f"hist K={k}"]
                reps = max(1, args.repeat // 2)
                ms = {kind: timeit(make_model_case(m), repeat=reps) for kind, m in cases.items()}
            else:
                ms = {
                    kind: timeit(make_case(kind, k, mode == "step"), repeat=args.repeat)
                    for kind in ("hist", "mse", "nll")
                }
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
    params = {
        "script": vars(args), "batch": BATCH, "horizon": HORIZON, "hidden": HIDDEN,
        "networks": {name: resolved_params(m) for name, m in networks.items()},
    }  # fmt: skip
    write("loss_cost", {"rows": rows}, params)


if __name__ == "__main__":
    main()
