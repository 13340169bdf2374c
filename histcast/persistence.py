"""Saving and loading fitted forecasters.

A saved model is a directory with a state file `state-<unique>.pt` (weights and the packed
training panel, read back with `torch.load(weights_only=True)`, so the file can hold no code)
and `config.json` (the arguments, the architecture, the fitted choices, and the name and sha256
of the state file it vouches for). A save is all or nothing (`atomic`): the new state file gets
a name of its own, and `config.json` is renamed into place last, so whenever a save is killed,
the folder holds the old model or the new one; concurrent saves end with the last one's model,
and a concurrent `load` reads the old or the new model, never a mix. `load` trusts neither file:
a checksum that does not match, a truncated or edited file, arrays whose shapes disagree with
the config, or weights that do not fit the architecture all raise one `ValueError` that names
the file and says what to do. (Models saved as `state.pt` + `config.json` load as before.)
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from . import atomic
from .data.covariates import Covariates, ExogArrays
from .data.frequency import freq_from_json, freq_to_json
from .data.panel import Columns, Panel
from .nn.config import ModelConfig
from .nn.network import ForecastNet
from .train import distributed

FORMAT = 1  # the layout of saved models (a forecaster's and an ensemble's); newer is refused
FITTED = ("margin_", "outside_share_", "val_size_", "history_")  # plain JSON-able choices
CONFIG = "config.json"
LEFTOVERS = ("state-*.pt", "state.pt", atomic.TMP_PREFIX + "*")  # what killed saves can leave
RETRIES = 5  # loads that meet a concurrent save's cleanup read the manifest again


def sha256(path: Path) -> str:
    """The hex SHA-256 of a file's bytes (what a saved model's config vouches for)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


MANIFESTS = (CONFIG, "ensemble.json")  # a folder holding one of these holds a saved model


def check_target(path: Path, overwrite: bool) -> None:
    """Refuse to save into a file (ValueError), or over a model saved at `path` (a folder with
    a manifest, `MANIFESTS`) unless `overwrite` (FileExistsError)."""
    if path.exists() and not path.is_dir():
        raise ValueError(f"cannot save into {path}: it is a file, not a directory")
    found = [m for m in MANIFESTS if (path / m).exists()]
    if found and not overwrite:
        raise FileExistsError(
            f"{path} already holds a saved model ({found[0]}); pass overwrite=True to replace "
            "it, or save to another folder"
        )


def save(model, path, overwrite: bool = False) -> None:
    """Write `path/state-<unique>.pt`, then `path/config.json` naming it (with its checksum),
    each atomically (`atomic.write_bytes`), then remove the state file the old config named.
    A model saved at `path` before is replaced only when `overwrite` (`check_target`).

    Everything is built and checked before a file is written, so a refused save, like a killed
    one, leaves the model saved there before intact."""
    path = Path(path)
    check_target(path, overwrite)
    panel = model.panel_
    state = {
        "model": model.model_.state_dict(),
        "values": torch.from_numpy(panel.values),
        "indptr": torch.from_numpy(panel.indptr),
        "ds": torch.from_numpy(panel.ds.astype(np.int64)),
    }
    covariates = getattr(model, "covariates_", None)
    if covariates is not None:  # the packed covariates of the training panel
        state.update({f"exog_{k}": torch.from_numpy(v) for k, v in vars(model.exog_).items()})
    buffer = io.BytesIO()
    torch.save(state, buffer)
    params = model.get_params()
    params["freq"] = freq_to_json(params["freq"])
    meta = {
        "format": FORMAT,
        "class": type(model).__name__,
        "params": params,
        "model": model.config_.to_dict(),
        "columns": vars(model.columns_),
        "freq": freq_to_json(model.freq_),
        "ids": ids_to_json(panel.ids),
        "fitted": {k: getattr(model, k) for k in (*FITTED, "calibration_", "backend_")},
        "state_file": atomic.unique_name("state", ".pt"),
        "state_sha256": hashlib.sha256(buffer.getvalue()).hexdigest(),
    }
    if covariates is not None:  # the schema: names, kinds, categories, scalers
        meta["covariates"] = covariates.to_json()
    config = json.dumps(meta, indent=1, default=strict_json).encode()
    path.mkdir(parents=True, exist_ok=True)
    before = named_file(path / CONFIG, "state_file")
    atomic.write_bytes(path / meta["state_file"], buffer.getvalue())
    atomic.write_bytes(path / CONFIG, config)  # the save takes effect here
    now = named_file(path / CONFIG, "state_file")
    if before is not None and before not in (meta["state_file"], now):
        atomic.remove(path / before)
    atomic.clean(path, {meta["state_file"], now}, LEFTOVERS)


