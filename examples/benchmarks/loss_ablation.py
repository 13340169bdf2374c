"""The paper's claims on forecasting data: the histogram loss against the usual losses.

Every variant uses the same encoder (a GRU, peak learning rate 2e-3, pinned here so the table
does not move with the library defaults), the same windows, the same budget
(`--steps` training steps, no early stopping, the last 48 points of the fit part held out for
the per-epoch validation CRPS) and the same seeds; only the head/loss or one bin
setting changes. The soft row's targets are a teacher's histograms (the paper's third kind of
target; `distill_alpha=1`): the teacher is the mixture of the default variant with seeds
100-102, fitted once on the same data and budget. Data: M4 hourly *training* set, its last 48
points per series held out and scored (the official test set is not used here). Writes
results/loss_ablation.json, a markdown table results/loss_ablation.md and the convergence
figure results/loss_ablation.png (validation CRPS and gradient norm per epoch, mean over seeds).

    python examples/benchmarks/loss_ablation.py [--steps 600] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
from _common import RESULTS, best_epoch, data_dir, resolved_params, write
from m4_hourly_tuning import fit_and_score, split

from histcast.datasets import load_m4
from histcast.ensemble import HistEnsemble
from histcast.forecaster import HistForecaster

VARIANTS = {
    "hist gaussian s=1 (default)": {},
    "hist gaussian s=0.5": {"sigma_ratio": 0.5},
    "hist gaussian s=2": {"sigma_ratio": 2.0},
    "hist dirac": {"target": "dirac"},
    "hist twohot": {"target": "twohot"},
    "hist soft (teacher)": {"distill_alpha": 1.0},
    "Gaussian NLL head": {"head": "gaussian"},
    "quantile (pinball) head": {"head": "quantile"},
    "MSE point head": {"head": "mse"},
    "hist bin_range=series": {"bin_range": "series"},
    "hist 50 bins": {"n_bins": 50},
    "hist 100 bins": {"n_bins": 100},
    "hist 400 bins": {"n_bins": 400},
}
KEYS = ["WQL", "MASE", "scaled_CRPS", "MSIS", "coverage_80", "best_epoch", "seconds"]
TEACHER_SEEDS = 3  # the soft row's teacher: the default variant with seeds 100, 101, 102, mixed


def model_of(settings: dict, seed: int, steps: int) -> HistForecaster:
    return HistForecaster(
        horizon=48, encoder="gru", val_size=48, learning_rate=2e-3, seed=seed, verbose=False,
        max_steps=steps, max_epochs=10_000, early_stopping_patience=10_000, **settings,
    )  # fmt: skip


def run(settings: dict, seed: int, fit, valid, cutoff, steps: int, teacher=None) -> dict:
    """One variant and seed; a variant with `distill_alpha` learns from `teacher`."""
    model = model_of(settings, seed, steps)
    kw = {"teacher": teacher} if settings.get("distill_alpha") else {}
    metrics, seconds, _ = fit_and_score(model, fit, valid, cutoff, **kw)
    val = [r["val_crps"] for r in model.history_]
    return {
        **metrics, "seconds": seconds, "best_epoch": best_epoch(model.history_),
        "val_crps": val, "grad_norm": [r["grad_norm"] for r in model.history_],
        "params": resolved_params(model),
    }  # fmt: skip


def markdown(summary: pd.DataFrame) -> str:
    lines = ["| variant | " + " | ".join(KEYS) + " |", "| --- |" + " ---: |" * len(KEYS)]
    for name, row in summary.iterrows():
        cells = [f"{row[k + '_mean']:.4g} ± {row[k + '_std']:.2g}" for k in KEYS[:5]]
        cells += [f"{row['best_epoch_mean']:.1f}", f"{row['seconds_mean']:.0f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def figure(runs: list[dict], path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name in dict.fromkeys(r["variant"] for r in runs):
        if "bins" in name or "bin_range" in name:
            continue
        part = [r for r in runs if r["variant"] == name]
        for ax, key in zip(axes, ["val_crps", "grad_norm"], strict=True):
            curve = np.mean([r[key] for r in part], 0)
            ax.plot(np.arange(1, len(curve) + 1), curve, label=name)
    axes[0].set(xlabel="epoch (50 steps)", ylabel="validation CRPS (unit space)", yscale="log")
    axes[1].set(xlabel="epoch (50 steps)", ylabel="gradient norm (before clipping)", yscale="log")
    axes[0].legend(fontsize=7)
    fig.suptitle("M4 hourly, same GRU encoder and budget: mean over seeds")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="*", help="run these variants, keep the others' runs")
    args = parser.parse_args()
    root = data_dir()
    if root is None:
        return
    fit, valid, cutoff = split(load_m4("m4_hourly", root)[0], 48)
    runs, teacher = [], None
    for name, settings in VARIANTS.items():
        if args.only and name not in args.only:
            continue
        if settings.get("distill_alpha") and teacher is None:  # once, for every seed
            template = model_of({}, 100, args.steps)
            teacher = HistEnsemble(template, n_members=TEACHER_SEEDS).fit(fit)
        for seed in args.seeds:
            row = {"variant": name, "seed": seed, **run(settings, seed, fit, valid, cutoff,
                                                          args.steps, teacher)}  # fmt: skip
            runs.append(row)
            print(f"{name:30s} seed {seed}: " + " ".join(f"{k} {row[k]:.4g}" for k in KEYS))
    if args.only:  # keep the other variants' runs of the previous file
        old = RESULTS / "loss_ablation.json"
        kept = json.loads(old.read_text())["runs"] if old.exists() else []
        runs = [r for r in kept if r["variant"] not in args.only] + runs
        order = {name: i for i, name in enumerate(VARIANTS)}
        runs.sort(key=lambda r: order.get(r["variant"], len(order)))
    frame = pd.DataFrame(runs).groupby("variant", sort=False)[KEYS].agg(["mean", "std"])
    frame.columns = [f"{a}_{b}" for a, b in frame.columns]
    table = markdown(frame)
    print(table)
    (RESULTS / "loss_ablation.md").write_text(table)
    figure(runs, RESULTS / "loss_ablation.png")
    params = {"script": vars(args), "variants": VARIANTS}  # each run's model: runs[i].params
    write("loss_ablation", {"runs": runs, "summary": frame.reset_index().to_dict("records")},
          params)  # fmt: skip


if __name__ == "__main__":
    main()
