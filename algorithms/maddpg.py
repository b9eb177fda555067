"""MADDPG: Multi-Agent Deep Deterministic Policy Gradient (Lowe et al., NeurIPS 2017), continuous.

Agent ``i`` owns a deterministic actor ``a_i = mu_i(o_i) = tanh(f_i(o_i))`` in [-1, 1]^d (the env
gets ``low + (a + 1) / 2 (high - low)``) and a centralized critic ``Q_i(x, a_1..a_N)``, where ``x``
is every agent's observation (the paper's "simplest case"; ``critic_input="state"`` gives the
env's global state instead). Exploration adds Gaussian noise to ``mu_i(o_i)`` and clips to [-1, 1].

Training, one gradient step on a replayed minibatch, every agent at once (``GroupedMLP`` holds the
N actors, the N critics and their targets, one batched pass each):

- Critic (§4.1): ``L_i = E[(Q_i(x, a) - y_i)^2]`` with ``y_i = r_i + gamma (1 - terminated_i)
  Q_target_i(x', mu_target_1(o'_1), .., mu_target_N(o'_N))``; truncation is not termination.
- Actor (§4.1's deterministic policy gradient): the loss ``-E[Q_i(x, a_1 .. mu_i(o_i) .. a_N)]``
  with the other agents' actions from the replay, plus ``action_reg`` (1e-3) times the mean
  squared pre-tanh action.
- Each gradient is clipped before Adam's step, then both targets move by Polyak averaging
  ``theta_target <- tau theta + (1 - tau) theta_target``, after every agent's critic and actor
  step (the paper's pseudocode).

MADDPG is not a maximum-entropy method: it has no temperature.

Where the paper and the authors' code disagree, and what this file follows:

- Policy: the paper's continuous case is a deterministic ``mu`` with external exploration noise;
  the official code (``openai/maddpg``) samples a diagonal Gaussian policy (mean and log-std, no
  squashing) for Box actions. We follow the paper: a deterministic tanh actor with Gaussian noise,
  as the MADDPG of the PR2/ROMMEO code base (``maci``), where the benchmark paper's baselines
  come from, squashes its deterministic actor.
- Noise: Gaussian, on the piecewise schedule of the benchmark paper's authors' baseline script
  (``Jarvis-K/rommeo``, ``experiment/res_baselines.py``): standard deviation 0.5, then 0.1 after
  10% of the budget, then 0.01 after a sixth, in [-1, 1] action units. That script scales an
  Ornstein-Uhlenbeck process by these levels; we draw independent Gaussians.
- Regularizer: 1e-3 times the mean squared pre-tanh action, as ``maci``; the official code puts
  the same penalty on its Gaussian's parameters.
- Gradient clipping at 0.5 as the official code, where it is ``tf.clip_by_norm`` on each variable
  of each agent (every weight matrix and bias on its own), not one global norm; here each agent's
  slice of each grouped tensor. Critics and actors alike.
- Critic loss: the official code's plain mean squared error (no 1/2).
- Batch: 512 transitions, as the benchmark paper (App. F.2), ``maci`` and SVNR, so that update
  costs compare at the same batch size. The official code uses 1024 transitions, the paper says
  "1024 episodes".
- Schedule: one update per env step after 10 exploration-only steps, as the benchmark authors'
  script. The official code updates once per 100 env steps once 25,600 transitions are stored,
  which would leave a 5000-step game with 50 updates.
- One minibatch serves every agent, as in the benchmark authors' script; the paper's pseudocode
  and the official code draw one per agent. Each agent's gradient is unbiased either way.
- Networks: 2x100 ReLU MLPs (``maci``'s and the benchmark authors' width) where the paper and the
  official code use 2x64. Adam 1e-2 for both, gamma 0.95, tau 0.01: the paper, the official code
  and ``maci`` agree (the benchmark authors' MADDPG sweep on Max of Three s2 = 3 used 5e-3).

Decentralized execution: ``act(explore=False)`` returns ``tanh(f_i(o_i))`` for each agent, a
function of its own observation only, with no randomness. Exploration noise comes from a generator
of its own; evaluation draws none, so evaluating never changes training. Replay sampling draws from
the buffer's own generator, and the update itself is deterministic.

Cost, measured with one thread on this project's 2-core CPU under load (load average about 8; an
idle core does better): a max_of_three-s2=1.5 run (5000 updates at batch 512, 21 evaluations) used
52 s of CPU time. On Particle Gather (125,000 env steps, 4 agents), 5000 env steps used 74 s of
CPU with the defaults, 20 s with ``update_every=4`` and 13 s with ``update_every=8``: run it with
``update_every=8`` (about 15,600 updates, 5.5 CPU-minutes at that load).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from ro_bench.agents import EnvSpaces
from ro_bench.configs import documented
from ro_bench.params import choice
from ro_bench.search import HIDDEN_UNITS, LEARNING_RATE
from ro_bench_zoo.common.grouped import GroupedMLP
from ro_bench_zoo.common.off_policy import OffPolicyAgent, OffPolicyConfig, check_widths
from ro_bench_zoo.common.target import soft_update

CRITIC_INPUTS = ("obs", "state")


@dataclass(frozen=True)
class MADDPGConfig(OffPolicyConfig):
    """MADDPG's settings: the paper's and the authors' where they agree, the benchmark paper's
    baseline code base's where they do not (see the module docstring). The shared fields are
    ``OffPolicyConfig``'s; the defaults changed here are the paper's and the official code's
    (critic_lr, and gamma 0.95 and tau 0.01 as the base) and the benchmark authors' script's
    (learning_starts: 10 exploration-only steps; update_every 1 where the official code updates
    every 100; batch 512 as SVNR's, where the official code uses 1024)."""

    exploration_noise: tuple[float, ...] = documented((0.5, 0.1, 0.01),
        "standard deviations of the Gaussian exploration noise, in [-1, 1] action units, one per "
        "stage of the budget (the benchmark authors' baseline script: 0.5, 0.1, 0.01)")
    noise_boundaries: tuple[float, ...] = documented((0.1, 1 / 6),
        "fractions of total_steps where each next noise stage starts; one fewer than "
        "exploration_noise (the benchmark authors' script: after a tenth, after a sixth)")
    critic_input: str = documented("obs",
        "what the critics see besides the joint action: obs (every agent's observation, the "
        "paper's x and the official code's) or state (the env's global state)")
    actor_hidden: tuple[int, ...] = documented((100, 100),
        "hidden widths of each agent's actor MLP (ReLU); 2x100 as the PR2/ROMMEO code base, "
        "2x64 in the paper",
        search=HIDDEN_UNITS)
    actor_lr: float = documented(1e-2,
        "Adam learning rate of the actors (paper and official code)",
        search=LEARNING_RATE)
    action_reg: float = documented(1e-3,
        "weight of the mean squared pre-tanh action in the actor loss (official code: 1e-3)")
    grad_clip: float = documented(0.5,
        "clip each agent's gradient of each weight tensor to this norm, as the official code's "
        "clip_by_norm per variable; 0 turns clipping off")
    critic_lr: float = 1e-2
    learning_starts: int = 10

    def __post_init__(self) -> None:
        super().__post_init__()
        choice("critic_input", self.critic_input, CRITIC_INPUTS)
        check_widths("actor_hidden", self.actor_hidden)
        for name in ("grad_clip", "action_reg"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more; got {getattr(self, name)}")
        _check_noise_schedule(self.exploration_noise, self.noise_boundaries)

    def noise_std(self, step: int) -> float:
        """The exploration noise's standard deviation after ``step`` env steps."""
        return piecewise_constant(step / self.total_steps, self.exploration_noise,
                                  self.noise_boundaries)


def _check_noise_schedule(stds: tuple[float, ...], boundaries: tuple[float, ...]) -> None:
    if len(stds) < 1 or any(s < 0 for s in stds):
        raise ValueError(f"exploration_noise needs one or more standard deviations >= 0; "
                         f"got {stds}")
    if len(boundaries) != len(stds) - 1:
        raise ValueError(f"noise_boundaries needs one fewer entry than exploration_noise "
                         f"({len(stds) - 1}); got {len(boundaries)}: {boundaries}")
    if any(not 0.0 < b <= 1.0 for b in boundaries) or list(boundaries) != sorted(boundaries):
        raise ValueError(f"noise_boundaries must be increasing fractions in (0, 1]; "
                         f"got {boundaries}")


# ----------------------------------------------------------------------------- pure functions
def piecewise_constant(progress: float, values: tuple[float, ...],
                       boundaries: Iterable[float]) -> float:
    """``values[k]`` where ``k`` is the number of ``boundaries`` that ``progress`` has passed."""
    return values[sum(progress > b for b in boundaries)]


def critic_targets(rewards: Tensor, terminated: Tensor, next_q: Tensor, gamma: float) -> Tensor:
    """The critic target ``y_i = r_i + gamma (1 - terminated_i) Q_target_i(x', mu_target(o'))``,
    elementwise (any shape)."""
    return rewards + gamma * (~terminated) * next_q


def joint_with_own(replayed: Tensor, own: Tensor) -> Tensor:
    """Each agent's critic input actions in the actor loss: ``[N, B, N * d]`` whose row ``i`` is
    the replayed joint action ``replayed [B, N, d]`` with agent ``i``'s slot replaced by
    ``own[i]`` (``own [N, B, d]``). Row ``i`` depends on ``own[i]`` only, so agent ``i``'s loss
    reaches no other actor."""
    n, b, d = own.shape
    mine = torch.eye(n, dtype=torch.bool)[:, None, :, None]  # [N, 1, N, 1]
    joint = torch.where(mine, own.transpose(0, 1)[None], replayed[None])  # [N, B, N, d]
    return joint.reshape(n, b, n * d)


def policy_loss(q: Tensor, pre_tanh: Tensor, action_reg: float) -> Tensor:
    """The actor loss ``-E[Q_i]`` plus the official code's ``action_reg * E[pre-tanh
    action^2]``, summed over agents; ``q [N, B]``, ``pre_tanh [N, B, d]``. Each agent's term is
    its own mean, so the sum leaves every agent its own gradient."""
    return -q.mean(1).sum() + action_reg * pre_tanh.square().mean((1, 2)).sum()


@torch.no_grad()
def clip_grad_norm_per_agent_(parameters: Iterable[Tensor], max_norm: float) -> None:
    """In place, for grouped tensors ``[N, ...]``: scale each agent's slice of each gradient to a
    norm of at most ``max_norm`` (``tf.clip_by_norm`` on every agent's every variable)."""
    for p in parameters:
        if p.grad is None:
            continue
        norms = p.grad.flatten(1).norm(dim=1)  # [N]
        scale = max_norm / norms.clamp(min=max_norm)
        p.grad.mul_(scale.view(-1, *([1] * (p.grad.dim() - 1))))


# ------------------------------------------------------------------------------------ agent
class MADDPG(OffPolicyAgent):
    """Multi-Agent DDPG with deterministic tanh actors; see the module docstring."""

    config_class = MADDPGConfig
    saved = ("actor", "critic", "actor_target", "critic_target", "actor_opt", "critic_opt",
             "explore_noise")

    def __init__(self, config: MADDPGConfig, spaces: EnvSpaces, seed: int) -> None:
        super().__init__(config, spaces, seed)
        self.uses_state = config.critic_input == "state"
        x_dim = self.state_dim if self.uses_state else self.n * self.obs_dim
        self.explore_noise = self.generator(0)
        self.actor = GroupedMLP(self.n, self.obs_dim, self.act_dim, config.actor_hidden)
        self.critic = GroupedMLP(self.n, x_dim + self.n * self.act_dim, 1, config.critic_hidden)
        self.actor_target = copy.deepcopy(self.actor).requires_grad_(False)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.actor_opt = self.adam(self.actor, config.actor_lr)
        self.critic_opt = self.adam(self.critic, config.critic_lr)
        states = ("state", "next_state") if self.uses_state else ()
        self.buffer = self.make_buffer(("obs", "actions", "reward", "next_obs", "terminated",
                                        *states), stream=1)

    # ---------------------------------------------------------------------------- acting
    @property
    def noise_std(self) -> float:
        return self.config.noise_std(self.steps)

    def act(self, obs: np.ndarray, *, explore: bool) -> np.ndarray:
        obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32)).reshape(len(obs), self.n, -1)
        with torch.no_grad():
            a = torch.tanh(self.actor(obs_t.transpose(0, 1))).transpose(0, 1)  # [B, N, d]
            if explore:
                noise = torch.randn(a.shape, generator=self.explore_noise)
                a = (a + self.noise_std * noise).clamp(-1.0, 1.0)
        return self.box.to_env(a.numpy())

    # -------------------------------------------------------------------------- learning
    def gradient_step(self) -> dict[str, float]:
        """Every agent's critic step, then actor step, then the targets."""
        c = self.config
        batch = {k: torch.from_numpy(v) for k, v in self.buffer.sample(c.batch_size).items()}
        critic_loss = self._step(self.critic, self.critic_opt, self.critic_loss(batch))
        loss, q = self.actor_loss(batch)
        actor_loss_value = self._step(self.actor, self.actor_opt, loss)
        soft_update(self.actor_target, self.actor, c.tau)
        soft_update(self.critic_target, self.critic, c.tau)
        return {"losses/critic": critic_loss / self.n, "losses/actor": actor_loss_value / self.n,
                "charts/q_mean": q.mean().item(), "charts/noise_std": self.noise_std}

    def critic_loss(self, batch: dict[str, Tensor]) -> Tensor:
        """The critic loss summed over agents: each critic's own mean squared TD error."""
        c = self.config
        rewards, terminated = batch["reward"] * c.reward_scale, batch["terminated"]  # [B]
        with torch.no_grad():
            if terminated.all():  # one-step games: nothing to bootstrap from
                y = rewards
            else:
                y = critic_targets(rewards, terminated, self.target_q(batch), c.gamma)  # [N, B]
        b = len(rewards)
        q = self.critic(self._critic_input(self._x(batch), batch["actions"].reshape(b, -1)))
        return (q.squeeze(-1) - y).square().mean(1).sum()

    def target_q(self, batch: dict[str, Tensor]) -> Tensor:
        """``Q_target_i(x', mu_target_1(o'_1), .., mu_target_N(o'_N))`` as ``[N, B]``."""
        next_a = torch.tanh(self.actor_target(batch["next_obs"].transpose(0, 1)))  # [N, B, d]
        next_joint = next_a.transpose(0, 1).reshape(next_a.shape[1], -1)
        x = self._critic_input(self._x(batch, nxt=True), next_joint)
        return self.critic_target(x).squeeze(-1)

    def actor_loss(self, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """The actor loss summed over agents, with ``Q_i(x, a_1 .. mu_i(o_i) .. a_N)`` ``[N, B]``;
        its gradient reaches the actors only."""
        pre_tanh = self.actor(batch["obs"].transpose(0, 1))  # [N, B, d]
        joint = joint_with_own(batch["actions"], torch.tanh(pre_tanh))
        self.critic.requires_grad_(False)  # no weight gradients for the critics
        try:
            q = self.critic(self._critic_input(self._x(batch), joint)).squeeze(-1)
        finally:
            self.critic.requires_grad_(True)
        return policy_loss(q, pre_tanh, self.config.action_reg), q.detach()

    def _step(self, net: nn.Module, optimizer: torch.optim.Optimizer, loss: Tensor) -> float:
        optimizer.zero_grad()
        loss.backward()
        if self.config.grad_clip:
            clip_grad_norm_per_agent_(net.parameters(), self.config.grad_clip)
        optimizer.step()
        return loss.item()

    def _critic_input(self, x: Tensor, joint: Tensor) -> Tensor:
        """``[N, B, x + N d]`` from ``x [B, x]`` (shared) and ``joint`` ``[N, B, N d]`` or
        ``[B, N d]`` (shared)."""
        joint = joint.expand(self.n, *joint.shape[-2:])
        return torch.cat([x.expand(self.n, *x.shape), joint], dim=-1)

    def _x(self, batch: dict[str, Tensor], nxt: bool = False) -> Tensor:
        """The critics' ``x`` (or ``x'``): all observations, or the global state, ``[B, x]``."""
        prefix = "next_" if nxt else ""
        if self.uses_state:
            return batch[prefix + "state"]
        obs = batch[prefix + "obs"]
        return obs.reshape(len(obs), -1)
