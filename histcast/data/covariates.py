"""Exogenous covariates: their schema, scaling and packing beside the target.

Names follow neuralforecast: `futr_exog_list` (known ahead for the forecast's steps: planned
prices and promotions, load and weather forecasts, calendar dummies), `hist_exog_list` (known
only up to the forecast's start) and `stat_exog_list` (one value per series, from `static_df`).
The rows of `df` that give the target give its covariates: they are packed in the panel's order,
`(N, E)` beside `values (N,)`, and gathered with the target's window indices (`windows.gather`),
never per window in Python. `exog_frames` checks and aligns the caller's frames.

Kinds, fixed in `fit` and kept by `save`/`load`: a column of numbers or booleans is *numeric*; a
pandas category, strings or other objects are *categorical*, matched by their text (`str(v)`:
1 and "1" are one category, as a CSV round trip needs), coded 1..K in the sorted order of the
categories `fit` saw, and embedded by the network. Code 0 means "no value" (left padding, or a
missing value in `df`). A category `fit` did not see is an error naming the series and column.

Numeric columns are scaled robustly, never by the target's window support, so a covariate
reads the same whatever the target does (`exog_scaling`):
- `"series"` (default): x' = (x - median_s) / IQR_s, with the median and inter-quartile range of
  series s's values in the frame given to `fit` (a series first seen at forecast time: its
  values in the `df` given then);
- `"column"`: the median and IQR of the whole column in `fit`'s frame.
An IQR of 0 (a dummy that is mostly 0) falls back to max - min, then to 1, so 0/1 dummies stay
0/1. Static numeric columns are scaled per column, across series. A NaN in `df` reads as
missing (scaled 0: the median; categorical code 0); NaN in `futr_df` or `static_df` is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..checks import check_choice
from .exog_frames import aligned, future_frame, kind_of, numbers, static_frame
from .messages import show
from .panel import Columns, Panel, head_mask

LISTS = ("futr_exog_list", "hist_exog_list", "stat_exog_list")
SCALINGS = ("series", "column")


def exog_names(names, attr: str) -> list[str]:
    """A covariate list `attr` as given (None, or any ordered sequence of column names: a list,
    tuple, numpy array, pandas Index or Series) as a list of str; ValueError for a bare string,
    an unordered collection (set, dict) or names that are not strings."""
    if names is None:
        return []
    unordered = isinstance(names, str | bytes | Set | Mapping)
    if unordered or not isinstance(names, Iterable) or getattr(names, "ndim", 1) != 1:
        raise ValueError(f"{attr} must be a list of column names (strings); got {names!r}")
    out = list(names)
    if not all(isinstance(n, str) for n in out):
        raise ValueError(f"{attr} must be a list of column names (strings); got {names!r}")
    return [str(n) for n in out]  # numpy's str_ as str


def check_lists(model, cols: Columns) -> None:
    """`futr_exog_list`, `hist_exog_list`, `stat_exog_list`: None or sequences of distinct
    column names (`exog_names`), none the id, time or target column, none in two lists;
    `exog_scaling` a choice."""
    seen: dict[str, str] = {}
    for attr in LISTS:
        for n in exog_names(getattr(model, attr), attr):
            if n in (cols.id, cols.time, cols.target):
                raise ValueError(f"{attr} names {n!r}, which is the id, time or target column")
            if n in seen:
                where = "twice" if seen[n] == attr else f"in both {seen[n]} and {attr}"
                raise ValueError(f"covariate column {n!r} is listed {where}")
            seen[n] = attr
    check_choice("exog_scaling", model.exog_scaling, SCALINGS)


def has_covariates(model) -> bool:
    """Whether the model reads covariate columns of `df` (future-known or historical)."""
    return any(exog_names(getattr(model, a), a) for a in LISTS[:2])


def check_unused(futr_df, static_df) -> None:
    """A model fitted without covariates refuses them at forecast time."""
    for name, frame, lst in (("futr_df", futr_df, "futr"), ("static_df", static_df, "stat")):
        if frame is not None:
            raise ValueError(
                f"{name} was given, but the model was fitted without covariates; fit it with "
                f"{lst}_exog_list=[...] to use them"
            )


@dataclass
class Column:
    """One covariate: name, kind (`"numeric"` or `"categorical"`), the categories `fit` saw
    (categorical) and the robust scaler of a numeric column, center and scale `(S,)` per series
    (of `Covariates.ids`) or `(1,)` per column."""

    name: str
    kind: str
    categories: list[str] = field(default_factory=list)
    center: np.ndarray = field(default_factory=lambda: np.zeros(1))
    scale: np.ndarray = field(default_factory=lambda: np.ones(1))

    @property
    def card(self) -> int:
        """0 for a numeric column, K + 1 for K categories (code 0: no value)."""
        return len(self.categories) + 1 if self.kind == "categorical" else 0

    def to_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "categories": list(self.categories),
                "center": self.center.tolist(), "scale": self.scale.tolist()}  # fmt: skip

    @classmethod
    def from_json(cls, obj: dict) -> Column:
        center, scale = np.asarray(obj["center"], np.float64), np.asarray(obj["scale"], np.float64)
        return cls(obj["name"], obj["kind"], list(obj["categories"]), center, scale)

    def codes(self, raw: pd.Series, row_ids: np.ndarray, where: str, allow_nan: bool):
        """Categorical codes `(N,)` float32 (1..K; 0 where missing); unseen categories raise."""
        missing = raw.isna().to_numpy()
        _refuse(missing & (not allow_nan), self.name, row_ids, where, "missing values")
        lookup = {c: i + 1 for i, c in enumerate(self.categories)}
        text = raw.astype(object).where(~missing, None).map(lambda v: None if v is None else str(v))
        codes = text.map(lookup).to_numpy(np.float64, na_value=np.nan)
        unseen = ~missing & np.isnan(codes)
        if unseen.any():
            values = list(pd.unique(text[unseen]))[:5]
            raise ValueError(
                f"{where}: column {self.name!r} holds categories fit did not see, {values} (e.g. "
                f"in series {show(row_ids[np.argmax(unseen)])!r}); fit on data that holds them "
                "(categories are matched by their text)"
            )
        return np.nan_to_num(codes).astype(np.float32)


def _refuse(bad: np.ndarray, name, row_ids, where: str, what: str) -> None:
    if bad.any():
        series = [show(s) for s in pd.unique(row_ids[bad])[:5]]
        raise ValueError(
            f"{where}: column {name!r} has {int(bad.sum())} {what}, in series {series}"
            + ("; fill them" if "missing" in what or "NaN" in what else "")
        )


def robust_scale(x: np.ndarray, groups: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Median and IQR of `x (N,)` per group (codes 0..n-1), NaN ignored: two float64 `(n,)`.

    An IQR of 0 or NaN falls back to max - min, then 1; a group without values gets (0, 1).
    """
    g = pd.Series(x).groupby(groups)

    def per_group(s: pd.Series) -> np.ndarray:
        return s.reindex(range(n)).to_numpy(np.float64)

    center = per_group(g.median())
    iqr = per_group(g.quantile(0.75)) - per_group(g.quantile(0.25))
    width = per_group(g.max()) - per_group(g.min())
    scale = np.where(iqr > 0, iqr, np.where(width > 0, width, 1.0))
    return np.nan_to_num(center), scale


