"""RunResult: the JSON document a training run writes and a leaderboard trusts.

A result is checked whenever it is built, so a harness cannot write a document that a leaderboard
would later refuse, and ``RunResult.read`` refuses anything malformed, incomplete or edited by hand
with a ``RunResultError`` naming the field and the reason.

Rules, beyond each field's type (``bool`` is not an ``int``; an ``int`` is accepted for a float):
counts (versions, seed, env steps) are ``>= 0``; floats are finite; ``protocol``, ``algorithm``,
and ``code_revision`` are not blank; ``schema_version`` is one this code reads; ``curve`` is
``(env_steps, metric)`` pairs with strictly increasing steps, none after ``env_steps``;
``returns`` holds the mean episode return at each curve point (one per point); ``config_hash`` is
the sha256 of the config's canonical JSON; ``command`` is the argv that re-runs the run, at least
two words, none holding a control character (a newline could forge lines of a generated table).

A document is at most ``MAX_BYTES`` long and nests JSON at most ``MAX_DEPTH`` deep; integers have
at most ``MAX_INT_DIGITS`` digits. Larger ones are refused before they are parsed, so a hostile
file costs neither memory nor Python's recursion limit.

``diagnostics`` is null or the RO diagnostics of the final agent on a stateless game
(``ro_bench.diagnostics.measure``)::

    {"ero_gap": float >= 0,                 # the largest of ero_gap_per_agent
     "ero_gap_per_agent": [float >= 0, ...], # one per agent
     "executed_reward": float,
     "mode_coverage": [float in [0, 1], ...],
     "modes": [[float, ...], ...],           # one per coverage share, one number per agent
     "samples": int >= 1}

``action_samples`` is a list of records of joint actions sampled with ``explore=True`` at
evaluation points, ``{"env_steps": int, "actions": [[float] * n_agents] * N, "rewards":
[float] * N}``, with ``N >= 1`` and ``n_agents`` the same in every record, steps strictly
increasing and none after ``env_steps``.

``config``, ``hardware``, ``diagnostics`` and each action-sample record are kept in their JSON
form (tuples become lists, numbers in lists of floats become floats), ``curve`` as a tuple of
tuples, ``episode_returns`` likewise, ``returns``, ``command`` and ``action_samples`` as tuples, so
``RunResult.from_json(r.to_json()) == r`` holds exactly.

Schema versions
    1: the first release.
    2: adds ``diagnostics`` and ``action_samples``. A version-1 document (which has neither) reads
    as ``diagnostics=None, action_samples=()`` and is written back without them.
    3: ``command`` is an argv list, not a shell string, and ``returns`` (the episode return at
    each curve point) is added, so that ``final_return`` can be checked against it. A version-1
    or version-2 document's command is split as a POSIX shell would (``shlex.split``; a string
    that does not split is refused) and written back joined (``shlex.join``); it reads as
    ``returns=()``.
    4: adds ``tuning``: null for an entry run with hand-set or default settings, or the
    provenance of the study that chose its config (``ro-bench tune``)::

        {"study": str, "sampler": str, "trials": int >= 1, "pruned": int >= 0,
         "objective": str, "best_value": float, "search_space": {field: str},
         "tuning_seeds": [int, ...], "protocol_version": int}

    An older document reads as ``tuning=None``.
    5: adds ``episode_returns``: every evaluation's per-episode returns (the episodes of the
    protocol's ``eval_episodes``, ``final_eval_episodes`` at the last point), one list per curve
    point whose mean is that point's entry of ``returns``, kept on protocols scored by
    ``mean_episode_return`` (``Protocol.keeps_episode_returns``); ``()`` on the others, and for a
    run resumed from a checkpoint written before they were kept. ``success`` may be null: the
    protocol defines no success (an env without an optimum, as MaMuJoCo). An older document reads
    as ``episode_returns=()``, and its ``success`` must be true or false.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import re
import secrets
import shlex
import subprocess
from dataclasses import dataclass, fields
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from ro_bench.atomic import atomic_write
from ro_bench.params import nearest

SCHEMA_VERSION = 5
SUPPORTED_SCHEMA_VERSIONS = (1, 2, 3, 4, 5)
# Fields newer than schema version 1, and the version that added each.
ADDED_IN = {"diagnostics": 2, "action_samples": 2, "returns": 3, "tuning": 4,
            "episode_returns": 5}
NULL_SUCCESS = 5  # the first schema version in which ``success`` may be null (no success)
COMMAND_AS_ARGV = 3  # the first schema version storing ``command`` as a list of words
# Caps on a document: the largest entry of record (SVNR with 100 action samples per evaluation)
# is about 0.3 MB and 6 levels deep.
MAX_BYTES = 16 * 2**20
MAX_DEPTH = 16
MAX_INT_DIGITS = 30
DIAGNOSTICS_KEYS = ("ero_gap", "ero_gap_per_agent", "executed_reward", "mode_coverage", "modes",
                    "samples")
ACTION_RECORD_KEYS = ("env_steps", "actions", "rewards")

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
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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


TUNED_SUFFIX = "+tuned"


def entry_name(algorithm: str, tuned: bool = False) -> str:
    """The name under which a run is filed, in run directories and on a board: the algorithm's
    (':' becomes '.'), with ``+tuned`` for a config chosen by ``ro-bench tune``, so that a tuned
    entry and the default one of the same algorithm and protocol sit side by side."""
    return algorithm.replace(":", ".") + (TUNED_SUFFIX if tuned else "")


def result_entry_name(result: RunResult) -> str:
    """``entry_name`` of a RunResult: tuned when it carries a study's provenance."""
    return entry_name(result.algorithm, getattr(result, "tuning", None) is not None)


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
    success: bool | None
    """Whether the final metric reached the protocol's threshold; None: the protocol has none."""
    decentralized: bool
    code_revision: str
    """Git commit of the ro-bench checkout, ``+dirty`` if tracked files changed, or "unknown"."""
    packages: dict[str, str]
    hardware: dict[str, object]
    command: tuple[str, ...]
    """The argv that re-runs this run: ``("ro-bench", "train", "--algo", ...)``."""
    diagnostics: dict | None = None
    """RO diagnostics of the final agent on a stateless game (ERO gap, mode coverage), or None."""
    action_samples: tuple[dict, ...] = ()
    """Joint actions sampled with ``explore=True`` at evaluation points, with their rewards."""
    returns: tuple[float, ...] = ()
    """The mean episode return at each curve point (schema 3; ``()`` in older documents)."""
    tuning: dict | None = None
    """The study that tuned this entry's config (schema 4), or None: hand-set or defaults."""
    episode_returns: tuple[tuple[float, ...], ...] = ()
    """Each evaluation's per-episode returns, one tuple per curve point (schema 5)."""

    def __post_init__(self) -> None:
        as_argv = self.schema_version >= COMMAND_AS_ARGV if isinstance(self.schema_version, int) \
            else True
        if isinstance(self.command, str) == as_argv:
            form = "a list of words" if as_argv else "a shell command string"
            raise RunResultError(f"must be {form} in schema version {self.schema_version}, got "
                                 f"{self.command!r}", "command")
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
        if self.action_samples and self.env_steps < self.action_samples[-1]["env_steps"]:
            raise RunResultError(
                f"{self.env_steps} is less than the last action-sample record's "
                f"{self.action_samples[-1]['env_steps']}",
                "env_steps",
            )
        for name, version in ADDED_IN.items():
            if self.schema_version < version and getattr(self, name) != _DEFAULTS[name]:
                raise RunResultError(f"is not part of schema version {self.schema_version} "
                                     f"(added in version {version})", name)
        if self.schema_version >= ADDED_IN["returns"] and len(self.returns) != len(self.curve):
            raise RunResultError(f"{len(self.returns)} returns for {len(self.curve)} curve "
                                 "points: one per point", "returns")
        if self.success is None and self.schema_version < NULL_SUCCESS:
            raise RunResultError(f"must be true or false in schema version {self.schema_version} "
                                 f"(null, no success, from version {NULL_SUCCESS})", "success")
        if self.episode_returns:
            self._check_episode_returns()

    def _check_episode_returns(self) -> None:
        """One list per curve point, each averaging to that point's ``returns`` entry."""
        if len(self.episode_returns) != len(self.curve):
            raise RunResultError(f"{len(self.episode_returns)} lists for {len(self.curve)} curve "
                                 "points: one per point", "episode_returns")
        for k, (episodes, mean) in enumerate(zip(self.episode_returns, self.returns)):
            average = math.fsum(episodes) / len(episodes)
            if not math.isclose(average, mean, rel_tol=1e-9, abs_tol=1e-9):
                raise RunResultError(f"point {k}: the episodes average {average!r}, but returns "
                                     f"holds {mean!r}", "episode_returns")

    def to_json(self) -> str:
        """The document: sorted keys, indent 2, floats in shortest round-trip form; each
        evaluation's episode returns on one line (1000 episodes a point on the games: one number
        a line would make the file half again as large)."""
        doc = {name: getattr(self, name) for name in _field_names(self.schema_version)}
        if self.schema_version < COMMAND_AS_ARGV:
            doc["command"] = shlex.join(self.command)
        if not self.episode_returns:
            return json.dumps(doc, indent=2, sort_keys=True, allow_nan=False)
        marker = f"episode-returns-{secrets.token_hex(8)}-"
        doc["episode_returns"] = [f"{marker}{k}" for k in range(len(self.episode_returns))]
        text = json.dumps(doc, indent=2, sort_keys=True, allow_nan=False)
        for k, episodes in enumerate(self.episode_returns):
            text = text.replace(f'"{marker}{k}"', json.dumps(list(episodes), allow_nan=False), 1)
        return text

    def write(self, path: str | os.PathLike) -> None:
        """Write atomically: readers see the old file or the whole new one, never a part."""
        text = self.to_json() + "\n"  # serialised first: a failure leaves the old file as it was
        with atomic_write(path) as file:
            file.write(text.encode("utf-8"))

    @classmethod
    def from_json(cls, text: str) -> RunResult:
        """Parse and validate a document; raise ``RunResultError`` saying what is wrong."""
        if len(text) > MAX_BYTES or len(text.encode("utf-8")) > MAX_BYTES:
            raise SizeError(f"the document is larger than the cap of {MAX_BYTES:,} bytes")
        try:
            data = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique,
                              parse_int=_parse_int)
        except json.JSONDecodeError as err:
            raise RunResultError(f"not JSON: {err}") from None
        except RecursionError:
            raise DepthError(f"JSON nests deeper than the cap of {MAX_DEPTH} levels") from None
        check_depth(data)
        if not isinstance(data, dict):
            raise RunResultError(f"expected a JSON object, got {type(data).__name__}")
        if "schema_version" in data:  # another schema's fields would only confuse the reason
            try:
                _schema_version(data["schema_version"])
            except RunResultError as err:
                raise RunResultError(err.reason, "schema_version") from None
        names = _field_names(data.get("schema_version", SCHEMA_VERSION))
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
            with open(path, "rb") as file:
                data = file.read(MAX_BYTES + 1)  # never more than the cap into memory
            return cls.from_json(data.decode("utf-8"))
        except UnicodeDecodeError as err:
            raise RunResultError(f"not UTF-8 text: {err}", source=str(path)) from None
        except RunResultError as err:
            raise type(err)(err.reason, err.field, str(path)) from None


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
        **cpu_info(),
    }
    return _code_revision(), packages, hardware


