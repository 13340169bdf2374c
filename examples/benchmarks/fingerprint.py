"""Forecast fingerprints: a refactoring must leave forecasts bit-identical.

Fits a few small models with one thread on the built-in `synthetic_seasonal` panel (6 series):
a TCN and a GRU, a TCN with future-known, historical and static covariates and a holdout, and a
2-member ensemble. Prints and records the sha256 of each forecast frame written as CSV with 17
significant digits; two commits that forecast the same give the same digests.

    python examples/benchmarks/fingerprint.py            # results/fingerprint.json
    python examples/benchmarks/fingerprint.py --out DIR  # also the CSVs, to diff them
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import _common
import numpy as np
import pandas as pd
import torch

from histcast import HistEnsemble, HistForecaster, load_dataset


def panel() -> pd.DataFrame:
    df, _ = load_dataset("synthetic_seasonal")
    return df[df.unique_id.isin(df.unique_id.unique()[:6])]


def with_covariates(df: pd.DataFrame):
    """(df with a promotion and a noise column, static_df, futr_df of the next 12 steps)."""
    rng = np.random.default_rng(0)
    df = df.copy()
    df["promo"] = rng.integers(0, 2, len(df)).astype(float)
    df["y"] = df["y"] + 5 * df["promo"]
    df["temp"] = rng.normal(size=len(df))
    static = pd.DataFrame({"unique_id": df.unique_id.unique(), "grp": ["a", "b"] * 3})
    fut = []
    for uid, g in df.groupby("unique_id"):
        ds = pd.date_range(g.ds.max(), periods=13, freq="h")[1:]
        promo = rng.integers(0, 2, 12).astype(float)
        fut.append(pd.DataFrame({"unique_id": uid, "ds": ds, "promo": promo}))
    return df, static, pd.concat(fut)


def forecasts() -> dict[str, pd.DataFrame]:
    df, out = panel(), {}
    for enc in ("tcn", "gru"):
        model = HistForecaster(horizon=12, encoder=enc, max_steps=60, verbose=False, seed=1)
        out[enc] = model.fit(df).forecast()
    cov_df, static, fut = with_covariates(df)
    model = HistForecaster(
        horizon=12, futr_exog_list=["promo"], hist_exog_list=["temp"], stat_exog_list=["grp"],
        max_steps=60, verbose=False, seed=2, val_size=12,
    )  # fmt: skip
    out["cov"] = model.fit(cov_df, static_df=static).forecast(futr_df=fut)
    template = HistForecaster(horizon=12, max_steps=40, verbose=False)
    out["ens"] = HistEnsemble(template, n_members=2).fit(df).forecast()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write the forecast CSVs here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    digests = {}
    for name, fc in forecasts().items():
        text = fc.to_csv(index=False, float_format="%.17g")
        digests[name] = hashlib.sha256(text.encode()).hexdigest()
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"{name}.csv").write_text(text)
        print(f"{name:4s} {digests[name]}")
    _common.write("fingerprint", {"sha256": digests}, {"threads": 1, "series": 6})


if __name__ == "__main__":
    main()
