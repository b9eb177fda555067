"""How far the Table 2 grid's updates are from this machine's one-thread matrix-product speed.

For each entry of the Table 2 grid (the settings of ``leaderboards/entries.txt``) it measures one
``gradient_step`` on a replay of random transitions: its time (best of interleaved rounds, see
``_timing``) and its matrix-product FLOPs (``torch.profiler``, ``with_flops``: every ``mm``,
``bmm``, ``addmm`` and ``baddbmm`` of the forward and backward passes). It also measures, in the
same run, the best one-thread speed of the products these networks are made of (``[G, 512, 100]
x [G, 100, 100]``), and the harness's own env step on Particle Gather (the random agent: act, step,
observe). From these it prints what one run of each entry spends in updates, what it would spend
if every product ran at that best speed and nothing else cost anything (the floor), and the
grid's total over its 120 runs. The three Max of Three widths train the same networks, so
``max_of_three-s2=1.5`` stands for all three.

    cd benchmarks && ../.venv/bin/python bench_grid_floor.py
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

import ro_bench
from _timing import rates
from bench_update import filled_agent
from ro_bench import agents, algorithms, grid, harness, protocols

ALGORITHMS = ("svnr", "maddpg", "masql", "pr2", "rommeo", "mmq")
# Each protocol measured, and how many of the grid's protocols it stands for.
PROTOCOLS = {"max_of_three-s2=1.5": 3, "particle_gather": 1}
PLAN = Path(__file__).resolve().parent.parent / "leaderboards" / "entries.txt"


def product_peak() -> float:
    """Best GFLOP/s of one thread on the networks' hidden-layer products, batch 512."""
    best = 0.0
    for groups in (1, 3, 4):
        a, w = torch.randn(groups, 512, 100), torch.randn(groups, 100, 100)
        r = rates({"bmm": lambda: torch.bmm(a, w)}, calls=200)["bmm"]
        best = max(best, r * 2 * groups * 512 * 100 * 100 / 1e9)
    return best


def update_cost(algo: str, protocol: str, values: dict) -> tuple[float, float]:
    """(seconds, matrix-product FLOPs) of one gradient step of ``algo``'s entry on ``protocol``."""
    agent = filled_agent(algo, protocol, values)
    seconds = 1 / rates({algo: agent.gradient_step}, calls=5, rounds=5)[algo]
    with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
        for _ in range(3):
            agent.gradient_step()
    return seconds, sum(event.flops for event in prof.key_averages()) / 3


def updates_per_run(algo: str, protocol: str, values: dict) -> int:
    """Gradient steps in one run of the entry: one round of ``updates_per_step`` every
    ``update_every`` env steps of the protocol's budget."""
    _, config_cls = algorithms.get(algo)
    config = harness.make_config(config_cls, protocols.get(protocol), values)
    rounds = protocols.get(protocol).budget // getattr(config, "update_every", 1)
    return rounds * getattr(config, "updates_per_step", 1)


def env_step_seconds(protocol: str, steps: int = 5000) -> float:
    """The harness's step (act, env step, observe) with the random agent, on one env."""
    p = protocols.get(protocol)
    env = ro_bench.make_vec(p.env_id, 1, **p.env_kwargs)
    agent_cls, config_cls = algorithms.get("random")
    agent = agent_cls(config_cls(), agents.EnvSpaces.from_vec(env), 0)
    obs, _ = env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(steps):
        obs, _ = harness._train_step(agent, env, obs)
    return (time.perf_counter() - start) / steps


def main() -> None:
    torch.set_num_threads(1)
    plan = grid.read_plan(PLAN)
    peak = product_peak()
    print(f"one-thread peak on [G, 512, 100] x [G, 100, 100]: {peak:.1f} GFLOP/s\n")
    print(f"{'protocol':<20} {'algo':<7} {'MFLOP/upd':>10} {'ms/upd':>8} {'GFLOP/s':>8} "
          f"{'upd/run':>8} {'s/run':>7} {'floor s/run':>12}")
    now = floor = 0.0
    for protocol, weight in PROTOCOLS.items():
        for algo in ALGORITHMS:
            entry, = grid.select(plan, [algo], [protocol])
            values = entry.config()
            seconds, flops = update_cost(algo, protocol, values)
            n = updates_per_run(algo, protocol, values)
            runs = weight * len(protocols.get(protocol).seeds)
            now += runs * n * seconds
            floor += runs * n * flops / (peak * 1e9)
            print(f"{protocol:<20} {algo:<7} {flops / 1e6:>10.1f} {seconds * 1e3:>8.2f} "
                  f"{flops / seconds / 1e9:>8.1f} {n:>8} {n * seconds:>7.0f} "
                  f"{n * flops / (peak * 1e9):>12.0f}")
    env = env_step_seconds("particle_gather")
    loop = len(ALGORITHMS) * len(protocols.get("particle_gather").seeds) * \
        protocols.get("particle_gather").budget * env
    print(f"\nParticle Gather's harness step (random agent): {env * 1e6:.0f} us; "
          f"{loop:.0f} s over the grid's 30 runs")
    print(f"the grid's updates: {now:.0f} s now, {floor:.0f} s at the floor")
    for name, total in (("now", now + loop), ("floor", floor + loop)):
        print(f"the grid ({name}), updates and Particle Gather's env steps, on 2 cores: "
              f"{total / 2 / 60:.0f} min")


if __name__ == "__main__":
    main()
