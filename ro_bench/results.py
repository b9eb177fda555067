"""RunResult: the JSON document a training run writes and a leaderboard trusts.

A result is checked whenever it is built, so a harness cannot write a document that a leaderboard
would later refuse, and ``RunResult.read`` refuses anything malformed, incomplete or edited by hand
with a ``RunResultError`` naming the field and the reason.

Rules, beyond each field's type (``bool`` is not an ``int``; an ``int`` is accepted for a float):
counts (versions, seed, env steps) are ``>= 0``; floats are finite; ``protocol``, ``algorithm``,
``code_revision`` and ``command`` are not blank; ``schema_version`` is one this code reads;
``curve`` is ``(env_steps, metric)`` pairs with strictly increasing steps, none after
``env_steps``; ``config_hash`` is the sha256 of the config's canonical JSON.

``config`` and ``hardware`` are kept in their JSON form (tuples become lists) and ``curve`` as a
tuple of tuples, so ``RunResult.from_json(r.to_json()) == r`` holds exactly.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import re
import subprocess
from dataclasses import dataclass, fields
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from ro_bench.atomic import atomic_write
from ro_bench.params import nearest

SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = (SCHEMA_VERSION,)

# Distributions whose versions are recorded with every run, when installed.
RECORDED_PACKAGES = (
    "numpy",
    "gymnasium",
    "pettingzoo",
    "torch",
    "mujoco",
    "gymnasium-robotics",
    "ro-bench",
)
_REPO_DIR = Path(__file__).resolve().parent.parent
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class RunResultError(ValueError):
    """A RunResult that is malformed, incomplete or tampered with.

    ``reason`` says what is wrong, ``field`` names the field when one is at fault and ``source``
    the file it was read from.
    """

    def __init__(self, reason: str, field: str | None = None, source: str | None = None):
        self.reason, self.field, self.source = reason, field, source
        where = f"{source}: " if source else ""
        at = f"field {field!r}: " if field else ""
        super().__init__(f"{where}invalid RunResult: {at}{reason}")


def canonical_json(value: Any) -> str:
    """The one JSON text of a value that ``config_hash`` is taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_hash(config: dict) -> str:
    """sha256 hex digest of ``config``'s canonical JSON."""
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()


@dataclass(frozen=True)
class RunResult:
    """One training run of one algorithm under one protocol and seed."""

    schema_version: int
    protocol: str
    protocol_version: int
    algorithm: str
    config: dict
    """The algorithm's full config, JSON values only."""
    config_hash: str
    seed: int
    env_steps: int
    wall_time_s: float
    curve: tuple[tuple[int, float], ...]
    """``(env_steps, metric)`` evaluation points; any sequence of pairs is accepted."""
    final_metric: float
    final_return: float
    success: bool
    decentralized: bool
    code_revision: str
    """Git commit of the ro-bench checkout, ``+dirty`` if tracked files changed, or "unknown"."""
    packages: dict[str, str]
    hardware: dict[str, object]
    command: str
    """The exact shell command that re-runs this run."""

    def __post_init__(self) -> None:
        for f in fields(self):
            try:
                value = _CHECKS[f.name](getattr(self, f.name))
            except RunResultError as err:
                raise RunResultError(err.reason, f.name) from None
            object.__setattr__(self, f.name, value)
        if self.config_hash != config_hash(self.config):
            raise RunResultError(
                f"{self.config_hash} does not match the config, whose hash is "
                f"{config_hash(self.config)}: the config or its hash was edited",
                "config_hash",
            )
        if self.curve and self.env_steps < self.curve[-1][0]:
            raise RunResultError(
                f"{self.env_steps} is less than the last curve point's {self.curve[-1][0]}",
                "env_steps",
            )

    def to_json(self) -> str:
        """The document: sorted keys, indent 2, floats in shortest round-trip form."""
        doc = {f.name: getattr(self, f.name) for f in fields(self)}
        return json.dumps(doc, indent=2, sort_keys=True, allow_nan=False)

    def write(self, path: str | os.PathLike) -> None:
        """Write atomically: readers see the old file or the whole new one, never a part."""
        text = self.to_json() + "\n"  # serialised first: a failure leaves the old file as it was
        with atomic_write(path) as file:
            file.write(text.encode("utf-8"))

    @classmethod
    def from_json(cls, text: str) -> RunResult:
        """Parse and validate a document; raise ``RunResultError`` saying what is wrong."""
        try:
            data = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique)
        except json.JSONDecodeError as err:
            raise RunResultError(f"not JSON: {err}") from None
        if not isinstance(data, dict):
            raise RunResultError(f"expected a JSON object, got {type(data).__name__}")
        if "schema_version" in data:  # another schema's fields would only confuse the reason
            try:
                _schema_version(data["schema_version"])
            except RunResultError as err:
                raise RunResultError(err.reason, "schema_version") from None
        names = [f.name for f in fields(cls)]
        missing = [name for name in names if name not in data]
        if missing:
            raise RunResultError("missing fields: " + ", ".join(map(repr, missing)))
        unknown = [key for key in data if key not in names]
        if unknown:
            hints = ", ".join(_with_hint(key, names) for key in unknown)
            raise RunResultError(f"unknown fields: {hints}")
        return cls(**data)

    @classmethod
    def read(cls, path: str | os.PathLike) -> RunResult:
        """Read and validate a file; errors name the file."""
        try:
            return cls.from_json(Path(path).read_text(encoding="utf-8"))
        except UnicodeDecodeError as err:
            raise RunResultError(f"not UTF-8 text: {err}", source=str(path)) from None
        except RunResultError as err:
            raise RunResultError(err.reason, err.field, str(path)) from None


