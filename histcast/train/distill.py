"""Knowledge distillation: a teacher's histograms as soft targets of the histogram loss.

For every training batch the teacher forecasts the same windows (through its own data path:
its context length, support rule and margin, on the student's packed panel), without
gradients and on the student's device. Its histograms, in data units, are moved onto the
student's bins (each window's unit grid, edges lo + (hi - lo) j / K) by exact CDF re-binning
(`mixture.rebin`; mass outside the student's support goes to its edge bins), and mixed with the
student's own target:

    p = a p_teacher + (1 - a) p_target,

p_target the HL-Gaussian (or dirac / twohot) target of the observed value. The loss is the
cross-entropy -sum_i p_i log q_i (`losses.histogram_loss` with kind "soft"). Without a teacher
(a = 0), `batches` returns exactly the plain batch function: training is unchanged, bit for bit.
A teacher with a = 0 is refused: it would be silently ignored.

A teacher is a fitted `HistForecaster`, an ensemble with fitted `members_` (the mixture: the
mean of its members' re-binned probabilities, which is the re-binned mixture), or any callable
`teacher(data: Packed, win: Windows) -> Histogram` of batch shape `(B, >= H)` in data units.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from ..checks import check_number
from ..data.batches import Packed, UnitBatch, UnitWindows
from ..data.windows import TrainingWindows, Windows
from ..dist.histogram import Histogram
from ..dist.mixture import rebin
from ..nn.losses import bin_targets


@dataclass
class SoftBatch(UnitBatch):
    """A `UnitBatch` with the distillation target soft `(B, H, K)` (float32, rows sum to 1)."""

    soft: torch.Tensor | None = None


def check_alpha(alpha) -> None:
    """Raise unless `alpha` (`distill_alpha`) is a real number (Python or numpy) in [0, 1]."""
    check_number("distill_alpha", alpha, 0, 1, low_open=False, high_open=False)


def _teacher_parts(teacher, student, freq, device) -> list:
    """The teacher as a list of parts `(callable (data, win) -> Histogram (B, H_t), weight)`:
    a callable teacher is one part of weight 1; a model's or ensemble's members that share a data
    path (`UnitWindows` and bins) are one `_Members` part weighted by their number, each network
    running on `device` (a network on another device is copied there, the teacher kept)."""
    if callable(teacher) and not hasattr(teacher, "model_") and not hasattr(teacher, "members_"):
        return [(teacher, 1)]
    members = getattr(teacher, "members_", None) or [teacher]
    groups: dict = {}
    for m in members:
        _check_teacher(m)
        if m.freq_ != freq:
            raise ValueError(f"the teacher was fitted on frequency {m.freq_}, the data is {freq}")
        if m.config_.horizon < student.horizon:
            raise ValueError(
                f"the teacher forecasts {m.config_.horizon} steps; the student needs "
                f"{student.horizon}"
            )
        if getattr(m, "covariates_", None) is not None:
            raise ValueError("a teacher with covariates cannot be distilled (yet)")
        net = m.model_
        if next(net.parameters()).device != device:
            net = copy.deepcopy(net).to(device)
        key = (m._windows(m.config_, m.margin_), m.config_.n_bins)
        groups.setdefault(key, _Members(*key, [])).nets.append(net.eval())
    return [(g, len(g.nets)) for g in groups.values()]


def _check_teacher(model) -> None:
    """Raise unless `model` is a fitted histcast network (it has `model_`): a fitted model
    without one (a baseline) has no histograms to distill; an unfitted one must be fitted."""
    if hasattr(model, "model_"):
        return
    fitted = hasattr(model, getattr(model, "_fitted_attr", "model_"))
    if fitted:
        raise ValueError(
            "a teacher must be a fitted HistForecaster or HistEnsemble (or a callable (data, "
            f"win) -> Histogram); a {type(model).__name__} has no histograms to distill"
        )
    raise ValueError("the teacher must be fitted (or a callable (data, win) -> Histogram)")


@dataclass
class _Members:
    """Networks that read the same windows and bins: their mixture is the mean of their
    probabilities on the shared edges (`mixture.mix`), from one batch."""

    windows: UnitWindows
    n_bins: int
    nets: list

    def __call__(self, data: Packed, win: Windows) -> Histogram:
        batch = self.windows(data, win)  # the student's covariates, if any, are not the teacher's
        probs = sum(net.probs(net(batch.u, batch.ctx_feats, batch.fut_feats)[0]).double()
                    for net in self.nets) / len(self.nets)  # fmt: skip
        return Histogram(batch.edges(self.n_bins), probs, validate=False)


def teacher_probs(parts: list, data: Packed, win: Windows, edges: torch.Tensor, horizon: int):
    """The teacher's probabilities for the first `horizon` (H) steps of windows `win` on the
    student's bins, edges `(B, 1 or H, K+1)` in data units: `(B, H, K)` float64, the weighted
    mean over the teacher's parts `(callable, weight)` (`_teacher_parts`) of `mixture.rebin`,
    which is skipped when a part's edges are the student's."""
    h, k = horizon, edges.shape[-1] - 1
    total, weights = 0.0, 0
    with torch.no_grad():
        for part, weight in parts:
            hist = part(data, win)
            if hist.batch_shape[-1] < h:
                raise ValueError(f"the teacher gave {hist.batch_shape[-1]} steps; {h} needed")
            hist = hist[:, :h] if hist.batch_shape[-1] > h else hist
            target = edges.to(hist.probs.device, torch.float64)
            if hist.n_bins == k and bool((hist.edges == target).all()):  # the student's bins
                probs = hist.probs.double()
            else:
                probs = rebin(hist.to(torch.float64), target.expand(len(win), h, k + 1))
            total, weights = total + weight * probs, weights + weight
    return total / weights


def soft_targets(p_teacher, y, n_bins, kind="gaussian", sigma_ratio=1.0, alpha=1.0):
    """p = a p_teacher + (1 - a) p_target: p_teacher `(B, H, K)`, unit-space y `(B, H)` (NaN
    missing: masked by the loss) -> float32 `(B, H, K)`; p_target = `losses.bin_targets`."""
    p_teacher = p_teacher.to(y.dtype)
    if alpha == 1:
        return p_teacher
    return alpha * p_teacher + (1 - alpha) * bin_targets(y, n_bins, kind, sigma_ratio)


def batches(
    windows, data: Packed, train: TrainingWindows, student, config, teacher=None, freq=None
):
    """The training batch function `idx -> UnitBatch` of `student` (a `HistForecaster`).

    Without a teacher it is the plain `windows(data, train.take(idx))` (`distill_alpha` must
    then be 0); with one, each batch is a `SoftBatch` whose `soft` holds `soft_targets`
    (`teacher_probs` on the batch's own bins), and `distill_alpha` must be in (0, 1].
    """
    alpha = float(student.distill_alpha)  # a numpy scalar too (checked by `check_alpha`)
    if teacher is None:
        if alpha:
            raise ValueError("distill_alpha > 0 needs a teacher: fit(df, teacher=...)")
        return windows.batches(data, train)
    if alpha == 0:
        raise ValueError(
            "a teacher was given, but distill_alpha=0 would train without it: set distill_alpha "
            "in (0, 1] (its weight in the training target), or drop teacher="
        )
    if config.head != "histogram":
        raise ValueError(f"distillation needs head='histogram'; got {config.head!r}")
    parts = _teacher_parts(teacher, student, freq, data.values.device)
    k = config.n_bins

    def make_batch(idx) -> SoftBatch:
        win = train.take(idx)
        batch = windows(data, win)
        p_t = teacher_probs(parts, data, win, batch.edges(k), config.horizon)
        soft = soft_targets(p_t, batch.y, k, config.target, config.sigma_ratio, alpha)
        return SoftBatch(**vars(batch), soft=soft)

    return make_batch
