from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from histcast.data.batches import UnitBatch
from histcast.data.windows import training_windows
from histcast.nn.losses import histogram_loss
from histcast.train.config import TrainConfig
from histcast.train.loop import adamw, batches_of, fit_model, lr_factor, unit_crps
from histcast.train.plan import describe_budget, fit_budget, holdout_size, recency_weights


def test_recency_weights_halve_every_halflife():
    indptr = np.array([0, 5, 8])  # series of 5 and 3 points
    win = training_windows(indptr, np.array([5, 3]))  # cutoffs at local 0..3 and 0..1
    w = recency_weights(win, indptr, halflife=2)
    ages = np.array([4, 3, 2, 1, 2, 1])  # steps from each cutoff to its series' last point
    np.testing.assert_allclose(w, 0.5 ** (ages / 2))
    assert recency_weights(win, indptr, None) is None


def test_weighted_batches_follow_the_weights():
    rng = np.random.default_rng(0)
    weights = np.array([1.0, 0.0, 2.0, 5.0, 0.0, 2.0])
    draw = batches_of(len(weights), 1000, rng, weights)
    counts = np.bincount(np.concatenate([next(draw) for _ in range(200)]), minlength=6)
    share = counts / counts.sum()
    np.testing.assert_allclose(share, weights / weights.sum(), atol=0.005)  # 200k draws
    assert counts[1] == counts[4] == 0  # zero weight: never drawn


def test_unweighted_batches_visit_every_window_once_per_pass():
    draw = batches_of(12, 4, np.random.default_rng(0))
    first_pass = np.concatenate([next(draw) for _ in range(3)])
    assert sorted(first_pass) == list(range(12))


class ConstantNet(torch.nn.Module):
    """One histogram shared by every window: logits `(1, 1, K)`."""

    def __init__(self, k=10):
        super().__init__()
        self.logits = torch.nn.Parameter(torch.zeros(1, 1, k))

    def forward(self, u, ctx_feats, fut_feats, y=None, soft=None):
        out = self.logits.expand(len(u), 1, -1)
        return out, (None if y is None else histogram_loss(out, y))

    def probs(self, out):
        return torch.softmax(out, -1)


def unit_batch(y: float, n: int = 8) -> UnitBatch:
    z = torch.zeros(n, 1)
    return UnitBatch(z, z[..., None], z[..., None], torch.full((n, 1), y), z[:, 0], z[:, 0] + 1)


def test_early_stopping_restores_the_best_weights():
    # training pulls the histogram towards 0.05, validation wants 0.95: validation CRPS is
    # best after the first epoch and worse after every later one
    model = ConstantNet()
    cfg = TrainConfig(max_epochs=50, steps_per_epoch=5, early_stopping_patience=3,
                      learning_rate=0.05, lr_schedule="constant", verbose=False)  # fmt: skip
    val = [unit_batch(0.95)]
    history = fit_model(model, lambda idx: unit_batch(0.05), 100, val, cfg)
    crps = [r["val_crps"] for r in history]
    assert len(history) == 1 + 3  # the best epoch, then `patience` worse ones
    assert int(np.argmin(crps)) == 0 and crps[-1] > crps[0]
    assert unit_crps(model, val) == pytest.approx(crps[0], rel=1e-12)  # weights restored


def test_no_validation_keeps_the_last_weights_and_runs_the_budget():
    model = ConstantNet()
    cfg = TrainConfig(max_epochs=4, steps_per_epoch=5, learning_rate=0.05, verbose=False)
    history = fit_model(model, lambda idx: unit_batch(0.05), 100, [], cfg)
    assert [r["steps"] for r in history] == [5, 10, 15, 20]
    assert int(model.probs(model.logits).argmax()) == 0  # moved all the way to 0.05's bin


def test_holdout_rule_by_hand():
    cfg = TrainConfig(max_steps=100, batch_size=10)  # 1,000 windows drawn
    # passes = 1000 / sum(lengths - 1)
    assert holdout_size("auto", 6, cfg, np.array([5, 5])) == 6  # 1000 / 8 = 125 > 100
    assert holdout_size("auto", 6, cfg, np.array([6, 6])) == 0  # 1000 / 10 = 100: not more
    assert holdout_size(None, 6, cfg, np.array([5])) == 6
    assert holdout_size(3, 6, cfg, np.array([5])) == 3


