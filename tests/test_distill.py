"""Distillation (`histcast.distill`): a teacher needs a > 0; a student trained
against a fixed histogram moves towards it; teachers of other sizes and ensembles."""

import numpy as np
import pandas as pd
import pytest
import torch

from histcast.data.batches import Packed
from histcast.data.windows import training_windows
from histcast.dist.histogram import Histogram
from histcast.ensemble import HistEnsemble
from histcast.forecaster import HistForecaster
from histcast.nn.losses import bin_targets
from histcast.train.distill import _teacher_parts, batches, soft_targets, teacher_probs

FAST = dict(max_epochs=3, steps_per_epoch=8, hidden_size=12, n_bins=30, batch_size=32,
            context_length=48, verbose=False)  # fmt: skip


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny networks: one thread is faster, and not slowed down by a busy machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def level_panel():
    """Four hourly series around 10 (so that a fixed data-unit histogram is a sensible teacher)."""
    rng = np.random.default_rng(1)
    frames = []
    for i in range(4):
        t = np.arange(150)
        y = 10 + 2 * np.sin(2 * np.pi * (t + 5 * i) / 24) + rng.normal(0, 0.3, len(t))
        ds = pd.date_range("2024-01-01", periods=len(t), freq="h")
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def teacher(small_panel):
    return HistForecaster(horizon=4, **{**FAST, "n_bins": 40, "hidden_size": 16}).fit(small_panel)


def fixed_teacher(data, win):
    """Every window and step: mass 0.3 on [8, 9) and 0.7 on [11.5, 12), in data units."""
    edges = torch.tensor([6.0, 8, 9, 11.5, 12, 14], dtype=torch.float64)
    probs = torch.tensor([0.0, 0.3, 0.0, 0.7, 0.0], dtype=torch.float64)
    return Histogram(edges.expand(len(win), 4, -1), probs.expand(len(win), 4, -1))


def kl_to_teacher(student, teacher, n=200) -> float:
    """Mean KL(p_teacher || q_student) over n training windows, on the student's bins."""
    windows = student._windows(student.config_, student.margin_)
    data = Packed.from_panel(student.panel_, student.freq_, "cpu")
    win = training_windows(student.panel_.indptr, student.panel_.lengths)
    win = win.take(np.linspace(0, len(win) - 1, n).astype(int))
    batch = windows(data, win)
    with torch.no_grad():
        q = student.model_.probs(student.model_(*batch.inputs)[0]).double()
    parts = [(teacher, 1)]  # a function (data, win) -> Histogram, or a fitted model or ensemble
    if hasattr(teacher, "fit"):
        parts = _teacher_parts(teacher, student, student.freq_, torch.device("cpu"))
    p = teacher_probs(parts, data, win, batch.edges(student.config_.n_bins), 4)
    terms = torch.where(p > 0, p * (p.clamp_min(1e-300).log() - q.clamp_min(1e-300).log()), 0)
    return float(terms.sum(-1).mean())


def test_alpha_zero_with_a_teacher_is_refused(small_panel, teacher):
    """A teacher with the default distill_alpha=0 would be silently ignored: an error that says
    what to set (issue 30), for a model, an ensemble, a numpy zero and the ensemble's fit."""
    ens = HistEnsemble(HistForecaster(horizon=4, **FAST), n_members=1).fit(small_panel)
    for alpha, given in ((0.0, teacher), (0, ens), (np.float32(0), teacher)):
        with pytest.raises(ValueError, match=r"distill_alpha=0 .*set distill_alpha in \(0, 1\]"):
            HistForecaster(horizon=4, distill_alpha=alpha, **FAST).fit(small_panel, teacher=given)
    with pytest.raises(ValueError, match="set distill_alpha"):
        HistEnsemble(HistForecaster(horizon=4, **FAST), n_members=1).fit(
            small_panel, teacher=teacher
        )