def named_file(manifest: Path, key: str, default=None):
    """The file name a manifest (JSON) gives under `key` (a plain name in its folder), or
    `default` for a manifest without it; None when the manifest is missing or unreadable."""
    try:
        name = json.loads(manifest.read_bytes()).get(key, default)
    except (OSError, ValueError, AttributeError):
        return None
    return name if isinstance(name, str) and name and Path(name).name == name else None


def strict_json(x):
    """json.dumps fallback: numpy scalars as Python numbers, 1-d numpy arrays and pandas Index
    or Series (covariate lists) as lists; anything else is refused rather than written as a
    string that would load back as something else."""
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray | pd.Index | pd.Series) and x.ndim == 1:  # covariate lists
        return x.tolist()
    raise TypeError(f"cannot save {x!r} ({type(x).__name__}) in config.json")


ID_KINDS = {"string": str, "integer": int, "floating": float, "boolean": bool}


def ids_to_json(ids: np.ndarray) -> dict:
    """The series ids as `{"kind", "dtype", "values"}`: strings, integers, floats, booleans or
    timestamps (ISO strings, time zone kept) come back as they were; other kinds are refused."""
    kind = pd.api.types.infer_dtype(ids, skipna=False)
    if kind in ID_KINDS:
        values = [ID_KINDS[kind](x) for x in ids]
    elif kind in ("datetime64", "datetime"):  # ISO to the nanosecond, and the zone's name
        stamps = [pd.Timestamp(x) for x in ids]
        values = [[t.isoformat(), None if t.tz is None else str(t.tz)] for t in stamps]
        kind = "datetime"
    else:
        raise ValueError(
            f"series ids of kind {kind!r} (e.g. {ids[0]!r}) cannot be saved; use strings, "
            "integers or timestamps as unique_id (e.g. df['unique_id'].astype(str)) and fit again"
        )
    return {"kind": kind, "dtype": str(ids.dtype), "values": values}


def _stamp(iso: str, tz: str | None) -> pd.Timestamp:
    """The timestamp `iso` in the zone named `tz` (a fixed offset stays as the ISO gives it)."""
    stamp = pd.Timestamp(iso)
    try:
        return stamp if tz is None else stamp.tz_convert(tz)
    except (ValueError, KeyError, TypeError):  # a zone without a name pandas can look up
        return stamp


def ids_from_json(entry) -> np.ndarray:
    """Inverse of `ids_to_json` (a plain list: a model saved before ids had kinds)."""
    if isinstance(entry, list):
        return np.asarray(entry)
    values, dtype = entry["values"], entry["dtype"]
    if entry["kind"] == "datetime":
        stamps = [_stamp(v, tz) for v, tz in values]
        if dtype == "object":
            return np.array(stamps, dtype=object)
        return pd.DatetimeIndex(stamps).as_unit("ns").to_numpy().astype(dtype)
    try:  # the ids' own dtype: int8 ids stay int8, float32 ones float32 (exactly)
        return np.array(values, dtype=np.dtype(dtype))
    except TypeError:
        return np.array(values)


