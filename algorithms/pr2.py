"""PR2: Probabilistic Recursive Reasoning, actor-critic form (PR2-AC; Wen et al., ICLR 2019).

Agent ``i`` factorises the joint policy from its own point of view as
``pi(a_i, a_-i | s) = mu_i(a_i | o_i) rho_i(a_-i | o_i, a_i)``: it acts, and it models how the
others react to its action (level-1 recursive reasoning). Every agent owns four networks, each
agent's in one ``GroupedMLP`` pass with the others':

- a joint critic ``Q_i(s, a_i, a_-i)`` (and its Polyak target);
- an individual critic ``Q_i(s, a_i)``;
- a deterministic actor ``a_i = tanh(mu_i(o_i))`` (and its Polyak target);
- an opponent model ``a_-i = tanh(rho_i(o_i, a_i, xi))``, ``xi ~ N(0, I)``: an amortized sampler of
  the others' conditional policy.

Actions live in [-1, 1]^d per agent; the env gets ``low + (a + 1) / 2 (high - low)``. ``s`` is the
global state; ``a_-i`` lists the other agents' actions in agent order.

Training, one gradient step per agent, all agents at once:

- Critics: ``y_i = r_i + gamma (1 - terminated) V_i(s')`` with ``V_i(s') = E_{a~rho_i(.|o_i',
  a_i')} Q_target_i(s', a_i', a)`` over ``value_samples`` opponent samples, ``a_i'`` the target
  actor's action; ``Q_i(s, a_i, a_-i)`` and ``Q_i(s, a_i)`` both regress to ``y_i`` (half the
  squared error) on the replayed actions, the latter on the ``policy_batch_size`` states where it
  is read; truncation is not termination.
- Opponent model (amortized SVGD, Feng et al. 2017): for each replayed ``(s, o_i, a_i)``, draw
  ``particles`` opponent actions from ``rho_i``. The target is ``rho*(a_-i | s, a_i) ∝
  exp((Q_i(s, a_i, a_-i) - Q_i(s, a_i)) / alpha)`` times the tanh correction ``prod(1 - a_-i^2)``;
  its score is taken by autograd at the detached particles and the RBF-kernel SVGD direction
  (``ro_bench_zoo.common.svgd``) is carried into ``rho_i``'s weights by the surrogate loss
  ``-mean(direction * particles)``.
- Actor (the paper's PR2-AC gradient ``grad_theta mu(o) grad_{a_i} E_{a_-i~rho(.|o, a_i)}
  Q(s, a_i, a_-i)``): maximise the soft expectation ``alpha log mean_k exp(Q_i(s, a_i, a_k) /
  alpha)``, ``a_i = mu_i(o_i)``, ``a_k ~ rho_i(.|o_i, a_i)`` reparameterised, so the gradient also
  flows through the opponents' predicted reaction to ``a_i`` (``rho``'s weights are not moved).

Level-k reasoning (``level_k``). Level 1 is the PR2 paper's agent above. For ``k >= 2`` the actor
becomes conditional, ``a_i = tanh(mu_i(o_i, a_-i))``, and reads the opponents' level-``(k-1)``
action from a chain that starts at level 0, a uniform random action, and alternates the opponent
model (``a_-i^j = rho_i(o_i, a_i^(j-1))``) and the conditional actor (``a_i^j = mu_i(o_i,
a_-i^(j-1))``), as in the authors' level-k policy (``maci/policies/level_k_policy.py``; the
recursion is the follow-up GR2 paper's). As there, the chain below the top is not differentiated:
only the top-level actor call learns, against ``rho_i``'s reaction to its action. Left out: the
authors' level-1 chain ``mu_i(s, a_-i^0)`` with a uniform ``a_-i^0`` (the paper's level 1 is the
unconditional ``mu_i``), the GR2 auxiliary loss for ``k > 1``, and GR2's Poisson mixture of levels.

Decentralized execution: agent ``i`` acts with ``mu_i(o_i)`` plus Gaussian noise while exploring.
Its critics see the state and everyone's actions, but only in training. For ``k >= 2`` the chain
uses agent ``i``'s own ``rho_i`` on ``o_i`` and its own uniform and Gaussian draws, so the action
still depends on ``o_i`` alone; evaluation draws them from a generator of its own, so evaluating
never changes training.

Where the sources disagree, and what this file does:

- Critic target. The paper defines the value as an expectation under ``rho`` (PR2-Q's
  ``V(s) = max_{a_i} sum rho(a_-i|s, a_i) Q``; its exact PR2-AC target is unverified here). The
  authors' ``maci`` PR2-AC (``mavb_ac.py``) instead takes a soft maximum over *uniform*
  opponent actions, ``alpha log mean_k exp(Q(s', mu_target(s'), u_k) / alpha) + d_-i log 2``
  (soft Q-learning's estimate), and the authors' malib port takes the mean of ``Q`` over ``rho``
  samples. We follow the paper and malib
  (``value_target="rho"``): the critic then values the same opponents the actor plans against;
  the uniform soft maximum ignores ``rho`` and, as alpha falls, values the best response of
  imagined opponents. ``value_target="uniform"`` gives maci's (with the ``- log K + d log 2``
  correction scaled by alpha, as ``ro_bench_zoo.common.soft_value`` does; maci leaves it unscaled,
  a constant offset). In one-step games every transition terminates and the two agree.
- Actor. maci maximises the soft (alpha log-mean-exp) expectation over ``rho`` samples, malib the
  plain mean; the default is maci's ``soft`` (``actor_objective="mean"`` gives malib's). maci also
  evaluates ``Q`` at the next observation and conditions ``rho`` on the replayed ``a_i`` rather than
  on ``mu(s)``; we use ``s`` and ``mu(o_i)``, which the paper's gradient requires.
- Individual critic. The paper defines ``Q_i(s, a_i) = alpha log integral exp(Q_i(s, a_i, a_-i) /
  alpha) da_-i``; maci regresses it to the critics' target ``y``. It is a per-state constant in
  ``rho``'s target log-density, so it never moves ``rho`` (the SVGD score is a gradient in
  ``a_-i``); we follow maci and report its loss. It is read only at the opponent step's states,
  so it is trained only there, which saves a quarter of a gradient step.
- Opponent model. maci splits its 32 SVGD particles into 16 fixed and 16 moved (soft Q-learning's
  split); we use all of them in both roles (``svgd_direction``), as SVNR does, where the split
  lost seeds. malib fits ``rho`` by regression on the opponents' recent actions (its SVGD loss is
  defined but not called); we use the paper's variational (SVGD) fit.
- Temperature. maci anneals ``alpha = 0.1 + 500 exp(-0.1 max(t - 10, 0))``; the benchmark uses one
  schedule for every maximum-entropy method (App. H.5.3), SVNR's: geometric 30 -> 0.1 over the
  first 60% of ``total_steps`` (``algorithms/common/alpha.py``).
- Exploration. maci scales an Ornstein-Uhlenbeck process (theta 0.15, sigma 0.3, stationary std
  about 0.57) by a level that drops from 1 to 0.1 after 10% of training and to 0.01 after a
  sixth; we add independent Gaussian noise with those levels as its std (``explore_noise``),
  and start learning after maci's 10 exploration-only steps.
- Learning rates. maci uses Adam 1e-2 for everything. At 1e-2 a deterministic tanh actor can
  saturate at an action bound early, where its gradient vanishes for good: on
  ``max_of_three-s2=1.5`` seed 4's agent 1 is pinned at -10 within 150 env steps and the run
  ends at -2.29 (learning from step 1 with 16 states per actor step, seed 0 ends at -23.6).
  With ``actor_lr`` 1e-3 none of seeds 0-6 saturates (seed 4 ends at -0.005); the critics and
  ``rho`` keep maci's 1e-2.
- Inputs. The paper writes ``s`` for every network. ``rho_i`` and the actor read agent ``i``'s
  observation, as in maci (whose critics do too); the critics read the global state, which they
  need only in training. In the paper's games, Max of Three and Particle Gather, every agent
  observes the whole state anyway.

Results and cost, measured on this project's 2-core CPU while other jobs kept it loaded (load
average 3-7). ``max_of_three-s2=1.5``: 48 s of CPU per run at load 3 (51 s wall), 57 s at
load 6; seeds 0 and 1 end at -4.52 and -0.005 (the paper: -0.29 +- 0.10, Table 2). Seed 1 sits
in the trap. In seed 0, agents 0 and 1 play about -6, near the trap's -5, while agent 2 plays
the optimum's -4: its ``rho`` predicts that the others answer -4 with the optimum's (7, 7). The
conditional that PR2 fits is the others' soft-optimal answer, an optimistic belief about them,
not their policy.
Particle Gather (125000 env steps) with ``update_every=20`` and ``value_samples=4``: 179 s of
CPU, final -0.02 on seed 0 (the trap; the paper: 0.00 +- 0.02).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from ro_bench.agents import EnvSpaces
from ro_bench.configs import documented
from ro_bench.params import choice, integer
from ro_bench.search import HIDDEN_UNITS, IntUniform, LEARNING_RATE
from ro_bench_zoo.common.alpha import AnnealedAlpha
from ro_bench_zoo.common.grouped import GroupedMLP
from ro_bench_zoo.common.off_policy import OffPolicyAgent, check_widths
from ro_bench_zoo.common.soft_value import soft_value
from ro_bench_zoo.common.svgd import svgd_direction
from ro_bench_zoo.common.target import soft_update

VALUE_TARGETS = ("rho", "uniform")
ACTOR_OBJECTIVES = ("soft", "mean")
SQUASH_EPS = 1e-6


@dataclass(frozen=True)
class PR2Config(AnnealedAlpha):
    """PR2-AC's settings: the authors' maci code's where they exist (networks, Adam 1e-2 for the
    critics and rho, gamma, tau, batch, particles, exploration), the benchmark's shared alpha
    schedule, ours otherwise (see the module docstring)."""

    level_k: int = documented(1,
        "recursion level: 1 is the PR2 paper's agent (mu_i(o_i) best-responding to rho_i's "
        "reaction); k >= 2 conditions the actor on a level-(k-1) opponent action from the "
        "level-0 (uniform) chain (the authors' level-k policy)",
        search=IntUniform(1, 3))
    explore_noise: tuple[float, ...] = documented((1.0, 0.1, 0.01),
        "std of the Gaussian noise added to mu_i while exploring, in [-1, 1] action units, one "
        "value per phase (the authors' run script: 1.0, then 0.1, then 0.01)")
    explore_noise_until: tuple[float, ...] = documented((0.1, 0.17),
        "fractions of total_steps at which each explore_noise phase but the last ends")
    value_target: str = documented("rho",
        f"critic target V(s'): one of {', '.join(VALUE_TARGETS)}; rho: mean of Q over opponent "
        "samples from rho (the paper, malib), uniform: alpha log-mean-exp over uniform opponent "
        "actions (maci)")
    actor_objective: str = documented("soft",
        f"one of {', '.join(ACTOR_OBJECTIVES)}: maximise alpha log mean exp(Q / alpha) over rho's "
        "samples (soft, maci) or their mean Q (mean, malib)")
    particles: int = documented(32,
        "opponent-action particles per state in rho's SVGD step (maci: 32)")
    value_samples: int = documented(16,
        "opponent samples per next state in the critic target (maci: 16); the rho target's mean "
        "is unbiased for any count, and 4 makes Particle Gather's updates ~3x cheaper")
    actor_samples: int = documented(16,
        "rho samples per state in the actor objective (maci: 16)")
    squash_correction: bool = documented(True,
        "add sum log(1 - a_-i^2 + 1e-6) (tanh change of variables) to rho's target log-density "
        "(maci)")
    noise_dim: int = documented(0,
        "noise numbers per rho sample; 0: the others' joint action dimension")
    actor_hidden: tuple[int, ...] = documented((100, 100),
        "hidden widths of each agent's actor MLP (ReLU; maci: 2x100)",
        search=HIDDEN_UNITS)
    opponent_hidden: tuple[int, ...] = documented((100, 100),
        "hidden widths of each agent's opponent model rho (ReLU; maci: 2x100)",
        search=HIDDEN_UNITS)
    actor_lr: float = documented(1e-3,
        "Adam learning rate of the actor (maci: 1e-2, with which an agent's tanh can saturate at "
        "an action bound early and stay there; see the module docstring)",
        search=LEARNING_RATE)
    opponent_lr: float = documented(1e-2,
        "Adam learning rate of rho (maci: the policy learning rate, 1e-2)",
        search=LEARNING_RATE)
    policy_batch_size: int = documented(8,
        "replayed states per rho and actor step (the first ones of the critic's batch, so at "
        "most batch_size; maci uses all 512): 8 keeps a max_of_three run under a minute")
    # maci's: Adam 1e-2 for both critics, 10 exploration-only steps (the others are the base's,
    # which maci shares: 2x100 critics, gamma 0.95, tau 0.01, batch 512, buffer 1e6)
    critic_lr: float = 1e-2
    learning_starts: int = 10

    def __post_init__(self) -> None:
        super().__post_init__()
        choice("value_target", self.value_target, VALUE_TARGETS)
        choice("actor_objective", self.actor_objective, ACTOR_OBJECTIVES)
        for name in ("level_k", "value_samples", "actor_samples", "policy_batch_size"):
            integer(name, getattr(self, name), low=1)
        integer("particles", self.particles, low=2)  # the kernel bandwidth needs pairs
        integer("noise_dim", self.noise_dim, low=0)
        check_widths("actor_hidden", self.actor_hidden)
        check_widths("opponent_hidden", self.opponent_hidden)
        if len(self.explore_noise_until) != len(self.explore_noise) - 1:
            raise ValueError(f"explore_noise_until needs one fraction fewer than explore_noise "
                             f"({len(self.explore_noise)} phases); got "
                             f"{list(self.explore_noise_until)}")
        if any(s < 0 for s in self.explore_noise):
            raise ValueError(f"explore_noise must be 0 or more; got {list(self.explore_noise)}")
        ends = [0.0, *self.explore_noise_until, 1.0]
        if any(a > b for a, b in zip(ends[:-1], ends[1:])):
            raise ValueError(f"explore_noise_until must rise within [0, 1]; got "
                             f"{list(self.explore_noise_until)}")

    def noise_std(self, step: int) -> float:
        """The exploration noise's std after ``step`` env steps."""
        phase = sum(step >= f * self.total_steps for f in self.explore_noise_until)
        return self.explore_noise[phase]