def test_numpy_alpha_is_the_python_number(small_panel, teacher):
    """distill_alpha=np.float32(0.5) trains as 0.5 (issue 30: it was refused); np.float64 and a
    numpy int 1 are numbers too, a numpy bool and NaN are not."""
    kw = dict(horizon=4, seed=2, **FAST)
    plain = HistForecaster(distill_alpha=0.5, **kw).fit(small_panel, teacher=teacher)
    for alpha in (np.float32(0.5), np.float64(0.5)):
        model = HistForecaster(distill_alpha=alpha, **kw).fit(small_panel, teacher=teacher)
        pd.testing.assert_frame_equal(model.forecast(), plain.forecast())
    one = HistForecaster(distill_alpha=np.int64(1), **kw).fit(small_panel, teacher=teacher)
    assert np.isfinite(one.history_[-1]["train_loss"])
    for bad in (np.bool_(True), float("nan"), np.float32(1.5), -0.1, "0.5"):
        with pytest.raises(ValueError, match=r"distill_alpha must be a number in \[0, 1\]"):
            HistForecaster(distill_alpha=bad, **kw).fit(small_panel, teacher=teacher)


def test_a_fitted_baseline_is_no_teacher(small_panel):
    """A fitted baseline has no histograms: the error says what a teacher must be, not that
    it "must be fitted" (issue 30); an unfitted model is still told to fit it."""
    from histcast.baselines import SeasonalNaive

    base = SeasonalNaive(horizon=4).fit(small_panel)
    student = HistForecaster(horizon=4, distill_alpha=0.5, **FAST)
    with pytest.raises(ValueError, match="fitted HistForecaster or HistEnsemble.*SeasonalNaive"):
        student.fit(small_panel, teacher=base)
    for unfitted in (HistForecaster(horizon=4), HistEnsemble(HistForecaster(horizon=4))):
        with pytest.raises(ValueError, match="teacher must be fitted"):
            student.fit(small_panel, teacher=unfitted)


def test_student_moves_towards_a_fixed_teacher(level_panel):
    kw = dict(horizon=4, seed=0, **{**FAST, "max_epochs": 5, "steps_per_epoch": 10})
    start = HistForecaster(**{**kw, "max_steps": 1}).fit(level_panel)
    plain = HistForecaster(**kw).fit(level_panel)
    student = HistForecaster(distill_alpha=1.0, **kw).fit(level_panel, teacher=fixed_teacher)
    kl_start, kl_plain = kl_to_teacher(start, fixed_teacher), kl_to_teacher(plain, fixed_teacher)
    kl_student = kl_to_teacher(student, fixed_teacher)
    assert kl_student < 0.5 * kl_start and kl_student < 0.5 * kl_plain
    # its training loss (cross-entropy to the teacher) falls too
    assert student.history_[-1]["train_loss"] < student.history_[0]["train_loss"]


def test_soft_targets_mix_teacher_and_gaussian():
    y = torch.tensor([[0.2, float("nan")], [0.9, 0.5]])
    p_t = torch.softmax(torch.randn(2, 2, 10, dtype=torch.float64), -1)
    gauss = bin_targets(y, 10, "gaussian", 1.0)
    mixed = soft_targets(p_t, y, 10, "gaussian", 1.0, alpha=0.25)
    torch.testing.assert_close(mixed, 0.25 * p_t.float() + 0.75 * gauss)
    assert mixed.dtype == torch.float32
    torch.testing.assert_close(mixed.sum(-1), torch.ones(2, 2))
    torch.testing.assert_close(soft_targets(p_t, y, 10, alpha=1.0), p_t.float())