# The x86 SIMD extensions that numpy's, torch's and their BLAS's kernels choose between at run time:
# the same code and seed on two CPUs that differ in these may differ in the last bits of a float,
# and the difference then grows through training.
SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
              "avx512_bf16", "avx512_fp16", "avx_vnni", "amx_tile", "amx_bf16")


def cpu_info(cpuinfo: Path = Path("/proc/cpuinfo")) -> dict[str, object]:
    """``{"cpu_model", "cpu_simd"}`` from Linux's ``/proc/cpuinfo`` (its first processor): the
    model name and which of ``SIMD_FLAGS`` the CPU has; ``{}`` where there is no such file."""
    try:
        first = cpuinfo.read_text().split("\n\n")[0]
    except OSError:
        return {}
    fields = {key.strip(): value.strip() for key, _, value in
              (line.partition(":") for line in first.splitlines())}
    flags = set(fields.get("flags", "").split())
    return {"cpu_model": fields.get("model name", ""),
            "cpu_simd": [flag for flag in SIMD_FLAGS if flag in flags]}


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


class SizeError(RunResultError):
    """A document beyond ``MAX_BYTES``."""


class DepthError(RunResultError):
    """A document nesting JSON deeper than ``MAX_DEPTH``."""


def check_depth(data: Any) -> None:
    """Refuse parsed JSON nested deeper than ``MAX_DEPTH`` (iteratively: no recursion limit)."""
    level = [data]
    for depth in range(MAX_DEPTH + 1):
        level = [v for x in level if isinstance(x, (dict, list))
                 for v in (x.values() if isinstance(x, dict) else x)]
        if not level:
            return
    raise DepthError(f"JSON nests deeper than the cap of {MAX_DEPTH} levels")


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise RunResultError(f"an integer of {len(text.lstrip('-'))} digits; at most "
                             f"{MAX_INT_DIGITS} are read")
    return int(text)


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


