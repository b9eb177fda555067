"""The batched environment: the one dynamics kernel behind every ro-bench environment.

A ``VecEnv`` steps ``num_envs`` copies of an environment at once on numpy arrays:

- ``reset(seed=None, options=None) -> (obs, infos)`` with ``obs`` of shape
  ``[num_envs, n_agents, obs_dim]`` (float32);
- ``step(actions) -> (obs, rewards, terminated, truncated, infos)``, where ``actions`` has shape
  ``[num_envs, n_agents, act_dim]`` for continuous actions or ``[num_envs, n_agents]`` (integers)
  for discrete ones, and ``rewards``, ``terminated`` and ``truncated`` have shape
  ``[num_envs, n_agents]``;
- ``state() -> [num_envs, state_dim]``, the global state that centralized critics condition on.

Finished envs are reset inside ``step`` (when ``autoreset`` is true, the default): the returned
``obs`` is then the first observation of the next episode, and ``infos["final_obs"]`` and
``infos["final_state"]`` hold every env's observation and state *before* any reset, so
``infos["final_obs"]`` is always the right ``next_obs`` for a replay buffer.

Actions are checked before they touch the dynamics. A NaN or infinite action raises
``ValueError``; so does an array of the wrong shape, with the expected shape in the message, and a
discrete action outside ``[0, n_actions)``. A continuous action outside its Box is clipped to the
Box and counted: ``infos["clipped"]`` is an int32 array ``[num_envs, n_agents]`` giving how many
components of each agent's action were clipped at this step.

Actions must be numbers: bools (``True``, numpy bool arrays, or bools inside nested lists, which
numpy would silently read as 1 and 0) raise ``ValueError``.

Seeding: each env of the batch draws its random numbers (initial states) from a generator of its
own. ``reset(seed=s)`` seeds env ``b``'s generator with ``s + b``, Gymnasium's convention for
vector envs, so env ``b`` of a batch replays exactly as a single env reset with seed ``s + b``, and
the same seed gives the same whole trajectories under the same actions. A seed is any
non-negative Python int, of any size. ``reset()`` without a seed continues each env's generator;
an env never seeded draws a 128-bit base seed from the OS.

Rendering: ``render_mode`` (set by ``ro_bench.make_vec``) is None or one of the class's
``render_modes``. ``render()`` then returns one frame per env (Gymnasium's vector convention), or
None, with a warning, when ``render_mode`` is None.

``close()`` releases what the env holds (MuJoCo's simulators and renderer); ``step``, ``reset``
and ``render`` then raise ``gymnasium.error.ClosedEnvironmentError``.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.error import ClosedEnvironmentError

from ro_bench.params import did_you_mean, holds_bool, integer


class VecEnv:
    """Base class of batched environments; subclasses provide the dynamics.

    Subclasses set ``agents``, ``action_spaces``, ``observation_spaces`` and ``state_space`` in
    ``__init__`` (then call ``_finish_init``) and implement ``_reset_envs``, ``_transition``,
    ``_observe`` and ``_state``.
    """

    agents: tuple[str, ...]
    action_spaces: dict[str, spaces.Space]
    observation_spaces: dict[str, spaces.Box]
    state_space: spaces.Box
    max_steps: int | None = None  # truncate episodes after this many steps (None: never)
    # What an env knows analytically about its optimum and RO trap, or None where it knows
    # nothing: the best and trap episode returns of one agent, and the same for one step's reward.
    optimum: float | None = None
    trap: float | None = None
    optimum_reward: float | None = None
    trap_reward: float | None = None
    render_modes: tuple[str, ...] = ()  # what render_mode may be besides None
    render_fps: float | None = None  # frames per second of a rendered episode (1 / step time)

    def __init__(self, num_envs: int = 1) -> None:
        self.num_envs = integer("num_envs", num_envs, low=1)
        self.autoreset = True
        self.render_mode: str | None = None
        self.closed = False
        self._base_seed: int | None = None
        self._rngs: dict[int, np.random.Generator] = {}
        self.steps = np.zeros(self.num_envs, dtype=np.int64)  # step count in the current episode
        self._needs_reset = True

    @classmethod
    def check_render_mode(cls, render_mode: object, name: str) -> str | None:
        """``render_mode`` if the env ``name`` of this class supports it; ValueError otherwise."""
        if render_mode is None:
            return None
        if isinstance(render_mode, str) and render_mode in cls.render_modes:
            return render_mode
        if not cls.render_modes:
            raise ValueError(f"render_mode must be None: {name} has no renderer; "
                             f"got {render_mode!r}")
        hint = did_you_mean(render_mode, cls.render_modes) if isinstance(render_mode, str) else ""
        valid = ", ".join(repr(m) for m in cls.render_modes)
        raise ValueError(
            f"render_mode must be None or one of {valid} for {name}; got {render_mode!r}.{hint}"
        )

    def _finish_init(self) -> None:
        """Derive the action checks from the action spaces (call at the end of __init__)."""
        self.n_agents = len(self.agents)
        self._all = np.ones(self.num_envs, dtype=bool)
        first = self.action_spaces[self.agents[0]]
        self.discrete = isinstance(first, spaces.Discrete)
        if self.discrete:
            self._n_actions = np.array([self.action_spaces[a].n for a in self.agents])
            self.action_shape: tuple[int, ...] = (len(self.agents),)
        else:
            self._low = np.stack([self.action_spaces[a].low for a in self.agents])
            self._high = np.stack([self.action_spaces[a].high for a in self.agents])
            self.action_shape = (len(self.agents), *first.shape)
            # An interval inside every component's bounds, for the fast path of _check_continuous.
            self._inner_low, self._inner_high = float(self._low.max()), float(self._high.min())
        self.observation_space = self.observation_spaces[self.agents[0]]

    # ----------------------------------------------------------------------------------- API
    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset every env. ``options`` is accepted for API compatibility and unused."""
        if self.closed:
            raise self._closed_error()
        if seed is not None or self._base_seed is None:
            if seed is None:
                seed = int(np.random.SeedSequence().entropy)
            self._base_seed = integer("seed", seed, low=0)
            self._rngs.clear()
        self.steps[:] = 0
        self._reset_envs(self._all)
        self._needs_reset = False
        return self._observe(), {}

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self._needs_reset:
            if self.closed:
                raise self._closed_error()
            raise RuntimeError("call reset() before step(): the episode has not started or is over")
        actions, clipped = self._check_actions(actions)
        team_reward, terminated = self._transition(actions)
        self.steps += 1
        if self.max_steps is None:
            truncated = np.zeros(self.num_envs, dtype=bool)
        else:
            truncated = ~terminated & (self.steps >= self.max_steps)
        obs = self._observe()
        infos: dict[str, Any] = {"clipped": clipped}
        done = terminated | truncated
        if self.autoreset:
            infos["final_obs"] = obs
            infos["final_state"] = self._state()
            if done.any():
                self.steps[done] = 0
                self._reset_envs(done)
                obs = self._observe()
        elif done.any():
            self._needs_reset = True
        n = self.n_agents  # the team reward and the episode's end are shared by every agent
        return (
            obs,
            team_reward[:, None].repeat(n, axis=1),
            terminated[:, None].repeat(n, axis=1),
            truncated[:, None].repeat(n, axis=1),
            infos,
        )

    def state(self) -> np.ndarray:
        """The global state, shape ``[num_envs, state_dim]``."""
        return self._state()

    def render(self) -> tuple[np.ndarray, ...] | None:
        """One ``[H, W, 3]`` uint8 frame per env with ``render_mode="rgb_array"``; None without a
        render mode."""
        if self.closed:
            raise self._closed_error()
        if self.render_mode is None:
            # PettingZoo's and Gymnasium's own envs warn so, too.
            gymnasium.logger.warn(
                "You are calling render method without specifying any render mode."
            )
            return None
        return tuple(self.render_frame(b) for b in range(self.num_envs))

    def close(self) -> None:
        """Release what the env holds; later ``step``, ``reset`` and ``render`` calls raise."""
        self.closed = True
        self._needs_reset = True  # so that step's one check covers a closed env too

    def _closed_error(self) -> ClosedEnvironmentError:
        return ClosedEnvironmentError(
            f"{type(self).__name__} is closed: make a new env to step, reset or render again"
        )

    _snapshot_arrays: tuple[str, ...] = ()  # names of the subclass's state arrays

    def snapshot(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The batch's whole state, to resume it exactly: arrays, and JSON values (generators)."""
        arrays = {"steps": self.steps.copy()}
        arrays.update({name: getattr(self, name).copy() for name in self._snapshot_arrays})
        meta = {
            "base_seed": self._base_seed,
            "needs_reset": self._needs_reset,
            "rngs": {str(b): g.bit_generator.state for b, g in self._rngs.items()},
        }
        return arrays, meta

    def restore(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        """Put the batch back in a state taken by ``snapshot``."""
        if self.closed:
            raise self._closed_error()
        for name in ("steps", *self._snapshot_arrays):
            getattr(self, name)[...] = arrays[name]
        self._base_seed, self._needs_reset = meta["base_seed"], meta["needs_reset"]
        self._rngs.clear()
        for b, state in meta["rngs"].items():
            self.rng(int(b)).bit_generator.state = state

    def rng(self, env: int) -> np.random.Generator:
        """The random generator of env ``env`` of the batch (seeded with base seed + env)."""
        if env not in self._rngs:
            # int(env): a numpy index would turn the sum into an int64, too small for big seeds.
            self._rngs[env] = np.random.default_rng(self._base_seed + int(env))
        return self._rngs[env]

    # ------------------------------------------------------------------------- action checks
    def _check_actions(self, actions: object) -> tuple[np.ndarray, np.ndarray]:
        """Validate a batch of actions; return it (clipped, as the space's dtype) and clip counts."""
        expected = (self.num_envs, *self.action_shape)
        layout = "[num_envs, n_agents]" if self.discrete else "[num_envs, n_agents, act_dim]"
        try:
            a = np.asarray(actions)
        except ValueError:  # ragged nested lists
            raise ValueError(f"actions must be an array of shape {expected} {layout}") from None
        if a.shape != expected:
            raise ValueError(f"actions must have shape {expected} {layout}; got shape {a.shape}")
        if a.dtype.kind == "b" or (not isinstance(actions, np.ndarray) and holds_bool(actions)):
            raise ValueError(BOOL_ACTIONS)
        if a.dtype.kind not in "iuf":
            raise ValueError(f"actions must be numeric; got dtype {a.dtype}")
        if self.discrete:
            if a.dtype.kind == "f" and not np.isfinite(a).all():
                raise ValueError("actions must be finite; got NaN or inf")
            return self._check_discrete(a)
        return self._check_continuous(a)

    def _check_discrete(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if (a < 0).any() or (a >= self._n_actions).any():
            raise ValueError(
                f"discrete actions must lie in [0, n_actions) with n_actions = "
                f"{self._n_actions.tolist()} per agent; got {a.tolist() if a.size < 20 else '...'}"
            )
        if a.dtype.kind == "f":
            if not (a == np.floor(a)).all():
                raise ValueError("discrete actions must be whole numbers")
            a = a.astype(np.int64)
        return a, np.zeros((self.num_envs, self.n_agents), dtype=np.int32)

    def _check_continuous(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Fast path: two reductions prove every action finite and inside the box (min and max
        # propagate NaN, which fails the comparisons).
        lo, hi = float(np.minimum.reduce(a, axis=None)), float(np.maximum.reduce(a, axis=None))
        if self._inner_low <= lo and hi <= self._inner_high and math.isfinite(lo + hi):
            clipped = np.zeros((self.num_envs, self.n_agents), dtype=np.int32)
            return a.astype(np.float32, copy=False), clipped
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise ValueError("actions must be finite; got NaN or inf")
        below, above = a < self._low, a > self._high
        outside = (below | above).reshape(self.num_envs, self.n_agents, -1)
        return np.clip(a, self._low, self._high).astype(np.float32), outside.sum(axis=-1, dtype=np.int32)

    # ---------------------------------------------------------------------- subclass hooks
    def _reset_envs(self, mask: np.ndarray) -> None:
        """Draw initial states for the envs where ``mask`` (bool ``[num_envs]``) is true."""
        raise NotImplementedError

    def _transition(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Advance every env one step; return team rewards ``[B]`` and terminations ``[B]``."""
        raise NotImplementedError

    def _observe(self) -> np.ndarray:
        """Observations ``[num_envs, n_agents, obs_dim]`` (a fresh array)."""
        raise NotImplementedError

    def _state(self) -> np.ndarray:
        """Global state ``[num_envs, state_dim]`` (a fresh array)."""
        raise NotImplementedError

    def render_frame(self, env: int) -> np.ndarray:
        """Env ``env``'s frame in ``render_mode`` (subclasses with ``render_modes``)."""
        raise NotImplementedError


BOOL_ACTIONS = "actions must be numbers, not booleans (numpy would read True as 1)"