# ----------------------------------------------------------------------------- pure functions
def soft_expectation(q: Tensor, alpha: float) -> Tensor:
    """``alpha log mean_k exp(q_k / alpha)`` over the last dimension: the mean of ``q`` as
    ``alpha -> inf``, its maximum as ``alpha -> 0``."""
    return alpha * (torch.logsumexp(q / alpha, dim=-1) - math.log(q.shape[-1]))


def opponent_score(joint_critic: nn.Module, critic: nn.Module, states: Tensor, own: Tensor,
                   particles: Tensor, alpha: float, squash_correction: bool) -> Tensor:
    """``grad_a log rho*(a | s, a_i)`` at the detached opponent particles ``[n, B, M, D_-i]``, with
    ``log rho* = (Q_i(s, a_i, a) - Q_i(s, a_i)) / alpha (+ sum log(1 - a^2 + eps))``; ``states
    [n, B, S]`` and ``own [n, B, d]`` are each agent's state and replayed action."""
    a = particles.detach().requires_grad_(True)
    q = joint_q(joint_critic, states, own, a)  # [n, B, M]
    baseline = critic(torch.cat([states, own], -1))  # [n, B, 1]: constant in a
    log_p = ((q - baseline) / alpha).sum()
    if squash_correction:
        log_p = log_p + torch.log(1.0 - a.square() + SQUASH_EPS).sum()
    (score,) = torch.autograd.grad(log_p, a)
    return score