def _command(value: object) -> tuple[str, ...]:
    if isinstance(value, str):  # schema versions 1 and 2
        try:
            value = shlex.split(value)
        except ValueError as err:
            raise RunResultError(f"does not split into words as a shell command: {err}") from None
    if not isinstance(value, (list, tuple)) or not all(isinstance(w, str) for w in value):
        raise _fail("a list of words", value)
    if len(value) < 2:
        raise RunResultError(f"must hold the program and its arguments, got {list(value)!r}")
    for word in value:
        if _CONTROL.search(word):
            raise RunResultError(f"the word {word!r} holds a control character")
    return tuple(value)


def _returns(value: object) -> tuple[float, ...]:
    return tuple(_floats(value, "returns"))


def _success(value: object) -> bool | None:
    return None if value is None else _boolean(value)


def _episode_returns(value: object) -> tuple[tuple[float, ...], ...]:
    if not isinstance(value, (list, tuple)):
        raise _fail("a list of per-episode return lists, one per curve point", value)
    points = []
    for k, episodes in enumerate(value):
        returns = _floats(episodes, f"point {k}")
        if not returns:
            raise RunResultError(f"point {k} holds no episode: each evaluation plays at least one")
        points.append(tuple(returns))
    return tuple(points)


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


def _floats(value: object, what: str, low: float | None = None,
            high: float | None = None) -> list[float]:
    if not isinstance(value, (list, tuple)):
        raise _fail(f"{what} as a list of numbers", value)
    numbers = []
    for i, item in enumerate(value):
        try:
            number = _finite(item)
        except RunResultError as err:
            raise RunResultError(f"{what}[{i}]: {err.reason}") from None
        if (low is not None and number < low) or (high is not None and number > high):
            bound = f">= {low:g}" if high is None else f"in [{low:g}, {high:g}]"
            raise RunResultError(f"{what}[{i}] must be {bound}, got {item!r}")
        numbers.append(number)
    return numbers


