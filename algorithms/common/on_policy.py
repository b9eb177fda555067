"""The on-policy base of the zoo: rollouts, GAE(lambda) and value normalization.

An on-policy method learns from the transitions its current policy produced, then throws them
away. Its file keeps its config fields, networks, losses, ``act`` and ``learn``;
``OnPolicyAgent`` owns the rest:

- **Seeding, action box, save/load**: ``TorchAgent`` (``off_policy.py``), shared with the
  off-policy methods: ``stream(k)`` and ``generator(k)``, ``box``, and weights-only save/load of
  the attributes named in ``saved``, the rollout (``rollout.npz``) and ``progress.json``.
- **Rollout.** ``observe`` appends each batch of transitions to a ``Rollout`` of ``n_steps`` env
  steps per env of the batch, ``[T, B, ...]`` in time order. When it is full, ``update()`` hands
  it to the method's ``learn`` and then empties it: every rollout trains exactly one update
  (several epochs over it) and is never seen again.
- **Advantages.** ``gae`` computes GAE(lambda) advantages and lambda-returns (Schulman et al.
  2016, "High-Dimensional Continuous Control Using Generalized Advantage Estimation", eq. 16)
  from each step's own next state, as Gymnasium defines the two ways an episode ends:
  ``terminated`` ends the return (no bootstrap), ``truncated`` cuts it (bootstrap from the value
  of the final state, which ``Transitions.next_state`` holds where an episode ended); either way
  the advantage does not run on into the next episode. A rollout's last step bootstraps from its
  own next state, so nothing has to be carried between rollouts.
- **Value normalization.** ``ValueNorm``: the running mean and variance of the returns that MAPPO
  (Yu et al. 2022, its Suggestion 1, "value normalization") trains its critic against.

Rollout fields, per env: ``obs [n, obs_dim]``, ``state [state_dim]``, ``actions [n, act_dim]``
(what the method says: MAPPO stores its unclipped Gaussian samples), ``reward []`` (the team's),
``next_state [state_dim]``, ``terminated []`` and ``truncated []``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from ro_bench.agents import EnvSpaces, Transitions
from ro_bench.atomic import atomic_write
from ro_bench.configs import documented
from ro_bench.params import integer, real
from ro_bench.search import HIDDEN_UNITS, LEARNING_RATE, Choice, Uniform
from ro_bench_zoo.common.off_policy import TorchAgent, check_widths

# Search spaces of the PPO fields (``ro-bench tune``), around the ranges the MAPPO paper's
# ablations (§5) and Stable-Baselines3's tuned zoo use.
CLIP = Uniform(0.05, 0.3)
GAE_LAMBDA = Uniform(0.9, 1.0)
EPOCHS = Choice((5, 10, 15))
ROLLOUT_STEPS = Choice((50, 100, 200, 400))
ENTROPY = Choice((0.0, 0.001, 0.01))


@dataclass(frozen=True)
class OnPolicyConfig:
    """The settings every on-policy method of the zoo has. The defaults are MAPPO's (its
    authors' code, ``onpolicy/config.py``); a method redeclares a field to change its default
    (``lr: float = 3e-4``) and keeps its help."""

    total_steps: int = documented(5000,
        "the training budget in env steps (the harness sets it to the protocol's budget)")
    n_steps: int = documented(200,
        "env steps per env of the batch in each rollout; one update per rollout",
        search=ROLLOUT_STEPS)
    gamma: float = documented(0.99, "discount")
    gae_lambda: float = documented(0.95, "GAE's lambda (0: one-step TD, 1: Monte Carlo)",
        search=GAE_LAMBDA)
    epochs: int = documented(15, "passes over each rollout",
        search=EPOCHS)
    clip: float = documented(0.2,
        "PPO's epsilon: the probability ratio is clipped to [1 - clip, 1 + clip]",
        search=CLIP)
    lr: float = documented(5e-4,
        "Adam learning rate of the policy (of policy and value where one optimizer has both)",
        search=LEARNING_RATE)
    entropy_coef: float = documented(0.01, "weight of the policy's entropy bonus",
        search=ENTROPY)
    max_grad_norm: float = documented(10.0,
        "clip each network's whole gradient to this norm; 0 turns clipping off")
    hidden: tuple[int, ...] = documented((64, 64),
        "hidden widths of the policy and value MLPs",
        search=HIDDEN_UNITS)
    torch_threads: int = documented(1,
        "torch.set_num_threads at construction (process-wide); 0 leaves it alone. Results repeat "
        "bit for bit only at the same thread count")

    def __post_init__(self) -> None:
        for name in ("total_steps", "n_steps", "epochs"):
            integer(name, getattr(self, name), low=1)
        integer("torch_threads", self.torch_threads, low=0)
        real("gamma", self.gamma, low=0.0, high=1.0)
        real("gae_lambda", self.gae_lambda, low=0.0, high=1.0)
        real("clip", self.clip, low=0.0, low_open=True)
        real("lr", self.lr, low=0.0, low_open=True)
        real("entropy_coef", self.entropy_coef, low=0.0)
        real("max_grad_norm", self.max_grad_norm, low=0.0)
        check_widths("hidden", self.hidden)


# ----------------------------------------------------------------------------- pure functions
def gae(rewards: Tensor, values: Tensor, next_values: Tensor, terminated: Tensor,
        truncated: Tensor, gamma: float, lam: float) -> tuple[Tensor, Tensor]:
    """GAE(lambda) advantages and lambda-returns of a rollout in time order.

    ``values [T, B, ...]`` are ``V(s_t)`` and ``next_values`` ``V(s'_t)`` of each step's own next
    state (the final state where an episode ended); ``rewards``, ``terminated`` and
    ``truncated`` are ``[T, B]``, broadcast over the trailing dimensions (e.g. agents).

        delta_t = r_t + gamma (1 - terminated_t) V(s'_t) - V(s_t)
        A_t = delta_t + gamma lam (1 - terminated_t or truncated_t) A_{t+1},   A_T = 0

    which is eq. 16's sum ``A_t = sum_l (gamma lam)^l delta_{t+l}`` cut at the episode's end.
    The returns are ``A_t + V(s_t)``, the critic's targets.
    """
    extra = values.dim() - rewards.dim()
    expand = (lambda x: x.reshape(*x.shape, *([1] * extra)))
    live = expand((~terminated.bool()).to(values.dtype))
    running = expand((~(terminated.bool() | truncated.bool())).to(values.dtype))
    deltas = expand(rewards.to(values.dtype)) + gamma * live * next_values - values
    advantages = torch.zeros_like(values)
    following = torch.zeros_like(values[0])
    for t in reversed(range(len(values))):
        following = deltas[t] + gamma * lam * running[t] * following
        advantages[t] = following
    return advantages, advantages + values


def normalize_advantages(advantages: Tensor, eps: float = 1e-5) -> Tensor:
    """``(A - mean A) / (std A + eps)`` over the whole rollout, with the population standard
    deviation (MAPPO's authors' code normalizes once per rollout, not per mini-batch)."""
    return (advantages - advantages.mean()) / (advantages.std(correction=0) + eps)


class ValueNorm(nn.Module):
    """Running mean and variance of value targets (MAPPO's ValueNorm, Yu et al. 2022's
    Suggestion 1; the statistics of the authors' ``ValueNorm`` class, written from the maths).

    After batches ``x_1 .. x_k`` (each reduced over all its elements), with ``beta`` close to 1:

        m_k = beta m_{k-1} + (1 - beta) mean(x_k)         (m_0 = 0)
        q_k = beta q_{k-1} + (1 - beta) mean(x_k^2)       (q_0 = 0)
        d_k = beta d_{k-1} + (1 - beta)                   (d_0 = 0, the debiasing term)
        mean = m_k / max(d_k, eps),   var = max(q_k / max(d_k, eps) - mean^2, min_var)

    ``normalize(x) = (x - mean) / sqrt(var)`` and ``denormalize`` its inverse. After one batch
    ``mean`` and ``var`` are that batch's own; with ``beta = 0.99999`` later batches weigh almost
    equally (a running average over training). Before any batch ``mean = 0`` and
    ``var = min_var``. The statistics are float64 buffers (saved with the module's state dict).
    """

    def __init__(self, beta: float = 0.99999, eps: float = 1e-5, min_var: float = 1e-2) -> None:
        super().__init__()
        self.beta, self.eps, self.min_var = beta, eps, min_var
        for name in ("running_mean", "running_mean_sq", "debiasing_term"):
            self.register_buffer(name, torch.zeros((), dtype=torch.float64))

    @torch.no_grad()
    def update(self, x: Tensor) -> None:
        x = x.detach().to(torch.float64)
        b = self.beta
        self.running_mean.mul_(b).add_((1 - b) * x.mean())
        self.running_mean_sq.mul_(b).add_((1 - b) * x.square().mean())
        self.debiasing_term.mul_(b).add_(1 - b)

    def mean_var(self) -> tuple[Tensor, Tensor]:
        d = self.debiasing_term.clamp(min=self.eps)
        mean = self.running_mean / d
        var = (self.running_mean_sq / d - mean.square()).clamp(min=self.min_var)
        return mean, var

    def normalize(self, x: Tensor) -> Tensor:
        mean, var = self.mean_var()
        return ((x.to(torch.float64) - mean) / var.sqrt()).to(x.dtype)

    def denormalize(self, y: Tensor) -> Tensor:
        mean, var = self.mean_var()
        return (y.to(torch.float64) * var.sqrt() + mean).to(y.dtype)


# ------------------------------------------------------------------------------------ rollout
class Rollout:
    """Up to ``n_steps`` batches of transitions ``[B, ...]`` in time order, read as ``[T, B, ...]``
    arrays; allocated at the first batch (the batch size is the env's). Saved to one ``.npz``."""

    def __init__(self, n_steps: int, shapes: dict[str, tuple[int, ...]],
                 dtypes: dict[str, type]) -> None:
        self.n_steps, self.shapes, self.dtypes = n_steps, shapes, dtypes
        self._data: dict[str, np.ndarray] | None = None
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def full(self) -> bool:
        return self._size == self.n_steps

    def add(self, **batch: np.ndarray) -> None:
        if self.full:
            raise RuntimeError(f"the rollout already holds its {self.n_steps} steps; learn from "
                               "it (update()) before observing more")
        if set(batch) != set(self.shapes):
            raise ValueError(f"a rollout step needs the fields {sorted(self.shapes)}; got "
                             f"{sorted(batch)}")
        b = len(next(iter(batch.values())))
        if self._data is None or next(iter(self._data.values())).shape[1] != b:
            if self._size:
                raise ValueError(f"the rollout holds batches of {self._data_batch()} envs; "
                                 f"got {b}")
            self._allocate(b)
        for name, value in batch.items():
            self._data[name][self._size] = np.asarray(value).reshape(b, *self.shapes[name])
        self._size += 1

    def arrays(self) -> dict[str, np.ndarray]:
        """The steps stored, ``[T, B, ...]`` per field (views: read before ``clear``)."""
        if self._data is None:
            return {name: np.zeros((0, 0, *shape), self.dtypes[name])
                    for name, shape in self.shapes.items()}
        return {name: data[: self._size] for name, data in self._data.items()}

    def clear(self) -> None:
        self._size = 0

    def save(self, path: str | os.PathLike[str]) -> None:
        meta = np.frombuffer(json.dumps({"n_steps": self.n_steps}).encode(), dtype=np.uint8)
        with atomic_write(path) as f:
            np.savez(f, **self.arrays(), __rollout__=meta)

    def load(self, path: str | os.PathLike[str]) -> None:
        with np.load(path, allow_pickle=False) as npz:
            if "__rollout__" not in npz.files:
                raise ValueError(f"{os.fspath(path)} was not written by Rollout.save")
            meta = json.loads(npz["__rollout__"].tobytes().decode())
            arrays = {name: npz[name] for name in self.shapes}
        if meta["n_steps"] != self.n_steps:
            raise ValueError(f"{os.fspath(path)} holds a rollout of n_steps={meta['n_steps']}; "
                             f"this agent's is {self.n_steps}")
        first = arrays[next(iter(self.shapes))]
        self._size = len(first)
        self._data = None
        if first.shape[1]:
            self._allocate(first.shape[1])
            for name, value in arrays.items():
                self._data[name][: self._size] = value

    def _allocate(self, b: int) -> None:
        self._data = {name: np.zeros((self.n_steps, b, *shape), self.dtypes[name])
                      for name, shape in self.shapes.items()}

    def _data_batch(self) -> int:
        return next(iter(self._data.values())).shape[1]


# -------------------------------------------------------------------------------------- agent
class OnPolicyAgent(TorchAgent):
    """``TorchAgent`` with a rollout that ``update()`` learns from once full, then discards; a
    subclass builds its networks after ``super().__init__`` and implements ``act`` and
    ``learn(rollout)``, and may override ``rollout_actions`` (what it stores as the actions)."""

    COUNTERS: ClassVar[tuple[str, ...]] = ("steps", "updates")

    def __init__(self, config: Any, spaces: EnvSpaces, seed: int) -> None:
        super().__init__(config, spaces, seed)
        n, o, s, d = self.n, self.obs_dim, self.state_dim, self.act_dim
        shapes = {"obs": (n, o), "state": (s,), "actions": (n, d), "reward": (),
                  "next_state": (s,), "terminated": (), "truncated": ()}
        dtypes = {k: np.bool_ if k in ("terminated", "truncated") else np.float32
                  for k in shapes}
        self.rollout = Rollout(config.n_steps, shapes, dtypes)
        self.buffers["rollout"] = self.rollout
        self.updates = 0  # rollouts learned from

    def rollout_actions(self, transitions: Transitions) -> np.ndarray:
        """The actions stored for ``transitions``: by default the env's, mapped to [-1, 1]."""
        return self.box.to_unit(transitions.actions)

    def observe(self, transitions: Transitions) -> None:
        t, b = transitions, len(transitions.obs)
        self.rollout.add(
            obs=np.asarray(t.obs, np.float32).reshape(b, self.n, -1),
            state=np.asarray(t.state, np.float32).reshape(b, -1),
            actions=self.rollout_actions(t),
            reward=np.asarray(t.reward, np.float32),
            next_state=np.asarray(t.next_state, np.float32).reshape(b, -1),
            terminated=np.asarray(t.terminated, bool),
            truncated=np.asarray(t.truncated, bool))
        self.steps += b

    def update(self) -> dict[str, float]:
        """Once the rollout is full: ``learn`` from it, then empty it; ``{}`` before."""
        if not self.rollout.full:
            return {}
        batch = {k: torch.from_numpy(v.copy()) for k, v in self.rollout.arrays().items()}
        self.rollout.clear()
        self.updates += 1  # counts the update under way
        return self.learn(batch)

    def learn(self, rollout: dict[str, Tensor]) -> dict[str, float]:
        raise NotImplementedError
