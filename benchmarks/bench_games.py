"""Speed of the differential-game kernel against the raw numpy formula, and of the PettingZoo face.

Run: ``.venv/bin/python benchmarks/bench_games.py``

1. ``max_of_three`` batched ``step`` (action checks, reward, auto-reset, outputs) against the bare
   reward formula in numpy on the same pre-drawn float32 actions, at B = 1, 1024 and 65,536:
   joint actions per second, and the kernel's share of the formula's rate.
2. The PettingZoo face: env steps per second of ``reset`` + ``step`` (every episode is one step),
   beside a trivial pure-Python ``ParallelEnv`` doing the same loop.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

import ro_bench
from _timing import rates


def raw_max_of_three(u: np.ndarray) -> np.ndarray:
    """The paper's formula, written directly: r = max(g1, g2) for u of shape [B, 3]."""
    u = u.astype(np.float64)
    g1 = 0.8 * (-((u[:, 0] + 5) / 3) ** 2 - ((u[:, 1] + 5) / 3) ** 2 - ((u[:, 2] - 3) / 3) ** 2)
    g2 = 1.0 * (-((u[:, 0] - 7) / 1.5) ** 2 - ((u[:, 1] - 7) / 1.5) ** 2
                - ((u[:, 2] + 4) / 1.5) ** 2) + 10
    return np.maximum(g1, g2)


class TrivialEnv(ParallelEnv):
    """Three agents, one step, reward = sum of actions: the cheapest honest ParallelEnv."""

    metadata = {"name": "trivial"}

    def __init__(self):
        self.possible_agents = ["agent_0", "agent_1", "agent_2"]
        self._space = spaces.Box(-10, 10, (1,), np.float32)
        self._obs = np.zeros(1, np.float32)

    def action_space(self, agent):
        return self._space

    def reset(self, seed=None, options=None):
        self.agents = self.possible_agents[:]
        return {a: self._obs for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions):
        r = float(sum(float(a[0]) for a in actions.values()))
        agents, self.agents = self.agents, []
        return ({a: self._obs for a in agents}, {a: r for a in agents},
                {a: True for a in agents}, {a: False for a in agents}, {a: {} for a in agents})


def face_episodes(env) -> callable:
    """One call = one episode of ``env``: reset, then one step with pre-drawn actions."""
    rng = np.random.default_rng(0)
    actions = [{a: rng.uniform(-10, 10, 1).astype(np.float32) for a in env.possible_agents}
               for _ in range(1000)]
    count = iter(range(10**12))

    def episode():
        env.reset()
        return env.step(actions[next(count) % 1000])

    return episode


def main() -> None:
    print("| B | kernel joint actions/s | raw formula joint actions/s | kernel / formula |")
    print("|---|---|---|---|")
    for b in (1, 1024, 65_536):
        vec = ro_bench.make_vec("max_of_three", num_envs=b)
        vec.reset(seed=0)
        u = np.random.default_rng(0).uniform(-10, 10, (b, 3, 1)).astype(np.float32)
        fns = {"kernel": lambda: vec.step(u), "raw": lambda: raw_max_of_three(u[..., 0])}
        r = rates(fns, calls=max(20, 200_000 // b))
        kernel, raw = r["kernel"] * b, r["raw"] * b
        print(f"| {b:,} | {kernel:,.0f} | {raw:,.0f} | {kernel / raw:.0%} |")
    r = rates({"ours": face_episodes(ro_bench.make("max_of_three")),
               "trivial": face_episodes(TrivialEnv())}, calls=20_000)
    print()
    print("| PettingZoo env (reset + step per episode) | env steps/s |")
    print("|---|---|")
    print(f"| ro_bench.make('max_of_three') | {r['ours']:,.0f} |")
    print(f"| trivial pure-Python ParallelEnv | {r['trivial']:,.0f} |")


if __name__ == "__main__":
    main()
