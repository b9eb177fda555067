"""A replay buffer: a numpy ring buffer of named transition fields, resumable exactly.

The harness adds a whole batched step at once (``buffer.add(obs=..., actions=..., ...)`` with a
leading ``[num_envs]`` dimension on every field); once full, the oldest transitions are
overwritten. ``sample`` draws uniformly with replacement from a generator the buffer owns, so its
draws depend only on its seed and its own history, never on other code's use of global RNGs.

Exact resume needs four things, and ``state_dict`` holds all four: the stored rows ``[0, size)``
*in slot order* (``sample`` indexes slots, so chronological order would change which rows a draw
picks once the ring has wrapped), the write ``position``, the ``size``, and the generator's
``bit_generator.state``. Everything but ``state_dict()["arrays"]`` is JSON-able, and the arrays
are numeric, so ``save`` writes a single ``.npz`` (``np.savez``, the JSON stored as UTF-8 bytes
under ``"meta.json"``) that ``np.load(allow_pickle=False)`` reads. One file rather than an npz
and a json side by side, so that one atomic rename covers both parts.
"""

from __future__ import annotations

import json
import numbers
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ro_bench.atomic import atomic_write
from ro_bench.params import did_you_mean, integer

_META = "meta.json"  # not an identifier, so it can never clash with a field name
_KINDS = "biufc"  # bool and numeric dtypes: what np.savez stores without pickling


class ReplayBuffer:
    """A ring buffer of named fields, sampled uniformly with replacement.

    Args:
        capacity: how many transitions it holds; beyond that the oldest are overwritten.
        shapes: each field's shape for ONE transition, e.g. ``{"obs": (n_agents, obs_dim),
            "state": (state_dim,)}``. Field names must be identifiers (they are ``add`` keywords).
        dtypes: each field's numpy dtype (bool or numeric), for the same names as ``shapes``.
        seed: seed of the generator that ``sample`` draws from (used by nothing else).
    """

    def __init__(
        self,
        capacity: int,
        shapes: Mapping[str, tuple[int, ...]],
        dtypes: Mapping[str, DTypeLike],
        seed: int,
    ) -> None:
        self.capacity = integer("capacity", capacity, low=1)
        self.shapes = _check_shapes(shapes)
        self.dtypes = _check_dtypes(dtypes, self.shapes)
        self._data = {
            name: np.zeros((self.capacity, *shape), self.dtypes[name])
            for name, shape in self.shapes.items()
        }
        self._rng = np.random.default_rng(integer("seed", seed, low=0))
        self._position = 0  # the slot the next transition goes to
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(self, **batch: np.ndarray) -> None:
        """Store a batch: every field of ``shapes``, each ``[B, *shapes[name]]`` with one ``B``."""
        arrays = self._check_batch(batch)
        n = next(iter(arrays.values())).shape[0]
        # Writing n rows in order leaves only the last `capacity` of them if n > capacity.
        keep = min(n, self.capacity)
        slots = (self._position + np.arange(n - keep, n)) % self.capacity
        for name, array in arrays.items():
            self._data[name][slots] = array[n - keep :]
        self._position = (self._position + n) % self.capacity
        self._size = min(self._size + n, self.capacity)

    def sample(self, batch_size: int) -> dict[str, np.ndarray]:
        """``batch_size`` transitions drawn uniformly with replacement (fresh arrays)."""
        batch_size = integer("batch_size", batch_size, low=1)
        if self._size == 0:
            raise ValueError("cannot sample from an empty ReplayBuffer: add transitions first")
        index = self._rng.integers(0, self._size, size=batch_size)
        return {name: data[index] for name, data in self._data.items()}

    def state_dict(self) -> dict[str, Any]:
        """Everything exact resume needs: JSON-able values, and numpy arrays under "arrays"."""
        return self._state(copy=True)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a ``state_dict()`` (also after a JSON round trip of its non-array part)."""
        ours = {"capacity": self.capacity, **self._config()}
        theirs = {key: state.get(key) for key in ours}
        if theirs != ours:
            raise ValueError(f"state is of a ReplayBuffer with {theirs}; this one has {ours}")
        size = integer("size", state["size"], low=0, high=self.capacity)
        position = integer("position", state["position"], low=0, high=self.capacity - 1)
        if size < self.capacity and position != size:
            raise ValueError(f"position must equal size until full; got {position} and {size}")
        arrays = {name: self._check_stored(name, state["arrays"], size) for name in self.shapes}
        rng = np.random.default_rng()
        rng.bit_generator.state = state["rng"]  # validate before anything changes
        for name, array in arrays.items():
            self._data[name][:size] = array
            self._data[name][size:] = 0
        self._size, self._position, self._rng = size, position, rng

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the state to one ``.npz`` file, atomically (see the module docstring)."""
        state = self._state(copy=False)
        arrays = state.pop("arrays")
        meta = np.frombuffer(json.dumps(state).encode("utf-8"), dtype=np.uint8)
        with atomic_write(path) as f:
            np.savez(f, **arrays, **{_META: meta})

    def load(self, path: str | os.PathLike[str]) -> None:
        """Restore, in place, a file written by ``save``; the configurations must match."""
        with np.load(path, allow_pickle=False) as npz:
            if _META not in npz.files:
                raise ValueError(f"{os.fspath(path)} was not written by ReplayBuffer.save")
            state = json.loads(npz[_META].tobytes().decode("utf-8"))
            state["arrays"] = {name: npz[name] for name in npz.files if name != _META}
        self.load_state_dict(state)

    def _config(self) -> dict[str, Any]:
        return {
            "shapes": {name: list(shape) for name, shape in self.shapes.items()},
            "dtypes": {name: dtype.name for name, dtype in self.dtypes.items()},
        }

    def _state(self, copy: bool) -> dict[str, Any]:
        arrays = {name: data[: self._size] for name, data in self._data.items()}
        return {
            "capacity": self.capacity,
            **self._config(),
            "position": self._position,
            "size": self._size,
            "rng": self._rng.bit_generator.state,
            "arrays": {name: a.copy() for name, a in arrays.items()} if copy else arrays,
        }

    def _check_batch(self, batch: Mapping[str, Any]) -> dict[str, np.ndarray]:
        if set(batch) != set(self.shapes):
            missing = sorted(set(self.shapes) - set(batch))
            unknown = sorted(set(batch) - set(self.shapes))
            hints = "".join(did_you_mean(name, missing or self.shapes) for name in unknown)
            raise ValueError(
                f"ReplayBuffer.add needs exactly the fields {sorted(self.shapes)}; "
                f"missing {missing}, unknown {unknown}.{hints}"
            )
        arrays = {name: np.asarray(value) for name, value in batch.items()}
        for name, array in arrays.items():
            want, dtype = self.shapes[name], self.dtypes[name]
            if array.ndim != len(want) + 1 or array.shape[1:] != want:
                raise ValueError(f"{name} must have shape {_batched(want)}; got {array.shape}")
            if not np.can_cast(array.dtype, dtype, casting="same_kind"):
                raise ValueError(f"{name} is stored as {dtype}; cannot store {array.dtype} in it")
        sizes = {name: array.shape[0] for name, array in arrays.items()}
        if len(set(sizes.values())) > 1:
            raise ValueError(f"all fields must have the same batch size B; got {sizes}")
        return arrays

    def _check_stored(self, name: str, arrays: Mapping[str, np.ndarray], size: int) -> np.ndarray:
        if name not in arrays:
            raise ValueError(f"state has no stored array for field {name!r}")
        array = np.asarray(arrays[name])
        want = (size, *self.shapes[name])
        if array.shape != want or array.dtype != self.dtypes[name]:
            raise ValueError(
                f"stored {name} must be {self.dtypes[name]} of shape {want}; "
                f"got {array.dtype} of shape {array.shape}"
            )
        return array


