"""The cost of one update of each learner of the zoo against one MADDPG update, on the same batch
of 512 transitions, in one run.

Off-policy learners (SVNR, COMIX, FACMAC and MADDPG itself) are built with their default configs
at batch 512 (COMIX's and FACMAC's own default is 100) on the same env, their replay buffers
filled with the same 2048 random transitions, and their ``gradient_step`` (critic step, policy
step where the method has one, target updates) is timed. On-policy learners (MAPPO, SB3 PPO) are
given one rollout of 512 transitions (256 envs x 2 steps, their own exploring actions) and one
epoch over it in one mini-batch: one policy step and one value step on the 512 transitions, as
MADDPG's update is one critic and one policy step on 512. MAPPO's ``learn`` is timed on that
rollout, SB3 PPO's ``train()`` on its rollout buffers. All are timed in interleaved rounds, one
torch thread each. The paper reports SVNR at 2.2x MADDPG's wall time (H.5.4); our target is at
most 1.5x.

    cd benchmarks && ../.venv/bin/python bench_update.py [--algo svnr qmix ...] [--calls N]
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable

import numpy as np
import torch

import ro_bench
from _timing import rates
from ro_bench import algorithms, harness, protocols
from ro_bench.agents import EnvSpaces, Transitions
from ro_bench.configs import override

TARGETS = ("max_of_three-s2=1.5", "particle_gather", "mamujoco_cpu-halfcheetah_2x3",
           "mamujoco_cpu-ant_2x4")
COMPARED = ("svnr", "qmix", "facmac", "mappo", "sb3_ppo")
FILL = 2048  # random transitions in each off-policy replay buffer
BATCH = 512  # transitions in each update: the off-policy default batch, one on-policy rollout
ROLLOUT_ENVS, ROLLOUT_STEPS = 256, 2  # the on-policy rollout (SB3 needs two steps or more)
ON_POLICY = {"mappo": {"minibatches": 1}, "sb3_ppo": {"batch_size": BATCH}}


def make_env(target: str, num_envs: int) -> tuple[object, protocols.Protocol]:
    """``num_envs`` envs of the protocol ``target``, and the protocol."""
    protocol = protocols.get(target)
    return ro_bench.make_vec(protocol.env_id, num_envs, **protocol.env_kwargs), protocol


def filled_agent(algo: str, target: str, values: dict | None = None) -> object:
    """``algo`` with its default config (and ``values`` over it) on ``target``, its replay
    holding ``FILL`` random transitions of one step of ``FILL`` envs, before its first update."""
    agent_cls, config_cls = algorithms.get(algo)
    env, protocol = make_env(target, FILL)
    spaces = EnvSpaces.from_vec(env)
    budget = harness.budget_fields(config_cls, protocol)
    config = override(config_cls(), budget | (values or {}) | _warm_up(config_cls))
    agent = agent_cls(config, spaces, 0)
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    low = np.stack([s.low for s in spaces.action_spaces])
    high = np.stack([s.high for s in spaces.action_spaces])
    actions = rng.uniform(low, high, size=(FILL, *low.shape)).astype(np.float32)
    observe_step(agent, env, obs, actions)
    return agent


def observe_step(agent: object, env: object, obs: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """Step ``env`` with ``actions``, give ``agent`` the transitions; the next observations."""
    state = env.state()
    next_obs, rewards, terminated, truncated, infos = env.step(actions)
    agent.observe(Transitions.from_step(
        obs=obs, state=state, actions=actions, rewards=rewards, next_obs=infos["final_obs"],
        next_state=infos["final_state"], terminated=terminated, truncated=truncated))
    return next_obs


def _warm_up(config_cls: type) -> dict[str, int]:
    """No update before the buffer is filled: learning_starts past FILL, where the config has it."""
    names = {f.name for f in dataclasses.fields(config_cls)}
    return {"learning_starts": FILL + 1} if "learning_starts" in names else {}


def on_policy_update(algo: str, target: str) -> Callable[[], object]:
    """One update of the on-policy ``algo`` on one rollout of ``BATCH`` transitions of
    ``target``, in one epoch and one mini-batch, as a function to time."""
    agent_cls, config_cls = algorithms.get(algo)
    env, protocol = make_env(target, ROLLOUT_ENVS)
    values = harness.budget_fields(config_cls, protocol) | ON_POLICY[algo]
    config = override(config_cls(), values | {"n_steps": ROLLOUT_STEPS, "epochs": 1})
    agent = agent_cls(config, EnvSpaces.from_vec(env), 0)
    obs, _ = env.reset(seed=0)
    for _ in range(ROLLOUT_STEPS):
        obs = observe_step(agent, env, obs, agent.act(obs, explore=True))
    if algo == "mappo":
        rollout = {k: torch.from_numpy(v.copy()) for k, v in agent.rollout.arrays().items()}
        return lambda: agent.learn(rollout)
    pairs = list(zip(agent.models, agent.rollouts.buffers))

    def train() -> None:  # SB3's own update, on buffers that stay full
        for model, buffer in pairs:
            model.rollout_buffer = buffer
            model.train()
    return train


def update_fn(algo: str, target: str) -> Callable[[], object]:
    if algo in ON_POLICY:
        return on_policy_update(algo, target)
    return filled_agent(algo, target, {"batch_size": BATCH}).gradient_step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algo", nargs="+", default=list(COMPARED), choices=COMPARED)
    parser.add_argument("--protocol", nargs="+", default=list(TARGETS))
    parser.add_argument("--calls", type=int, default=20, help="updates timed in each round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{'protocol':<30} {'algorithm':<9} {'updates/s':>10} {'maddpg updates/s':>17} "
          f"{'time / maddpg':>14}")
    for name in args.protocol:
        fns = {"maddpg": update_fn("maddpg", name)} | {a: update_fn(a, name) for a in args.algo}
        r = rates(fns, args.calls, args.rounds)
        for algo in args.algo:
            print(f"{name:<30} {algo:<9} {r[algo]:>10.1f} {r['maddpg']:>17.1f} "
                  f"{r['maddpg'] / r[algo]:>13.2f}x")


if __name__ == "__main__":
    main()
