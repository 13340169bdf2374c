"""M4 hourly with histcast's default settings: train on the official training set, forecast the
next 48 hours, score on the official test set (WQL over 0.1..0.9, MASE m=24, sMAPE, MSIS 95%,
coverage). Several seeds (mean and spread), seasonal naive alongside. Writes
results/m4_hourly.json (the default TCN encoder; results/m4_hourly_gru.json with --encoder gru;
on a GPU, `device="auto"`'s choice, results/m4_hourly_cuda.json);
each run there carries the parameters it resolved to (`params`: the constructor arguments as
set, e.g. `margin="auto"`, and what fit chose, e.g. `margin_`, `val_size_`, the context length).

    python examples/benchmarks/m4_hourly.py [--encoder gru] [--seeds 0 1 2 3 4] [--device cpu]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from _common import best_epoch, data_dir, print_table, resolved_params, write

from histcast import evaluate
from histcast.datasets import load_m4
from histcast.evaluation.baselines import SeasonalNaive
from histcast.evaluation.metrics import crps_histogram
from histcast.forecaster import HistForecaster

KEYS = ["CRPS", "scaled_CRPS", "WQL", "MASE", "sMAPE", "MSIS", "coverage_80", "coverage_95"]


def score(model, train, test, cutoff) -> tuple[dict, float]:
    t0 = time.perf_counter()
    fc = model.fit(train).forecast()
    seconds = time.perf_counter() - t0
    if isinstance(model, HistForecaster):
        dist, index = model.predict_distribution()
        y = index.merge(test, on=["unique_id", "ds"], how="left")["y"].to_numpy()
        fc[f"{model.alias_}-crps"] = crps_histogram(dist, y)
    cv = test.merge(fc, on=["unique_id", "ds"]).merge(cutoff, on="unique_id")
    return evaluate(cv, train, season_length=24).iloc[0].to_dict(), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", default="tcn", choices=["gru", "tcn"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--device", default="auto", help="results on a GPU go to *_cuda.json")
    args = parser.parse_args()
    root = data_dir()
    if root is None:
        return
    train, test = load_m4("m4_hourly", root)
    cutoff = train.groupby("unique_id")["ds"].max().rename("cutoff")
    runs = []
    for seed in args.seeds:
        model = HistForecaster(
            horizon=48, encoder=args.encoder, seed=seed, device=args.device, verbose=False
        )
        metrics, seconds = score(model, train, test, cutoff)
        hist = model.history_
        runs.append({
            "model": model.alias_, "seed": seed, **metrics, "fit_forecast_seconds": seconds,
            "epochs": len(hist), "steps": hist[-1]["steps"],
            "best_epoch": best_epoch(hist),
            "seconds_per_epoch": float(np.mean([r["seconds"] for r in hist])),
            "windows_per_second": hist[-1]["steps"] * model.batch_size
            / sum(r["seconds"] for r in hist),
            "outside_share": model.outside_share_, "params": resolved_params(model),
        })  # fmt: skip
        print_table(runs[-1:], ["model", "seed", "WQL", "MASE", "MSIS", "coverage_80", "epochs",
                                "fit_forecast_seconds"])  # fmt: skip
    baseline = SeasonalNaive(horizon=48)
    snaive, seconds = score(baseline, train, test, cutoff)
    frame = pd.DataFrame(runs)
    summary = [
        {"model": runs[0]["model"] + " mean", **frame[KEYS].mean().to_dict(),
         "fit_forecast_seconds": frame["fit_forecast_seconds"].mean()},
        {"model": runs[0]["model"] + " std", **frame[KEYS].std().to_dict(),
         "fit_forecast_seconds": frame["fit_forecast_seconds"].std()},
        {"model": "SeasonalNaive", **snaive, "fit_forecast_seconds": seconds},
    ]  # fmt: skip
    print_table(summary, ["model", *KEYS, "fit_forecast_seconds"])
    name = "m4_hourly" if args.encoder == "tcn" else f"m4_hourly_{args.encoder}"
    kind = next(model.model_.parameters()).device.type
    name += "" if kind == "cpu" else f"_{kind}"
    params = {"script": vars(args), "baseline": resolved_params(baseline)}  # models: in runs
    write(name, {"dataset": "m4_hourly", "horizon": 48, "runs": runs, "summary": summary},
          params)  # fmt: skip


if __name__ == "__main__":
    main()
