"""A changed torch default dtype changes nothing (issue 30): `torch.set_default_dtype(
torch.float64)`, common in scientific code, made `fit` and `load` fail with "mat1 and mat2 must
have the same dtype". The network is built in float32 and the data path and loading give their
dtypes, so fits, forecasts and loaded models are bit-identical to the float32 default's."""

import numpy as np
import pandas as pd
import pytest
import torch

from histcast.ensemble import HistEnsemble
from histcast.evaluation.backtest import cross_validation
from histcast.forecaster import HistForecaster

FAST = dict(max_steps=4, hidden_size=8, n_bins=20, batch_size=16, context_length=24,
            verbose=False)  # fmt: skip


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def float64_default():
    """Run the test body under a float64 default dtype; always restore the old one."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def with_default(dtype, fn):
    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        return fn()
    finally:
        torch.set_default_dtype(old)


def covariate_panel():
    rng = np.random.default_rng(3)
    frames = []
    for i, n in enumerate((60, 48)):
        ds = pd.date_range("2024-01-01", periods=n + 3, freq="h")
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": rng.normal(10, 2, n + 3),
                                    "promo": rng.uniform(size=n + 3) < 0.3,
                                    "kind": rng.choice(["a", "b"], n + 3)}))  # fmt: skip
    df = pd.concat(frames, ignore_index=True)
    future = df.groupby("unique_id").tail(3)
    return df.drop(future.index), future[["unique_id", "ds", "promo", "kind"]]


CASES = [
    dict(),
    dict(encoder="gru", dropout=0.2),
    dict(dropout=0.3, step_skip=2, calibration="auto", val_size=3),
    dict(head="gaussian"),
    dict(head="quantile"),
    dict(head="mse"),
]


@pytest.mark.parametrize("kwargs", CASES)
def test_fit_and_forecast_are_the_same_under_a_float64_default(small_panel, kwargs):
    def run():
        model = HistForecaster(horizon=4, **FAST, **kwargs).fit(small_panel)
        return model, model.forecast()

    model32, fc32 = with_default(torch.float32, run)
    model64, fc64 = with_default(torch.float64, run)
    pd.testing.assert_frame_equal(fc64, fc32, check_exact=True)
    for (name, a), b in zip(model32.model_.state_dict().items(),
                            model64.model_.state_dict().values(), strict=True):  # fmt: skip
        assert b.dtype == a.dtype and torch.equal(a, b), name
    assert [r["train_loss"] for r in model64.history_] == [
        r["train_loss"] for r in model32.history_
    ]


def test_save_and_load_under_a_float64_default(small_panel, tmp_path):
    model = HistForecaster(horizon=4, **FAST).fit(small_panel)
    want = model.forecast()
    with_default(torch.float64, lambda: model.save(tmp_path / "saved_under_64"))
    model.save(tmp_path / "saved_under_32")
    for folder in ("saved_under_32", "saved_under_64"):
        got = with_default(torch.float64, lambda f=folder: HistForecaster.load(tmp_path / f))
        pd.testing.assert_frame_equal(with_default(torch.float64, got.forecast), want)
        assert next(got.model_.parameters()).dtype == torch.float32


def test_covariates_distillation_ensembles_and_backtests_under_a_float64_default(
    small_panel, tmp_path
):
    df, futr = covariate_panel()
    teacher = HistForecaster(horizon=4, **FAST).fit(small_panel)

    def run():
        cov = HistForecaster(horizon=3, futr_exog_list=["promo", "kind"], **FAST).fit(df)
        student = HistForecaster(horizon=4, distill_alpha=0.5, **FAST)
        student.fit(small_panel, teacher=teacher)
        ens = HistEnsemble(HistForecaster(horizon=4, **FAST), n_members=2).fit(small_panel)
        ens.save(tmp_path / f"ens_{torch.get_default_dtype()}")
        loaded = HistEnsemble.load(tmp_path / f"ens_{torch.get_default_dtype()}")
        cv = cross_validation(HistForecaster(horizon=3, **FAST), small_panel, h=3, n_windows=2)
        return [cov.forecast(futr_df=futr), student.forecast(), ens.forecast(), loaded.forecast(),
                cv]  # fmt: skip

    for got, want in zip(with_default(torch.float64, run), with_default(torch.float32, run),
                         strict=True):  # fmt: skip
        pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_the_default_is_restored(float64_default, small_panel):
    HistForecaster(horizon=4, **FAST).fit(small_panel).forecast()
    assert torch.get_default_dtype() == torch.float64