def _check_keys(value: object, keys: tuple[str, ...], what: str) -> dict:
    if not isinstance(value, dict):
        raise _fail(f"{what} object with keys {', '.join(keys)}", value)
    missing = [k for k in keys if k not in value]
    unknown = [k for k in value if k not in keys]
    if missing or unknown:
        raise RunResultError(f"{what} object needs exactly the keys {', '.join(keys)}; "
                             f"missing {missing}, unknown {unknown}")
    return value


def _diagnostics(value: object) -> dict | None:
    if value is None:
        return None
    value = _check_keys(value, DIAGNOSTICS_KEYS, "null or a diagnostics")
    gaps = _floats(value["ero_gap_per_agent"], "ero_gap_per_agent", low=0.0)
    if not gaps:
        raise RunResultError("ero_gap_per_agent must have one gap per agent, got none")
    try:
        ero_gap = _finite(value["ero_gap"])
    except RunResultError as err:
        raise RunResultError(f"ero_gap: {err.reason}") from None
    if ero_gap != max(gaps):
        raise RunResultError(f"ero_gap {ero_gap!r} is not the largest per-agent gap {max(gaps)!r}")
    coverage = _floats(value["mode_coverage"], "mode_coverage", low=0.0, high=1.0)
    if not isinstance(value["modes"], (list, tuple)) or len(value["modes"]) != len(coverage):
        raise _fail(f"modes as {len(coverage)} joint actions, one per mode_coverage share",
                    value["modes"])
    modes = [_floats(mode, f"modes[{k}]") for k, mode in enumerate(value["modes"])]
    if any(len(mode) != len(gaps) for mode in modes):
        raise RunResultError(f"each of modes must have {len(gaps)} numbers, one per agent")
    try:
        executed_reward = _finite(value["executed_reward"])
        samples = _count(value["samples"])
    except RunResultError as err:
        raise RunResultError(f"executed_reward or samples: {err.reason}") from None
    if samples < 1:
        raise RunResultError("samples must be >= 1, got 0")
    return {"ero_gap": ero_gap, "ero_gap_per_agent": gaps, "executed_reward": executed_reward,
            "mode_coverage": coverage, "modes": modes, "samples": samples}


