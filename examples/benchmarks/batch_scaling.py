"""Training step time and windows per second against the batch size, on this machine's device.

For `HistForecaster(horizon=48, batch_size=b)` on M4 hourly (the default network: TCN, K=200),
each batch size trains `--steps` steps (after one warm-up epoch, not timed) on the device that
`device="auto"` picks (or `--device`), and reports milliseconds per step (gather, forward with
the loss, backward, clipping and AdamW: the epoch's wall time, which ends with a host read of the
epoch's losses, so asynchronous device work is included) and windows per second. On a CPU the
step grows with the batch; on a GPU a flat step time up to some batch means the step is bound
by per-step overhead, not by the device (issue 16). Writes results/batch_scaling_<device>.json.

    python examples/benchmarks/batch_scaling.py [--batches 64 256 1024] [--steps 100] [--device D]
"""

from __future__ import annotations

import argparse

from _common import data_dir, print_table, resolved_params, write

from histcast.datasets import load_m4
from histcast.forecaster import HistForecaster

EPOCH = 25  # steps per epoch: the first epoch is the warm-up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 256, 1024])
    parser.add_argument("--steps", type=int, default=100, help="timed steps per batch size")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    root = data_dir()
    if root is None:
        return
    train, _ = load_m4("m4_hourly", root)
    rows, params = [], {"script": vars(args), "models": []}
    for b in args.batches:
        epochs = 1 + -(-args.steps // EPOCH)
        model = HistForecaster(
            horizon=48, batch_size=b, max_epochs=epochs, steps_per_epoch=EPOCH,
            max_passes=None, device=args.device, verbose=False,
        )  # fmt: skip
        model.fit(train)
        timed = model.history_[1:]
        seconds, steps = sum(r["seconds"] for r in timed), EPOCH * len(timed)
        rows.append({
            "device": str(next(model.model_.parameters()).device), "batch_size": b, "steps": steps,
            "ms_per_step": 1e3 * seconds / steps, "windows_per_second": b * steps / seconds,
            "train_loss_end": timed[-1]["train_loss"],
        })  # fmt: skip
        params["models"].append(resolved_params(model))
        print_table(rows[-1:], ["device", "batch_size", "ms_per_step", "windows_per_second"])
    print_table(rows, ["device", "batch_size", "steps", "ms_per_step", "windows_per_second"])
    kind = rows[0]["device"].split(":")[0]
    write(f"batch_scaling_{kind}", {"dataset": "m4_hourly", "rows": rows}, params)


if __name__ == "__main__":
    main()
