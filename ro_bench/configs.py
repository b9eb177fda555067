"""Algorithm configs: frozen dataclasses whose fields document themselves.

Each field carries its help text in ``field(metadata={"help": ...})`` (``documented(default,
help)`` writes one), and a tuned field its search space (``ro_bench.search``); a subclass that only
changes a default (``gamma: float = 0.99``) keeps the help of the class it inherits the field
from. ``describe`` turns a config class into the lines ``--help`` shows, and ``override`` applies
``--config key=value`` overrides with checks that name the valid keys; a float field takes only
finite numbers.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any

from ro_bench.params import did_you_mean


def documented(default: Any, help: str, search: Any = None) -> Any:
    """A config field with its ``--help`` text: ``batch_size: int = documented(512, "...")``;
    ``search``, a space of ``ro_bench.search``, marks the field as one ``ro-bench tune`` tunes."""
    metadata = {"help": help} if search is None else {"help": help, "search": search}
    return dataclasses.field(default=default, metadata=metadata)


def describe(config_cls: type) -> list[str]:
    """One line per field: name, type, default and help."""
    hints = typing.get_type_hints(config_cls)
    lines = []
    for f in dataclasses.fields(config_cls):
        default = f.default if f.default is not dataclasses.MISSING else "(required)"
        lines.append(f"  {f.name} ({_type_name(hints[f.name])}, default {default!r}): "
                     f"{help_text(config_cls, f.name)}")
    return lines


def help_text(config_cls: type, name: str) -> str:
    """The help of field ``name``: its own, or that of the nearest base class declaring it."""
    for cls in config_cls.__mro__:
        declared = getattr(cls, "__dataclass_fields__", {}).get(name)
        if declared is not None and declared.metadata.get("help"):
            return declared.metadata["help"]
    return ""


def override(config: Any, overrides: dict[str, Any]) -> Any:
    """``dataclasses.replace(config, **overrides)`` after checking every key and value type."""
    hints = typing.get_type_hints(type(config))
    valid = [f.name for f in dataclasses.fields(config)]
    checked = {}
    for key, value in overrides.items():
        if key not in valid:
            raise ValueError(
                f"{type(config).__name__} has no field {key!r}.{did_you_mean(key, valid)} "
                f"Valid keys: {', '.join(valid) or 'none'}."
            )
        checked[key] = _coerce(key, value, hints[key])
    return dataclasses.replace(config, **checked)


def to_dict(config: Any) -> dict[str, Any]:
    """The config as JSON values (tuples become lists)."""
    return json_values(dataclasses.asdict(config))


def json_values(values: dict[str, Any]) -> dict[str, Any]:
    """Config values (or overrides) as JSON values: tuples become lists."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


def from_dict(config_cls: type, values: dict[str, Any]) -> Any:
    return override(config_cls(), values) if values else config_cls()


def _coerce(key: str, value: Any, hint: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        if value is None and type(None) in args:
            return None
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple and isinstance(value, (list, tuple)):
        item = args[0] if args else Any
        return tuple(_coerce(key, v, item) for v in value)
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an int past the largest float: 1 and 400 zeros
            number = math.inf
        if not math.isfinite(number):  # 1e999 reads as inf: refuse it now, not mid-training
            raise ValueError(f"{key} must be a finite number; got {_short(value)}")
        return number
    if hint is Any or (isinstance(hint, type) and isinstance(value, hint)
                       and not (hint is int and isinstance(value, bool))):
        return value
    raise ValueError(f"{key} must be of type {_type_name(hint)}; got {value!r}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:12]}... ({len(text)} characters)"


def _type_name(hint: Any) -> str:
    if typing.get_origin(hint) is None and hasattr(hint, "__name__"):
        return hint.__name__
    return str(hint).replace("typing.", "")