@dataclass
class ExogArrays:
    """Packed covariates of a panel: futr `(N, Ef)`, hist `(N, Eh)` and stat `(S, Es)` float32
    (scaled numbers, categorical codes), and the per-series scaler of the future-known columns,
    futr_center and futr_scale `(S, Ef)` float64 (0 and 1 for categorical ones), which
    `Covariates.future` applies to `futr_df`."""

    futr: np.ndarray
    hist: np.ndarray
    stat: np.ndarray
    futr_center: np.ndarray
    futr_scale: np.ndarray

    def drop_last(self, indptr: np.ndarray, n_last: np.ndarray) -> ExogArrays:
        """The rows of `Panel.drop_last(n_last)` (a training cut), statics unchanged."""
        keep = head_mask(indptr, np.broadcast_to(n_last, (len(indptr) - 1,)))
        return replace(self, futr=self.futr[keep], hist=self.hist[keep])

    def rows(self, rows: np.ndarray) -> ExogArrays:
        """The covariates of panel rows `rows (M,)` (e.g. `Panel.last`'s), statics unchanged."""
        return replace(self, futr=self.futr[rows], hist=self.hist[rows])


@dataclass
class Covariates:
    """The fitted schema: the columns of each list, the series `ids (S,)` the per-series scalers
    belong to, the encoded static covariates of those series `stat_values (S, Es)`, and the
    scaling of numeric columns (`"series"` or `"column"`)."""

    futr: list[Column]
    hist: list[Column]
    stat: list[Column]
    ids: np.ndarray
    stat_values: np.ndarray
    scaling: str = "series"

    @property
    def cards(self) -> dict:
        """`ModelConfig`'s futr_cards, hist_cards, stat_cards: 0 numeric, K + 1 categorical."""
        lists = ("futr", "hist", "stat")
        return {f"{k}_cards": tuple(c.card for c in getattr(self, k)) for k in lists}

    @classmethod
    def fit(cls, model, df, static_df, panel: Panel, cols: Columns):
        """`(Covariates, ExogArrays)` of `panel` from `df` and `static_df` per the model's lists;
        `(None, None)` when it lists none (then `static_df` must be None)."""
        futr, hist, stat = (exog_names(getattr(model, a), a) for a in LISTS)
        if static_df is not None and not stat:
            raise ValueError("static_df was given to fit, but stat_exog_list is empty")
        if stat and static_df is None:
            raise ValueError(f"stat_exog_list names {stat}, but fit got no static_df")
        if not (futr or hist or stat):
            return None, None
        frame = aligned(df, panel, futr + hist)
        series = np.repeat(np.arange(panel.n_series), panel.lengths)
        groups = series if model.exog_scaling == "series" else np.zeros_like(series)
        n = panel.n_series if model.exog_scaling == "series" else 1
        row_ids = panel.ids[series]

        def fit_column(raw: pd.Series, name, groups, n, row_ids, where) -> Column:
            if kind_of(raw, name, where) == "categorical":
                values = raw.dropna().astype(object).map(str)
                return Column(name, "categorical", sorted(set(values)))
            x = numbers(raw, name, row_ids, where, allow_nan=where == "df")
            return Column(name, "numeric", [], *robust_scale(x, groups, n))

        table = static_frame(static_df, stat, panel.ids, cols, strict=False) if stat else None
        one_group = np.zeros(panel.n_series, np.int64)  # statics: scaled per column
        cov = cls(
            [fit_column(frame[c], c, groups, n, row_ids, "df") for c in futr],
            [fit_column(frame[c], c, groups, n, row_ids, "df") for c in hist],
            [fit_column(table[c], c, one_group, 1, panel.ids, "static_df") for c in stat],
            panel.ids.copy(),
            np.zeros((panel.n_series, 0), np.float32),
            model.exog_scaling,
        )
        cov.stat_values = cov._encode_static(table, panel.ids)
        return cov, cov._pack(frame, panel, cov.stat_values)

    # -- encoding ----------------------------------------------------------------------------
    def pack(self, df, static_df, panel: Panel, cols: Columns) -> ExogArrays:
        """Covariates of the rows of `panel` (built from `df`) and of its series' statics:
        `static_df` when given, else the fitted values (series unknown to fit need it)."""
        frame = aligned(df, panel, [c.name for c in self.futr + self.hist])
        return self._pack(frame, panel, self.static(static_df, panel.ids, cols))

    def _pack(self, frame: pd.DataFrame, panel: Panel, stat: np.ndarray) -> ExogArrays:
        series = np.repeat(np.arange(panel.n_series), panel.lengths)
        row_ids, known = panel.ids[series], pd.Index(self.ids).get_indexer(panel.ids)
        out, centers, scales = [], [], []
        for col in self.futr + self.hist:
            raw = frame[col.name]
            if col.kind == "categorical":
                c, s = np.zeros(panel.n_series), np.ones(panel.n_series)
                out.append(col.codes(raw, row_ids, "df", allow_nan=True))
            else:
                x = numbers(raw, col.name, row_ids, "df", allow_nan=True)
                c, s = self._scaler(col, x, series, known)
                out.append(np.nan_to_num((x - c[series]) / s[series]).astype(np.float32))
            centers.append(c)
            scales.append(s)
        ef = len(self.futr)
        table = np.stack(out, -1) if out else np.zeros((len(series), 0), np.float32)
        futr_c = np.stack(centers[:ef], -1) if ef else np.zeros((panel.n_series, 0))
        futr_s = np.stack(scales[:ef], -1) if ef else np.zeros((panel.n_series, 0))
        return ExogArrays(table[:, :ef], table[:, ef:], stat, futr_c, futr_s)

    def _scaler(self, col: Column, x: np.ndarray, series: np.ndarray, known: np.ndarray):
        """center, scale `(S,)` for a panel's series: the fitted ones (one per column, or per
        series for series `fit` saw), else robust statistics of the series' own values `x`."""
        n = len(known)
        if self.scaling != "series":
            return np.full(n, col.center[0]), np.full(n, col.scale[0])
        center, scale = col.center[np.maximum(known, 0)], col.scale[np.maximum(known, 0)]
        new = known < 0
        if new.any():
            own_center, own_scale = robust_scale(x, series, n)
            center, scale = np.where(new, own_center, center), np.where(new, own_scale, scale)
        return center, scale

    def static(self, static_df, ids: np.ndarray, cols: Columns) -> np.ndarray:
        """Encoded statics `(S, Es)` of series `ids`: from `static_df` (only the listed columns)
        or, when None, the fitted values (an error for series `fit` did not see)."""
        if not self.stat:
            check_unused(None, static_df)
            return np.zeros((len(ids), 0), np.float32)
        if static_df is not None:
            table = static_frame(static_df, [c.name for c in self.stat], ids, cols, strict=True)
            return self._encode_static(table, ids)
        known = pd.Index(self.ids).get_indexer(ids)
        if (known < 0).any():
            new = [show(i) for i in ids[known < 0][:5]]
            raise ValueError(
                f"series {new} were not in fit: pass static_df with their static covariates "
                f"{[c.name for c in self.stat]}"
            )
        return self.stat_values[known]

    def _encode_static(self, table, ids: np.ndarray) -> np.ndarray:
        out = []
        for col in self.stat:
            raw = table[col.name]
            if col.kind == "categorical":
                out.append(col.codes(raw, ids, "static_df", allow_nan=False))
            else:
                x = numbers(raw, col.name, ids, "static_df", allow_nan=False)
                out.append(((x - col.center[0]) / col.scale[0]).astype(np.float32))
        return np.stack(out, -1) if out else np.zeros((len(ids), 0), np.float32)

    def future(self, futr_df, panel: Panel, cols: Columns, fut_ds, exog: ExogArrays):
        """Future-known covariates of the forecast's steps, float32 `(S, H, Ef)`, from `futr_df`
        (a row per series and future timestamp `fut_ds (S, H)`), scaled as the series' history
        (`exog`); None when the model has none (then `futr_df` must be None)."""
        if not self.futr:
            if futr_df is not None:
                raise ValueError(
                    "futr_df was given, but the model was fitted without future covariates "
                    "(futr_exog_list is empty)"
                )
            return None
        names = [c.name for c in self.futr]
        if futr_df is None:
            raise ValueError(
                f"the model uses future covariates {names}: pass futr_df with their values for "
                f"the next {fut_ds.shape[1]} steps of every series"
            )
        frame = future_frame(futr_df, names, panel.ids, fut_ds, cols)
        s, h = fut_ds.shape
        series = np.repeat(np.arange(s), h)
        row_ids, out = panel.ids[series], []
        for j, col in enumerate(self.futr):
            raw = frame[col.name]
            if col.kind == "categorical":
                out.append(col.codes(raw, row_ids, "futr_df", allow_nan=False))
            else:
                x = numbers(raw, col.name, row_ids, "futr_df", allow_nan=False)
                c, sc = exog.futr_center[series, j], exog.futr_scale[series, j]
                out.append(((x - c) / sc).astype(np.float32))
        return np.stack(out, -1).reshape(s, h, len(self.futr))

    # -- persistence ---------------------------------------------------------------------------
    def to_json(self) -> dict:
        lists = {k: [c.to_json() for c in getattr(self, k)] for k in ("futr", "hist", "stat")}
        return {**lists, "ids": self.ids.tolist(), "stat_values": self.stat_values.tolist(),
                "scaling": self.scaling}  # fmt: skip

    @classmethod
    def from_json(cls, obj: dict) -> Covariates:
        lists = [[Column.from_json(c) for c in obj[k]] for k in ("futr", "hist", "stat")]
        ids = np.asarray(obj["ids"])
        stat = np.asarray(obj["stat_values"], np.float32).reshape(len(ids), len(lists[2]))
        return cls(*lists, ids, stat, obj.get("scaling", "series"))


def forecast_exog(cov, stored, panel, cols, fut_ds, df=None, futr_df=None, static_df=None):
    """`(ExogArrays, future (S, H, Ef))` for a forecast of `panel` (the training panel when `df`
    is None, whose packed covariates are `stored`); `(None, None)` for a model without
    covariates, which refuses `futr_df` and `static_df`."""
    if cov is None:
        check_unused(futr_df, static_df)
        return None, None
    if df is not None:
        exog = cov.pack(df, static_df, panel, cols)
    elif static_df is not None:
        exog = replace(stored, stat=cov.static(static_df, panel.ids, cols))
    else:
        exog = stored
    return exog, cov.future(futr_df, panel, cols, fut_ds, exog)
