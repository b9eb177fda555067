"""The off-policy base of the zoo: what every replay-based learner does the same way.

An algorithm's file keeps its own config fields, networks, losses, ``act`` and ``gradient_step``;
``OffPolicyAgent`` owns the rest, once. Its part that is not about replay (seeding, the action
box, save/load) is ``TorchAgent``, which the on-policy base (``on_policy.py``) shares:

- **Config.** ``ReplayConfig`` declares the fields every off-policy method has (budget, critic
  sizes and rate, discount, targets, replay, schedule, threads) with their help and checks;
  ``OffPolicyConfig`` adds ``learning_starts`` and ``reward_scale``. A method changes a default by
  declaring the field again (``gamma: float = 0.99``); its help stays the base's.
- **Seeding.** ``torch.set_num_threads``, ``seed_everything(seed)`` (weight initialisation draws
  from torch's global generator), and ``stream(k)``: the ``k``-th number of
  ``SeedSequence(seed)``, so that each generator (exploration, replay, update noise) has a seed of
  its own.
- **Actions.** ``box`` maps actions in [-1, 1] to the env's box (``act``) and back (``observe``).
- **Replay.** ``make_buffer(fields, stream)`` allocates the fields a method replays, of the
  standard shapes below; ``observe`` stores them (the team reward and done flag once per env)
  and counts the update rounds due.
- **Schedule.** One update round per ``update_every`` env steps, from ``learning_starts`` stored
  transitions on; each round is ``updates_per_step`` gradient steps, run by ``update()``.
- **Save / load.** The attributes named in ``saved`` (modules, optimizers, generators, tensors,
  or lists of modules and optimizers), the buffers and the counters, weights only:
  ``networks.pt`` (``torch.load(weights_only=True)``), one ``.npz`` per buffer and
  ``progress.json`` with the counters and the global random states. ``load`` refuses a
  directory whose contents are not this agent's.

Replayed fields: ``obs [n, obs_dim]``, ``state [state_dim]``, ``actions [n, act_dim]`` (in
[-1, 1]), ``reward []`` (the team's), ``next_obs``, ``next_state`` and ``terminated []``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ro_bench.agents import EnvSpaces, Transitions
from ro_bench.configs import documented
from ro_bench.params import integer, real
from ro_bench.search import BATCH_SIZE, HIDDEN_UNITS, LEARNING_RATE, REWARD_SCALE, TAU
from ro_bench_zoo.common.replay_buffer import ReplayBuffer
from ro_bench_zoo.common.seeding import rng_state, seed_everything, set_rng_state
from ro_bench_zoo.common.spaces import ActionBox
from ro_bench_zoo.common.torch_files import load_torch, save_torch


@dataclass(frozen=True)
class ReplayConfig:
    """The settings every off-policy method of the zoo has; defaults are the benchmark paper's
    (App. F.2) where it gives them."""

    total_steps: int = documented(5000,
        "the training budget in env steps; schedules that span training are laid out over it "
        "(the harness sets it to the protocol's budget)")
    critic_hidden: tuple[int, ...] = documented((100, 100),
        "hidden widths of the critic MLPs (ReLU)",
        search=HIDDEN_UNITS)
    critic_lr: float = documented(1e-3, "Adam learning rate of the critics",
        search=LEARNING_RATE)
    gamma: float = documented(0.95, "discount")
    tau: float = documented(0.01,
        "Polyak rate of the target networks per gradient step",
        search=TAU)
    batch_size: int = documented(512,
        "replayed transitions per gradient step",
        search=BATCH_SIZE)
    buffer_size: int = documented(1_000_000,
        "replay capacity (never more than total_steps is allocated)")
    update_every: int = documented(1, "env steps between update rounds")
    updates_per_step: int = documented(1,
        "gradient steps per update round")
    torch_threads: int = documented(1,
        "torch.set_num_threads at construction (process-wide); 0 leaves it alone. Results repeat "
        "bit for bit only at the same thread count")

    def __post_init__(self) -> None:
        for name in ("total_steps", "batch_size", "buffer_size", "update_every",
                     "updates_per_step"):
            integer(name, getattr(self, name), low=1)
        integer("torch_threads", self.torch_threads, low=0)
        real("gamma", self.gamma, low=0.0, high=1.0)
        real("tau", self.tau, low=0.0, high=1.0)
        real("critic_lr", self.critic_lr, low=0.0, low_open=True)
        check_widths("critic_hidden", self.critic_hidden)


@dataclass(frozen=True)
class OffPolicyConfig(ReplayConfig):
    """``ReplayConfig`` with a warm-up in env steps and a reward scale."""

    learning_starts: int = documented(1,
        "env steps stored before the first update round")
    reward_scale: float = documented(1.0, "rewards are multiplied by this",
        search=REWARD_SCALE)

    def __post_init__(self) -> None:
        super().__post_init__()
        integer("learning_starts", self.learning_starts, low=1)
        real("reward_scale", self.reward_scale)


def check_widths(name: str, widths: tuple[int, ...]) -> None:
    """Hidden layer widths: integers >= 1 (an empty tuple is a linear map)."""
    for width in widths:
        integer(f"every width of {name}", width, low=1)


def update_rounds(before: int, after: int, learning_starts: int, every: int) -> int:
    """The update rounds due when the env steps observed go from ``before`` to ``after``: one at
    each multiple of ``every`` in ``(before, after]`` that is at least ``learning_starts``."""
    if after < learning_starts:
        return 0
    return after // every - max(before, learning_starts - 1) // every


class TorchAgent:
    """Seeding, action box and save/load of a zoo agent (see the module docstring); the
    ``buffers`` it saves are any objects with ``save(path)`` and ``load(path)``."""

    config_class: ClassVar[type]
    saved: ClassVar[tuple[str, ...]] = ()  # modules, optimizers, generators, tensors, ints

    def __init__(self, config: Any, spaces: EnvSpaces, seed: int) -> None:
        self.config = config
        self.spaces = spaces
        self.box = ActionBox.of(spaces, type(self).__name__)
        self.n, self.act_dim = self.box.low.shape
        self.obs_dim = int(np.prod(spaces.observation_space.shape))
        self.state_dim = int(np.prod(spaces.state_space.shape))
        if config.torch_threads:
            torch.set_num_threads(config.torch_threads)
        seed_everything(seed)
        self._streams = np.random.SeedSequence(seed).generate_state(8)
        self.buffers: dict[str, Any] = {}
        self.steps = 0  # env steps observed

    # --------------------------------------------------------------------------- seeding
    def stream(self, k: int) -> int:
        """The seed of this agent's ``k``-th generator (0 <= k < 8)."""
        return int(self._streams[k])

    def generator(self, k: int) -> torch.Generator:
        """A torch generator seeded with ``stream(k)``."""
        return torch.Generator().manual_seed(self.stream(k))

    @staticmethod
    def adam(net: nn.Module, lr: float) -> torch.optim.Adam:
        return torch.optim.Adam(net.parameters(), lr=lr, fused=True)  # fused: 4x cheaper here

    # ------------------------------------------------------------------------ save / load
    COUNTERS: ClassVar[tuple[str, ...]] = ("steps",)

    def save(self, path: Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        tensors, counters = {}, {name: getattr(self, name) for name in self.COUNTERS}
        for name in self.saved:
            value = getattr(self, name)
            if isinstance(value, int):
                counters[name] = value
            else:
                tensors[name] = _state_of(value)
        save_torch(path / "networks.pt", tensors)
        for name, buffer in self.buffers.items():
            buffer.save(path / f"{name}.npz")
        progress = {"counters": counters, "global_rngs": rng_state()}
        (path / "progress.json").write_text(json.dumps(progress))

    def load(self, path: Path) -> None:
        path = Path(path)
        tensors = load_torch(path / "networks.pt")
        progress = json.loads((path / "progress.json").read_text())
        counters = progress.get("counters", {})
        found = sorted({*tensors, *counters})
        expected = sorted({*self.saved, *self.COUNTERS})
        if found != expected:
            raise ValueError(f"{path} holds the state of another agent: {found}, where "
                             f"{type(self).__name__} saves {expected}")
        for name in self.saved:
            if name not in counters and _restore(getattr(self, name), tensors[name]):
                setattr(self, name, tensors[name])
        for name, value in counters.items():
            setattr(self, name, value)
        for name, buffer in self.buffers.items():
            buffer.load(path / f"{name}.npz")
        set_rng_state(progress["global_rngs"])


def _state_of(value: Any) -> Any:
    """What ``save`` writes of a saved attribute: a state dict, a generator's state, a list of
    these, or the tensor (or None) itself."""
    if isinstance(value, (nn.Module, torch.optim.Optimizer)):
        return value.state_dict()
    if isinstance(value, torch.Generator):
        return value.get_state()
    if isinstance(value, list):
        return [_state_of(v) for v in value]
    return value


def _restore(value: Any, state: Any) -> bool:
    """Load ``state`` into ``value`` in place; False where ``value`` is a tensor (or None), which
    the caller replaces."""
    if isinstance(value, (nn.Module, torch.optim.Optimizer)):
        value.load_state_dict(state)
    elif isinstance(value, torch.Generator):
        value.set_state(state)
    elif isinstance(value, list):
        if len(value) != len(state):
            raise ValueError(f"a saved list holds {len(state)} entries where this agent has "
                             f"{len(value)}")
        for v, s in zip(value, state):
            _restore(v, s)
    else:
        return True
    return False


class OffPolicyAgent(TorchAgent):
    """``TorchAgent`` with replay and the update schedule of an off-policy agent; a subclass
    builds its networks after ``super().__init__`` and implements ``act`` and
    ``gradient_step``."""

    COUNTERS: ClassVar[tuple[str, ...]] = ("steps", "pending_rounds", "gradient_steps")

    def __init__(self, config: Any, spaces: EnvSpaces, seed: int) -> None:
        super().__init__(config, spaces, seed)
        self.pending_rounds = 0  # update rounds due and not yet done
        self.gradient_steps = 0

    # ---------------------------------------------------------------------------- replay
    def replay_shapes(self) -> dict[str, tuple[int, ...]]:
        n, o, s = self.n, self.obs_dim, self.state_dim
        return {"obs": (n, o), "state": (s,), "actions": (n, self.act_dim), "reward": (),
                "next_obs": (n, o), "next_state": (s,), "terminated": ()}

    def make_buffer(self, fields: tuple[str, ...], stream: int, capacity: int | None = None,
                    name: str = "replay") -> ReplayBuffer:
        """A replay buffer of ``fields`` (see the module docstring), sampling with
        ``stream(stream)``, holding ``capacity`` transitions (default: the buffer size, at most
        the budget); ``observe`` fills it, ``save`` writes it as ``<name>.npz``."""
        if capacity is None:
            capacity = min(self.config.buffer_size, self.config.total_steps)
        shapes = self.replay_shapes()
        buffer = ReplayBuffer(capacity, {f: shapes[f] for f in fields},
                              {f: np.bool_ if f == "terminated" else np.float32 for f in fields},
                              seed=self.stream(stream))
        self.buffers[name] = buffer
        return buffer

    def replay_fields(self, t: Transitions) -> dict[str, np.ndarray]:
        """The batch ``t`` as the replayed fields, actions in [-1, 1]."""
        b = len(t.obs)
        return {
            "obs": np.asarray(t.obs, dtype=np.float32).reshape(b, self.n, -1),
            "state": np.asarray(t.state, dtype=np.float32).reshape(b, -1),
            "actions": self.box.to_unit(t.actions),
            "reward": np.asarray(t.reward, dtype=np.float32),
            "next_obs": np.asarray(t.next_obs, dtype=np.float32).reshape(b, self.n, -1),
            "next_state": np.asarray(t.next_state, dtype=np.float32).reshape(b, -1),
            "terminated": np.asarray(t.terminated, dtype=bool),
        }

    def observe(self, transitions: Transitions) -> None:
        fields = self.replay_fields(transitions)
        for buffer in self.buffers.values():
            buffer.add(**{name: fields[name] for name in buffer.shapes})
        before, self.steps = self.steps, self.steps + len(transitions.obs)
        self.pending_rounds += update_rounds(before, self.steps, self.config.learning_starts,
                                             self.config.update_every)

    def shared_by_copies(self) -> tuple[ReplayBuffer, ...]:
        """The replay buffers: ``act`` never reads or changes them, so copies of the agent taken
        to check it (``ro_bench.evaluation.acting_copy``) share them instead of copying them."""
        return tuple(self.buffers.values())

    # -------------------------------------------------------------------------- learning
    def update(self) -> dict[str, float]:
        """The update rounds due, ``updates_per_step`` gradient steps each; the metrics of the
        last one."""
        steps, self.pending_rounds = self.pending_rounds * self.config.updates_per_step, 0
        metrics: dict[str, float] = {}
        for _ in range(steps):
            self.gradient_steps += 1  # counts the step under way
            metrics = self.gradient_step()
        return metrics

    def gradient_step(self) -> dict[str, float]:
        raise NotImplementedError
