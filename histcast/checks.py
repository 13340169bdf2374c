"""Checks of arguments: one place for what an integer, a number or a choice must be."""

from __future__ import annotations

import numpy as np


def is_int(value) -> bool:
    """True for Python and numpy integers, not for booleans."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def check_int(name: str, value, minimum: int = 1, optional: bool = False) -> None:
    """Raise unless `value` is an integer >= `minimum` (or None when `optional`)."""
    if optional and value is None:
        return
    if not is_int(value) or value < minimum:
        extra = " or None" if optional else ""
        raise ValueError(f"{name} must be {int_kind(minimum)}{extra}; got {value!r}")


def int_kind(minimum: int) -> str:
    """'a positive integer' (1), 'a non-negative integer' (0), else 'an integer >= minimum'."""
    return {1: "a positive integer", 0: "a non-negative integer"}.get(
        minimum, f"an integer >= {minimum}"
    )


def positive_int(name: str, value) -> int:
    """`value` as an int; ValueError unless it is an integer >= 1."""
    check_int(name, value, 1)
    return int(value)


def is_number(value) -> bool:
    """True for Python and numpy integers and floats, not for booleans."""
    real = isinstance(value, int | float | np.integer | np.floating)
    return real and not isinstance(value, bool | np.bool_)


def check_number(
    name: str, value, low=0.0, high=np.inf, low_open=True, optional=False, high_open=True
) -> None:
    """Raise unless `value` is a real number (Python or numpy) in (low, high), its ends closed
    when not `low_open` / `high_open`, or None when `optional`."""
    if optional and value is None:
        return
    ok = is_number(value)
    if ok:
        above = value > low if low_open else value >= low
        ok = above and (value < high if high_open else value <= high)
    if not ok:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        extra = " or None" if optional else ""
        raise ValueError(f"{name} must be a number in {interval}{extra}; got {value!r}")


def check_choice(name: str, value, choices) -> None:
    """Raise unless `value` is one of `choices`, listing them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}; got {value!r}")
