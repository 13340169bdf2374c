"""What survives a crash: saves killed after every file operation and at random moments,
concurrent savers and loaders, concurrent CLI writers. Each kill is a real SIGKILL of a forked
process; afterwards the folder must load as the old model or the new one, never fail."""

import builtins
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from histcast import HistEnsemble, HistForecaster
from histcast.persistence import CONFIG

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork") or sys.platform == "darwin", reason="needs fork (Linux)"
)
FAST = dict(max_steps=3, hidden_size=8, n_bins=20, verbose=False)
CTX = multiprocessing.get_context("fork") if hasattr(os, "fork") else None
OPS = ("replace", "fsync", "unlink", "rmdir", "mkdir")  # os functions a save calls


@pytest.fixture(scope="module")
def two_models(small_panel):
    """Two fitted forecasters that forecast differently, and their forecasts."""
    a = HistForecaster(horizon=3, seed=0, **FAST).fit(small_panel)
    b = HistForecaster(horizon=3, seed=1, **FAST).fit(small_panel)
    fa, fb = a.forecast(), b.forecast()
    assert not fa.equals(fb)
    return (a, fa), (b, fb)


@pytest.fixture(scope="module")
def two_ensembles(small_panel):
    a = HistEnsemble(HistForecaster(horizon=3, seed=0, **FAST), n_members=2).fit(small_panel)
    b = HistEnsemble(HistForecaster(horizon=3, seed=5, **FAST), n_members=2).fit(small_panel)
    return (a, a.forecast()), (b, b.forecast())


def _kill_after(k: int) -> None:
    """In this (forked) process, SIGKILL itself right after its k-th file operation."""
    count = [0]

    def counted(fn):
        def wrapper(*args, **kwargs):
            out = fn(*args, **kwargs)
            count[0] += 1
            if count[0] >= k:
                os.kill(os.getpid(), signal.SIGKILL)
            return out

        return wrapper

    for name in OPS:
        setattr(os, name, counted(getattr(os, name)))
    real_open = builtins.open

    def open_(file, mode="r", *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        if any(c in mode for c in "wax"):
            count[0] += 1
            if count[0] >= k:
                os.kill(os.getpid(), signal.SIGKILL)
        return f

    builtins.open = open_


def _save_killed(model, path, k: int) -> None:
    _kill_after(k)
    model.save(path, overwrite=True)
    os._exit(0)  # the save finished before the k-th operation


def _run(target, *args) -> int:
    proc = CTX.Process(target=target, args=args)
    proc.start()
    proc.join(60)
    return proc.exitcode


def _loads_as_one_of(cls, path, forecasts) -> int:
    """Index of the forecast in `forecasts` that the model saved at `path` gives."""
    got = cls.load(path).forecast()
    matches = [i for i, f in enumerate(forecasts) if got.equals(f)]
    assert matches, "the folder loads as neither the old nor the new model"
    return matches[0]


@pytest.mark.parametrize("kind", ["forecaster", "ensemble"])
def test_a_kill_after_any_file_operation_leaves_the_old_or_the_new_model(
    kind, two_models, two_ensembles, tmp_path
):
    (old, f_old), (new, f_new) = two_models if kind == "forecaster" else two_ensembles
    cls = type(old)
    seen = []
    for k in range(1, 200):
        path = tmp_path / f"k{k}"
        old.save(path)
        code = _run(_save_killed, new, path, k)
        seen.append(_loads_as_one_of(cls, path, [f_old, f_new]))
        if code == 0:  # no k-th operation: the save ran to its end
            break
        assert code == -signal.SIGKILL
    assert seen[-1] == 1 and seen[0] == 0  # the first kill keeps the old, a whole save the new
    assert len(seen) >= 4  # the kills did land inside the save
    assert seen == sorted(seen)  # old until one moment (the manifest's rename), new after


def _resave_forever(models, path) -> None:
    while True:
        for m in models:
            m.save(path, overwrite=True)


@pytest.mark.slow
def test_random_kills_during_resaves_leave_a_loadable_model(two_models, tmp_path):
    (a, fa), (b, fb) = two_models
    path = tmp_path / "m"
    a.save(path)
    rng = np.random.default_rng(0)
    found = []
    for _ in range(100):
        proc = CTX.Process(target=_resave_forever, args=([b, a], path))
        proc.start()
        time.sleep(rng.uniform(0.0, 0.08))
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
        found.append(_loads_as_one_of(HistForecaster, path, [fa, fb]))
    assert set(found) == {0, 1}  # both models were caught mid-loop
    leftovers = [p.name for p in path.iterdir() if p.name != CONFIG]
    assert len(leftovers) <= 110  # killed saves leave at most their own files, cleaned later


def _save_n(model, path, n) -> None:
    for _ in range(n):
        model.save(path, overwrite=True)
    os._exit(0)


def test_concurrent_savers_and_loaders(two_models, tmp_path):
    """Two processes re-save one folder while this one loads it (forked children only save:
    torch's thread pool is not used after a fork)."""
    (a, fa), (b, fb) = two_models
    path = tmp_path / "m"
    a.save(path)
    procs = [CTX.Process(target=_save_n, args=(m, path, 25)) for m in (a, b)]
    for p in procs:
        p.start()
    loads, failures = 0, []
    while any(p.is_alive() for p in procs) or loads < 5:
        try:
            _loads_as_one_of(HistForecaster, path, [fa, fb])
        except (AssertionError, ValueError) as err:
            failures.append(repr(err))
        loads += 1
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    assert failures == [] and loads >= 5
    _loads_as_one_of(HistForecaster, path, [fa, fb])
    assert [p.name for p in path.iterdir() if p.name.startswith(".tmp-")] == []


def test_load_says_what_an_interrupted_first_save_left(two_models, tmp_path):
    (a, _), _ = two_models
    path = tmp_path / "m"
    assert _run(_save_killed, a, path, 3) == -signal.SIGKILL  # mkdir, state written, killed
    with pytest.raises(ValueError, match="interrupted before it finished; save the model again"):
        HistForecaster.load(path)


@pytest.mark.slow
def test_two_cli_writers_to_one_out_leave_a_whole_csv(small_panel, tmp_path):
    data = tmp_path / "d.csv"
    small_panel.to_csv(data, index=False)
    out = tmp_path / "fc.csv"
    cmd = [sys.executable, "-m", "histcast", "forecast", "--data", str(data), "--horizon", "3",
           "--model", "snaive", "--out", str(out)]  # fmt: skip
    for _ in range(2):
        procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL) for _ in range(2)]
        assert [p.wait(120) for p in procs] == [0, 0]
        fc = pd.read_csv(out)
        assert fc.groupby("unique_id").size().eq(3).all()
        assert fc["unique_id"].nunique() == small_panel["unique_id"].nunique()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_full_disk_keeps_the_old_model_and_leaves_no_temporary_file(
    two_models, tmp_path, monkeypatch, failing
):
    """An OSError (no space left, permission denied) at any write of a save: the save raises it,
    the folder loads as the old model, and no temporary file stays behind."""
    import errno

    from histcast import atomic

    (a, fa), (b, _) = two_models
    path = tmp_path / "m"
    a.save(path)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, failing, full)
    with pytest.raises(OSError, match="No space left"):
        b.save(path, overwrite=True)
    monkeypatch.undo()
    _loads_as_one_of(HistForecaster, path, [fa])
    assert [p.name for p in path.iterdir() if p.name.startswith(".tmp-")] == []
