"""Training checkpoints: `fit(df, checkpoint_dir=...)` writes one every epoch and resumes from it.

A checkpoint is one file, `<checkpoint_dir>/checkpoint.pt`, replaced atomically after every
epoch (`atomic.write_bytes`: a Ctrl-C or a kill leaves the previous epoch's file or the new one,
never a part). It holds what the training loop needs to go on exactly where it was
(`train.loop.train_state`): the weights, the optimizer's and the scheduler's state, the step
count, the history, the early-stopping state (best weights, best score, epochs without
improvement), the window sampler's numpy Generator state and torch's RNG states; and what it
was trained on (`identity`): the constructor's arguments and a digest of the packed panel (and
its covariates). A later `fit` with the same arguments and data resumes from it; with other
arguments or data it is refused (ValueError naming what differs), never silently mixed in.

The file is read back with `torch.load(weights_only=True)`: it can hold no code.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import torch

from . import atomic
from .data.frequency import freq_to_json
from .train import distributed

FILE = "checkpoint.pt"
IGNORED = ("verbose", "device")  # arguments that do not change what is trained


def identity(model, panel, exog=None, teacher=None) -> dict:
    """What a checkpoint was trained on: `params` (the constructor's arguments, as JSON, but
    `IGNORED`) and `data` (series, points and the sha256 of the packed values, ids, timestamps
    and covariates); a teacher is named by its class (its weights are not compared)."""
    params = {k: v for k, v in model.get_params().items() if k not in IGNORED}
    params["freq"] = freq_to_json(params["freq"])
    digest = hashlib.sha256()
    arrays = [panel.values, panel.indptr, panel.ds.astype(np.int64), np.asarray(panel.ids, str)]
    arrays += [] if exog is None else [np.asarray(a) for a in vars(exog).values()]
    for a in arrays:
        digest.update(np.ascontiguousarray(a).tobytes())
    data = {"series": int(panel.n_series), "points": int(len(panel.values))}
    data["sha256"] = digest.hexdigest()
    data["teacher"] = None if teacher is None else type(teacher).__name__
    return json.loads(json.dumps({"params": params, "data": data}, default=str))


class Checkpoint:
    """The checkpoint file of one fit: `folder/checkpoint.pt`, for the run `identity` names."""

    def __init__(self, folder, ident: dict):
        self.folder, self.identity = Path(folder), ident
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"checkpoint_dir {self.folder} is a file, not a directory")

    @property
    def file(self) -> Path:
        return self.folder / FILE

    def read(self, device) -> dict | None:
        """The saved training state (tensors on `device`), or None when there is none yet;
        ValueError when the file is unreadable or was written for other arguments or data."""
        if not self.file.exists():
            return None
        try:
            state = torch.load(self.file, map_location=device, weights_only=True)
            saved = json.loads(state["identity"])
        except Exception as err:  # noqa: BLE001 (torch raises many kinds for a corrupt file)
            raise ValueError(
                f"{self.file} cannot be read as a histcast checkpoint ({err}); remove it or "
                "use another checkpoint_dir"
            ) from err
        self._check(saved)
        return state

    def write(self, state: dict) -> None:
        """Replace the checkpoint by `state` (tensors and plain values), atomically; under
        torchrun rank 0 writes."""
        if not distributed.is_main():
            return
        buffer = io.BytesIO()
        torch.save({**state, "identity": json.dumps(self.identity)}, buffer)
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(self.file, buffer.getvalue())

    def _check(self, saved: dict) -> None:
        """ValueError naming the arguments or the data that differ from this run's."""
        if saved == self.identity:
            return
        now, then = self.identity["params"], saved.get("params", {})
        names = sorted(k for k in now.keys() | then.keys() if now.get(k) != then.get(k))
        what = [f"{k} ({then.get(k)!r} there, {now.get(k)!r} now)" for k in names]
        if saved.get("data") != self.identity["data"]:
            d, s = self.identity["data"], saved.get("data", {})
            what.append(
                f"the data ({s.get('series')} series, {s.get('points')} points there; "
                f"{d['series']} series, {d['points']} points now, or other values)"
            )
        raise ValueError(
            f"{self.file} was written by a fit with other arguments or data: "
            f"{'; '.join(what)}; fit with the same ones to resume, or use another "
            "checkpoint_dir (or remove it) to start over"
        )
