"""What every registered algorithm owes the harness, checked over the whole registry: it plays
every protocol's env (acts, learns, stays finite) with decentralized execution; the same seed
trains to the same state; a run resumed from a checkpoint continues exactly as one never
stopped; evaluating never changes training; update() returns named numbers. Each algorithm's
own maths is tested in its own file."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from ro_bench import algorithms  # noqa: E402
from ro_bench.agents import EnvSpaces  # noqa: E402
import ro_bench  # noqa: E402
from ro_bench.configs import override  # noqa: E402
from ro_bench import harness, protocols  # noqa: E402
from ro_bench.evaluation import acting_copy, is_decentralized  # noqa: E402

# One protocol per env: the others differ only in parameters.
ENV_PROTOCOLS = list({protocols.get(p).env_id: p for p in reversed(protocols.list())}.values())
SMALL = {"batch_size": 16, "policy_batch_size": 4, "particles": 8, "fixed_particles": 4,
         "update_every": 1,
         "value_samples": 4,
         "n_steps": 4}  # on-policy methods: an update at the 4th step of a short run
STEPS = 6


def small_config(config_cls: type, protocol: protocols.Protocol, spaces) -> object:
    names = {f.name for f in dataclasses.fields(config_cls)}
    values = {k: v for k, v in SMALL.items() if k in names}
    values |= {k: 2 for k in ("learning_starts", "warmup_steps") if k in names}
    if "warmup_fraction" in names:  # MMQ: uniform random actions for a share of the budget
        values["warmup_fraction"] = 2 / protocol.budget
    values |= harness.budget_fields(config_cls, protocol)
    if "actions" in names:  # the fixed agent: the centre of every action box
        values["actions"] = [0.0] * (spaces.n_agents * int(np.prod(spaces.action_spaces[0].shape)))
    return override(config_cls(), values)


@pytest.mark.parametrize("protocol_name", ENV_PROTOCOLS)
@pytest.mark.parametrize("algo", algorithms.names())
def test_algorithm_plays_protocol(algo: str, protocol_name: str) -> None:
    protocol = protocols.get(protocol_name)
    agent_cls, config_cls = algorithms.get(algo)
    env = ro_bench.make_vec(protocol.env_id, 2, **protocol.env_kwargs)
    spaces = EnvSpaces.from_vec(env)
    agent = agent_cls(small_config(config_cls, protocol, spaces), spaces, 0)
    obs, _ = env.reset(seed=0)
    for _ in range(STEPS):
        obs, _ = harness._train_step(agent, env, obs)
    actions = agent.act(obs, explore=False)
    assert actions.shape == (2, spaces.n_agents, *spaces.action_spaces[0].shape)
    assert np.isfinite(actions).all()
    assert is_decentralized(agent, obs, np.random.default_rng(0))


@pytest.mark.parametrize("algo", algorithms.names())
def test_algorithm_plays_agents_of_different_sizes(algo: str) -> None:
    """MaMuJoCo Humanoid 9|8: agents drive 9 and 8 actuators and observe different numbers of
    entries; the env pads both to the largest. Every algorithm trains on the padded spaces,
    through episode ends (3-step episodes: truncations, and terminations where it falls), and
    the padding is what the env promises: zeros in the observations, an 9th action component of
    agent 1 that moves nothing."""
    pytest.importorskip("gymnasium_robotics")
    kwargs = {"scenario": "Humanoid", "agent_conf": "9|8", "max_episode_steps": 3}
    protocol = protocols.Protocol("humanoid-9|8", 1, "mamujoco", kwargs, budget=1000,
                                  eval_every=1000, eval_episodes=2,
                                  metric="mean_episode_return", has_success=False)
    env = ro_bench.make_vec("mamujoco", 2, **kwargs)
    assert env.act_dims == (9, 8) and env.obs_dims[0] != env.obs_dims[1]
    spaces = EnvSpaces.from_vec(env)
    agent_cls, config_cls = algorithms.get(algo)
    agent = agent_cls(small_config(config_cls, protocol, spaces), spaces, 0)
    obs, _ = env.reset(seed=0)
    short = int(np.argmin(env.obs_dims))
    for _ in range(STEPS):
        obs, _ = harness._train_step(agent, env, obs)
        assert not obs[:, short, env.obs_dims[short]:].any()  # the padding is zeros
    actions = agent.act(obs, explore=False)
    assert actions.shape == (2, 2, 9) and np.isfinite(actions).all()
    assert is_decentralized(agent, obs, np.random.default_rng(0))
    moved = []
    for last in (-1.0, 1.0):  # agent 1's padded component, at both ends of its range
        twin = ro_bench.make_vec("mamujoco", 2, **kwargs)
        twin.reset(seed=5)
        padded = actions.copy()
        padded[:, 1, 8] = last
        moved.append(twin.step(padded)[0])
    np.testing.assert_array_equal(moved[0], moved[1])


@pytest.mark.parametrize("algo", algorithms.names())
def test_float_fields_refuse_infinite_and_nan_overrides(algo: str) -> None:
    _, config_cls = algorithms.get(algo)
    floats = [f.name for f in dataclasses.fields(config_cls)
              if isinstance(getattr(config_cls(), f.name), float)]
    if not floats:
        pytest.skip(f"{algo}'s config has no float field")
    for name in floats:
        for value in (float("inf"), -float("inf"), float("nan")):
            with pytest.raises(ValueError, match=f"{name} must be a finite number"):
                override(config_cls(), {name: value})


# ------------------------------------------------------------- determinism and exact resume
RUN_PROTOCOL = protocols.get("particle_gather")  # multi-step: bootstrapped targets, resets
RUN_STEPS = 10
# Settings under which an algorithm keeps other state than under its defaults, or executes
# otherwise; each runs the tests below as well. (SVNR's random topologies are registered
# algorithms, svnr-dag and svnr-sample1/2, so they are among the names.)
VARIANTS = {
    "maddpg": [{"critic_input": "state"}],
    "pr2": [{"level_k": 2, "value_target": "uniform"}],
    "rommeo": [{"prior_window": 0}],
    "mappo": [{"value_norm": False, "minibatches": 3, "feature_norm": False}],
    "sb3_ppo": [{"shared_policy": True}],
    "facmac": [{"mixer": "nonmonotonic"}],
}
CASES = [(algo, {}) for algo in algorithms.names()] + [
    (algo, overrides) for algo, variants in VARIANTS.items() for overrides in variants]
CASE_IDS = [algo + "".join(f"-{k}={v}" for k, v in o.items()) for algo, o in CASES]


def start(algo: str, seed: int, overrides: dict | None = None
          ) -> tuple[object, object, np.ndarray]:
    """An agent of ``algo`` with a small config and a batch of two Particle Gather envs."""
    agent_cls, config_cls = algorithms.get(algo)
    env = ro_bench.make_vec(RUN_PROTOCOL.env_id, 2, **RUN_PROTOCOL.env_kwargs)
    spaces = EnvSpaces.from_vec(env)
    config = override(small_config(config_cls, RUN_PROTOCOL, spaces), overrides or {})
    agent = agent_cls(config, spaces, seed)
    obs, _ = env.reset(seed=seed)
    return agent, env, obs


def run(agent, env, obs: np.ndarray, steps: int, evaluate: bool = False) -> tuple[np.ndarray, list]:
    """``steps`` training steps; the next observations and the trace of training: each step's
    exploring actions and update metrics (``evaluate``: an evaluation act after each step)."""
    trace = []
    act = agent.act

    def recording_act(o: np.ndarray, *, explore: bool) -> np.ndarray:
        actions = act(o, explore=explore)
        trace.append(actions.tolist())
        return actions

    agent.act = recording_act
    try:
        for _ in range(steps):
            obs, metrics = harness._train_step(agent, env, obs)
            trace.append(metrics)
            if evaluate:
                act(obs * 0.5, explore=False)
    finally:
        del agent.act
    return obs, trace


def saved_state(agent, directory: Path) -> dict:
    """Everything ``agent.save`` writes, read back as plain values (file bytes carry times)."""
    from ro_bench_zoo.common.torch_files import load_torch

    agent.save(directory)
    state = {}
    for file in sorted(directory.rglob("*")):
        key = file.relative_to(directory).as_posix()
        if file.suffix == ".pt":
            state[key] = _plain(load_torch(file))
        elif file.suffix == ".npz":
            with np.load(file, allow_pickle=False) as data:
                state[key] = {name: data[name].tolist() for name in data.files}
        elif file.suffix == ".json":
            state[key] = json.loads(file.read_text())
    return state


def _plain(tree: object) -> object:
    if isinstance(tree, dict):
        return {k: _plain(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_plain(v) for v in tree]
    return tree.tolist() if hasattr(tree, "tolist") else tree


@pytest.mark.parametrize("algo, overrides", CASES, ids=CASE_IDS)
def test_the_same_seed_trains_to_the_same_state(algo: str, overrides: dict, tmp_path) -> None:
    """Also: update() returns named numbers, and execution stays decentralized."""
    traces, states = [], []
    for i in range(2):
        agent, env, obs = start(algo, 3, overrides)
        obs, trace = run(agent, env, obs, RUN_STEPS)
        traces.append(trace)
        states.append(saved_state(agent, tmp_path / str(i)))
    assert traces[0] == traces[1] and states[0] == states[1]
    for metrics in (m for m in traces[0] if isinstance(m, dict)):
        assert all(isinstance(k, str) and "/" in k for k in metrics), metrics
        assert all(isinstance(v, float) and np.isfinite(v) for v in metrics.values()), metrics
    assert is_decentralized(agent, obs, np.random.default_rng(1))
    if algo != "fixed":  # the seed matters to every agent that draws random numbers
        other, env, obs = start(algo, 4, overrides)
        assert run(other, env, obs, RUN_STEPS)[1] != traces[0]


@pytest.mark.parametrize("algo, overrides", CASES, ids=CASE_IDS)
def test_a_resumed_run_continues_exactly(algo: str, overrides: dict, tmp_path) -> None:
    from ro_bench import checkpoint

    agent, env, obs = start(algo, 1, overrides)
    obs, _ = run(agent, env, obs, RUN_STEPS)
    checkpoint.save(tmp_path / "run", RUN_STEPS, {}, env, obs, agent)
    resumed, resumed_env, _ = start(algo, 99, overrides)  # everything must come from the files
    _, resumed_obs = checkpoint.load(tmp_path / "run", resumed_env, resumed)
    assert np.array_equal(obs, resumed_obs)
    _, trace = run(agent, env, obs, RUN_STEPS)
    _, resumed_trace = run(resumed, resumed_env, resumed_obs, RUN_STEPS)
    assert resumed_trace == trace
    assert saved_state(agent, tmp_path / "a") == saved_state(resumed, tmp_path / "b")


@pytest.mark.parametrize("algo, overrides", CASES, ids=CASE_IDS)
def test_evaluating_never_changes_training(algo: str, overrides: dict) -> None:
    if algo == "random":
        pytest.skip("random draws its training and evaluation actions from one generator: it "
                    "learns nothing, and its curves of record follow that order")
    traces = []
    for evaluate in (False, True):
        agent, env, obs = start(algo, 2, overrides)
        traces.append(run(agent, env, obs, RUN_STEPS, evaluate=evaluate)[1])
    assert traces[0] == traces[1]


@pytest.mark.parametrize("algo", algorithms.names())
def test_checking_copies_share_the_replay_buffers_and_copy_the_rest(algo: str) -> None:
    """The decentralization check acts on copies that share the replay buffers (up to 1M
    transitions on MaMuJoCo) and own copies of everything acting reads: weights, generators."""
    import torch

    agent, env, obs = start(algo, 0)
    run(agent, env, obs, 3)
    copied = acting_copy(agent)
    shared = agent.shared_by_copies() if hasattr(agent, "shared_by_copies") else ()
    for name, buffer in getattr(agent, "buffers", {}).items():  # shared exactly when named
        assert (copied.buffers[name] is buffer) == any(buffer is s for s in shared), name
    for name, value in vars(agent).items():
        if isinstance(value, torch.nn.Module):
            assert all(a.data_ptr() != b.data_ptr() for a, b in
                       zip(value.parameters(), getattr(copied, name).parameters())), name
        elif isinstance(value, (torch.Generator, np.random.Generator)):
            assert getattr(copied, name) is not value, name
