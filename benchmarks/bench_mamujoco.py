"""Speed of the MaMuJoCo envs against gymnasium-robotics' own ``parallel_env``.

Run: ``cd benchmarks && ../.venv/bin/python bench_mamujoco.py`` (needs the ``mujoco`` extra).

For each named MaMuJoCo id, env steps per second on the same pre-drawn actions (in range, so
nothing is clipped) of:

- the PettingZoo face (``ro_bench.make``, dict actions) against one ``parallel_env``;
- the batched kernel at B = 8 (``ro_bench.make_vec``, one ``[8, n_agents, act_dim]`` array per
  step) against 8 ``parallel_env`` stepped one after the other.

Episodes end and restart as they do in training (Ant and Walker2d fall under random actions).
Both sides run the very same trajectories: each gymnasium-robotics env gets the reset seeds our
row draws (see ``mamujoco``'s seeding) and that row's actions. This matters because MuJoCo's cost
per step depends on the contacts. Overhead = 1 - ours / theirs; negative means ours is faster.
The script works in a temporary directory, where MuJoCo may write its MUJOCO_LOG.TXT.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator

import numpy as np
from gymnasium_robotics import mamujoco_v1

import ro_bench
from _timing import rates

ENVS = {
    "mamujoco_halfcheetah_2x3": ("HalfCheetah", "2x3"),
    "mamujoco_coupled_halfcheetah_1p1": ("CoupledHalfCheetah", "1p1"),
    "mamujoco_ant_2x4": ("Ant", "2x4"),
    "mamujoco_walker2d_2x3": ("Walker2d", "2x3"),
}
B = 8
DRAWN = 1000  # pre-drawn joint actions, used in turn


def sub_seeds(seed: int) -> Iterator[int]:
    """Reset seeds an env seeded ``seed`` gives its gymnasium-robotics env, episode by episode."""
    rng = np.random.default_rng(seed)
    while True:
        yield int(rng.integers(2**32))


def their_stepper(envs: list, actions: np.ndarray) -> Callable[[], object]:
    """One call = one step of each ``parallel_env`` (``actions[k, b]`` for env ``b``)."""
    agents = envs[0].possible_agents
    per_env = [[dict(zip(agents, a[b])) for a in actions] for b in range(len(envs))]
    seeds = [sub_seeds(b) for b in range(len(envs))]
    for env, seed in zip(envs, seeds):
        env.reset(seed=next(seed))
    count = iter(range(10**12))

    def step():
        k = next(count) % DRAWN
        for env, drawn, seed in zip(envs, per_env, seeds):
            out = env.step(drawn[k])
            if not env.agents:
                env.reset(seed=next(seed))
        return out

    return step


def face_stepper(face, actions: np.ndarray) -> Callable[[], object]:
    drawn = [dict(zip(face.possible_agents, a[0])) for a in actions]
    face.reset(seed=0)
    count = iter(range(10**12))

    def step():
        out = face.step(drawn[next(count) % DRAWN])
        if not face.agents:
            face.reset()
        return out

    return step


def batched_stepper(vec, actions: np.ndarray) -> Callable[[], object]:
    vec.reset(seed=0)
    count = iter(range(10**12))
    return lambda: vec.step(actions[next(count) % DRAWN])


def measure(env_id: str, scenario: str, agent_conf: str) -> tuple[dict, dict]:
    face = ro_bench.make(env_id)
    shape = (DRAWN, B, *face.vec.action_shape)
    drawn = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
    single = rates({"ours": face_stepper(face, drawn),
                    "theirs": their_stepper([mamujoco_v1.parallel_env(scenario, agent_conf)],
                                            drawn)}, calls=2000)
    theirs = [mamujoco_v1.parallel_env(scenario, agent_conf) for _ in range(B)]
    batch = rates({"ours": batched_stepper(ro_bench.make_vec(env_id, B), drawn),
                   "theirs": their_stepper(theirs, drawn)}, calls=300)
    return single, {k: v * B for k, v in batch.items()}  # env steps per second


def main() -> None:
    print("| env | face env steps/s | parallel_env | overhead "
          f"| B={B} env steps/s | {B} x parallel_env | overhead |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        for env_id, (scenario, agent_conf) in ENVS.items():
            single, batch = measure(env_id, scenario, agent_conf)
            print(f"| {env_id} | {single['ours']:,.0f} | {single['theirs']:,.0f} "
                  f"| {1 - single['ours'] / single['theirs']:+.1%} "
                  f"| {batch['ours']:,.0f} | {batch['theirs']:,.0f} "
                  f"| {1 - batch['ours'] / batch['theirs']:+.1%} |", flush=True)


if __name__ == "__main__":
    main()