def test_budget_follows_the_amount_of_data_by_hand():
    # T = max_epochs x steps_per_epoch = 100 steps of 10: 1,000 windows
    cfg = TrainConfig(max_epochs=4, steps_per_epoch=25, batch_size=10, max_passes=10)
    # passes = 1000 / sum(lengths - 1); large data (<= 10 passes): T as it is
    assert fit_budget(cfg, np.array([101, 101, 101, 101, 101, 101, 101, 101, 101, 101])) == cfg
    # medium (10 < 20 <= 100 passes): 10 passes over 50 targets = 500 windows = 50 steps
    cut = fit_budget(cfg, np.array([26, 26]))
    assert cut.max_steps == 50 and cut.total_steps == 50 and cut.batch_size == 10
    assert lr_factor(cut)(50) == pytest.approx(0.05)  # the cosine follows the cut
    assert fit_budget(cfg, np.array([8, 9])).max_steps == 15  # ceil(10 x 15 / 10)
    # small (125 > 100 passes): T, with the holdout rule's early stopping
    assert fit_budget(cfg, np.array([5, 5])) == cfg
    assert fit_budget(replace(cfg, max_passes=None), np.array([26, 26])).total_steps == 100


def test_max_steps_is_the_budget_whatever_the_data():
    """A budget the user gives is the steps run: no cap by passes, none by max_epochs."""
    for lengths in ([101] * 10, [26, 26], [8, 9], [5, 5]):
        cfg = TrainConfig(max_steps=100, batch_size=10, max_passes=10)
        assert fit_budget(cfg, np.array(lengths)) == cfg
    torch.manual_seed(0)
    model = ConstantNet()  # max_steps beyond max_epochs x steps_per_epoch: all of them run
    cfg = TrainConfig(max_steps=12, max_epochs=1, steps_per_epoch=5, batch_size=4, verbose=False)
    history = fit_model(model, lambda idx: unit_batch(0.05), 40, [], cfg)
    assert [row["steps"] for row in history] == [5, 10, 12]


def test_the_budget_is_said_in_one_line_and_the_bar_counts_steps(capsys, caplog):
    lengths = np.array([26, 26])
    given = TrainConfig(max_epochs=4, steps_per_epoch=25, batch_size=10, max_passes=10)
    line = describe_budget(given, fit_budget(given, lengths), lengths, 0, True)
    assert line.startswith("training budget: 50 steps of 10 windows (max_passes=10 passes")
    assert "would make 20; set max_steps to choose" in line
    small = describe_budget(given, given, np.array([5, 5]), 3, True)
    assert "the last 3 points of each series held out for early stopping" in small
    assert "max_steps as given" in describe_budget(
        replace(given, max_steps=7), replace(given, max_steps=7), lengths, 0, True
    )
    torch.manual_seed(0)
    cfg = TrainConfig(max_steps=12, max_epochs=1, steps_per_epoch=5, batch_size=4, verbose=True)
    fit_model(ConstantNet(), lambda idx: unit_batch(0.05), 40, [], cfg)
    assert "12/12" in capsys.readouterr().err  # steps, not epochs


def test_cosine_schedule_by_hand():
    f = lr_factor(TrainConfig(lr_schedule="cosine", max_steps=100))
    np.testing.assert_allclose([f(0), f(50), f(100), f(500)], [1.0, 0.525, 0.05, 0.05])
    assert lr_factor(TrainConfig(lr_schedule="constant"))(10) == 1.0
    with pytest.raises(ValueError, match="lr_schedule"):
        lr_factor(TrainConfig(lr_schedule="step"))


