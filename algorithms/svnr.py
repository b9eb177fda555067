"""SVNR: Stein Variational Negotiated Reasoning (the paper's §4-5, Alg. 1 in App. B, D, F.2, J).

Agent ``i`` owns an amortized sampler ``a_i = tanh(f_psi_i([xi masked to S_i], o_i))``, where
``xi ~ N(0, I)`` holds ``noise_dim`` numbers per agent and agent ``i`` sees the noise of the
agents in its negotiation set ``S_i = C_i + {i}`` (eq. 8's ``f(xi_i, xi_Ci, s)``). Actions live in
[-1, 1]^d per agent; the env gets ``low + (a + 1) / 2 (high - low)``. A centralized soft critic
``Q_theta(s, a)`` takes the global state and the normalised joint action.

Training (Alg. 1), one gradient step:

- Critic (eq. 11): ``y = r + gamma (1 - terminated) V(s')`` with the soft value
  ``V(s) = alpha log E_{a~U[-1,1]^D}[exp(Q_target(s, a) / alpha) / 2^-D]``, importance-sampled
  from a uniform proposal as soft Q-learning does (``soft_value``); truncation is not termination.
- Samplers (eqs. 9, 10, 13; amortized MPSVGD): draw ``particles`` joint actions per replayed state,
  with the same noise structure as execution. The target is ``log p(a) = Q(s, a) / alpha +
  sum log(1 - a^2 + 1e-6)`` (the tanh correction, optional); its score ``g`` is taken by autograd
  at the detached particles. Agent ``i``'s kernel lives on the ``S_i`` coordinates of the joint
  action and its direction is ``Delta_i(a_m) = 1/M sum_l [k_i(a_l, a_m) g_i(a_l) + grad_{a_l,i}
  k_i(a_l, a_m)]`` (``negotiation_direction``). The surrogate loss ``-sum_i mean(Delta_i * a_i)``
  carries ``Delta_i`` into ``psi_i`` (eq. 10). All agents, states and particles in one pass.

Decentralized execution (App. J): the team holds a noise generator seeded from the agent's seed
(common randomness agreed before the game); ``act`` draws every env's ``xi`` (and, for random
topologies, the negotiation sets) from it, so agent ``i``'s action depends on ``xi_{S_i}`` and
``o_i`` only. Evaluation (``explore=False``) samples the learned samplers the same way, from a
generator of its own so that evaluating never changes the training noise; it does not take a mean.

Topologies (``topology``; App. H.3): ``nested`` ``S_i = {1..i}`` (SVNR, the paper's default);
``mean_field`` ``S_i = {i}`` (SVNR-M); ``full`` ``S_i`` = everyone (SVNR-F, ``C_i = -i``); ``dag``
a random partially nested DAG (each earlier agent is in ``C_i`` with probability 1/2), redrawn
every ``dag_every`` env steps; ``sample`` ``{i}`` plus ``sample_k`` random peers, redrawn every
step. The sets enter the samplers as masks, so every topology runs the same code; the mask is
also an input of the sampler, so that a sampler trained on changing sets knows which it has.

Choices the paper leaves open, and why (figures measured on ``max_of_three-s2=1.5``):

- alpha: ``geometric`` 30 -> 0.1 over the first 60% of ``total_steps`` by default: 20 of 20
  seeds escape the trap. The schedules printed in the paper fail every seed here: App. F.2's with
  alpha' = 1 (0 of 5, about -0.78) and eq. 20's 1 -> 0.01 (0 of 5, about -0.08). Alpha must start
  near the reward gap between the optima and fall slowly, or the sampler's mass in the optimum's
  basin drains before the critic has found it. ``total_steps`` is the run's budget; the harness
  sets it from the protocol.
- The direction is soft Q-learning's ``k grad Q / alpha + grad k`` (the score of
  ``exp(Q / alpha)``), not eq. 9 as printed (``k grad Q + alpha grad k``).
- No particle split: all M particles are both the kernel's first argument (where the score is
  taken) and the ones moved.
- The sampler step uses ``policy_batch_size`` = 16 of the critic's 512 replayed states (x 32
  particles). All 512 states (16384 particles) made a ``max_of_three`` run take 575 s instead of
  28 s on this project's 2-core CPU, for the same result on seed 0.
- Updates start at ``learning_starts`` = 1 env step, sampling the replay with replacement: the
  whole budget then anneals alpha against a learning critic.
- The replay holds at most ``total_steps`` transitions: it never needs more, and the harness's
  decentralization check deep-copies the agent, buffer included, at every evaluation.
- ``torch_threads`` = 1: results repeat bit for bit only at a fixed thread count, and several
  seeds run in parallel processes, one per core.
- Particle Gather (125000 steps) fits in about 400 s here with ``update_every=4`` and
  ``value_samples=16``. No configuration tried so far leaves its RO trap (final metric about 0
  against the paper's 4.76): the default schedule, reward scale 10, alpha 100 -> 0.3, 3 -> 0.03,
  a 90% anneal, App. F.2's schedule with alpha' = 0.1. Under uniform exploration both particles
  are in on only 4e-5 of the steps, so the critic hardly ever sees the +5. With the particles
  starting closer (``start_radius=0.5``: 0.19% of steps) and a constant alpha of 0.1, SVNR
  escapes the trap and scores 5.0 (seed 0); under the default schedule it does not: an alpha
  of 30 suits the one-step games, not this one.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from algorithms.base import EnvSpaces, Transitions
from algorithms.common.spaces import action_bounds
from algorithms.common import ReplayBuffer, rng_state, seed_everything, set_rng_state
from algorithms.common.alpha import AnnealedAlpha
from algorithms.common.soft_value import soft_value
from algorithms.common.grouped import GroupedMLP
from algorithms.common.networks import mlp
from algorithms.common.svgd import svgd_direction
from algorithms.common.target import soft_update
from algorithms.common.torch_files import load_torch, save_torch
from ro_bench.params import did_you_mean

TOPOLOGIES = ("nested", "mean_field", "full", "dag", "sample")
SQUASH_EPS = 1e-6


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass(frozen=True)
class SVNRConfig(AnnealedAlpha):
    """SVNR's settings: App. F.2's where the paper gives them (batch, buffer, Adam, M in 16-64,
    kernel), ours otherwise (see the module docstring)."""

    topology: str = field(default="nested", metadata=_help(
        f"negotiation sets S_i: one of {', '.join(TOPOLOGIES)} (see the module docstring)"))
    dag_every: int = field(default=25, metadata=_help(
        "topology dag: env steps between redraws of the random DAG"))
    sample_k: int = field(default=1, metadata=_help(
        "topology sample: peers each agent negotiates with, redrawn every env step"))
    particles: int = field(default=32, metadata=_help(
        "M, joint-action particles per state in the sampler update (the paper searches 16-64)"))
    value_samples: int = field(default=32, metadata=_help(
        "uniform action samples per next state in the soft-value estimate"))
    squash_correction: bool = field(default=True, metadata=_help(
        "add sum log(1 - a^2 + 1e-6) (tanh change of variables) to the target log-density"))
    noise_dim: int = field(default=0, metadata=_help(
        "noise numbers per agent; 0: the agent's action dimension"))
    sampler_hidden: tuple[int, ...] = field(default=(64, 64), metadata=_help(
        "hidden widths of each agent's sampler MLP (ReLU)"))
    critic_hidden: tuple[int, ...] = field(default=(100, 100), metadata=_help(
        "hidden widths of the centralized critic MLP (ReLU)"))
    critic_lr: float = field(default=1e-3, metadata=_help("Adam learning rate of the critic"))
    policy_lr: float = field(default=1e-3, metadata=_help("Adam learning rate of the samplers"))
    gamma: float = field(default=0.95, metadata=_help("discount (ROMMEO's, which F.2 follows)"))
    tau: float = field(default=0.01, metadata=_help("Polyak rate of the target critic per step"))
    reward_scale: float = field(default=1.0, metadata=_help("rewards are multiplied by this"))
    batch_size: int = field(default=512, metadata=_help("replayed transitions per critic step"))
    policy_batch_size: int = field(default=16, metadata=_help(
        "replayed states per sampler step (the first ones of the critic's batch, so at most "
        "batch_size); each gets `particles` particles"))
    buffer_size: int = field(default=1_000_000, metadata=_help(
        "replay capacity (never more than total_steps is allocated)"))
    learning_starts: int = field(default=1, metadata=_help(
        "env steps stored before the first gradient step"))
    update_every: int = field(default=1, metadata=_help("env steps between update rounds"))
    updates_per_step: int = field(default=1, metadata=_help(
        "gradient steps (critic + samplers) per update round"))
    torch_threads: int = field(default=1, metadata=_help(
        "torch.set_num_threads at construction (process-wide); 0 leaves it alone. Results repeat "
        "bit for bit only at the same thread count"))

    def __post_init__(self) -> None:
        super().__post_init__()
        for name, choices in (("topology", TOPOLOGIES),):
            value = getattr(self, name)
            if value not in choices:
                raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}."
                                 f"{did_you_mean(value, choices)}")
        positive = ("dag_every", "sample_k", "total_steps", "value_samples", "batch_size",
                    "policy_batch_size", "buffer_size", "learning_starts", "update_every",
                    "updates_per_step")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1; got {getattr(self, name)}")
        if self.particles < 2:
            raise ValueError(f"particles must be at least 2 (the bandwidth needs pairs); "
                             f"got {self.particles}")
        for name in ("noise_dim", "torch_threads"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more; got {getattr(self, name)}")



# ----------------------------------------------------------------------------- pure functions
def negotiation_masks(topology: str, n_agents: int, batch: int, generator: torch.Generator,
                      sample_k: int = 1) -> Tensor:
    """``[batch, n, n]`` booleans: ``[b, i, j]`` says agent j is in agent i's set ``S_i`` (agent i
    always is). ``dag`` draws one DAG for the whole batch, ``sample`` one set per row; the fixed
    topologies draw nothing.
    """
    n = n_agents
    eye = torch.eye(n, dtype=torch.bool)
    if topology == "nested":
        mask = torch.ones(n, n, dtype=torch.bool).tril()
    elif topology == "mean_field":
        mask = eye
    elif topology == "full":
        mask = torch.ones(n, n, dtype=torch.bool)
    elif topology == "dag":
        mask = (torch.rand(n, n, generator=generator) < 0.5).tril(-1) | eye
    elif topology == "sample":
        k = min(sample_k, n - 1)
        scores = torch.rand(batch, n, n, generator=generator).masked_fill(eye, 2.0)  # self first
        chosen = scores.topk(k + 1, dim=-1).indices
        return torch.zeros(batch, n, n, dtype=torch.bool).scatter_(-1, chosen, True)
    else:
        raise ValueError(f"unknown topology {topology!r}.{did_you_mean(topology, TOPOLOGIES)}")
    return mask.expand(batch, n, n)


def target_score(critic: nn.Module, states: Tensor, particles: Tensor, alpha: float,
                 squash_correction: bool) -> tuple[Tensor, Tensor]:
    """``grad_a log p(a)`` at the (detached) particles ``[B, M, D]``, with ``log p = Q(s, a) / alpha
    (+ sum log(1 - a^2 + eps))``; returns the score and ``Q`` ``[B, M]``."""
    a = particles.detach().requires_grad_(True)
    b, m, _ = a.shape
    q = critic(torch.cat([states[:, None].expand(b, m, states.shape[1]), a], dim=-1)).squeeze(-1)
    log_p = q.sum() / alpha
    if squash_correction:
        log_p = log_p + torch.log(1.0 - a.square() + SQUASH_EPS).sum()
    (score,) = torch.autograd.grad(log_p, a)
    return score, q.detach()


def negotiation_direction(particles: Tensor, score: Tensor, kernel_coords: Tensor,
                          own_coords: Tensor) -> Tensor:
    """Amortized MPSVGD's direction (eqs. 9, 13) for every agent at once, ``[B, M, D]``.

    ``particles`` and ``score`` are ``[B, M, D]``; ``kernel_coords [B, n, D]`` marks the
    joint-action coordinates of each agent's ``S_i`` (its kernel's), ``own_coords [n, D]`` its
    own. Agent ``i``'s direction, on its own coordinates, is the SVGD direction with its local
    kernel.
    """
    phi = svgd_direction(particles[:, None], score[:, None], coords=kernel_coords)  # [B, n, M, D]
    return (phi * own_coords[None, :, None, :]).sum(1)


# ------------------------------------------------------------------------------------ agent
class SVNR:
    """Stein Variational Negotiated Reasoning; see the module docstring."""

    config_class = SVNRConfig

    def __init__(self, config: SVNRConfig, spaces: EnvSpaces, seed: int) -> None:
        self.config = config
        self.spaces = spaces
        low, high = action_bounds(spaces, "SVNR")
        self.low, self.high = low, high
        self.n, self.act_dim = low.shape
        self.joint_dim = self.n * self.act_dim
        self.noise_dim = config.noise_dim or self.act_dim
        self.obs_dim = int(np.prod(spaces.observation_space.shape))
        self.state_dim = int(np.prod(spaces.state_space.shape))
        if config.torch_threads:
            torch.set_num_threads(config.torch_threads)
        seed_everything(seed)  # weight initialisation draws from torch's global generator
        noise_seeds = np.random.SeedSequence(seed).generate_state(4)
        self.team_noise = torch.Generator().manual_seed(int(noise_seeds[0]))
        self.eval_noise = torch.Generator().manual_seed(int(noise_seeds[1]))
        self.update_noise = torch.Generator().manual_seed(int(noise_seeds[2]))

        sampler_in = self.n * self.noise_dim + self.n + self.obs_dim
        self.sampler = GroupedMLP(self.n, sampler_in, self.act_dim, config.sampler_hidden)
        self.critic = mlp(self.state_dim + self.joint_dim, 1, config.critic_hidden)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.sampler_opt = torch.optim.Adam(self.sampler.parameters(), lr=config.policy_lr,
                                            fused=True)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=config.critic_lr,
                                           fused=True)
        self.own_coords = torch.eye(self.n).repeat_interleave(self.act_dim, dim=-1)  # [n, D]

        capacity = min(config.buffer_size, config.total_steps)
        self.buffer = ReplayBuffer(
            capacity,
            shapes={"obs": (self.n, self.obs_dim), "state": (self.state_dim,),
                    "actions": (self.n, self.act_dim), "reward": (),
                    "next_state": (self.state_dim,), "terminated": ()},
            dtypes={"obs": np.float32, "state": np.float32, "actions": np.float32,
                    "reward": np.float32, "next_state": np.float32, "terminated": np.bool_},
            seed=int(noise_seeds[3]),
        )
        self.steps = 0  # env steps observed
        self.pending_rounds = 0  # update rounds due and not yet done
        self.gradient_steps = 0
        self.dag_epoch = 0
        self.dag = self._draw_masks(1, self.team_noise)[0] if config.topology == "dag" else None

    # ---------------------------------------------------------------------------- acting
    @property
    def alpha(self) -> float:
        return self.config.alpha(self.steps)

    def act(self, obs: np.ndarray, *, explore: bool) -> np.ndarray:
        generator = self.team_noise if explore else self.eval_noise
        epoch = self.steps // self.config.dag_every
        if explore and self.dag is not None and epoch != self.dag_epoch:
            self.dag_epoch, self.dag = epoch, self._draw_masks(1, self.team_noise)[0]
        obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32)).reshape(len(obs), self.n, -1)
        masks = self._masks(len(obs), generator)
        noise = torch.randn(len(obs), self.n * self.noise_dim, generator=generator)
        with torch.no_grad():
            a = self.sample(obs_t, noise, masks)
        return (self.low + (a.numpy() + 1.0) * 0.5 * (self.high - self.low)).astype(np.float32)

    def sample(self, obs: Tensor, noise: Tensor, masks: Tensor) -> Tensor:
        """Every agent's action in [-1, 1], ``[R, n, d]``, from ``obs [R, n, o]``, the team's
        noise ``[R, n * noise_dim]`` and the sets ``masks [R, n, n]``; agent i sees only its row."""
        noise_mask = masks.repeat_interleave(self.noise_dim, dim=-1).to(noise.dtype)
        inputs = torch.cat([noise[:, None, :] * noise_mask, masks.to(noise.dtype), obs], dim=-1)
        return torch.tanh(self.sampler(inputs.transpose(0, 1))).transpose(0, 1)

    def _masks(self, batch: int, generator: torch.Generator) -> Tensor:
        if self.dag is not None:
            return self.dag.expand(batch, self.n, self.n)
        return self._draw_masks(batch, generator)

    def _draw_masks(self, batch: int, generator: torch.Generator) -> Tensor:
        return negotiation_masks(self.config.topology, self.n, batch, generator,
                                 self.config.sample_k)

    # -------------------------------------------------------------------------- learning
    def observe(self, transitions: Transitions) -> None:
        t = transitions
        actions = 2.0 * (np.asarray(t.actions, np.float64) - self.low) / (self.high - self.low)
        self.buffer.add(
            obs=np.asarray(t.obs, dtype=np.float32).reshape(len(t.obs), self.n, -1),
            state=np.asarray(t.state, dtype=np.float32).reshape(len(t.state), -1),
            actions=np.clip(actions - 1.0, -1.0, 1.0).astype(np.float32),
            reward=np.asarray(t.rewards[:, 0], dtype=np.float32),  # the team reward
            next_state=np.asarray(t.next_state, dtype=np.float32).reshape(len(t.state), -1),
            terminated=np.asarray(t.terminated[:, 0], dtype=bool),
        )
        before, self.steps = self.steps, self.steps + len(t.obs)
        if self.steps >= self.config.learning_starts:
            every = self.config.update_every
            self.pending_rounds += self.steps // every - before // every

    def update(self) -> dict[str, float]:
        steps, self.pending_rounds = self.pending_rounds * self.config.updates_per_step, 0
        metrics: dict[str, float] = {}
        for _ in range(steps):
            metrics = self.gradient_step()
        return metrics

    def gradient_step(self) -> dict[str, float]:
        """One critic step (eq. 11), one sampler step (eqs. 9-10), one target update."""
        c = self.config
        batch = {k: torch.as_tensor(v) for k, v in self.buffer.sample(c.batch_size).items()}
        alpha = self.alpha
        critic_loss = self._critic_step(batch, alpha)
        direction_norm, q_mean = self._sampler_step(batch, alpha)
        soft_update(self.critic_target, self.critic, c.tau)
        self.gradient_steps += 1
        return {"losses/critic": critic_loss, "charts/alpha": alpha, "charts/q_mean": q_mean,
                "charts/direction_norm": direction_norm}

    def _critic_step(self, batch: dict[str, Tensor], alpha: float) -> float:
        c = self.config
        b = batch["state"].shape[0]
        q = self.critic(torch.cat([batch["state"], batch["actions"].reshape(b, -1)], -1))
        with torch.no_grad():
            y = batch["reward"] * c.reward_scale
            live = ~batch["terminated"]
            if live.any():  # one-step games: every transition ends its episode
                v = soft_value(self.critic_target, batch["next_state"][live], self.joint_dim,
                               c.value_samples, alpha, self.update_noise)
                y[live] += c.gamma * v
        loss = 0.5 * (q.squeeze(-1) - y).square().mean()
        self.critic_opt.zero_grad()
        loss.backward()
        self.critic_opt.step()
        return loss.item()

    def _sampler_step(self, batch: dict[str, Tensor], alpha: float) -> tuple[float, float]:
        c = self.config
        batch = {k: v[: c.policy_batch_size] for k, v in batch.items()}
        b, m = batch["state"].shape[0], c.particles
        masks = self._masks(b, self.update_noise)  # [B, n, n]
        noise = torch.randn(b * m, self.n * self.noise_dim, generator=self.update_noise)
        rows = torch.arange(b).repeat_interleave(m)  # particle r belongs to state r // m
        actions = self.sample(batch["obs"][rows], noise, masks[rows]).reshape(b, m, self.joint_dim)
        score, q = target_score(self.critic, batch["state"], actions, alpha, c.squash_correction)
        kernel_coords = masks.repeat_interleave(self.act_dim, dim=-1)  # [B, n, D]
        delta = negotiation_direction(actions.detach(), score, kernel_coords, self.own_coords)
        loss = -(delta * actions).sum(-1).mean()  # eq. 10: d loss / d a_i = -Delta_i / (B M)
        self.sampler_opt.zero_grad()
        loss.backward()
        self.sampler_opt.step()
        return delta.norm(dim=-1).mean().item(), q.mean().item()

    # ------------------------------------------------------------------------ save / load
    def save(self, path: Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        save_torch(path / "networks.pt", {
            "sampler": self.sampler.state_dict(),
            "critic": self.critic.state_dict(),
            "critic_target": self.critic_target.state_dict(),
            "sampler_opt": self.sampler_opt.state_dict(),
            "critic_opt": self.critic_opt.state_dict(),
            "team_noise": self.team_noise.get_state(),
            "eval_noise": self.eval_noise.get_state(),
            "update_noise": self.update_noise.get_state(),
            "dag": self.dag,
        })
        self.buffer.save(path / "replay.npz")
        progress = {"steps": self.steps, "pending_rounds": self.pending_rounds,
                    "gradient_steps": self.gradient_steps, "dag_epoch": self.dag_epoch,
                    "global_rngs": rng_state()}
        (path / "progress.json").write_text(json.dumps(progress))

    def load(self, path: Path) -> None:
        path = Path(path)
        saved = load_torch(path / "networks.pt")
        self.sampler.load_state_dict(saved["sampler"])
        self.critic.load_state_dict(saved["critic"])
        self.critic_target.load_state_dict(saved["critic_target"])
        self.sampler_opt.load_state_dict(saved["sampler_opt"])
        self.critic_opt.load_state_dict(saved["critic_opt"])
        self.team_noise.set_state(saved["team_noise"])
        self.eval_noise.set_state(saved["eval_noise"])
        self.update_noise.set_state(saved["update_noise"])
        self.dag = saved["dag"]
        self.buffer.load(path / "replay.npz")
        progress = json.loads((path / "progress.json").read_text())
        self.steps = progress["steps"]
        self.pending_rounds = progress["pending_rounds"]
        self.gradient_steps = progress["gradient_steps"]
        self.dag_epoch = progress["dag_epoch"]
        set_rng_state(progress["global_rngs"])


# ------------------------------------------------------------------------- named variants
@dataclass(frozen=True)
class SVNRMConfig(SVNRConfig):
    """SVNR-M (App. H.3.1): every agent sees only its own noise, ``C_i = {}``."""

    topology: str = field(default="mean_field", metadata=_help(
        f"negotiation sets S_i: one of {', '.join(TOPOLOGIES)}; SVNR-M uses mean_field"))


@dataclass(frozen=True)
class SVNRFConfig(SVNRConfig):
    """SVNR-F (App. H.3.1): every agent sees everyone's noise, ``C_i = -i``."""

    topology: str = field(default="full", metadata=_help(
        f"negotiation sets S_i: one of {', '.join(TOPOLOGIES)}; SVNR-F uses full"))


class SVNRM(SVNR):
    """SVNR with mean-field sets (``svnr-m``)."""

    config_class = SVNRMConfig


class SVNRF(SVNR):
    """SVNR with full sets (``svnr-f``)."""

    config_class = SVNRFConfig

