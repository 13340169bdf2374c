"""Saving and loading fitted forecasters: `config.json` (arguments, architecture, fitted
choices) and `state.pt` (weights and the packed training panel), read back with
`torch.load(weights_only=True)` so a file can hold no code."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from .frequency import freq_from_json, freq_to_json
from .network import ForecastNet, ModelConfig
from .panel import Columns, Panel

FITTED = ("margin_", "outside_share_", "val_size_", "history_")  # plain JSON-able choices


def save(model, path) -> None:
    """Write `path/config.json` and `path/state.pt` for a fitted `HistForecaster`."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    params = model.get_params()
    params["freq"] = freq_to_json(params["freq"])
    meta = {
        "params": params,
        "model": model.config_.to_dict(),
        "columns": vars(model.columns_),
        "freq": freq_to_json(model.freq_),
        "ids": model.panel_.ids.tolist(),
        "fitted": {k: getattr(model, k) for k in FITTED},
    }
    (path / "config.json").write_text(json.dumps(meta, indent=1, default=str))
    panel = model.panel_
    state = {
        "model": model.model_.state_dict(),
        "values": torch.from_numpy(panel.values),
        "indptr": torch.from_numpy(panel.indptr),
        "ds": torch.from_numpy(panel.ds.astype(np.int64)),
    }
    torch.save(state, path / "state.pt")


def load(cls, path, device: str = "cpu"):
    """Rebuild a fitted `cls` (e.g. `HistForecaster`) from `save`'s files."""
    path = Path(path)
    meta = json.loads((path / "config.json").read_text())
    state = torch.load(path / "state.pt", map_location=device, weights_only=True)
    params = meta["params"]
    model = cls(**{**params, "freq": freq_from_json(params["freq"])})
    model.columns_ = Columns(**meta["columns"])
    model.freq_ = freq_from_json(meta["freq"])
    ds = state["ds"].numpy()
    if not isinstance(model.freq_, int):
        ds = ds.astype("datetime64[ns]")
    model.panel_ = Panel(
        np.asarray(meta["ids"]), state["values"].numpy(), state["indptr"].numpy(), ds, model.freq_
    )
    for k, v in meta["fitted"].items():
        setattr(model, k, v)
    model.config_ = ModelConfig(**meta["model"])
    net = ForecastNet(model.config_).to(device)
    net.load_state_dict(state["model"])
    net.eval()
    model.model_ = net
    return model
