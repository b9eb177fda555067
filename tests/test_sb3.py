"""Stable-Baselines3 PPO trains on Particle Gather through SuperSuit, with no wrapper of ours.

Each of the four agents is one env of SuperSuit's vector env: independent learners sharing one
policy. SuperSuit resets the env without a seed. SB3's ``PPO(seed=...)`` would call
``VecEnv.seed``, which SuperSuit 3.11's ``ConcatVecEnv`` lacks, so a reproducible run is seeded
the ro-bench way instead: the env is reset once with a seed, and every later unseeded reset
continues that env's generator.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
supersuit = pytest.importorskip("supersuit")
sb3 = pytest.importorskip("stable_baselines3")

import torch  # noqa: E402
from stable_baselines3.common.utils import set_random_seed  # noqa: E402
from stable_baselines3.common.vec_env import VecMonitor  # noqa: E402

import ro_bench  # noqa: E402

pytestmark = [
    pytest.mark.usefixtures("restore_process_state"),
    # VecMonitor asks for render_mode through get_attr, which SuperSuit's ConcatVecEnv lacks.
    pytest.mark.filterwarnings("ignore:The `render_mode` attribute is not defined"),
]

STEPS = 512  # 2 PPO iterations x 64 steps x 4 agents: 5 whole episodes of 25 steps each


def train(seed: int | None):
    env = ro_bench.make("particle_gather")
    if seed is not None:
        env.reset(seed=seed)  # SuperSuit's unseeded resets continue this generator
    venv = supersuit.pettingzoo_env_to_vec_env_v1(env)
    venv = supersuit.concat_vec_envs_v1(venv, 1, num_cpus=0, base_class="stable_baselines3")
    venv = VecMonitor(venv)
    set_random_seed(seed or 0)
    torch.set_num_threads(1)
    model = sb3.PPO("MlpPolicy", venv, n_steps=64, batch_size=64, n_epochs=2, device="cpu")
    initial = {k: v.clone() for k, v in model.policy.state_dict().items()}
    model.learn(STEPS)
    return model, venv, initial


def test_ppo_trains_on_particle_gather_through_supersuit():
    model, venv, initial = train(seed=None)
    assert venv.num_envs == 4  # one per agent
    assert model.num_timesteps == STEPS
    episodes = list(model.ep_info_buffer)
    assert [e["l"] for e in episodes] == [25] * 5 * 4
    returns = np.array([e["r"] for e in episodes]).reshape(5, 4)
    assert (returns == returns[:, :1]).all()  # a team reward: the four agents' returns agree
    changed = [not torch.equal(v, initial[k]) for k, v in model.policy.state_dict().items()]
    assert any(changed)  # the policy learned something
    obs = venv.reset()
    actions, _ = model.predict(obs, deterministic=True)
    assert actions.shape == (4, 1)
    assert venv.action_space.contains(actions[0].astype(np.float32))
    assert np.all(np.abs(actions) <= 1)


def test_seeded_ppo_runs_replay():
    first, _, _ = train(seed=3)
    second, _, _ = train(seed=3)
    assert [i["r"] for i in first.ep_info_buffer] == [i["r"] for i in second.ep_info_buffer]
    for (name, a), b in zip(first.policy.state_dict().items(), second.policy.state_dict().values()):
        assert torch.equal(a, b), name
