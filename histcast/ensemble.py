"""`HistEnsemble`: M histogram forecasters and the exact, equal-weight mixture of their
histograms.

Members are fitted `clone`s of a template `HistForecaster` with seeds seed, seed + 1, ...,
seed + M - 1 (optionally cycling through encoders). Their predictive distribution is the
mixture (1/M) sum_i H_i (`mixture.mix`): members with the same bin settings share edges on
every window, so their probabilities average directly; otherwise the mixture lives on the union
of their edges, exactly. Forecast columns, CRPS and quantiles come from the mixture (not from
averaged quantiles). N-BEATS and the M4 / M3 combinations (SCUM) get their edge this way; one
network can then be trained to imitate the mixture (`distill`, `HistForecaster.fit(teacher=)`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd

from . import atomic
from .checks import check_choice, check_int
from .data.frequency import freq_from_json, freq_to_json
from .data.interop import optional_pandas, to_pandas
from .dist.mixture import mix
from .estimator import Estimator, clone
from .evaluation.levels import LEVELS
from .forecaster import HistForecaster
from .frames import check_forecast_args, check_h, first_steps, forecast_frame
from .nn.encoders import ENCODERS
from .persistence import FORMAT, RETRIES, check_target, sha256, strict_json
from .train import distributed

CONFIG = "ensemble.json"


def member_signature(member) -> dict:
    """What members of one mixture must share: the horizon, frequency, id/time/target
    columns and covariate lists (futr, hist, stat names) a fitted forecaster was fitted with."""
    cov = getattr(member, "covariates_", None)
    lists = {k: [c.name for c in getattr(cov, k)] if cov else [] for k in ("futr", "hist", "stat")}
    return {
        "horizon": member.config_.horizon,
        "frequency": member.freq_,
        "columns": member.columns_,
        **{f"{k}_exog_list": v for k, v in lists.items()},
    }


def check_members(members) -> None:
    """Raise unless `members` are fitted `HistForecaster`s that agree on `member_signature`
    (a hand-assembled or loaded `members_`): ValueError naming the member and what differs."""
    if not members:
        raise ValueError("the ensemble has no members")
    signatures = []
    for i, member in enumerate(members):
        if not isinstance(member, HistForecaster) or not hasattr(member, "model_"):
            got = type(member).__name__
            raise ValueError(f"ensemble member {i} must be a fitted HistForecaster; got {got}")
        signatures.append(member_signature(member))
    for i, sig in enumerate(signatures[1:], 1):
        for key, value in sig.items():
            if value != signatures[0][key]:
                raise ValueError(
                    f"ensemble member {i} has {key} {value!r}, member 0 has "
                    f"{signatures[0][key]!r}: the members of one mixture must agree on horizon, "
                    "frequency and covariates"
                )


class HistEnsemble(Estimator):
    """An equal-weight mixture of M `HistForecaster`s: the same API (fit, forecast,
    predict_distribution, save, load; `cross_validation` and the CLI take it).

    Fitted attributes: `members_` (the fitted forecasters), `fit_seconds_` (per member).

    Args:
        forecaster: the template `HistForecaster` (its parameters are copied, it is not fitted).
        n_members: M, the number of members; member i has seed `forecaster.seed + i`.
        encoders: None (every member uses the template's encoder) or a sequence of encoder
            names; member i uses `encoders[i % len(encoders)]` (mixed encoders).
        alias: name of the forecast columns (default `HistEns<M>`).
    """

    _fitted_attr = "members_"

    def __init__(self, forecaster: HistForecaster, n_members: int = 5, encoders=None, alias=None):
        self.forecaster = forecaster
        self.n_members = n_members
        self.encoders = encoders
        self.alias = alias

    @property
    def alias_(self) -> str:
        return self.alias or f"HistEns{self.n_members}"

    @property
    def horizon(self) -> int:
        """The template's horizon (what `cross_validation` checks)."""
        return self.forecaster.horizon

    @property
    def freq(self):
        """The template's `freq` (what `cross_validation` reads)."""
        return self.forecaster.freq

    def members(self) -> list[HistForecaster]:
        """The M unfitted members: clones of the template with their seed and encoder."""
        self._check_params()
        out = []
        for i in range(self.n_members):
            member = clone(self.forecaster).set_params(seed=self.forecaster.seed + i)
            if self.encoders is not None:
                member.set_params(encoder=self.encoders[i % len(self.encoders)])
            out.append(member)
        return out

    def _check_params(self) -> None:
        if not isinstance(self.forecaster, HistForecaster):
            raise ValueError(
                f"forecaster must be a HistForecaster; got {type(self.forecaster).__name__}"
            )
        check_int("n_members", self.n_members, 1)
        if self.encoders is not None:
            if isinstance(self.encoders, str) or not len(self.encoders):
                raise ValueError(f"encoders must be None or a list of names; got {self.encoders!r}")
            for name in self.encoders:
                check_choice("encoders", name, ENCODERS)

    # -- fitting and forecasting -----------------------------------------------------------------
    def fit(
        self, df: pd.DataFrame, static_df=None, id_col="unique_id", time_col="ds", target_col="y",
        **kwargs,
    ):  # fmt: skip
        """Fit the M members one after another on `df` (and `static_df`); return `self`. Other
        keyword arguments (e.g. `teacher=`) go to every member's `fit`; `checkpoint_dir=d`
        gives member i the folder `d/member-<i>`, so a fit stopped by Ctrl-C (which leaves the
        ensemble unfitted: KeyboardInterrupt) resumes where it stopped."""
        self._reset()
        members, seconds = self.members(), []
        df, backend = to_pandas(df, "df")  # read once: every member gets the pandas frame
        cols = dict(id_col=id_col, time_col=time_col, target_col=target_col)
        if static_df is not None:
            kwargs["static_df"] = to_pandas(static_df, "static_df")[0]
        folder = kwargs.pop("checkpoint_dir", None)
        for i, member in enumerate(members):
            t0 = time.perf_counter()
            if folder is not None:
                kwargs["checkpoint_dir"] = Path(folder) / f"member-{i}"
            member.fit(df, **cols, **kwargs)
            if member.history_ and member.history_[-1].get("interrupted"):
                raise KeyboardInterrupt(f"ensemble fit interrupted in member {i}")
            seconds.append(time.perf_counter() - t0)
        self.fit_seconds_ = seconds
        for member in members:
            member.backend_ = backend  # forecasts in the caller's library
        self.members_ = members  # last: it means "fitted"
        return self

    def predict_distribution(self, df: pd.DataFrame | None = None, **kwargs):
        """The mixture of the members' forecast histograms: `(Histogram (S, H), index)`, as
        `HistForecaster.predict_distribution` (keyword arguments go to every member); frames
        may be pandas or polars, the index is in `df`'s library (the training data's when
        `df` is None)."""
        dist, index = self._distribution(df, **kwargs)
        return dist, self.members_[0]._native(index, df)

    def _distribution(self, df=None, **kwargs):
        """`predict_distribution` with its index as a pandas frame; each frame is read once."""
        self.check_fitted()
        check_members(self.members_)
        pdf = optional_pandas(df, "df")
        kwargs = {k: optional_pandas(v, k) if k.endswith("_df") else v for k, v in kwargs.items()}
        outs = [m._distribution(pdf, **kwargs) for m in self.members_]
        return mix([dist for dist, _ in outs]), outs[0][1]

    def forecast(
        self, df=None, quantiles=LEVELS, level=(80, 95), *, h=None, **kwargs
    ) -> pd.DataFrame:
        """Nixtla-style forecast frame of the mixture (as `HistForecaster.forecast`), for the
        first `h` steps (None: all `horizon`)."""
        self.check_fitted()
        quantiles, level = check_forecast_args(quantiles, level)
        h = check_h(h, self.horizon)
        dist, index = self._distribution(df, **kwargs)
        dist, index = dist[:, :h], first_steps(index, self.horizon, h)
        frame = forecast_frame(index, dist, self.alias_, quantiles, level)
        return self.members_[0]._native(frame, df)

    # -- persistence -----------------------------------------------------------------------------
    def save(self, path, overwrite: bool = False) -> None:
        """Write each member to a new folder `path/member-<unique>-<i>/` (`persistence`), then
        `path/ensemble.json` naming them (the ensemble's arguments, the template's, and each
        member's config checksum), atomically, then remove the members the old one named: a
        killed save leaves the old ensemble or the new one (`atomic`). A model saved at `path`
        before is replaced only with `overwrite=True` (FileExistsError otherwise)."""
        self.check_fitted()
        path = Path(path)
        check_target(path, overwrite)
        template = self.forecaster.get_params()
        template["freq"] = freq_to_json(template["freq"])
        json.dumps(template, default=strict_json)  # refused before a file is written
        path.mkdir(parents=True, exist_ok=True)
        before = member_names(path / CONFIG)
        token = atomic.unique_name("member")
        names = [f"{token}-{i}" for i in range(len(self.members_))]
        for name, member in zip(names, self.members_, strict=True):
            member.save(path / name)  # under torchrun: rank 0 writes, the others wait
        if not distributed.is_main():
            return
        meta = {
            "format": FORMAT,
            "class": type(self).__name__,
            "params": {"n_members": self.n_members, "encoders": self.encoders, "alias": self.alias},
            "forecaster": template,
            "members": names,
            "member_sha256": [sha256(path / n / "config.json") for n in names],
            "fit_seconds": self.fit_seconds_,
        }
        atomic.write_bytes(path / CONFIG, json.dumps(meta, indent=1, default=strict_json).encode())
        now = set(member_names(path / CONFIG))
        for old in set(before) - now - set(names):
            atomic.remove(path / old)
        atomic.clean(path, now | set(names), ("member-*", "member_*", atomic.TMP_PREFIX + "*"))

    @classmethod
    def load(cls, path, device: str = "auto") -> HistEnsemble:
        """Rebuild a fitted ensemble written by `save`; ValueError naming the file when the
        ensemble's config is missing, corrupt or disagrees with its members."""
        path = Path(path)
        if not path.is_dir():
            what = "is a file" if path.exists() else "does not exist"
            raise ValueError(f"{path} {what}: not a saved histcast ensemble (a folder)")
        for _ in range(RETRIES):  # a concurrent save may remove the members read meanwhile
            names = member_names(path / CONFIG)
            try:
                return cls._load_once(path, device)
            except ValueError:
                if member_names(path / CONFIG) == names:
                    raise
        raise ValueError(f"{path} kept changing while it was read ({RETRIES} saves); load again")

    @classmethod
    def _load_once(cls, path: Path, device) -> HistEnsemble:
        file = path / CONFIG
        try:
            meta = json.loads(file.read_text())
            params = meta["params"]
            template = dict(meta["forecaster"])
            template["freq"] = freq_from_json(template["freq"])
            model = cls(HistForecaster(**template), **params)
            names, sums = list(meta["members"]), list(meta["member_sha256"])
        except FileNotFoundError as err:
            raise ValueError(f"{file} does not exist: not a saved histcast ensemble") from err
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as err:
            raise ValueError(f"{file} is not a valid histcast ensemble config: {err!r}") from err
        if len(names) != model.n_members or len(sums) != len(names):
            raise ValueError(f"{file}: {len(names)} members saved, n_members={model.n_members}")
        for name, expected in zip(names, sums, strict=True):
            if not (path / name / "config.json").exists() or (
                sha256(path / name / "config.json") != expected
            ):
                raise ValueError(f"{path / name}: missing, or not the member {file} was saved with")
        model.members_ = [HistForecaster.load(path / name, device) for name in names]
        model.fit_seconds_ = meta.get("fit_seconds")
        return model


def member_names(manifest: Path) -> list[str]:
    """The member folders an `ensemble.json` names (plain names in its folder); [] when it is
    missing or unreadable."""
    try:
        names = json.loads(manifest.read_bytes()).get("members", [])
    except (OSError, ValueError, AttributeError):
        return []
    ok = isinstance(names, list) and all(isinstance(n, str) and Path(n).name == n for n in names)
    return names if ok else []
