"""Data-parallel training under torchrun (gloo, 2 CPU processes) against one process."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from histcast.datasets.synthetic import make_panel
from histcast.forecaster import HistForecaster
from histcast.train import distributed

SCRIPT = """
import json, sys
import numpy as np
import torch
from histcast.train import distributed
from histcast.forecaster import HistForecaster
from histcast.datasets.synthetic import make_panel

torch.set_num_threads(1)
out = sys.argv[1]
df = make_panel("seasonal", n_series=5, length=120, seed=0).df
model = HistForecaster(**json.loads(sys.argv[2])).fit(df)
dist, index = model.predict_distribution()
model.save(out + "/model")
if distributed.is_main():
    json.dump({"world": distributed.world_size(), "history": model.history_},
              open(out + "/history.json", "w"))
    np.save(out + "/probs.npy", dist.probs.numpy())
    np.save(out + "/edges.npy", dist.edges.numpy())
"""

PARAMS = dict(  # no dropout: the two runs must draw no random numbers but the windows
    horizon=6, context_length=24, hidden_size=16, n_bins=20, dropout=0.0, max_epochs=6,
    steps_per_epoch=1, val_size=6, freq="h", seed=3, verbose=False, device="cpu",
)  # fmt: skip
BATCH = 16  # per rank


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    (out / "run.py").write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(out / "run.py"), str(out), json.dumps({**PARAMS, "batch_size": BATCH})]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((out / "history.json").read_text())
    return out, result


@pytest.fixture(scope="module")
def one_rank():
    df = make_panel("seasonal", n_series=5, length=120, seed=0).df
    model = HistForecaster(**PARAMS, batch_size=2 * BATCH).fit(df)
    return model, model.predict_distribution()[0]


@pytest.mark.slow
def test_two_processes_follow_one_process_with_twice_the_batch(two_ranks, one_rank):
    _, result = two_ranks
    model, _ = one_rank
    assert result["world"] == 2
    for key in ("train_loss", "grad_norm", "val_crps"):
        two = [row[key] for row in result["history"]]
        one = [row[key] for row in model.history_]
        assert len(two) == len(one) == PARAMS["max_epochs"]
        np.testing.assert_allclose(two, one, rtol=1e-4, err_msg=key)
    losses = [row["train_loss"] for row in model.history_]
    assert len(set(np.round(losses, 6))) == len(losses)  # a trajectory, not one value


@pytest.mark.slow
def test_sharded_forecasts_are_gathered_in_series_order(two_ranks, one_rank):
    out, _ = two_ranks
    _, dist = one_rank  # 5 series: rank 0 forecasts 3, rank 1 forecasts 2
    np.testing.assert_allclose(np.load(out / "probs.npy"), dist.probs.numpy(), atol=1e-5)
    np.testing.assert_allclose(np.load(out / "edges.npy"), dist.edges.numpy(), rtol=1e-6)


@pytest.mark.slow
def test_rank_zero_saves_a_model_that_loads_in_one_process(two_ranks, one_rank):
    out, _ = two_ranks
    _, dist = one_rank
    loaded, _ = HistForecaster.load(out / "model").predict_distribution()
    np.testing.assert_allclose(loaded.probs.numpy(), dist.probs.numpy(), atol=1e-5)


def test_without_torchrun_nothing_is_distributed(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert not distributed.setup()
    assert (distributed.rank(), distributed.world_size(), distributed.is_main()) == (0, 1, True)
    idx = np.arange(10)
    np.testing.assert_array_equal(distributed.local_slice(idx), idx)
    x = torch.arange(3.0)
    assert torch.equal(distributed.all_sum(x), x) and distributed.all_sum(x) is not x
    assert distributed.device("cpu") == torch.device("cpu")