def load(cls, path, device: str = "auto"):
    """Rebuild a fitted `cls` (e.g. `HistForecaster`) from `save`'s files, checking them.

    `device="auto"` follows `fit`'s rule (`distributed.device`): the GPU when there is one (under
    torchrun the rank's own), else the CPU, wherever the model was trained; the device is not a
    property of the file. Forecasts on one device are bit-identical after a round trip; across
    devices they agree to float32 rounding (about 1e-5 relative in quantiles).
    """
    path = Path(path)
    if not path.is_dir():
        what = "is a file" if path.exists() else "does not exist"
        raise ValueError(f"cannot load a model from {path}: it {what}, not a saved model's folder")
    device = distributed.device(device)  # ValueError naming what is available
    logging.getLogger("histcast").info("loading %s on device %s", path, device)
    meta, state = read_consistent(path, device)
    where = f"{path / CONFIG}"
    try:
        params = meta["params"]
        model = cls(**{**params, "freq": freq_from_json(params["freq"])})
        model.columns_ = Columns(**meta["columns"])
        model.freq_ = freq_from_json(meta["freq"])
        for k in FITTED:
            setattr(model, k, meta["fitted"][k])
        model.calibration_ = meta["fitted"].get("calibration_")  # absent before calibration
        model.backend_ = str(meta["fitted"].get("backend_", "pandas"))  # absent before polars
        model.config_ = ModelConfig(**meta["model"])
        ids = ids_from_json(meta["ids"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{where} is not a valid histcast model config: {err!r}") from err
    ds = state["ds"].numpy()
    if not isinstance(model.freq_, int):
        ds = ds.astype("datetime64[ns]")
    values, indptr = state["values"].numpy(), state["indptr"].numpy()
    state_file = path / meta.get("state_file", "state.pt")
    _check_panel(state_file, ids, values, indptr, ds)
    model.panel_ = Panel(ids, values, indptr, ds, model.freq_)
    model.covariates_, model.exog_ = _load_exog(path, meta, state, model.panel_)
    try:
        net = ForecastNet(model.config_).to(device)
        net.load_state_dict(state["model"])
    except (RuntimeError, ValueError, TypeError) as err:
        raise ValueError(
            f"{state_file}: the weights do not fit the architecture in {where} ({err})"
        ) from err
    net.eval()
    model.model_ = net
    return model


def _load_exog(path: Path, meta: dict, state: dict, panel: Panel):
    """The covariate schema and packed covariates `(Covariates, ExogArrays)`, checked against
    the panel; `(None, None)` for a model without covariates."""
    if "covariates" not in meta:
        return None, None
    try:
        cov = Covariates.from_json(meta["covariates"])
        exog = ExogArrays(*(state[f"exog_{k}"].numpy() for k in ExogArrays.__dataclass_fields__))
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise ValueError(
            f"{path}: the saved covariates are incomplete or invalid ({err!r})"
        ) from err
    n, s = len(panel.values), panel.n_series
    shapes = [exog.futr.shape, exog.hist.shape, exog.stat.shape, exog.futr_center.shape]
    expected = [(n, len(cov.futr)), (n, len(cov.hist)), (s, len(cov.stat)), (s, len(cov.futr))]
    if shapes != expected or exog.futr_scale.shape != expected[-1]:
        raise ValueError(
            f"{path / 'state.pt'}: the packed covariates {shapes} do not match the "
            f"{len(cov.futr)} + {len(cov.hist)} + {len(cov.stat)} columns and {s} series in "
            "config.json"
        )
    return cov, exog


def read_consistent(path: Path, device) -> tuple[dict, dict]:
    """`config.json` and the state file it names, read as one: when the state file has gone
    (a concurrent save replaced the model and removed it), the new config is read again."""
    for _ in range(RETRIES):
        meta = _read_config(path / CONFIG)
        file = path / meta.get("state_file", "state.pt")
        try:
            return meta, _read_state(file, meta, device)
        except FileNotFoundError:
            if named_file(path / CONFIG, "state_file", "state.pt") != file.name:
                continue  # replaced meanwhile: read the new model
            raise ValueError(
                f"{path} is incomplete: {CONFIG} names {file.name}, which is missing (deleted, "
                "or the folder was copied in part); save the model again"
            ) from None
    raise ValueError(f"{path} kept changing while it was read ({RETRIES} saves); load it again")


def _read_config(file: Path) -> dict:
    try:
        meta = json.loads(file.read_text())
    except FileNotFoundError as err:
        leftovers = [p.name for pattern in LEFTOVERS for p in file.parent.glob(pattern)]
        if leftovers:
            raise ValueError(
                f"{file} does not exist, but {file.parent} holds {sorted(leftovers)[:3]}: a first "
                "save into this folder was interrupted before it finished; save the model again"
            ) from err
        raise ValueError(f"{file} does not exist: not a saved histcast model") from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{file} is not valid JSON (truncated or corrupt?): {err}") from err
    if not isinstance(meta, dict) or "params" not in meta or "model" not in meta:
        raise ValueError(f"{file} is not a histcast model config")
    if meta.get("format", FORMAT) > FORMAT:
        raise ValueError(f"{file} was written by a newer histcast (format {meta['format']})")
    return meta


def _read_state(file: Path, meta: dict, device) -> dict:
    """The state file's tensors, checked against the config's checksum; FileNotFoundError when
    the file is missing (`read_consistent` tells a concurrent save from a partial folder)."""
    data = file.read_bytes()
    expected = meta.get("state_sha256")
    if expected is not None and hashlib.sha256(data).hexdigest() != expected:
        raise ValueError(
            f"{file} does not match the checksum {CONFIG} gives for it: it was changed or "
            "truncated after the save, or copied from another model; save the model again"
        )
    try:
        state = torch.load(io.BytesIO(data), map_location=device, weights_only=True)
    except Exception as err:  # noqa: BLE001 (torch raises many kinds for a corrupt file)
        raise ValueError(f"{file} cannot be read as saved weights: {err}") from err
    missing = {"model", "values", "indptr", "ds"} - set(state if isinstance(state, dict) else ())
    if missing:
        raise ValueError(f"{file} lacks {sorted(missing)}: not a histcast state file")
    return state


def _check_panel(file: Path, ids, values, indptr, ds) -> None:
    """The packed panel's arrays agree with each other and with the saved ids."""
    ok = (
        indptr.ndim == 1
        and len(indptr) == len(ids) + 1
        and indptr[0] == 0
        and (np.diff(indptr) > 0).all()
        and indptr[-1] == len(values) == len(ds)
    )
    if not ok:
        raise ValueError(
            f"{file}: the packed series ({len(values)} values, {len(indptr) - 1} series) do not "
            f"match the {len(ids)} series in config.json"
        )
