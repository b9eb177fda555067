"""The cost of one SVNR update against one MADDPG update, at the same batch size, in one run.

Both agents are built with their default configs (batch 512) on the same env, their replay
buffers filled with the same random transitions, and their ``gradient_step`` (one critic step, one
policy step, the target updates) timed in interleaved rounds, one torch thread each. The paper
reports SVNR at 2.2x MADDPG's wall time (H.5.4); our target is at most 1.5x.

    cd benchmarks && ../.venv/bin/python bench_update.py
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

import ro_bench
from _timing import rates
from ro_bench import algorithms, harness, protocols
from ro_bench.agents import EnvSpaces, Transitions
from ro_bench.configs import override

# One per env family: a protocol's name, or an env id (MaMuJoCo has no protocol yet).
TARGETS = ("max_of_three-s2=1.5", "particle_gather", "mamujoco_halfcheetah_2x3",
           "mamujoco_ant_2x4")
FILL = 2048  # random transitions in each replay buffer


def filled_agent(algo: str, target: str, values: dict | None = None) -> object:
    """``algo`` with its default config (and ``values`` over it) on ``target``, its replay
    holding ``FILL`` random transitions of one step of ``FILL`` envs, before its first update."""
    agent_cls, config_cls = algorithms.get(algo)
    if target in protocols.list():
        protocol = protocols.get(target)
        env = ro_bench.make_vec(protocol.env_id, FILL, **protocol.env_kwargs)
        budget = harness.budget_fields(config_cls, protocol)
    else:
        env, budget = ro_bench.make_vec(target, FILL), {}
    spaces = EnvSpaces.from_vec(env)
    config = override(config_cls(), budget | (values or {}) | _warm_up(config_cls))
    agent = agent_cls(config, spaces, 0)
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    low = np.stack([s.low for s in spaces.action_spaces])
    high = np.stack([s.high for s in spaces.action_spaces])
    actions = rng.uniform(low, high, size=(FILL, *low.shape)).astype(np.float32)
    state = env.state()
    next_obs, rewards, terminated, truncated, infos = env.step(actions)
    agent.observe(Transitions.from_step(
        obs=obs, state=state, actions=actions,
        rewards=rewards, next_obs=infos["final_obs"], next_state=infos["final_state"],
        terminated=terminated, truncated=truncated))
    return agent


def _warm_up(config_cls: type) -> dict[str, int]:
    """No update before the buffer is filled: learning_starts past FILL, where the config has it."""
    names = {f.name for f in dataclasses.fields(config_cls)}
    return {"learning_starts": FILL + 1} if "learning_starts" in names else {}


def main() -> None:
    torch.set_num_threads(1)
    print(f"{'protocol or env':<26} {'svnr updates/s':>15} {'maddpg updates/s':>17} "
          f"{'svnr/maddpg time':>17}")
    for name in TARGETS:
        svnr, maddpg = filled_agent("svnr", name), filled_agent("maddpg", name)
        r = rates({"svnr": svnr.gradient_step, "maddpg": maddpg.gradient_step}, calls=20)
        print(f"{name:<26} {r['svnr']:>15.1f} {r['maddpg']:>17.1f} "
              f"{r['maddpg'] / r['svnr']:>16.2f}x")


if __name__ == "__main__":
    main()
