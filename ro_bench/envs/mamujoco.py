"""MaMuJoCo (``mamujoco``): a MuJoCo robot split among agents (gymnasium-robotics ``mamujoco_v1``).

A single-agent Gymnasium MuJoCo task (the ``scenario``) is factorised: each agent drives one group
of the robot's joints (the partition named by ``agent_conf``) and observes its own joints, the
joints up to ``agent_obsk`` hops away in the robot's joint graph, and a few global quantities of
the robot's root. All agents share the task's reward. The robot moves only as well as the
agents' joint groups coordinate. This id serves any scenario and configuration;
``mamujoco_halfcheetah_2x3``, ``mamujoco_coupled_halfcheetah_1p1``, ``mamujoco_ant_2x4`` and
``mamujoco_walker2d_2x3`` fix the four used in the paper (App. F.1) and document their
observations entry by entry.

Engine
    gymnasium-robotics 1.4.2 on MuJoCo 3.5.x (the ``mujoco`` extra), exactly. From MuJoCo 3.6 on,
    ``MjData.ten_J`` is stored sparse, and gymnasium-robotics 1.4.2 reads it as the dense
    ``[ntendon, nv]`` matrix. CoupledHalfCheetah's tendon-Jacobian observations would then be
    wrong entries. MuJoCo 4 also changes trajectories. Making the env with any other version
    raises ``ImportError``.

    Each row of the batch holds its own gymnasium-robotics ``parallel_env``. Rows are stepped
    directly on the underlying Gymnasium ``MujocoEnv``, below its wrappers (TimeLimit,
    OrderEnforcing, PassiveEnvChecker, which only count and check). Observations are computed as
    gymnasium-robotics' ``build_obs`` computes them. For every scenario except Hopper and
    Reacher, this is one precomputed gather of MjData entries. For those two, ``build_obs``
    itself is called, because their observations clip velocities or read body positions.
    ``tests/test_mamujoco.py`` checks every configuration below against ``parallel_env`` step
    for step: observations (after the float32 cast), rewards, terminations and truncations are
    identical.

Dynamics and reward
    Those of the Gymnasium ``<scenario>-v5`` task with its default arguments, or of
    gymnasium-robotics' CoupledHalfCheetah. The team reward is the task's reward, the same for
    every agent. An episode terminates when the task does (Ant, Hopper, Humanoid, Walker2d end
    when the robot is unhealthy, e.g. it falls). It is truncated after ``max_episode_steps``
    steps unless it terminated at that step. Gymnasium's own TimeLimit is bypassed, so this is
    the only limit; with the default 1000 it falls on the same step as Gymnasium's.

Spaces
    Agents ``agent_0 .. agent_{n-1}`` in gymnasium-robotics' order. Agent ``i`` drives
    ``act_dims[i]`` actuators and observes ``obs_dims[i]`` numbers. Where agents' sizes differ
    (e.g. Humanoid 9|8, HalfCheetah 6x1), every agent gets the largest. Its observation is
    zero-padded at the end, and the trailing components of its action are ignored. They are
    still checked, clipped and counted like the others. Actions: ``Box(low, high, (max act_dims,),
    float32)`` with the task's control range (clipped to it and counted in ``infos["clipped"]``),
    cast to float32 and then widened to float64 for MuJoCo, as gymnasium-robotics does.
    Observations: ``Box(-inf, inf, (max obs_dims,), float32)``. State: the single-agent task's
    observation (what gymnasium-robotics' ``state()`` returns), as float32, in
    ``Box(-inf, inf, (state_dim,), float32)``.

Seeding
    Row ``b`` resets its gymnasium env with a seed drawn from the row's generator
    (``rng(b)``, seeded with ``seed + b``). The same seed therefore replays the same episodes, and
    row ``b`` of a batch replays the single env seeded ``seed + b``. A seed is any non-negative
    int. ``reset()`` without a seed continues each row's generator, or, in an env never seeded,
    starts it from the OS's entropy.

Rendering
    ``render_mode="rgb_array"``: MuJoCo's own offscreen renderer (``mujoco.Renderer``) draws each
    row's robot in the task's frame size (480 x 480 x 3 uint8) at ``render_fps = 1 / dt`` (20
    for HalfCheetah and Ant, 125 for Walker2d). The camera tracks the robot's root body, at the
    distance, elevation and azimuth of the Gymnasium task's default camera. Rendering needs an
    OpenGL backend: on Linux without a display, ``import ro_bench`` sets ``MUJOCO_GL=egl`` unless
    it is already set (see ``ro_bench.render.prefer_headless_mujoco_gl``); EGL then runs on a GPU
    or on Mesa's software rasterizer (Debian: ``apt-get install libegl1 libgl1-mesa-dri``).
    Rendering reads the simulation and never changes it.

Parameters
    ``scenario``: one of the keys of ``AGENT_CONFS`` below, default ``"HalfCheetah"``.
    ``agent_conf``: one of that scenario's configurations, default ``"2x3"``:
    Ant 2x4, 2x4d, 4x2; HalfCheetah 2x3, 6x1; CoupledHalfCheetah 1p1; Walker2d 2x3;
    Hopper 3x1; Swimmer 2x1; Reacher 2x1; Humanoid and HumanoidStandup 9|8. Left out:
    ManySegmentAnt and ManySegmentSwimmer, which write generated XML into the installed
    gymnasium-robotics package; Pusher 3p, where two joints share one label. gymnasium-robotics
    orders joints by label, so Pusher's observation layout changes from one construction to the
    next.
    ``agent_obsk``: graph distance of the joints an agent observes, an int in [0, 10], default 1
    (depths beyond the joint graph's diameter add nothing).
    ``local_categories``: what an agent observes of a joint at each depth ``0 .. agent_obsk``, a
    list of ``agent_obsk + 1`` lists of category names, or None for gymnasium-robotics' default
    (depth 0: ``qpos``, ``qvel`` and the scenario's extras, e.g. ``cfrc_ext`` for Ant; deeper:
    ``qpos``). ``global_categories``: what every agent observes of the root, a list of category
    names, or None for ``("qpos", "qvel")``. Category names: ``qpos``, ``qvel``,
    ``qfrc_actuator``, ``cinert``, ``cvel``, ``cfrc_ext`` and the scenario's extra ones
    (CoupledHalfCheetah: ``ten_J``, ``ten_length``, ``ten_velocity``; Reacher:
    ``fingertip_dist``). A category that a joint does not carry adds nothing for it.
    ``max_episode_steps``: an int in [1, 100000], default 1000.
    gymnasium-robotics' ``agent_factorization`` (a custom partition built from its own ``Node``
    objects) is not exposed: a new partition belongs in a new, documented id.

Optimum and trap
    ``optimum``, ``trap``, ``optimum_reward`` and ``trap_reward`` are all None. No analytic optimum
    or RO trap is known for locomotion; compare returns with published baselines instead.

Version history
    v0: first release.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import sys
from typing import Any

import numpy as np
from gymnasium import spaces

from ro_bench.params import choice, did_you_mean, integer
from ro_bench.vector import VecEnv

# The agent configurations gymnasium-robotics 1.4.2 defines (obsk.get_parts_and_edges).
AGENT_CONFS: dict[str, tuple[str, ...]] = {
    "HalfCheetah": ("2x3", "6x1"),
    "CoupledHalfCheetah": ("1p1",),
    "Ant": ("2x4", "2x4d", "4x2"),
    "Walker2d": ("2x3",),
    "Hopper": ("3x1",),
    "Swimmer": ("2x1",),
    "Reacher": ("2x1",),
    "Humanoid": ("9|8",),
    "HumanoidStandup": ("9|8",),
}
ENGINE = {"gymnasium_robotics": "1.4.2", "mujoco": "3.5"}

# Observation categories every scenario accepts; scenarios add their own (e.g. ten_J).
CATEGORIES = ("qpos", "qvel", "qfrc_actuator", "cinert", "cvel", "cfrc_ext")
# The MjData fields build_obs reads by joint or body, in the order of the gathered source vector.
FIELDS = ("qpos", "qvel", "qfrc_actuator", "ten_J", "ten_length", "ten_velocity",
          "cinert", "cvel", "cfrc_ext")
BODY_FIELDS = ("cinert", "cvel", "cfrc_ext")  # last in FIELDS, so they are one range
# Observations that are not plain selections of MjData entries: Hopper clips root velocities
# to [-10, 10]; Reacher reads body positions through data.body(name).
BUILD_OBS_SCENARIOS = frozenset({"Hopper", "Reacher"})
# Every Ant node that observes bodies passes them through body_fn = np.clip(x, -1, 1).
CLIPPED_BODY_SCENARIOS = frozenset({"Ant"})
# Derived MjData fields a task reads before it steps (Ant-v5: the torso's xpos; Humanoid-v5:
# xipos, for the centre of mass). After a step they hold the last substep's forward pass, which
# cannot be recomputed from the state, so snapshots keep them beside MuJoCo's integration state.
PRE_STEP_FIELDS = ("xpos", "xipos")


class MaMuJoCo(VecEnv):
    """A batch of gymnasium-robotics MaMuJoCo envs stepped together (see the module docstring)."""

    optimum = trap = optimum_reward = trap_reward = None  # no analytic values for locomotion
    render_modes = ("rgb_array",)

    def __init__(
        self,
        num_envs: int = 1,
        *,
        scenario: str = "HalfCheetah",
        agent_conf: str = "2x3",
        agent_obsk: int = 1,
        local_categories: list[list[str]] | None = None,
        global_categories: list[str] | None = None,
        max_episode_steps: int = 1000,
    ) -> None:
        super().__init__(num_envs)
        self.scenario = choice("scenario", scenario, AGENT_CONFS)
        confs = AGENT_CONFS[self.scenario]
        self.agent_conf = choice("agent_conf", agent_conf, confs, f" for scenario {scenario!r}")
        self.agent_obsk = integer("agent_obsk", agent_obsk, low=0, high=10)
        self.max_steps = integer("max_episode_steps", max_episode_steps, low=1, high=100_000)
        self.max_episode_steps = self.max_steps
        _check_engine()
        from gymnasium_robotics import mamujoco_v1
        from gymnasium_robotics.envs.multiagent_mujoco.obsk import get_parts_and_edges

        parts, edges, globals_ = get_parts_and_edges(self.scenario, self.agent_conf)
        extras = {c for node in _nodes(parts, edges, globals_) for c in node.extra_obs}
        allowed = {*CATEGORIES} | extras
        local = _categories("local_categories", local_categories, allowed, self.agent_obsk + 1)
        global_ = _categories("global_categories", global_categories, allowed)
        self.envs = [
            mamujoco_v1.parallel_env(self.scenario, self.agent_conf, agent_obsk=self.agent_obsk,
                                     local_categories=local, global_categories=global_)
            for _ in range(self.num_envs)
        ]
        first = self.envs[0]
        self.agents = tuple(first.possible_agents)
        self.obs_dims = tuple(first.observation_space(a).shape[0] for a in self.agents)
        self.act_dims = tuple(first.action_space(a).shape[0] for a in self.agents)
        if min(self.obs_dims) == 0:
            raise ValueError(
                f"local_categories and global_categories leave an agent of {scenario} "
                f"{agent_conf} with nothing to observe (observation sizes {self.obs_dims})"
            )
        self._sims = [env.single_agent_env.unwrapped for env in self.envs]
        self._set_spaces(first)
        self._action_index = self._joint_action_index(first)
        self._gather = self.scenario not in BUILD_OBS_SCENARIOS
        if self._gather:
            self._build_gather(first)
        self._state_rows = np.zeros((self.num_envs, self.state_space.shape[0]))
        self.render_fps = self._sims[0].metadata["render_fps"]
        self._renderer: Any = None  # made on the first render
        self._finish_init()

    # ------------------------------------------------------------------------------ set-up
    def _set_spaces(self, env: Any) -> None:
        box = env.action_space(self.agents[0])  # gymnasium-robotics: the same range for all
        act = spaces.Box(box.low[0], box.high[0], (max(self.act_dims),), np.float32)
        obs = spaces.Box(-np.inf, np.inf, (max(self.obs_dims),), np.float32)
        self.action_spaces = {a: act for a in self.agents}
        self.observation_spaces = {a: obs for a in self.agents}
        state_dim = self._sims[0].observation_space.shape[0]
        self.state_space = spaces.Box(-np.inf, np.inf, (state_dim,), np.float32)

    def _joint_action_index(self, env: Any) -> np.ndarray:
        """Where each actuator's control sits in a flattened ``[n_agents, act_dim]`` action."""
        width = max(self.act_dims)
        index = np.full(self._sims[0].action_space.shape[0], -1)
        for i, part in enumerate(env.agent_action_partitions):
            for j, node in enumerate(part):
                assert index[node.act_ids] == -1, f"actuator {node.act_ids} driven twice"
                index[node.act_ids] = i * width + j
        assert (index >= 0).all(), "an actuator is driven by no agent"
        return index

    def _build_gather(self, env: Any) -> None:
        """Precompute which MjData entries make up each agent's observation.

        build_obs runs once on a stand-in for MjData whose fields hold positions in a flat source
        vector instead of values (as gymnasium-robotics' own create_observation_mapping does), so
        each step's observations are one gather. The source keeps only the fields that are read;
        its last entry is a constant 0, the padding.
        """
        data = self._sims[0].data
        used = [f for f in FIELDS if (self._positions(env, data, (f,)) >= 0).any()]
        positions = self._positions(env, data, used)
        self._fields = tuple(used)
        # MjData's arrays live as long as the MjData and are updated in place (mj_step,
        # mj_resetData, set_state), so views of them taken once stay current.
        self._views = [[getattr(sim.data, f).ravel() for f in used] for sim in self._sims]
        assert all(np.shares_memory(v, getattr(sim.data, f))
                   for views, sim in zip(self._views, self._sims) for v, f in zip(views, used))
        size = sum(getattr(data, f).size for f in used)
        self._source = np.zeros((self.num_envs, size + 1))
        for i, dim in enumerate(self.obs_dims):  # every entry comes from a field read
            assert (positions[i, :dim] >= 0).all(), f"agent {i} reads outside {FIELDS}"
        self._obs_index = np.where(positions < 0, size, positions).reshape(-1)
        body = [f for f in used if f in BODY_FIELDS]
        self._clip = None
        if body and self.scenario in CLIPPED_BODY_SCENARIOS:
            start = size - sum(getattr(data, f).size for f in body)
            self._clip = slice(start, size)

    def _positions(self, env: Any, data: Any, fields: tuple[str, ...] | list[str]) -> np.ndarray:
        """``[n_agents, obs_dim]`` source positions of each observation entry (-1: not in
        ``fields``, or padding)."""
        from gymnasium_robotics.envs.multiagent_mujoco.obsk import build_obs

        stand_in, offset = _StandIn(), 0
        for f in FIELDS:
            shape = np.shape(getattr(data, f))
            if f in fields:
                values = np.arange(offset, offset + math.prod(shape)).reshape(shape)
                offset += math.prod(shape)
            else:
                values = np.full(shape, -1)
            setattr(stand_in, f, values)
        out = np.full((len(self.agents), max(self.obs_dims)), -1)
        for i, dim in enumerate(self.obs_dims):
            pos = build_obs(stand_in, env.k_dicts[i], env.local_categories, env.mujoco_globals,
                            env.global_categories, ignore_body_fn=True)
            assert len(pos) == dim, (len(pos), dim)
            out[i, :dim] = pos
        return out

    # ------------------------------------------------------------------------------ hooks
    def _reset_envs(self, mask: np.ndarray) -> None:
        for b in np.flatnonzero(mask):
            seed = int(self.rng(b).integers(2**32))
            self._state_rows[b], _ = self._sims[b].reset(seed=seed)

    def _transition(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # float32 actions widened to float64, as gymnasium-robotics builds its joint action: the
        # control cost in the reward is computed on this array.
        joint = actions.reshape(self.num_envs, -1).take(self._action_index, axis=1)
        joint = joint.astype(np.float64)
        rewards = np.empty(self.num_envs)
        terminated = np.empty(self.num_envs, dtype=bool)
        for b, sim in enumerate(self._sims):
            # The task's observation is the state; the time limit is ours (truncated ignored).
            self._state_rows[b], rewards[b], terminated[b], _, _ = sim.step(joint[b])
        return rewards, terminated

    def _observe(self) -> np.ndarray:
        width = max(self.obs_dims)
        if not self._gather:
            obs = np.zeros((self.num_envs, self.n_agents, width), dtype=np.float32)
            for b, env in enumerate(self.envs):
                for i, dim in enumerate(self.obs_dims):
                    obs[b, i, :dim] = env._get_obs_agent(i)
            return obs
        source = self._source
        for b, views in enumerate(self._views):
            np.concatenate(views, out=source[b, :-1])
        if self._clip is not None:
            np.clip(source[:, self._clip], -1.0, 1.0, out=source[:, self._clip])
        obs = source.take(self._obs_index, axis=1).astype(np.float32)
        return obs.reshape(self.num_envs, self.n_agents, width)

    def _state(self) -> np.ndarray:
        return self._state_rows.astype(np.float32)

    def render_frame(self, env: int) -> np.ndarray:
        if self._renderer is None:
            self._renderer, self._camera = self._make_renderer()
        # Every row's model is built from the same XML, so row 0's renderer draws any row's data.
        self._renderer.update_scene(self._sims[env].data, camera=self._camera)
        return self._renderer.render()

    def _make_renderer(self) -> tuple[Any, Any]:
        """MuJoCo's offscreen renderer and a camera tracking the robot (see Rendering)."""
        import mujoco

        sim = self._sims[0]
        try:
            renderer = mujoco.Renderer(sim.model, sim.height, sim.width)
        except Exception as error:  # mujoco.FatalError and friends, from the GL backend
            backend = os.environ.get("MUJOCO_GL", "unset, i.e. glfw")
            raise RuntimeError(
                f"MuJoCo could not open an OpenGL context to render (MUJOCO_GL={backend}). On a "
                "machine without a display, set MUJOCO_GL=egl before mujoco is imported; EGL "
                "needs the system's EGL and Mesa drivers (Debian: apt-get install libegl1 "
                "libgl1-mesa-dri)."
            ) from error
        camera = mujoco.MjvCamera()
        camera.type = mujoco.mjtCamera.mjCAMERA_TRACKING
        camera.trackbodyid = 1  # the root body: the torso
        camera.distance = sim.model.stat.extent
        for key, value in (sim.mujoco_renderer.default_cam_config or {}).items():
            if isinstance(value, np.ndarray):
                getattr(camera, key)[:] = value
            else:
                setattr(camera, key, value)
        return renderer, camera

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        for env in self.envs:
            env.close()
        super().close()

    # ------------------------------------------------------------------ snapshot, restore
    _snapshot_arrays = ("_state_rows",)

    def snapshot(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The base snapshot plus each row's MuJoCo integration state (everything ``mj_step``
        reads) and ``PRE_STEP_FIELDS``. The gymnasium envs' own generators need no saving: every
        reset reseeds them from ``rng(b)``."""
        import mujoco

        arrays, meta = super().snapshot()
        spec = mujoco.mjtState.mjSTATE_INTEGRATION
        state = np.empty((self.num_envs, mujoco.mj_stateSize(self._sims[0].model, spec)))
        for b, sim in enumerate(self._sims):
            mujoco.mj_getState(sim.model, sim.data, state[b], spec)
        arrays["mj_integration_state"] = state
        for f in PRE_STEP_FIELDS:
            arrays[f"mj_{f}"] = np.stack([getattr(sim.data, f) for sim in self._sims])
        return arrays, meta

    def restore(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        import mujoco

        super().restore(arrays, meta)
        spec = mujoco.mjtState.mjSTATE_INTEGRATION
        for b, sim in enumerate(self._sims):
            mujoco.mj_setState(sim.model, sim.data, arrays["mj_integration_state"][b], spec)
            for f in PRE_STEP_FIELDS:
                getattr(sim.data, f)[...] = arrays[f"mj_{f}"][b]


class Partition(MaMuJoCo):
    """A named scenario and partition: subclasses set ``SCENARIO`` and ``AGENT_CONF``; every other
    MaMuJoCo option stays a kwarg."""

    SCENARIO: str
    AGENT_CONF: str

    def __init__(
        self,
        num_envs: int = 1,
        *,
        agent_obsk: int = 1,
        local_categories: list[list[str]] | None = None,
        global_categories: list[str] | None = None,
        max_episode_steps: int = 1000,
    ) -> None:
        super().__init__(
            num_envs,
            scenario=self.SCENARIO,
            agent_conf=self.AGENT_CONF,
            agent_obsk=agent_obsk,
            local_categories=local_categories,
            global_categories=global_categories,
            max_episode_steps=max_episode_steps,
        )


class _StandIn:
    """Stands in for ``MjData`` in ``build_obs``: fields hold positions instead of values."""


def _nodes(parts: list, edges: list, globals_: list) -> set:
    return {*(n for p in parts for n in p), *(n for e in edges for n in e.nodes), *globals_}


def _categories(name: str, value: object, allowed: set[str], depths: int | None = None):
    """None, or category names (a list of ``depths`` lists of them when ``depths`` is given)."""
    if value is None:
        return None
    shape = (f"a list of agent_obsk + 1 = {depths} lists of category names" if depths
             else "a list of category names")
    groups = value if depths else [value]
    if (
        isinstance(value, (str, bytes))
        or not isinstance(value, (list, tuple))
        or (depths is not None and len(value) != depths)
        or any(isinstance(g, (str, bytes)) or not isinstance(g, (list, tuple)) for g in groups)
    ):
        raise ValueError(f"{name} must be None or {shape}; got {value!r}")
    for group in groups:
        for category in group:
            if not isinstance(category, str) or category not in allowed:
                hint = did_you_mean(category, allowed) if isinstance(category, str) else ""
                raise ValueError(
                    f"{name}: unknown category {category!r}.{hint} "
                    f"Valid categories: {', '.join(sorted(allowed))}."
                )
    return [list(g) for g in value] if depths else tuple(value)


def _import_gymnasium_robotics() -> Any:
    """``gymnasium_robotics``, imported without the notice it prints to stderr on import about
    its Adroit environments' rewards (``farama_notifications``), which no MaMuJoCo task uses;
    anything else it prints passes through."""
    printed = io.StringIO()
    with contextlib.redirect_stderr(printed):
        import gymnasium_robotics
    text = printed.getvalue()
    try:
        from farama_notifications import notifications
    except ImportError:
        notifications = {}
    notice = notifications.get("gymnasium_robotics", {}).get(gymnasium_robotics.__version__)
    if notice:
        text = text.replace(notice + "\n", "")
    sys.stderr.write(text)
    return gymnasium_robotics


def _check_engine() -> None:
    """Refuse versions other than the pinned ones (see "Engine" in the module docstring)."""
    gymnasium_robotics = _import_gymnasium_robotics()
    import mujoco

    found = {"gymnasium_robotics": gymnasium_robotics.__version__, "mujoco": mujoco.__version__}
    if found["gymnasium_robotics"] != ENGINE["gymnasium_robotics"] or not _is_minor(
        found["mujoco"], ENGINE["mujoco"]
    ):
        raise ImportError(
            f"mamujoco needs gymnasium-robotics {ENGINE['gymnasium_robotics']} and mujoco "
            f"{ENGINE['mujoco']}.x; found gymnasium-robotics {found['gymnasium_robotics']}, "
            f"mujoco {found['mujoco']}. From MuJoCo 3.6 on MjData.ten_J is stored sparse, which "
            "gymnasium-robotics 1.4.2 reads as a dense matrix (CoupledHalfCheetah would observe "
            "the wrong tendon-Jacobian entries), and MuJoCo 4 changes trajectories. Install the "
            "supported versions with: pip install 'ro-bench[mujoco]'"
        )


def _is_minor(version: str, minor: str) -> bool:
    return version.split(".")[:2] == minor.split(".")


__all__ = ["AGENT_CONFS", "MaMuJoCo"]
