"""Data-parallel scaling under torchrun: the same global batch over 1, 2, ... processes.

For each process count N (`--procs`), launches `torchrun --standalone --nproc_per_node=N` on
this file's worker, which fits `HistForecaster(horizon=48)` on M4 hourly (the synthetic seasonal
panel without the data) for `--steps` steps with a per-rank batch of global_batch / N and
`OMP_NUM_THREADS = threads / N` (the machine's cores shared out), then forecasts every series.
Rows: training windows per second (after the first epoch, which pays for warm-up), fit and
forecast seconds, and the final training loss (equal across N up to float rounding: the steps
are the same). On CPUs the processes share the cores, so this measures the overhead of the
all-reduce more than a speed-up; on N GPUs each process has its own device.
Writes results/ddp_scaling.json.

    python examples/benchmarks/ddp_scaling.py [--procs 1 2] [--steps 150] [--global-batch 512]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import data_dir, print_table, write


def worker(out: str, steps: int, batch: int) -> None:
    """One rank: fit, forecast; rank 0 writes its timings to `out`."""
    import torch

    from histcast.datasets import load_m4
    from histcast.datasets.synthetic import make_panel
    from histcast.forecaster import HistForecaster
    from histcast.train import distributed

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    root = data_dir()
    df = load_m4("m4_hourly", root)[0] if root else make_panel("seasonal", 400, 900).df
    model = HistForecaster(
        horizon=48, batch_size=batch, max_epochs=steps // 50, steps_per_epoch=50,
        early_stopping_patience=10**6, verbose=False, val_size=0, device="auto",
    )  # fmt: skip
    t0 = time.perf_counter()
    model.fit(df)
    fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.predict_distribution()
    predict = time.perf_counter() - t0
    if distributed.is_main():
        later = model.history_[1:] or model.history_
        seconds = sum(r["seconds"] for r in later)
        windows = len(later) * 50 * batch * distributed.world_size()
        row = {
            "procs": distributed.world_size(), "batch_per_rank": batch, "threads_per_rank":
            torch.get_num_threads(), "windows_per_s": windows / seconds, "fit_s": fit,
            "forecast_s": predict, "final_loss": model.history_[-1]["train_loss"],
            "data": "m4_hourly" if root else "synthetic seasonal 400 x 900",
        }  # fmt: skip
        Path(out).write_text(json.dumps(row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--global-batch", type=int, default=512)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    rows = []
    for n in args.procs:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "row.json"
            env = {**os.environ, "OMP_NUM_THREADS": str(max(1, args.threads // n))}
            cmd = [
                sys.executable, "-m", "torch.distributed.run", "--standalone",
                f"--nproc_per_node={n}", __file__, "--worker", str(out), str(args.steps),
                str(args.global_batch // n),
            ]  # fmt: skip
            subprocess.run(cmd, env=env, check=True)
            rows.append(json.loads(out.read_text()))
        print_table(rows[-1:], ["procs", "batch_per_rank", "windows_per_s", "fit_s", "final_loss"])
    print_table(rows, ["procs", "batch_per_rank", "threads_per_rank", "windows_per_s", "fit_s",
                       "forecast_s", "final_loss"])  # fmt: skip
    write("ddp_scaling", {"rows": rows}, {"script": vars(args)})


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