def joint_q(joint_critic: nn.Module, states: Tensor, own: Tensor, others: Tensor) -> Tensor:
    """``Q_i(s, a_i, a_-i)`` for every agent: ``states [n, B, S]``, ``own [n, B, d]`` (or with a
    sample dimension, ``[n, B, K, .]``, broadcast against ``others [n, B, K, D_-i]``) -> ``[n, B]``
    or ``[n, B, K]``."""
    if others.dim() == 4:
        k = others.shape[2]
        states = states[:, :, None].expand(-1, -1, k, -1)
        own = own[:, :, None].expand(-1, -1, k, -1) if own.dim() == 3 else own
    inputs = torch.cat([states, own, others], -1)
    shape = inputs.shape[:-1]
    return joint_critic(inputs.reshape(shape[0], -1, inputs.shape[-1])).reshape(shape)


# ------------------------------------------------------------------------------------ agent
class PR2(OffPolicyAgent):
    """PR2-AC with level-k reasoning; see the module docstring."""

    config_class = PR2Config
    saved = ("actor", "actor_target", "opponent", "joint_critic", "joint_critic_target",
             "critic", "actor_opt", "opponent_opt", "critic_opt", "explore_noise", "eval_noise",
             "update_noise")

    def __init__(self, config: PR2Config, spaces: EnvSpaces, seed: int) -> None:
        if spaces.n_agents < 2:
            raise ValueError(f"PR2 models the other agents and needs at least 2; got "
                             f"{spaces.n_agents}")
        super().__init__(config, spaces, seed)
        self.opp_dim = (self.n - 1) * self.act_dim
        self.noise_dim = config.noise_dim or self.opp_dim
        # others[i] lists the agents other than i, in agent order
        self.others = torch.tensor([[j for j in range(self.n) if j != i] for i in range(self.n)])
        self.explore_noise, self.eval_noise, self.update_noise = (self.generator(k)
                                                                  for k in range(3))
        n, d, c = self.n, self.act_dim, config
        actor_in = self.obs_dim + (self.opp_dim if c.level_k > 1 else 0)
        self.actor = GroupedMLP(n, actor_in, d, c.actor_hidden)
        self.actor_target = copy.deepcopy(self.actor).requires_grad_(False)
        self.opponent = GroupedMLP(n, self.obs_dim + d + self.noise_dim, self.opp_dim,
                                   c.opponent_hidden)
        self.joint_critic = GroupedMLP(n, self.state_dim + d + self.opp_dim, 1, c.critic_hidden)
        self.joint_critic_target = copy.deepcopy(self.joint_critic).requires_grad_(False)
        self.critic = GroupedMLP(n, self.state_dim + d, 1, c.critic_hidden)
        self.actor_opt = self.adam(self.actor, c.actor_lr)
        self.opponent_opt = self.adam(self.opponent, c.opponent_lr)
        self.critic_opt = torch.optim.Adam(  # both critics, one step
            [*self.joint_critic.parameters(), *self.critic.parameters()], lr=c.critic_lr,
            fused=True)
        self.buffer = self.make_buffer(("obs", "state", "actions", "reward", "next_obs",
                                        "next_state", "terminated"), stream=3)

    # ---------------------------------------------------------------------------- acting
    @property
    def alpha(self) -> float:
        return self.config.alpha(self.steps)

    def act(self, obs: np.ndarray, *, explore: bool) -> np.ndarray:
        generator = self.explore_noise if explore else self.eval_noise
        obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32)).reshape(len(obs), self.n, -1)
        with torch.no_grad():
            a = self.policy(obs_t.transpose(0, 1), self.actor, generator).transpose(0, 1)
            std = self.config.noise_std(self.steps)
            if explore and std > 0:
                a = (a + std * torch.randn(a.shape, generator=generator)).clamp(-1.0, 1.0)
        return self.box.to_env(a.numpy())

    def policy(self, obs: Tensor, actor: nn.Module, generator: torch.Generator) -> Tensor:
        """Every agent's level-``k`` action in [-1, 1], ``[n, N, d]``, from its own observation
        ``obs [n, N, o]``; for ``k >= 2`` the chain below the top is drawn with ``generator`` and
        not differentiated."""
        k = self.config.level_k
        if k == 1:
            return torch.tanh(actor(obs))
        with torch.no_grad():
            others = self._opponent_level(obs, k - 1, actor, generator)
        return torch.tanh(actor(torch.cat([obs, others], -1)))

    def _own_level(self, obs: Tensor, level: int, actor: nn.Module,
                   generator: torch.Generator) -> Tensor:
        if level == 0:
            return self._uniform(obs, self.act_dim, generator)
        others = self._opponent_level(obs, level - 1, actor, generator)
        return torch.tanh(actor(torch.cat([obs, others], -1)))

    def _opponent_level(self, obs: Tensor, level: int, actor: nn.Module,
                        generator: torch.Generator) -> Tensor:
        if level == 0:
            return self._uniform(obs, self.opp_dim, generator)
        own = self._own_level(obs, level - 1, actor, generator)
        noise = torch.randn(*own.shape[:-1], self.noise_dim, generator=generator)
        return self.sample_opponents(obs, own, noise)

    @staticmethod
    def _uniform(obs: Tensor, dim: int, generator: torch.Generator) -> Tensor:
        return torch.rand(*obs.shape[:-1], dim, generator=generator) * 2.0 - 1.0

    def sample_opponents(self, obs: Tensor, own: Tensor, noise: Tensor) -> Tensor:
        """``rho_i``'s samples of the others' actions, ``tanh(rho_i(o_i, a_i, xi))``: ``obs [n, ..,
        o]``, ``own [n, .., d]``, ``noise [n, .., noise_dim]`` with the same middle dimensions."""
        inputs = torch.cat([obs, own, noise], -1)
        shape = inputs.shape[:-1]
        out = self.opponent(inputs.reshape(self.n, -1, inputs.shape[-1]))
        return torch.tanh(out).reshape(*shape, self.opp_dim)

    # -------------------------------------------------------------------------- learning
    def gradient_step(self) -> dict[str, float]:
        """One step of the critics, the opponent model and the actor, then the target updates."""
        c = self.config
        batch = self._grouped(self.buffer.sample(c.batch_size))
        alpha = self.alpha
        critic_loss, individual_loss = self._critic_step(batch, alpha)
        policy_batch = {k: batch[k][:, : c.policy_batch_size] for k in ("obs", "state", "own")}
        direction_norm = self._opponent_step(policy_batch, alpha)
        objective = self._actor_step(policy_batch, alpha)
        soft_update(self.joint_critic_target, self.joint_critic, c.tau)
        soft_update(self.actor_target, self.actor, c.tau)
        return {"losses/critic": critic_loss, "losses/individual_critic": individual_loss,
                "losses/actor": -objective, "charts/alpha": alpha,
                "charts/explore_noise": c.noise_std(self.steps),
                "charts/direction_norm": direction_norm}

    def _grouped(self, sample: dict[str, np.ndarray]) -> dict[str, Tensor]:
        """A replayed batch laid out per agent, ``[n, B, ...]``: the state is repeated for every
        agent, ``others`` holds the other agents' actions and ``terminated`` stays ``[B]``."""
        t = {k: torch.as_tensor(v) for k, v in sample.items()}
        b = t["state"].shape[0]
        actions = t["actions"]  # [B, n, d]
        return {
            "obs": t["obs"].transpose(0, 1), "next_obs": t["next_obs"].transpose(0, 1),
            "state": t["state"].expand(self.n, b, -1),
            "next_state": t["next_state"].expand(self.n, b, -1),
            "own": actions.transpose(0, 1),
            "others": actions[:, self.others].reshape(b, self.n, -1).transpose(0, 1),
            "reward": t["reward"].expand(self.n, b), "terminated": t["terminated"],
        }

    def _critic_step(self, batch: dict[str, Tensor], alpha: float) -> tuple[float, float]:
        c = self.config
        with torch.no_grad():
            y = batch["reward"] * c.reward_scale  # [n, B]
            live = ~batch["terminated"]
            if live.any():  # one-step games: every transition ends its episode
                y[:, live] += c.gamma * self.next_value(batch["next_obs"][:, live],
                                                        batch["next_state"][:, live], alpha)
        q = joint_q(self.joint_critic, batch["state"], batch["own"], batch["others"])
        m = c.policy_batch_size  # Q_i(s, a_i) is only read at these states, by the rho step
        q_own = self.critic(torch.cat([batch["state"][:, :m], batch["own"][:, :m]], -1))
        joint_loss = 0.5 * (q - y).square().mean(-1).sum()  # each agent's loss, summed
        own_loss = 0.5 * (q_own.squeeze(-1) - y[:, :m]).square().mean(-1).sum()
        self.critic_opt.zero_grad()
        (joint_loss + own_loss).backward()
        self.critic_opt.step()
        return joint_loss.item() / self.n, own_loss.item() / self.n

    def next_value(self, next_obs: Tensor, next_state: Tensor, alpha: float) -> Tensor:
        """``V_i(s')`` ``[n, B]`` at the target actor's action (see ``value_target``)."""
        c = self.config
        own = self.policy(next_obs, self.actor_target, self.update_noise)  # [n, B, d]
        if c.value_target == "uniform":
            n, b = own.shape[:2]
            prefix = torch.cat([next_state, own], -1).reshape(n * b, -1)
            return soft_value(lambda x: self._grouped_target(x, n), prefix, self.opp_dim,
                              c.value_samples, alpha, self.update_noise).reshape(n, b)
        k = c.value_samples
        own_k = own[:, :, None].expand(-1, -1, k, -1)
        noise = torch.randn(*own_k.shape[:-1], self.noise_dim, generator=self.update_noise)
        others = self.sample_opponents(next_obs[:, :, None].expand(-1, -1, k, -1), own_k, noise)
        return joint_q(self.joint_critic_target, next_state, own_k, others).mean(-1)

    def _grouped_target(self, inputs: Tensor, n: int) -> Tensor:
        """The target joint critic on agent-major rows ``[n * B, K, in]`` -> ``[n * B, K, 1]``."""
        return self.joint_critic_target(inputs.reshape(n, -1, inputs.shape[-1])).reshape(
            *inputs.shape[:-1], 1)

    def _opponent_step(self, batch: dict[str, Tensor], alpha: float) -> float:
        c = self.config
        n, b, m = self.n, batch["obs"].shape[1], c.particles
        noise = torch.randn(n, b, m, self.noise_dim, generator=self.update_noise)
        own = batch["own"][:, :, None].expand(-1, -1, m, -1)
        particles = self.sample_opponents(batch["obs"][:, :, None].expand(-1, -1, m, -1), own,
                                          noise)  # [n, B, M, D_-i]
        score = opponent_score(self.joint_critic, self.critic, batch["state"], batch["own"],
                               particles, alpha, c.squash_correction)
        direction = svgd_direction(particles.detach(), score)
        loss = -(direction * particles).sum(-1).mean((1, 2)).sum()
        self.opponent_opt.zero_grad()
        loss.backward(inputs=list(self.opponent.parameters()))
        self.opponent_opt.step()
        return direction.norm(dim=-1).mean().item()

    def _actor_step(self, batch: dict[str, Tensor], alpha: float) -> float:
        c = self.config
        k = c.actor_samples
        own = self.policy(batch["obs"], self.actor, self.update_noise)  # [n, B, d]
        own_k = own[:, :, None].expand(-1, -1, k, -1)
        noise = torch.randn(*own_k.shape[:-1], self.noise_dim, generator=self.update_noise)
        obs_k = batch["obs"][:, :, None].expand(-1, -1, k, -1)
        others = self.sample_opponents(obs_k, own_k, noise)  # rho's reaction to a_i = mu_i(o_i)
        q = joint_q(self.joint_critic, batch["state"], own_k, others)  # [n, B, K]
        value = soft_expectation(q, alpha) if c.actor_objective == "soft" else q.mean(-1)
        objective = value.mean(-1).sum()  # each agent's objective, summed
        self.actor_opt.zero_grad()
        (-objective).backward(inputs=list(self.actor.parameters()))
        self.actor_opt.step()
        return objective.item() / self.n