def _action_samples(value: object) -> tuple[dict, ...]:
    if not isinstance(value, (list, tuple)):
        raise _fail("a list of {env_steps, actions, rewards} records", value)
    records: list[dict] = []
    for i, record in enumerate(value):
        try:
            records.append(_action_record(record, records[-1] if records else None))
        except RunResultError as err:
            raise RunResultError(f"record {i}: {err.reason}") from None
    return tuple(records)


def _action_record(value: object, previous: dict | None) -> dict:
    value = _check_keys(value, ACTION_RECORD_KEYS, "an action-sample")
    steps = _count(value["env_steps"])
    if previous is not None and steps <= previous["env_steps"]:
        raise RunResultError(f"env_steps must strictly increase, but {steps} follows "
                             f"{previous['env_steps']}")
    rows = value["actions"]
    if not isinstance(rows, (list, tuple)) or not rows:
        raise _fail("actions as a non-empty list of joint actions", rows)
    actions = [_floats(row, f"actions[{k}]") for k, row in enumerate(rows)]
    width = len(previous["actions"][0]) if previous is not None else len(actions[0])
    if width == 0 or any(len(row) != width for row in actions):
        raise RunResultError(f"every joint action must have the same number of agents "
                             f"({width}, as the first), and at least one")
    rewards = _floats(value["rewards"], "rewards")
    if len(rewards) != len(actions):
        raise RunResultError(f"{len(rewards)} rewards for {len(actions)} joint actions")
    return {"env_steps": steps, "actions": actions, "rewards": rewards}


TUNING_KEYS = {"study": str, "sampler": str, "trials": int, "pruned": int, "objective": str,
               "best_value": float, "search_space": dict, "tuning_seeds": list,
               "protocol_version": int}


def _tuning(value: object) -> dict | None:
    if value is None:
        return None
    record = _json_object(value)
    if sorted(record) != sorted(TUNING_KEYS):
        raise RunResultError(f"must hold exactly the keys {', '.join(TUNING_KEYS)}; got "
                             f"{', '.join(sorted(record))}")
    for key, kind in TUNING_KEYS.items():
        try:
            if kind is int:
                _count(record[key])
            elif kind is float:
                record[key] = _finite(record[key])
            elif kind is str:
                _text(record[key])
            elif not isinstance(record[key], kind):
                raise _fail(f"a {kind.__name__}", record[key])
        except RunResultError as err:
            raise RunResultError(f"{key}: {err.reason}") from None
    if record["trials"] < 1:
        raise RunResultError("trials: a tuned config comes from at least one trial")
    if not record["tuning_seeds"] or not all(type(s) is int and s >= 0
                                             for s in record["tuning_seeds"]):
        raise RunResultError("tuning_seeds: must be a non-empty list of seeds (integers >= 0)")
    space = record["search_space"]
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in space.items()):
        raise RunResultError("search_space: must map field names to descriptions (strings)")
    return record


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
    "success": _success,
    "decentralized": _boolean,
    "code_revision": _text,
    "packages": _packages,
    "hardware": _json_object,
    "command": _command,
    "diagnostics": _diagnostics,
    "action_samples": _action_samples,
    "returns": _returns,
    "tuning": _tuning,
    "episode_returns": _episode_returns,
}


_DEFAULTS = {f.name: f.default for f in fields(RunResult) if f.name in ADDED_IN}


def _field_names(schema_version: int) -> list[str]:
    """The fields a document of ``schema_version`` holds."""
    return [f.name for f in fields(RunResult) if ADDED_IN.get(f.name, 1) <= schema_version]


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
