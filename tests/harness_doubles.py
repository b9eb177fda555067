"""Test doubles for the harness, loaded the way external algorithms are: ``module:Class``.

Run as a script (``python harness_doubles.py OUT [--resume] [--record-samples N]``) it trains
``SlowRandom`` on the small ``test-particle_gather`` protocol, or with ``--record-samples N`` on the
small stateless ``test-max_of_three`` one recording ``N`` action samples at each evaluation, for
the kill-and-resume test.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np

from ro_bench_zoo.random_agent import RandomAgent, RandomConfig
from ro_bench import protocols

SMALL = protocols.Protocol("test-particle_gather", 1, "particle_gather", budget=1500,
                           eval_every=250, eval_episodes=8)
SMALL_GAME = protocols.Protocol("test-max_of_three", 1, "max_of_three", budget=1000,
                                eval_every=250, eval_episodes=100)
# A MaMuJoCo protocol in miniature: episodes of 20 steps, 4 evaluation episodes (8 at the end), a
# checkpoint every other evaluation, no success (no optimum).
SMALL_MUJOCO = protocols.Protocol(
    "test-mamujoco", 1, "mamujoco_halfcheetah_2x3", {"max_episode_steps": 20}, budget=80,
    eval_every=20, eval_episodes=4, final_eval_episodes=8, checkpoint_every=40,
    metric="mean_episode_return", has_success=False)
# Success on an env without an optimum: the harness must refuse it before training.
UNSCORABLE = protocols.Protocol("test-mamujoco-unscorable", 1, "mamujoco_halfcheetah_2x3",
                                {"max_episode_steps": 20}, budget=40, eval_every=20,
                                eval_episodes=2, metric="mean_episode_return")
# Max of Three with a checkpoint every other evaluation.
SPARSE_CHECKPOINTS = protocols.Protocol("test-max_of_three-sparse", 1, "max_of_three",
                                        budget=1000, eval_every=250, eval_episodes=10,
                                        checkpoint_every=500)


# Two games without RO, the learning checks of the general-purpose methods (MAPPO, SB3 PPO, COMIX,
# FACMAC); each method of the zoo should solve the one that suits its policy class:
# - COORDINATION, a Climbing variant with no penalties: action 0 is every agent's best response
#   to a uniformly random partner and the optimum (11). Its payoff is flat within each third of
#   the action interval, so a stochastic policy's likelihood-ratio gradient climbs it; a
#   deterministic policy's gradient through a critic sees no slope there.
# - ONE_BOWL, Max of Two with the optimal bowl 10 wide (s2 = 10): f2 >= 5.5 everywhere in the
#   box while f1 <= 0, so the team reward is one smooth concave bowl with its peak, 10, at (5, 5).
COORDINATION = protocols.Protocol(
    "test-coordination", 1, "matrix_game",
    {"payoff": [[11, 0, 0], [0, 7, 0], [0, 0, 5]], "continuous_actions": True},
    eval_episodes=100)
ONE_BOWL = protocols.Protocol("test-one-bowl", 1, "max_of_two", {"s2": 10.0}, eval_episodes=100)


def train_without_ro(algo: str, protocol: protocols.Protocol, seed: int, out):
    """``algo``'s RunResult on ``protocol`` (COORDINATION or ONE_BOWL) with its defaults and the
    protocol's 5000 steps."""
    from ro_bench.harness import train

    if protocol.name not in protocols.list():
        protocols.register(protocol)
    return train(algo, protocol.name, seed, out, progress=False)


def register_small_protocol() -> None:
    for protocol in (SMALL, SMALL_GAME, SMALL_MUJOCO, UNSCORABLE, SPARSE_CHECKPOINTS):
        if protocol.name not in protocols.list():
            protocols.register(protocol)


class Spy(RandomAgent):
    """A random agent that records how the harness calls it."""

    calls: list = []

    def act(self, obs: np.ndarray, *, explore: bool) -> np.ndarray:
        Spy.calls.append(("act", explore, obs.copy()))
        return super().act(obs, explore=explore)

    def observe(self, transitions) -> None:
        Spy.calls.append(("observe", transitions))

    def update(self) -> dict[str, float]:
        Spy.calls.append(("update",))
        return {}


@dataclass(frozen=True)
class SlowConfig:
    delay: float = field(default=0.002, metadata={"help": "seconds to sleep in each update"})


class SlowRandom(RandomAgent):
    """A random agent slow enough to be killed in the middle of a run."""

    config_class = SlowConfig

    def __init__(self, config: SlowConfig, spaces, seed: int) -> None:
        super().__init__(RandomConfig(), spaces, seed)
        self.config = config

    def update(self) -> dict[str, float]:
        time.sleep(self.config.delay)
        # a number that follows the run's saved state, so that a resumed run logs the same
        return {"charts/rng": float(self.rng.bit_generator.state["state"]["state"] % 1000)}


class Counting(RandomAgent):
    """A random agent whose ``update()`` reports how many times it was called."""

    def __init__(self, config: RandomConfig, spaces, seed: int) -> None:
        super().__init__(config, spaces, seed)
        self.updates = 0

    def update(self) -> dict[str, float]:
        self.updates += 1
        return {"charts/updates": float(self.updates), "calls": 1.0}


class Centralized(RandomAgent):
    """Every agent plays the mean of all agents' first observation feature: not decentralized."""

    def act(self, obs: np.ndarray, *, explore: bool) -> np.ndarray:
        mean = obs[..., :1].mean(axis=1, keepdims=True)
        return np.clip(np.repeat(mean, obs.shape[1], axis=1), -1, 1).astype(np.float32)


if __name__ == "__main__":
    from pathlib import Path

    from ro_bench import harness

    register_small_protocol()
    record = 0
    if "--record-samples" in sys.argv:
        record = int(sys.argv[sys.argv.index("--record-samples") + 1])
    harness.train("harness_doubles:SlowRandom", (SMALL_GAME if record else SMALL).name, 3,
                  Path(sys.argv[1]), resume="--resume" in sys.argv, progress=False,
                  record_samples=record)
