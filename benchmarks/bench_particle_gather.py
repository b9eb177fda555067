"""Speed of the Particle Gather kernel against the same scenario on mpe2's own engine.

Run: ``.venv/bin/python benchmarks/bench_particle_gather.py``

Env-steps per second, every episode 25 steps with its reset included, on pre-drawn actions:
- ro-bench's batched kernel at B = 1, 1024 and 16,384 (B env-steps per call);
- its PettingZoo face (``ro_bench.make``);
- the mpe2 build of the same scenario (``ro_bench.testing.mpe2_particle_gather``) as a PettingZoo
  parallel env, the way mpe2's own scenarios are used.
"""

from __future__ import annotations

import numpy as np
from pettingzoo.utils.env_logger import EnvLogger

import ro_bench
from _timing import rates
from ro_bench.testing import mpe2_particle_gather

STEPS = 25


def episode_stepper(env, actions):
    """One call = one step of a PettingZoo env, resetting it whenever its episode has ended."""
    count = iter(range(10**12))

    def step():
        if not env.agents:
            env.reset()
        return env.step(actions[next(count) % len(actions)])

    return step


def main() -> None:
    EnvLogger.suppress_output()
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (1000, 4)).astype(np.float32)
    ours = ro_bench.make("particle_gather")
    ours.reset(seed=0)
    ours_actions = [dict(zip(ours.possible_agents, ai[:, None])) for ai in a]
    mpe2 = mpe2_particle_gather.parallel_env()
    mpe2.reset(seed=0)
    mpe2_actions = [
        {"particle_0": mpe2_particle_gather.mpe2_action(ai[0], ai[1]),
         "particle_1": mpe2_particle_gather.mpe2_action(ai[2], ai[3])} for ai in a
    ]
    fns = {"mpe2": episode_stepper(mpe2, mpe2_actions), "face": episode_stepper(ours, ours_actions)}
    base = rates(fns, calls=5 * STEPS * 40)
    print("| env | B | env-steps/s | vs mpe2 |")
    print("|---|---|---|---|")
    print(f"| mpe2 parallel env | 1 | {base['mpe2']:,.0f} | 1x |")
    print(f"| ro_bench.make (PettingZoo face) | 1 | {base['face']:,.0f} | "
          f"{base['face'] / base['mpe2']:,.1f}x |")
    for b in (1, 1024, 16_384):
        vec = ro_bench.make_vec("particle_gather", num_envs=b)
        vec.reset(seed=0)
        u = rng.uniform(-1, 1, (b, 4, 1)).astype(np.float32)
        r = rates({"kernel": lambda: vec.step(u)}, calls=STEPS * max(1, 4096 // b), rounds=5)
        steps = r["kernel"] * b
        print(f"| ro_bench.make_vec (batched kernel) | {b:,} | {steps:,.0f} | "
              f"{steps / base['mpe2']:,.0f}x |")


if __name__ == "__main__":
    main()