def test_teacher_of_another_size_maps_onto_the_student_bins(small_panel, teacher):
    """A teacher with 40 bins and its own context seen on a 30-bin student's grid: rows are
    distributions, and rebinning onto the teacher's own bins gives its probabilities back."""
    student = HistForecaster(horizon=3, distill_alpha=0.5, **FAST)
    student.fit(small_panel, teacher=teacher)
    data = Packed.from_panel(student.panel_, student.freq_, "cpu")
    win = training_windows(student.panel_.indptr, student.panel_.lengths).take(np.arange(0, 60, 7))
    make = batches(student._windows(student.config_, student.margin_), data,
                   training_windows(student.panel_.indptr, student.panel_.lengths), student,
                   student.config_, teacher, student.freq_)  # fmt: skip
    batch = make(np.arange(0, 60, 7))
    assert batch.soft.shape == (len(win), 3, 30)
    torch.testing.assert_close(batch.soft.sum(-1), torch.ones(len(win), 3))
    own = teacher._windows(teacher.config_, teacher.margin_)(data, win)
    p_own = teacher_probs([(lambda d, w: _direct(teacher, d, w), 1)], data, win, own.edges(40), 3)
    direct = _direct(teacher, data, win).probs[:, :3]
    torch.testing.assert_close(p_own, direct, rtol=0, atol=1e-12)


def _direct(model, data, win):
    batch = model._windows(model.config_, model.margin_)(data, win)
    with torch.no_grad():
        probs = model.model_.probs(model.model_(*batch.inputs)[0]).double()
    return Histogram(batch.edges(model.config_.n_bins), probs, validate=False)


def test_ensemble_teacher_is_the_mean_of_its_members_rebinned(small_panel, teacher):
    """Members sharing a data path are run on one batch and averaged before re-binning, and
    re-binning is skipped on the student's own edges: the same probabilities as re-binning each
    member onto the student's bins and averaging (the definition of the mixture's target)."""
    from types import SimpleNamespace

    from histcast.dist.mixture import rebin
    from histcast.train.distill import _teacher_parts

    ens = HistEnsemble(HistForecaster(horizon=4, **FAST), n_members=2).fit(small_panel)
    mixed = SimpleNamespace(members_=[teacher, *ens.members_])  # 40 bins; 30 bins twice
    student = ens.members_[0]
    parts = _teacher_parts(mixed, student, student.freq_, torch.device("cpu"))
    assert sorted(w for _, w in parts) == [1, 2]
    data = Packed.from_panel(student.panel_, student.freq_, "cpu")
    win = training_windows(student.panel_.indptr, student.panel_.lengths).take(np.arange(0, 90, 4))
    edges = student._windows(student.config_, student.margin_)(data, win).edges(30)
    got = teacher_probs(parts, data, win, edges, 4)
    target = edges.expand(len(win), 4, -1)
    want = sum(rebin(_direct(m, data, win)[:, :4], target) for m in mixed.members_) / 3
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
    torch.testing.assert_close(got.sum(-1), torch.ones(len(win), 4, dtype=torch.float64))


def test_ensemble_teacher_and_errors(small_panel, teacher):
    ens = HistEnsemble(HistForecaster(horizon=4, **FAST), n_members=2).fit(small_panel)
    kw = dict(horizon=4, seed=2, **FAST)  # seed 2: not one of the members' seeds
    student = HistForecaster(distill_alpha=1.0, **kw).fit(small_panel, teacher=ens)
    plain = HistForecaster(**kw).fit(small_panel)
    # the student moves towards the mixture: KL 0.012 against 0.030 undistilled
    assert kl_to_teacher(student, ens) < 0.6 * kl_to_teacher(plain, ens)
    with pytest.raises(ValueError, match="needs a teacher"):
        HistForecaster(horizon=4, distill_alpha=0.5, **FAST).fit(small_panel)
    with pytest.raises(ValueError, match="distill_alpha must be"):
        HistForecaster(horizon=4, distill_alpha=1.5, **FAST).fit(small_panel, teacher=teacher)
    with pytest.raises(ValueError, match="teacher forecasts 4 steps"):
        HistForecaster(horizon=6, distill_alpha=1.0, **FAST).fit(small_panel, teacher=teacher)
    with pytest.raises(ValueError, match="head='histogram'"):
        HistForecaster(horizon=4, distill_alpha=1.0, head="quantile", **FAST).fit(
            small_panel, teacher=teacher
        )
