"""The data path's boundary: pandas and polars (any eager frame narwhals reads) in and out.

histcast computes on pandas. Every public entry point that takes a frame reads it with
`to_pandas` (a pandas frame as it is, no copy; another library's column by column, through
narwhals) and gives its result back with `to_native` in the caller's library: polars in, polars
out, as utilsforecast does. The conversion goes through numpy, so polars needs no pyarrow. The
caller's frame is never modified.
"""

from __future__ import annotations

import narwhals.stable.v1 as nw
import numpy as np
import pandas as pd

PANDAS = "pandas"
ACCEPTED = "a pandas or polars DataFrame (any eager frame narwhals reads)"


def to_pandas(frame, where: str = "df") -> tuple[pd.DataFrame, str]:
    """`(pandas frame, backend)`: `frame` itself when it is pandas (backend `"pandas"`), else a
    pandas copy of an eager frame narwhals reads (backend: its library, e.g. `"polars"`).
    TypeError naming what is accepted for anything else (`where` names the argument)."""
    if isinstance(frame, pd.DataFrame):
        return frame, PANDAS
    try:
        native = nw.from_native(frame, eager_only=True)
    except TypeError:
        raise TypeError(refusal(frame, where)) from None
    if not isinstance(native, nw.DataFrame):  # e.g. a Series
        raise TypeError(refusal(frame, where))
    data = {name: _pandas_column(native[name]) for name in native.columns}
    return pd.DataFrame(data, index=pd.RangeIndex(len(native))), native.implementation.value


def backend_of(frame) -> str:
    """The library of a frame `to_pandas` accepts ("pandas", "polars", ...), without reading it."""
    if isinstance(frame, pd.DataFrame):
        return PANDAS
    try:
        return nw.from_native(frame, eager_only=True).implementation.value
    except TypeError:
        raise TypeError(refusal(frame, "df")) from None


def optional_pandas(frame, where: str) -> pd.DataFrame | None:
    """`to_pandas(frame, where)`'s frame, or None when `frame` is None."""
    return None if frame is None else to_pandas(frame, where)[0]


def refusal(frame, where: str) -> str:
    """Why `frame` is refused, and what `where` accepts (a lazy frame: collect it first)."""
    name = type(frame).__name__
    try:
        lazy = isinstance(nw.from_native(frame), nw.LazyFrame)
    except TypeError:
        lazy = False
    hint = f"; call .collect() on the {name} first" if lazy else ""
    return f"{where} must be {ACCEPTED}; got {name}{hint}"


def _pandas_column(col) -> np.ndarray | pd.Categorical | pd.Series:
    """One narwhals column as pandas reads it: categories stay categories, time zones stay."""
    dtype = col.dtype
    values = col.to_numpy()
    if dtype == nw.Categorical or dtype == nw.Enum:
        return pd.Categorical(values)
    if dtype == nw.Datetime and getattr(dtype, "time_zone", None):
        return pd.Series(values).dt.tz_localize("UTC").dt.tz_convert(dtype.time_zone)
    if values.dtype.kind == "U":  # numpy fixed-width text: pandas' strings
        return values.astype(object)
    return values


def to_native(pdf: pd.DataFrame, backend: str, like=None, keys=()):
    """`pdf` in the library `backend` names (`pdf` itself for "pandas"; a polars frame for
    "polars"), without its index; category columns stay categories. `like` (optional): the
    caller's frame in that library, whose id and time columns give their dtypes back (e.g. a
    polars Date or Categorical): `keys` names them, a list (the same name in `pdf`) or a dict
    {column of `pdf`: column of `like`}."""
    if backend == PANDAS:
        return pdf
    data = {str(name): _numpy_column(pdf[name]) for name in pdf.columns}
    out = nw.from_dict(data, backend=backend)
    dtypes = {c: nw.Categorical for c in pdf.columns if _is_category(pdf[c])}
    if like is not None and not isinstance(like, pd.DataFrame):
        schema = nw.from_native(like, eager_only=True).schema
        keys = keys if isinstance(keys, dict) else {k: k for k in keys}
        dtypes.update({c: schema[k] for c, k in keys.items() if k in schema and c in data})
    casts = [nw.col(c).cast(t) for c, t in dtypes.items() if out[c].dtype != t]
    return (out.with_columns(*casts) if casts else out).to_native()


def _is_category(col: pd.Series) -> bool:
    return isinstance(col.dtype, pd.CategoricalDtype)


def _numpy_column(col: pd.Series) -> np.ndarray:
    """A pandas column as numpy: numbers and times as they are, text and categories as objects."""
    if _is_category(col) or pd.api.types.is_string_dtype(col.dtype):
        return col.to_numpy(dtype=object, na_value=None)
    values = col.to_numpy()
    if values.dtype.kind in "mM" and np.datetime_data(values.dtype)[0] == "s":
        return values.astype(values.dtype.str.replace("[s]", "[ms]"))  # polars: ms, us or ns
    return values
