"""Data sets: built-in synthetic panels and series shipped with statsmodels, and readers (with
download code) for the public competition sets kept in a directory (`HISTCAST_DATA`)."""

from .catalog import (
    BUILTIN,
    DEFAULT,
    FROM_DIR,
    NAMES,
    SPLITS,
    WHOLE,
    DatasetInfo,
    load_dataset,
    load_future,
    load_m4,
    load_split,
)
from .formats import exchange_to_long, fcomp_to_long, m4_to_long, melt, read_csv, split_to_long
from .sources import download

__all__ = [
    "BUILTIN", "DEFAULT", "FROM_DIR", "NAMES", "SPLITS", "WHOLE", "DatasetInfo", "download",
    "exchange_to_long", "fcomp_to_long", "load_dataset", "load_future", "load_m4", "load_split",
    "m4_to_long", "melt", "read_csv", "split_to_long",
]  # fmt: skip