def environment_info() -> tuple[str, dict[str, str], dict[str, object]]:
    """``(code_revision, packages, hardware)`` of this process, for a RunResult."""
    packages = {}
    for name in RECORDED_PACKAGES:
        try:  # metadata, not import: importing torch would cost seconds
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    hardware = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }
    return _code_revision(), packages, hardware


def _code_revision() -> str:
    top = _git("rev-parse", "--show-toplevel")
    # An installed ro-bench may sit inside someone else's repository: only its own checkout counts.
    if top is None or Path(top).resolve() != _REPO_DIR.resolve():
        return "unknown"
    commit = _git("rev-parse", "HEAD")
    if not commit:
        return "unknown"
    changes = _git("status", "--porcelain", "--untracked-files=no")
    return commit + ("" if changes == "" else "+dirty")  # a failed status cannot vouch: dirty


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(_REPO_DIR), *args],
                              capture_output=True, text=True, check=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


# Field checks: each returns the normalised value or raises RunResultError(reason).

def _fail(expected: str, value: object) -> RunResultError:
    return RunResultError(f"expected {expected}, got {value!r} ({type(value).__name__})")


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail("an integer", value)
    if value < 0:
        raise RunResultError(f"must be >= 0, got {value}")
    return int(value)


def _finite(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail("a number", value)
    if not math.isfinite(number := float(value)):
        raise RunResultError(f"must be finite, got {value!r}")
    return number


def _seconds(value: object) -> float:
    if (seconds := _finite(value)) < 0:
        raise RunResultError(f"must be >= 0, got {value!r}")
    return seconds


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise _fail("a string", value)
    if not value.strip():
        raise RunResultError("must not be empty")
    return value


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise _fail("true or false", value)
    return value


def _json_object(value: object) -> dict:
    if not isinstance(value, dict):
        raise _fail("an object", value)
    try:
        return json.loads(canonical_json(value))
    except (TypeError, ValueError) as err:
        raise RunResultError(f"must hold JSON values only: {err}") from None


def _packages(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _fail("an object of name -> version", value)
    for name, version in value.items():
        if not isinstance(name, str) or not isinstance(version, str):
            raise _fail("name -> version strings", {name: version})
    return dict(value)


def _hash(value: object) -> str:
    if not isinstance(value, str) or not _SHA256_HEX.fullmatch(value):
        raise _fail("64 lowercase hex digits (sha256)", value)
    return value


def _schema_version(value: object) -> int:
    version = _count(value)
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        raise RunResultError(f"schema version {version} is not supported; this ro-bench reads "
                             f"versions {', '.join(map(str, SUPPORTED_SCHEMA_VERSIONS))}")
    return version


def _curve(value: object) -> tuple[tuple[int, float], ...]:
    if not isinstance(value, (list, tuple)):
        raise _fail("a list of [env_steps, metric] pairs", value)
    curve = []
    for i, point in enumerate(value):
        if not isinstance(point, (list, tuple)) or len(point) != 2:
            raise _fail(f"point {i} to be an [env_steps, metric] pair", point)
        try:
            step, metric = _count(point[0]), _finite(point[1])
        except RunResultError as err:
            raise RunResultError(f"point {i}: {err.reason}") from None
        if curve and step <= curve[-1][0]:
            raise RunResultError(f"env_steps must strictly increase, but point {i} has {step} "
                                 f"after {curve[-1][0]}")
        curve.append((step, metric))
    return tuple(curve)


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "schema_version": _schema_version,
    "protocol": _text,
    "protocol_version": _count,
    "algorithm": _text,
    "config": _json_object,
    "config_hash": _hash,
    "seed": _count,
    "env_steps": _count,
    "wall_time_s": _seconds,
    "curve": _curve,
    "final_metric": _finite,
    "final_return": _finite,
    "success": _boolean,
    "decentralized": _boolean,
    "code_revision": _text,
    "packages": _packages,
    "hardware": _json_object,
    "command": _text,
}


def _reject_constant(name: str) -> None:
    raise RunResultError(f"{name} is not a valid JSON number; every number must be finite")


def _with_hint(key: str, names: list[str]) -> str:
    close = nearest(key, names)
    return f"{key!r} (did you mean {close[0]!r}?)" if close else repr(key)


def _unique(pairs: list[tuple[str, Any]]) -> dict:
    data = {}
    for key, value in pairs:
        if key in data:  # json.loads would keep the last silently: a way to hide an edit
            raise RunResultError(f"duplicate key {key!r}")
        data[key] = value
    return data