def _batched(shape: tuple[int, ...]) -> str:
    return "[B" + "".join(f", {d}" for d in shape) + "]"


def _check_shapes(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
    if not isinstance(shapes, Mapping) or not shapes:
        raise ValueError(f"shapes must be a non-empty dict of field name -> shape; got {shapes!r}")
    checked = {}
    for name, shape in shapes.items():
        if not (isinstance(name, str) and name.isidentifier()):
            raise ValueError(f"field names must be Python identifiers; got {name!r}")
        if isinstance(shape, numbers.Integral) or not isinstance(shape, (tuple, list)):
            raise ValueError(f"shapes[{name!r}] must be a tuple such as (3,) or (); got {shape!r}")
        checked[name] = tuple(integer(f"shapes[{name!r}] entry", d, low=0) for d in shape)
    return checked


def _check_dtypes(
    dtypes: Mapping[str, DTypeLike], shapes: Mapping[str, tuple[int, ...]]
) -> dict[str, np.dtype]:
    if not isinstance(dtypes, Mapping) or set(dtypes) != set(shapes):
        got = sorted(dtypes) if isinstance(dtypes, Mapping) else dtypes
        want = sorted(shapes)
        raise ValueError(f"dtypes must name exactly the fields of shapes {want}; got {got}")
    checked = {}
    for name in shapes:
        try:
            dtype = np.dtype(dtypes[name])
        except TypeError:
            dtype = None
        if dtype is None or dtype.kind not in _KINDS:
            got = dtypes[name]
            raise ValueError(f"dtypes[{name!r}] must be a bool or numeric dtype; got {got!r}")
        checked[name] = np.dtype(dtype.name)  # native byte order, so the name round-trips exactly
    return checked