def test_adamw_is_fused_and_takes_the_per_tensor_steps():
    torch.manual_seed(0)
    cfg = TrainConfig(learning_rate=0.01, weight_decay=0.1)
    nets = [torch.nn.Linear(5, 3) for _ in range(2)]
    nets[1].load_state_dict(nets[0].state_dict())
    start = [p.detach().clone() for p in nets[0].parameters()]
    fused = adamw(list(nets[0].parameters()), cfg)
    plain = torch.optim.AdamW(nets[1].parameters(), 0.01, weight_decay=0.1, foreach=False)
    if tuple(int(v) for v in torch.__version__.split(".")[:2]) >= (2, 4):
        assert fused.defaults["fused"]  # torch fuses AdamW on a CPU from 2.4
    for _ in range(5):
        grads = [torch.randn_like(p) for p in nets[0].parameters()]
        for net, opt in zip(nets, (fused, plain), strict=True):
            for p, g in zip(net.parameters(), grads, strict=True):
                p.grad = g.clone()
            opt.step()
    for a, b, a0 in zip(nets[0].parameters(), nets[1].parameters(), start, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
        assert (a - a0).abs().min() > 1e-3  # every weight moved


def test_a_non_finite_loss_stops_training_naming_the_step():
    """A NaN loss (here: weights broken before the 7th step) is an error naming that step and
    the learning rate, not a model whose every forecast is NaN (issue 30)."""
    model = ConstantNet()
    cfg = TrainConfig(max_epochs=4, steps_per_epoch=5, learning_rate=0.05, verbose=False)
    calls = []

    def make_batch(idx):
        calls.append(1)
        if len(calls) == 7:
            model.logits.data[0, 0, 3] = float("inf")
        return unit_batch(0.05)

    with pytest.raises(FloatingPointError, match=r"diverged at step 7 \(loss nan.*learning_rate"):
        fit_model(model, make_batch, 100, [], cfg)
    assert len(calls) == 10  # found at the end of the epoch it happened in


# -- Ctrl-C and checkpoints (issue 28, item 6) ----------------------------------------------------
INTERRUPTIBLE = dict(
    max_epochs=3,
    steps_per_epoch=10,
    max_passes=None,
    batch_size=32,
    hidden_size=16,
    n_bins=50,
    verbose=False,
)


def _interrupt_at_step(monkeypatch, k: int) -> None:
    """Make the k-th training step raise KeyboardInterrupt (in its gradient clipping), as a
    Ctrl-C does: the steps before it are done."""
    real, calls = torch.nn.utils.clip_grad_norm_, [0]

    def clip(*args, **kwargs):
        calls[0] += 1
        if calls[0] == k:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", clip)


def _forecaster(**kwargs):
    from histcast.forecaster import HistForecaster

    return HistForecaster(horizon=3, **{**INTERRUPTIBLE, **kwargs})


def test_ctrl_c_keeps_the_last_weights_and_the_history(small_panel, monkeypatch):
    _interrupt_at_step(monkeypatch, 15)
    with pytest.warns(UserWarning, match="interrupted at step 14 .*the last weights"):
        model = _forecaster(val_size=0).fit(small_panel)
    monkeypatch.undo()
    assert model.history_[-1]["steps"] == 14 and model.history_[-1]["interrupted"]
    assert [r["steps"] for r in model.history_] == [10, 14]
    fc = model.forecast()
    assert len(fc) == 9 and np.isfinite(fc.drop(columns=["unique_id", "ds"]).to_numpy()).all()


def test_ctrl_c_keeps_the_best_weights_so_far(small_panel, monkeypatch, tmp_path):
    _interrupt_at_step(monkeypatch, 25)
    with pytest.warns(UserWarning, match="interrupted at step 24 .*the best weights so far"):
        model = _forecaster(val_size=3).fit(small_panel, checkpoint_dir=tmp_path)
    monkeypatch.undo()
    crps = [r["val_crps"] for r in model.history_]
    assert len(crps) == 3 and np.isnan(crps[2]) and model.history_[2]["interrupted"]
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=True)  # after epoch 2
    assert saved["best"] == min(crps[:2]) and saved["steps"] == 20
    for name, value in model.model_.state_dict().items():
        assert torch.equal(value, saved["best_state"][name])


def test_ctrl_c_before_the_first_step_leaves_the_model_unfitted(small_panel, monkeypatch):
    from histcast.estimator import NotFittedError

    _interrupt_at_step(monkeypatch, 1)
    model = _forecaster()
    with pytest.raises(KeyboardInterrupt):
        model.fit(small_panel)
    with pytest.raises(NotFittedError):
        model.forecast()


def test_a_fit_resumed_from_its_checkpoint_equals_an_uninterrupted_one(
    small_panel, monkeypatch, tmp_path
):
    """Interrupted in its third epoch, resumed from the checkpoint of the second: the same
    weights, bit for bit, as a fit that never stopped (one device, same thread count)."""
    for val_size in (0, 3):
        folder = tmp_path / f"ckpt{val_size}"
        whole = _forecaster(val_size=val_size).fit(small_panel)
        _interrupt_at_step(monkeypatch, 25)
        with pytest.warns(UserWarning, match="same checkpoint_dir to resume"):
            _forecaster(val_size=val_size).fit(small_panel, checkpoint_dir=folder)
        monkeypatch.undo()
        resumed = _forecaster(val_size=val_size).fit(small_panel, checkpoint_dir=folder)
        pd.testing.assert_frame_equal(resumed.forecast(), whole.forecast())
        history = [pd.DataFrame(m.history_).drop(columns="seconds") for m in (resumed, whole)]
        pd.testing.assert_frame_equal(*history)
        again = _forecaster(val_size=val_size).fit(small_panel, checkpoint_dir=folder)  # done
        pd.testing.assert_frame_equal(again.forecast(), whole.forecast())


def test_a_checkpoint_of_other_arguments_or_data_is_refused(small_panel, tmp_path):
    _forecaster(max_epochs=1).fit(small_panel, checkpoint_dir=tmp_path)
    assert (tmp_path / "checkpoint.pt").exists()
    with pytest.raises(ValueError, match=r"other arguments or data: learning_rate"):
        _forecaster(max_epochs=1, learning_rate=1e-3).fit(small_panel, checkpoint_dir=tmp_path)
    other = small_panel.assign(y=small_panel["y"] + 1)
    with pytest.raises(ValueError, match=r"the data \(3 series, 270 points there"):
        _forecaster(max_epochs=1).fit(other, checkpoint_dir=tmp_path)
    _forecaster(max_epochs=1, verbose=True).fit(small_panel, checkpoint_dir=tmp_path)  # same run
    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot be read as a histcast checkpoint"):
        _forecaster(max_epochs=1).fit(small_panel, checkpoint_dir=tmp_path)
