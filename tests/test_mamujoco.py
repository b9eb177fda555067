"""MaMuJoCo: exact against gymnasium-robotics' own parallel_env, the tendon Jacobian against
independent references, partitions and layouts as documented, state, errors, and rendering."""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip(
    "gymnasium_robotics", reason="needs the mujoco extra: pip install 'ro-bench[mujoco]'"
)
import mujoco  # noqa: E402
from gymnasium_robotics import mamujoco_v1  # noqa: E402

import ro_bench  # noqa: E402
from ro_bench.envs.mamujoco import AGENT_CONFS, BUILD_OBS_SCENARIOS  # noqa: E402

CONFIGS = [(s, c) for s, confs in AGENT_CONFS.items() for c in confs]


@pytest.fixture(autouse=True)
def _mujoco_log_in_tmp(tmp_path, monkeypatch):
    """MuJoCo writes MUJOCO_LOG.TXT into the working directory on any warning."""
    monkeypatch.chdir(tmp_path)


def sub_seeds(seed: int):
    """The seeds a single env reset with ``seed`` gives its gymnasium env, episode after episode."""
    rng = np.random.default_rng(seed)
    while True:
        yield int(rng.integers(2**32))


def joint_names(vec) -> list[list[str]]:
    """Per agent, the joint each component of its action drives, read from the MuJoCo model."""
    model = vec._sims[0].model
    names = [[""] * d for d in vec.act_dims]
    width = max(vec.act_dims)
    for actuator, flat in enumerate(vec._action_index):
        names[flat // width][flat % width] = model.joint(model.actuator_trnid[actuator, 0]).name
    return names


# ----------------------------------------------------------- (a) exact against parallel_env
@pytest.mark.parametrize("scenario, agent_conf", CONFIGS)
def test_steps_equal_gymnasium_robotics_parallel_env(scenario, agent_conf):
    # CoupledHalfCheetah's TimeLimit is fixed at 1000 in gymnasium-robotics; the others take ours.
    limit = 1000 if scenario == "CoupledHalfCheetah" else 60
    extra = {} if scenario == "CoupledHalfCheetah" else {"max_episode_steps": limit}
    ours = ro_bench.make("mamujoco", scenario=scenario, agent_conf=agent_conf,
                         max_episode_steps=limit)
    theirs = mamujoco_v1.parallel_env(scenario, agent_conf, **extra)
    vec, agents = ours.vec, theirs.possible_agents
    assert ours.possible_agents == agents
    low, high = vec._low[0, 0], vec._high[0, 0]
    rng, seeds = np.random.default_rng(1), sub_seeds(7)
    steps, episodes, contact_clipped = 0, 0, False
    while steps < limit + 60:
        obs, _ = ours.reset(seed=7 if episodes == 0 else None)
        their_obs, _ = theirs.reset(seed=next(seeds))
        episodes += 1
        assert_obs_equal(vec, obs, their_obs)
        while ours.agents:
            raw = rng.uniform(3 * low, 3 * high, (len(agents), max(vec.act_dims)))
            raw = raw.astype(np.float32)
            clipped = np.clip(raw, low, high)  # what ours passes on after clipping and counting
            obs, rew, term, trunc, info = ours.step(dict(zip(agents, raw)))
            their = theirs.step({a: clipped[i, : vec.act_dims[i]] for i, a in enumerate(agents)})
            their_obs, their_rew, their_term, their_trunc, _ = their
            steps += 1
            assert_obs_equal(vec, obs, their_obs)
            np.testing.assert_array_equal(ours.state(), np.float32(theirs.state()))
            for a in agents:
                assert rew[a] == their_rew[a] and term[a] == their_term[a]
                assert trunc[a] == (their_trunc[a] and not their_term[a])  # ours: one or the other
            assert info[agents[0]]["clipped"] == int((raw[0] != clipped[0]).sum())
            if scenario == "Ant":
                data = theirs.single_agent_env.unwrapped.data
                contact_clipped |= bool(np.abs(data.cfrc_ext).max() > 1)
        assert ours.agents == theirs.agents == []
    assert steps >= limit  # an episode reached the time limit or terminated on the way
    if scenario == "Ant":
        assert contact_clipped  # Ant's [-1, 1] clip of contact forces was exercised


def assert_obs_equal(vec, ours: dict, theirs: dict) -> None:
    for i, agent in enumerate(theirs):
        dim = vec.obs_dims[i]
        np.testing.assert_array_equal(ours[agent][:dim], np.float32(theirs[agent]))
        assert not ours[agent][dim:].any()  # the padding is zeros


def test_batch_rows_replay_gymnasium_robotics_seeded_with_their_sub_seeds():
    """Row b of a batch seeded s is the gymnasium-robotics env reset with rng(s + b)'s draws."""
    vec = ro_bench.make_vec("mamujoco_walker2d_2x3", num_envs=3)
    obs, _ = vec.reset(seed=20)
    for b in range(3):
        theirs = mamujoco_v1.parallel_env("Walker2d", "2x3")
        their_obs, _ = theirs.reset(seed=next(sub_seeds(20 + b)))
        np.testing.assert_array_equal(obs[b], np.stack([np.float32(o) for o in their_obs.values()]))
    assert not np.array_equal(obs[0], obs[1])  # rows start apart


# ------------------------------------------------------ (b) the tendon Jacobian of CoupledHC
OBSERVED_COLUMNS = ["rootx0", "rootz0", "rootx1", "rootz1"]  # entries 6..9 of both agents


def tendon_references(model, qpos: np.ndarray, qvel: np.ndarray):
    """Dense tendon row d(ten_length)/d(qpos) at ``qpos`` two independent ways, without ten_J.

    Central differences of ten_length (h = 1e-6: rounding error ~ eps * L / h ~ 5e-10 with
    L ~ 2 m, truncation ~ h^2 * L''' ~ 1e-13), and the straight spatial tendon's closed form
    u . (J_t1 - J_t0) with u the unit vector from site t0 to t1 and J the sites' Jacobians
    (mj_jacSite). Every joint is a hinge or a slide, so qpos and qvel coordinates coincide.
    Also returns the tendon's length |x_t1 - x_t0| and velocity row . qvel.
    """
    def length(q):
        d = mujoco.MjData(model)
        d.qpos[:] = q
        mujoco.mj_kinematics(model, d)
        return np.linalg.norm(d.site_xpos[model.site("t1").id] - d.site_xpos[model.site("t0").id])

    h = 1e-6
    fd = np.array([(length(qpos + h * e) - length(qpos - h * e)) / (2 * h)
                   for e in np.eye(model.nq)])
    d = mujoco.MjData(model)
    d.qpos[:] = qpos
    mujoco.mj_kinematics(model, d)
    mujoco.mj_comPos(model, d)
    jac0, jac1 = np.zeros((3, model.nv)), np.zeros((3, model.nv))
    mujoco.mj_jacSite(model, d, jac0, None, model.site("t0").id)
    mujoco.mj_jacSite(model, d, jac1, None, model.site("t1").id)
    delta = d.site_xpos[model.site("t1").id] - d.site_xpos[model.site("t0").id]
    closed = delta / np.linalg.norm(delta) @ (jac1 - jac0)
    return fd, closed, np.linalg.norm(delta), closed @ qvel


def check_tendon_observation(obs: np.ndarray, model, qpos, qvel) -> None:
    fd, closed, length, velocity = tendon_references(model, qpos, qvel)
    columns = [model.joint(n).dofadr[0] for n in OBSERVED_COLUMNS]
    others = np.setdiff1d(np.arange(model.nv), columns)
    assert np.abs(closed[others]).max() <= 1e-12  # the four observed entries are the whole row
    for agent_obs in obs:
        # obs is float32: its rounding is at most 2^-24 relative; the closed form agrees with
        # MuJoCo to ~1e-16, so 2^-23 leaves a factor 2. Differences add 1e-9 at most.
        np.testing.assert_allclose(agent_obs[6:10], closed[columns], rtol=2**-23, atol=1e-14)
        np.testing.assert_allclose(agent_obs[6:10], fd[columns], rtol=2**-23, atol=1e-9)
        np.testing.assert_allclose(agent_obs[10], length, rtol=2**-23)
        np.testing.assert_allclose(agent_obs[11], velocity, rtol=2**-23, atol=1e-12)


def test_tendon_jacobian_observed_at_set_states_is_the_dense_jacobian():
    vec = ro_bench.make_vec("mamujoco_coupled_halfcheetah_1p1")
    vec.reset(seed=0)
    sim = vec._sims[0]
    model, rng = sim.model, np.random.default_rng(3)
    big = 0.0
    for _ in range(40):  # torsos far apart or close, high or low, tilted; joints anywhere
        qpos = sim.init_qpos + rng.uniform(-0.5, 0.5, model.nq)
        qpos[[9, 10]] += rng.uniform([-3.0, -0.3], [3.0, 0.3])  # cheetah 1's rootx, rootz
        qvel = rng.normal(0, 2, model.nv)
        sim.set_state(qpos, qvel)  # runs mj_forward: every derived quantity is at qpos
        obs = vec._observe()[0]
        check_tendon_observation(obs, model, qpos, qvel)
        big = max(big, np.abs(obs[:, 6:10]).max())
    assert big > 0.5  # the entries are not all near zero


def test_tendon_jacobian_observed_after_steps_is_the_dense_jacobian_one_substep_back():
    """After a step the observed Jacobian is the dense one at the state before the last substep
    (mj_step's forward pass precedes integration): replay the substeps on a copy to find it."""
    env = ro_bench.make("mamujoco_coupled_halfcheetah_1p1")
    env.reset(seed=5)
    sim = env.vec._sims[0]
    model, spec = sim.model, mujoco.mjtState.mjSTATE_INTEGRATION
    rng = np.random.default_rng(4)
    for _ in range(60):
        before = np.empty(mujoco.mj_stateSize(model, spec))
        mujoco.mj_getState(model, sim.data, before, spec)
        obs, *_ = env.step({a: rng.uniform(-1, 1, 6) for a in env.agents})
        replay = mujoco.MjData(model)
        mujoco.mj_setState(model, replay, before, spec)
        replay.ctrl[:] = sim.data.ctrl
        for _ in range(sim.frame_skip - 1):
            mujoco.mj_step(model, replay)
        qpos, qvel = replay.qpos.copy(), replay.qvel.copy()
        mujoco.mj_step(model, replay)
        np.testing.assert_array_equal(replay.qpos, sim.data.qpos)  # the replay is exact
        check_tendon_observation(np.stack(list(obs.values())), model, qpos, qvel)


def test_coupled_halfcheetah_observes_cheetah_1_joints_twice():
    """The documented gymnasium-robotics 1.4.2 issue: both agents observe cheetah 1's joints."""
    env = ro_bench.make("mamujoco_coupled_halfcheetah_1p1")
    env.reset(seed=0)
    obs, *_ = env.step({a: np.full(6, 0.5, np.float32) for a in env.agents})
    data, model = env.vec._sims[0].data, env.vec._sims[0].model
    for agent in env.agents:
        for entry, joint in [(0, "bfoot1"), (2, "bshin1"), (4, "bthigh1"), (16, "fthigh1")]:
            assert obs[agent][entry] == np.float32(data.qpos[model.joint(joint).qposadr[0]])
            assert obs[agent][entry + 1] == np.float32(data.qvel[model.joint(joint).dofadr[0]])


# --------------------------------------------------- (c) agents, spaces, partitions, layouts
NAMED = {
    "mamujoco_halfcheetah_2x3": (
        [["bthigh", "bshin", "bfoot"], ["fthigh", "fshin", "ffoot"]], 12, 17),
    "mamujoco_coupled_halfcheetah_1p1": (
        [[f"{j}0" for j in ("bthigh", "bshin", "bfoot", "fthigh", "fshin", "ffoot")],
         [f"{j}1" for j in ("bthigh", "bshin", "bfoot", "fthigh", "fshin", "ffoot")]], 28, 40),
    "mamujoco_ant_2x4": (
        [["hip_1", "ankle_1", "hip_2", "ankle_2"], ["hip_3", "ankle_3", "hip_4", "ankle_4"]],
        63, 105),
    "mamujoco_walker2d_2x3": (
        [["foot_joint", "leg_joint", "thigh_joint"],
         ["foot_left_joint", "leg_left_joint", "thigh_left_joint"]], 12, 17),
}


@pytest.mark.parametrize("env_id", NAMED)
def test_named_envs_agents_spaces_and_partitions(env_id):
    joints, obs_dim, state_dim = NAMED[env_id]
    env = ro_bench.make(env_id)
    assert env.possible_agents == ["agent_0", "agent_1"]
    for agent, own in zip(env.possible_agents, joints):
        act = env.action_space(agent)
        assert act.shape == (len(own),) and act.dtype == np.float32
        assert (act.low == -1).all() and (act.high == 1).all()
        assert env.observation_space(agent).shape == (obs_dim,)
    assert env.state_space.shape == (state_dim,) and env.state_space.dtype == np.float32
    assert joint_names(env.vec) == joints
    # Behaviourally: each action component reaches the actuator of the documented joint.
    env.reset(seed=0)
    model, data = env.vec._sims[0].model, env.vec._sims[0].data
    for i, agent in enumerate(env.possible_agents):
        for j, joint in enumerate(joints[i]):
            actions = {a: np.zeros(len(joints[k]), np.float32) for k, a in enumerate(env.agents)}
            actions[agent][j] = 0.5
            env.step(actions)
            (actuator,) = np.flatnonzero(data.ctrl)
            assert model.joint(model.actuator_trnid[actuator, 0]).name == joint
    assert ro_bench.spec(env_id).doc.startswith("MaMuJoCo")


@pytest.mark.parametrize(
    "env_id, layouts",
    [
        ("mamujoco_halfcheetah_2x3", [
            ["bfoot", "~bfoot", "bshin", "~bshin", "bthigh", "~bthigh", "fthigh",
             "rootz", "rooty", "~rootx", "~rootz", "~rooty"],
            ["ffoot", "~ffoot", "fshin", "~fshin", "fthigh", "~fthigh", "bthigh",
             "rootz", "rooty", "~rootx", "~rootz", "~rooty"]]),
        ("mamujoco_walker2d_2x3", [
            ["foot_joint", "~foot_joint", "leg_joint", "~leg_joint", "thigh_joint",
             "~thigh_joint", "thigh_left_joint", "rootz", "rooty", "~rootx", "~rootz", "~rooty"],
            ["foot_left_joint", "~foot_left_joint", "leg_left_joint", "~leg_left_joint",
             "thigh_left_joint", "~thigh_left_joint", "thigh_joint",
             "rootz", "rooty", "~rootx", "~rootz", "~rooty"]]),
    ],
)
def test_documented_observation_layouts(env_id, layouts):
    """``joint``: its qpos; ``~joint``: its qvel (the docstring's order)."""
    env = ro_bench.make(env_id)
    env.reset(seed=1)
    obs, *_ = env.step({a: np.full(3, 0.3, np.float32) for a in env.agents})
    model, data = env.vec._sims[0].model, env.vec._sims[0].data
    for agent, layout in zip(env.agents, layouts):
        expected = [data.qvel[model.joint(n[1:]).dofadr[0]] if n[0] == "~"
                    else data.qpos[model.joint(n).qposadr[0]] for n in layout]
        np.testing.assert_array_equal(obs[agent], np.float32(expected))


def test_ant_agent_0_layout():
    """Per joint (ankle_1, ankle_2, hip_1, hip_2): qpos, qvel, clipped cfrc_ext of its new bodies;
    then the neighbouring hips' qpos and the torso's qpos[2:7] and qvel[0:6] (the docstring)."""
    env = ro_bench.make("mamujoco_ant_2x4")
    env.reset(seed=1)
    model, data = env.vec._sims[0].model, env.vec._sims[0].data
    for _ in range(30):  # until the ant lands: contact forces beyond [-1, 1]
        obs, *_ = env.step({a: np.zeros(4, np.float32) for a in env.agents})
        if np.abs(data.cfrc_ext).max() > 1:
            break
    assert np.abs(data.cfrc_ext).max() > 1 and env.agents

    def joint(name):
        return [data.qpos[model.joint(name).qposadr[0]], data.qvel[model.joint(name).dofadr[0]]]

    def forces(*bodies):  # body ids: torso 1, legs 1 and 2 are ids 2-4 and 5-7
        return list(np.clip(data.cfrc_ext[list(bodies)], -1, 1).ravel())

    expected = (joint("ankle_1") + forces(2, 3, 4) + joint("ankle_2") + forces(5, 6, 7)
                + joint("hip_1") + forces(1) + joint("hip_2")
                + [data.qpos[model.joint(n).qposadr[0]] for n in ("hip_3", "hip_4")]
                + list(data.qpos[2:7]) + list(data.qvel[0:6]))
    np.testing.assert_array_equal(obs["agent_0"], np.float32(expected))
    assert [model.body(b).name for b in (1, 2, 3, 5, 6)] == [
        "torso", "front_left_leg", "aux_1", "front_right_leg", "aux_2"]


def test_padding_for_unequal_agents():
    vec = ro_bench.make_vec("mamujoco", 2, scenario="Humanoid", agent_conf="9|8")
    assert vec.obs_dims == (242, 170) and vec.act_dims == (9, 8)
    assert vec.observation_space.shape == (242,) and vec.action_shape == (2, 9)
    obs, _ = vec.reset(seed=0)
    assert not obs[:, 1, 170:].any() and obs[:, 1, :170].any()
    actions = np.zeros((2, 2, 9), np.float32)
    actions[:, 1, 8] = 0.4  # agent 1's padded component: checked, but drives nothing
    vec.step(actions)
    assert not vec._sims[0].data.ctrl.any()


def test_build_obs_scenarios_are_the_ones_documented():
    assert BUILD_OBS_SCENARIOS == {"Hopper", "Reacher"}
    assert not ro_bench.make_vec("mamujoco", scenario="Hopper", agent_conf="3x1")._gather
    assert ro_bench.make_vec("mamujoco", scenario="Ant", agent_conf="4x2")._gather


# ------------------------------------------------------------------------------- (d) state
def test_state_is_the_single_agent_observation_for_every_row():
    vec = ro_bench.make_vec("mamujoco_ant_2x4", num_envs=4)
    assert vec.state_space.shape == (105,) and vec.state_space.dtype == np.float32
    vec.reset(seed=2)
    rng = np.random.default_rng(0)
    for _ in range(40):  # Ant terminates often under random actions: auto-resets happen
        _, _, _, _, infos = vec.step(rng.uniform(-1, 1, (4, 2, 4)))
        state = vec.state()
        assert state.shape == (4, 105) and state.dtype == np.float32
        for b, sim in enumerate(vec._sims):
            np.testing.assert_array_equal(state[b], np.float32(sim._get_obs()))
        assert all(vec.state_space.contains(s) for s in infos["final_state"])


# ------------------------------------------------------------------------------ (e) errors
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"scenario": "HalfCheeta"}, r"scenario must be one of 'HalfCheetah', .*; got "
                                     r"'HalfCheeta'\. Did you mean 'HalfCheetah'"),
        ({"scenario": "Pusher", "agent_conf": "3p"}, r"scenario must be one of"),
        ({"scenario": 3}, r"scenario must be one of .*; got 3\.$"),
        ({"scenario": "Ant"}, r"agent_conf must be one of '2x4', '2x4d', '4x2' for scenario "
                              r"'Ant'; got '2x3'\. Did you mean '2x4'"),
        ({"agent_conf": "2x4"}, r"agent_conf must be one of '2x3', '6x1' for scenario "
                                r"'HalfCheetah'; got '2x4'\. Did you mean '2x3'"),
        ({"agent_obsk": -1}, r"agent_obsk must be an integer in \[0, 10\]; got -1"),
        ({"agent_obsk": 11}, r"agent_obsk must be an integer in \[0, 10\]"),
        ({"agent_obsk": 1.0}, r"agent_obsk must be an integer"),
        ({"local_categories": [["qpos"]]}, r"local_categories must be None or a list of "
                                           r"agent_obsk \+ 1 = 2 lists"),
        ({"local_categories": [["qpos"], ["qposs"]]}, r"local_categories: unknown category "
                                                      r"'qposs'\. Did you mean 'qpos'"),
        ({"global_categories": "qpos"}, r"global_categories must be None or a list"),
        ({"global_categories": ["ten_J"]}, r"global_categories: unknown category 'ten_J'"),
        ({"local_categories": [["cfrc_ext"], []], "global_categories": []},
         r"leave an agent of HalfCheetah 2x3 with nothing to observe"),
        ({"max_episode_steps": 0}, r"max_episode_steps must be an integer in \[1, 100000\]"),
    ],
)
def test_bad_kwargs_are_explained(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ro_bench.make("mamujoco", **kwargs)


def test_named_ids_fix_the_scenario():
    with pytest.raises(ValueError, match="no parameter 'scenario'"):
        ro_bench.make("mamujoco_ant_2x4", scenario="Walker2d")


@pytest.mark.parametrize("module, version", [(mujoco, "3.6.0"), (mujoco, "4.0.0"),
                                             (mujoco, "3.4.0")])
def test_unsupported_mujoco_is_refused_with_the_reason(monkeypatch, module, version):
    monkeypatch.setattr(module, "__version__", version)
    with pytest.raises(ImportError, match=rf"mujoco 3\.5\.x; found .*mujoco {version}\. .*ten_J"):
        ro_bench.make("mamujoco_coupled_halfcheetah_1p1")


def test_unsupported_gymnasium_robotics_is_refused(monkeypatch):
    import gymnasium_robotics

    monkeypatch.setattr(gymnasium_robotics, "__version__", "1.4.3")
    message = r"gymnasium-robotics 1\.4\.2 .* found gymnasium-robotics 1\.4\.3"
    with pytest.raises(ImportError, match=message):
        ro_bench.make("mamujoco")


# ------------------------------------------------------------------------ optimum and trap
def test_no_analytic_optimum_or_trap():
    env = ro_bench.make("mamujoco_halfcheetah_2x3")
    assert env.optimum is None and env.trap is None
    assert env.vec.optimum_reward is None and env.vec.trap_reward is None


# ---------------------------------------------------------------------------- rendering
@pytest.mark.parametrize(
    "environ, imported, chosen",
    [
        ({}, (), "egl"),  # headless: EGL renders offscreen
        ({"DISPLAY": ":0"}, (), None),  # GLFW, MuJoCo's default, can open a window
        ({"WAYLAND_DISPLAY": "wayland-0"}, (), None),
        ({"MUJOCO_GL": "osmesa"}, (), "osmesa"),  # the user's choice stands
        ({"PYOPENGL_PLATFORM": "glx"}, (), None),  # MuJoCo's EGL backend would refuse it
        ({}, ("mujoco",), None),  # too late: MuJoCo has chosen already
    ],
)
def test_headless_machines_render_through_egl(monkeypatch, environ, imported, chosen):
    from ro_bench.render import prefer_headless_mujoco_gl

    for name in ("MUJOCO_GL", "DISPLAY", "WAYLAND_DISPLAY", "PYOPENGL_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    for name in ("mujoco", "OpenGL"):
        if name not in imported:
            monkeypatch.delitem(sys.modules, name, raising=False)
    prefer_headless_mujoco_gl()
    if chosen == "egl" and ctypes.util.find_library("EGL") is None:
        chosen = None  # without EGL, MUJOCO_GL=egl would break import mujoco itself
    assert os.environ.get("MUJOCO_GL") == chosen


def test_no_opengl_backend_is_explained(monkeypatch):
    def no_context(*args, **kwargs):
        raise mujoco.FatalError("an OpenGL platform library has not been loaded")

    monkeypatch.setattr(mujoco, "Renderer", no_context)
    env = ro_bench.make("mamujoco_halfcheetah_2x3", render_mode="rgb_array")
    env.reset(seed=0)
    with pytest.raises(RuntimeError, match=r"MUJOCO_GL=.*apt-get install libegl1 libgl1-mesa-dri"):
        env.render()


def test_batch_rows_render_their_own_robots():
    vec = ro_bench.make_vec("mamujoco_ant_2x4", 2, render_mode="rgb_array")
    vec.reset(seed=0)
    for _ in range(10):
        vec.step(np.ones((2, *vec.action_shape)) * [[[1.0]], [[-1.0]]])
    first, second = vec.render()
    assert first.shape == second.shape == (480, 480, 3)
    assert not np.array_equal(first, second)
    face = ro_bench.make("mamujoco_ant_2x4", render_mode="rgb_array")
    face.reset(seed=1)  # row 1 of a batch seeded 0
    for _ in range(10):
        face.step({a: -np.ones(4, np.float32) for a in face.agents})
    np.testing.assert_array_equal(face.render(), second)


def test_making_a_task_prints_no_adroit_notice(tmp_path):
    """gymnasium-robotics prints a notice about its Adroit tasks' rewards when imported; no
    MaMuJoCo task is concerned, so making one prints nothing."""
    code = "import ro_bench; ro_bench.make_vec('mamujoco_walker2d_2x3', 1).reset(seed=0)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, check=True)
    assert done.stderr == "" and done.stdout == ""
