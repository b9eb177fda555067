"""Checks for user-supplied parameters.

Every check returns the normalised value or raises ``ValueError`` naming the parameter, its valid
range and what was given, so that a bad kwarg never reaches the dynamics.
"""

from __future__ import annotations

import ast
import difflib
import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np


def _interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    left = "(" if low_open or low == -math.inf else "["
    right = ")" if high_open or high == math.inf else "]"
    return f"{left}{low:g}, {high:g}{right}"


def real(
    name: str,
    value: object,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number in the given interval (bools are rejected)."""
    where = _interval(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number in {where}; got {value!r}")
    value = float(value)
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if not math.isfinite(value) or too_low or too_high:
        raise ValueError(f"{name} must be a finite real number in {where}; got {value!r}")
    return value


def integer(name: str, value: object, *, low: int, high: int | None = None) -> int:
    """An integer in ``[low, high]`` (bools and integral floats are rejected)."""
    where = f"[{low}, {'inf' if high is None else high}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer in {where}; got {value!r}")
    value = int(value)
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be an integer in {where}; got {value!r}")
    return value


def boolean(name: str, value: object) -> bool:
    """``True`` or ``False`` (numpy bools included)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def real_array(
    name: str,
    value: object,
    *,
    ndim: int | None = None,
    shape: tuple[int, ...] | None = None,
    low: float = -math.inf,
    high: float = math.inf,
) -> np.ndarray:
    """A float64 array of a given rank or shape with entries in ``[low, high]``, read-only.

    Bools are refused, also mixed with numbers (numpy reads ``[True, 0]`` as ``[1, 0]``).
    """
    want = f"shape {shape}" if shape is not None else f"{ndim} dimension(s)"
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of real numbers with {want}; got {value!r}")
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be an array of real numbers with {want}; got {value!r}")
    if holds_bool(value):
        raise ValueError(
            f"{name} must be an array of real numbers with {want}, not booleans; got {value!r}"
        )
    if shape is not None and array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}; got shape {array.shape}")
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s); got shape {array.shape}")
    if not np.all(np.isfinite(array)) or (array < low).any() or (array > high).any():
        where = _interval(low, high, False, False)
        raise ValueError(f"{name} must contain only finite numbers in {where}; got {value!r}")
    array.setflags(write=False)
    return array


def holds_bool(value: object) -> bool:
    """Whether ``value`` (a number, an array, or nested lists of them) holds a bool anywhere.

    Checked before ``np.asarray``, which turns ``[True, 0.5]`` into ``[1.0, 0.5]``.
    """
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return any(holds_bool(v) for v in value.flat)
        return value.dtype.kind == "b"
    if isinstance(value, (list, tuple)):
        return any(holds_bool(v) for v in value)
    return isinstance(value, (bool, np.bool_))


def choice(name: str, value: object, choices: Iterable[str], where: str = "") -> str:
    """``value`` if it is one of ``choices``; otherwise a ValueError with the nearest name."""
    choices = list(choices)
    valid = ", ".join(repr(c) for c in choices)
    if not isinstance(value, str) or value not in choices:
        hint = did_you_mean(value, choices) if isinstance(value, str) else ""
        raise ValueError(f"{name} must be one of {valid}{where}; got {value!r}.{hint}")
    return value


def nearest(word: str, choices: Iterable[str]) -> list[str]:
    """The closest valid names to ``word``, best first."""
    return difflib.get_close_matches(word, list(choices), n=3, cutoff=0.5)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = nearest(word, choices)
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def parse_kwargs(pairs: Sequence[str]) -> dict[str, Any]:
    """``["s2=1.5", "payoff=[[1,0],[0,1]]"]`` -> kwargs; values are Python literals."""
    kwargs: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"--kwarg must look like NAME=VALUE; got {pair!r}")
        try:
            kwargs[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            kwargs[name] = text
    return kwargs
