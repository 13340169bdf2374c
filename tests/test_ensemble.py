"""`HistEnsemble`: the estimator contract, forecasts from the mixture, save/load, backtests
and the CLI."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import check_forecaster

from histcast import cli
from histcast.dist.mixture import mix
from histcast.ensemble import HistEnsemble
from histcast.estimator import NotFittedError, clone
from histcast.evaluation.backtest import cross_validation
from histcast.forecaster import HistForecaster

FAST = dict(max_epochs=2, steps_per_epoch=6, hidden_size=12, n_bins=30, batch_size=32,
            context_length=48, verbose=False)  # fmt: skip


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny networks: one thread is faster, and not slowed down by a busy machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def fitted(small_panel):
    template = HistForecaster(horizon=4, seed=5, **FAST)
    return HistEnsemble(template, n_members=3, encoders=["tcn", "gru"]).fit(small_panel)


def test_members_are_seeded_clones_with_their_encoders(fitted):
    assert [m.seed for m in fitted.members_] == [5, 6, 7]
    assert [m.encoder for m in fitted.members_] == ["tcn", "gru", "tcn"]
    assert fitted.forecaster.seed == 5 and not hasattr(fitted.forecaster, "model_")
    assert len(fitted.fit_seconds_) == 3 and fitted.alias_ == "HistEns3"


def test_check_forecaster(small_panel):
    model = HistEnsemble(HistForecaster(horizon=6, **FAST), n_members=2, alias="Ens")
    check_forecaster(model, small_panel, 6)


def test_forecast_comes_from_the_mixture(fitted):
    dist, index = fitted.predict_distribution()
    members = [m.predict_distribution()[0] for m in fitted.members_]
    assert dist.batch_shape == (3, 4)
    torch.testing.assert_close(dist.probs, mix(members).probs)
    # same bin settings: shared edges, the probabilities average directly
    torch.testing.assert_close(dist.edges, members[0].edges)
    torch.testing.assert_close(dist.probs, sum(m.probs for m in members) / 3)
    x = dist.quantile([0.3]).squeeze(-1)
    torch.testing.assert_close(dist.cdf(x), sum(m.cdf(x) for m in members) / 3)
    fc = fitted.forecast(quantiles=[0.1, 0.9], level=[80])
    np.testing.assert_allclose(fc["HistEns3"], dist.mean.reshape(-1).numpy())
    np.testing.assert_allclose(fc["HistEns3-q-90"], dist.quantile([0.9]).reshape(-1).numpy())
    averaged = np.mean(
        [m.forecast(quantiles=[0.9])[f"{m.alias_}-q-90"] for m in fitted.members_], 0
    )
    assert not np.allclose(fc["HistEns3-q-90"], averaged)  # not averaged quantiles


def test_save_load_round_trip_is_identical(fitted, small_panel, tmp_path):
    fitted.save(tmp_path / "ens")
    loaded = HistEnsemble.load(tmp_path / "ens")
    assert loaded.get_params()["n_members"] == 3 and loaded.forecaster.seed == 5
    pd.testing.assert_frame_equal(loaded.forecast(), fitted.forecast())
    new = small_panel[small_panel.unique_id == "u1"].iloc[:70]
    pd.testing.assert_frame_equal(loaded.forecast(new), fitted.forecast(new))
    d1, _ = loaded.predict_distribution()
    d0, _ = fitted.predict_distribution()
    assert torch.equal(d1.probs, d0.probs) and torch.equal(d1.edges, d0.edges)


def test_load_refuses_a_changed_member(fitted, tmp_path):
    fitted.save(tmp_path / "ens")
    member = json.loads((tmp_path / "ens" / "ensemble.json").read_text())["members"][1]
    config = tmp_path / "ens" / member / "config.json"
    meta = json.loads(config.read_text())
    meta["params"]["seed"] = 99
    config.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=member):
        HistEnsemble.load(tmp_path / "ens")
    with pytest.raises(ValueError, match="not a saved histcast ensemble"):
        HistEnsemble.load(tmp_path / "nothing")


def test_estimator_contract_and_errors(small_panel):
    model = HistEnsemble(HistForecaster(horizon=4, **FAST), n_members=2)
    copy = clone(model)
    assert copy.get_params()["n_members"] == 2 and copy.forecaster is not model.forecaster
    assert copy.set_params(n_members=4).n_members == 4 and copy.horizon == 4
    with pytest.raises(NotFittedError):
        model.forecast()
    with pytest.raises(ValueError, match="n_members"):
        HistEnsemble(HistForecaster(horizon=4), n_members=0).fit(small_panel)
    with pytest.raises(ValueError, match="encoders"):
        HistEnsemble(HistForecaster(horizon=4), encoders=["lstm"]).fit(small_panel)
    with pytest.raises(ValueError, match="HistForecaster"):
        HistEnsemble("tcn").fit(small_panel)


def test_cross_validation_fits_a_clone_and_scores_the_mixture(small_panel):
    model = HistEnsemble(HistForecaster(horizon=4, **FAST), n_members=2)
    cv = cross_validation(model, small_panel, h=4, n_windows=2)
    assert not hasattr(model, "members_")
    assert {"HistEns2", "HistEns2-crps", "HistEns2-q-50"} <= set(cv.columns)
    assert len(cv) == 3 * 2 * 4 and cv["HistEns2-crps"].notna().all()


def test_cli_histens(tmp_path, small_panel, monkeypatch):
    monkeypatch.setattr(cli, "ENSEMBLE_SIZE", 2)
    data = tmp_path / "data.csv"
    small_panel.to_csv(data, index=False)
    out = tmp_path / "fc.csv"
    assert cli.main(["forecast", "--data", str(data), "--horizon", "3", "--model", "histens",
                     "--epochs", "1", "--quiet", "--out", str(out)]) == 0  # fmt: skip
    fc = pd.read_csv(out)
    assert "HistEns2" in fc.columns and len(fc) == 3 * 3


def test_ensemble_paths_that_are_files_and_array_encoders(tmp_path):
    from histcast.datasets import load_dataset

    df, _ = load_dataset("synthetic_seasonal")
    df = df[df["unique_id"].isin(df["unique_id"].unique()[:2])]
    template = HistForecaster(horizon=3, max_steps=2, hidden_size=8, n_bins=20, verbose=False)
    ens = HistEnsemble(template, n_members=2, encoders=np.array(["tcn", "gru"])).fit(df)
    assert [m.encoder for m in ens.members_] == ["tcn", "gru"]
    file = tmp_path / "a_file"
    file.write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        ens.save(file)
    with pytest.raises(ValueError, match="is a file"):
        HistEnsemble.load(file)


def test_hand_assembled_members_must_agree(fitted, small_panel):
    """Members set by hand (or fitted apart) must agree on horizon, frequency and covariates:
    a ValueError naming the member and what differs, not a stretched horizon-1 member or a
    broadcast error (issue 30). Members that agree forecast their mixture."""
    kw = dict(seed=1, **FAST)
    h4 = fitted.members_[0]
    ens = HistEnsemble(HistForecaster(horizon=4), n_members=2)
    for other, what in (
        (HistForecaster(horizon=1, **kw).fit(small_panel), "member 1 has horizon 1"),
        (HistForecaster(horizon=6, **kw).fit(small_panel), "member 1 has horizon 6"),
        (HistForecaster(horizon=4, **kw).fit(small_panel.iloc[::2]), "member 1 has frequency"),
        (
            HistForecaster(horizon=4, hist_exog_list=["x"], **kw).fit(small_panel.assign(x=1.0)),
            r"member 1 has hist_exog_list \['x'\], member 0 has \[\]",
        ),
        (HistEnsemble(HistForecaster(horizon=4)), "member 1 must be a fitted HistForecaster"),
        (HistForecaster(horizon=4), "member 1 must be a fitted HistForecaster"),
    ):
        ens.members_ = [h4, other]
        with pytest.raises(ValueError, match=what):
            ens.forecast()
    ens.members_ = []
    with pytest.raises(ValueError, match="no members"):
        ens.predict_distribution()
    apart = HistForecaster(horizon=4, **kw).fit(small_panel)  # fitted on its own, but agrees
    ens.members_ = [h4, apart]
    dist, _ = ens.predict_distribution()
    want = mix([h4.predict_distribution()[0], apart.predict_distribution()[0]])
    torch.testing.assert_close(dist.probs, want.probs, rtol=0, atol=0)


def test_template_parameters_of_numpy_and_pandas_types_round_trip(small_panel, tmp_path):
    """A template's numpy scalars and covariate lists of any sequence type are saved as the
    numbers and lists they hold (not their repr), so a loaded ensemble refits as the original."""
    template = HistForecaster(horizon=4, learning_rate=np.float32(0.004), **FAST)
    template.set_params(futr_exog_list=pd.Index([]), hist_exog_list=np.array([], dtype=str))
    ens = HistEnsemble(template, n_members=2).fit(small_panel)
    ens.save(tmp_path / "ens")
    loaded = HistEnsemble.load(tmp_path / "ens")
    params = loaded.forecaster.get_params()
    assert params["learning_rate"] == float(np.float32(0.004))
    assert params["futr_exog_list"] == [] and params["hist_exog_list"] == []
    refit = clone(loaded).fit(small_panel)
    pd.testing.assert_frame_equal(refit.forecast(), ens.forecast())


def test_save_refuses_to_replace_a_saved_model_unless_told(fitted, tmp_path):
    fitted.save(tmp_path / "ens")
    with pytest.raises(FileExistsError, match="ensemble.json.*overwrite=True"):
        fitted.save(tmp_path / "ens")
    fitted.members_[0].save(tmp_path / "one")
    with pytest.raises(FileExistsError, match="config.json.*overwrite=True"):
        fitted.save(tmp_path / "one")  # nor a forecaster's
    fitted.save(tmp_path / "ens", overwrite=True)
    pd.testing.assert_frame_equal(HistEnsemble.load(tmp_path / "ens").forecast(), fitted.forecast())
