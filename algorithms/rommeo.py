"""ROMMEO: Regularized Opponent Model with Maximum Entropy Objective, actor-critic form (ROMMEO-AC;
Tian, Wen, Gong, Punakkath, Zou, Wang; IJCAI 2019, arXiv 1905.08087).

Agent ``i`` maximises ``sum_t E[r + alpha H(pi_i(a_i | s, a_-i)) - KL(rho_i(a_-i | s) || P_i(a_-i |
s))]``: it plans against an opponent model ``rho_i`` that is free to be optimistic but is pulled
towards a prior ``P_i``, the opponents' observed behaviour. Every agent owns five networks, each
agent's in one ``GroupedMLP`` pass with the others':

- a joint critic ``Q_i(s, a_i, a_-i)`` and its Polyak target;
- a conditional policy ``pi_i(a_i | o_i, a_-i)``, a tanh-Gaussian: ``a_i = tanh(u)``, ``u ~
  N(mu, sigma^2)``, with ``mu`` and ``log sigma`` from an MLP of ``o_i`` and the others' action;
- an opponent model ``rho_i(a_-i | o_i)``, a tanh-Gaussian over the others' joint action;
- an opponent prior ``P_i(a_-i | o_i)``, a tanh-Gaussian fitted by maximum likelihood to the
  actions the others took.

Actions live in [-1, 1]^d per agent; the env gets ``low + (a + 1) / 2 (high - low)``. ``s`` is
the global state; ``a_-i`` lists the other agents' actions in agent order.

The tanh-Gaussian density (``tanh_gaussian_log_prob``): ``log p(a) = sum_k [log N(u_k; mu_k,
sigma_k) - log(1 - tanh(u_k)^2)]`` at ``u = atanh(a)``, the change of variables through tanh. The
log-Jacobian is computed as ``2 (log 2 - u - softplus(-2 u))``, exact and finite for every ``u``
(the authors' ``log(1 - tanh(u)^2 + 1e-6)`` is off by 0.005 at ``|u| = 5`` and by 0.26 at 7, and
``log(1 - tanh(u)^2)`` is ``-inf`` in float32 from ``|u| ~ 9``). Samples keep their pre-tanh
``u``, so no ``atanh`` is needed; only replayed actions go through ``atanh``, clipped to ``1 -
1e-6`` in absolute value (``|u| <= 7.25``), since a replayed action can sit on the bound.

Training (the paper's Alg. 2, eqs. 14-19), one gradient step, all agents at once:

- Prior: ``psi_i = argmax E[log P_i(a_-i | o_i)]`` over the others' replayed actions, one Adam step.
- Critic (eqs. 14-16): ``J_Q = 1/2 E[(Q_i(s, a_i, a_-i) - y_i)^2]`` on replayed actions, ``y_i =
  r_i + gamma (1 - terminated) V_i(s')`` with ``V_i(s') = Q_target_i(s', a_i', a') - log rho_i(a' |
  o_i') - alpha log pi_i(a_i' | o_i', a') + log P_i(a' | o_i')``, ``a' ~ rho_i(. | o_i')``, ``a_i' ~
  pi_i(. | o_i', a')``, one sample per transition; truncation is not termination.
- Policy (eq. 17): ``J_pi = E[alpha log pi_i(a_i | o_i, a) - Q_i(s, a_i, a)]``, ``a ~ rho_i(. |
  o_i)``, ``a_i = tanh(mu + sigma eps)`` reparameterised; it moves ``pi_i`` only.
- Opponent model (eq. 19): ``J_rho = E[log rho_i(a | o_i) - log P_i(a | o_i) - Q_i(s, a_i, a) +
  alpha log pi_i(a_i | o_i, a)]``, ``a = tanh(mu_rho + sigma_rho xi)`` reparameterised; it moves
  ``rho_i`` only.
- ``mu`` and ``log sigma`` of ``pi``, ``rho`` and ``P`` carry the Gaussian-parameter penalty
  ``1e-3 * 1/2 (mean mu^2 + mean (log sigma)^2)`` in their own losses, as the authors' Gaussians
  do; ``log sigma`` is clipped to [-20, 2], the caps of soft actor-critic's code that those
  Gaussians come from (the caps were not read in the ROMMEO repository itself).
- Then ``Q_target_i <- tau Q_i + (1 - tau) Q_target_i``.

Execution (decentralized): agent ``i`` draws ``a ~ rho_i(. | o_i)`` and acts ``a_i ~ pi_i(. | o_i,
a)``: its own observation and its own noise only (one generator draws every agent's noise, each
agent reads its own slice). Evaluation (``explore=False``) takes the tanh of the means, ``a =
tanh(mu_rho(o_i))`` then ``a_i = tanh(mu_pi(o_i, a))``, and draws no noise, so evaluating never
changes training. Exploration is the policies' own sampling; no noise is added.

Where the paper and the authors' code (``rommeoijcai2019/rommeo``, ``maci/learners/rommeo_ac.py``
and its run script) disagree, and what this file does:

- Prior data. The paper fits ``P`` to the opponents' past actions (the replay); the code fits it on
  the most recent 512 transitions only, every step. Default: the code's (``prior_window=512``),
  kept in a small ring buffer of its own. The opponents learn, so the prior should describe how
  they act now; fitted to the whole replay it is dominated by the early, near-uniform
  exploration. ``prior_window=0`` fits on the replayed minibatch (the whole replay, as the paper
  says). Each step draws ``prior_batch_size`` = 128 transitions of the window rather than the
  code's full-batch 512, for time (below).
- ``a_i`` in the opponent loss. Eq. 19 uses the replayed ``a_i``; the code re-samples ``a_i ~
  pi_i(. | o_i, a)`` reparameterised, so the gradient also flows through the policy's reaction
  to ``a``. Default: the code's (``opponent_own_action="policy"``). It is the Monte Carlo form of
  the soft value over own actions that the optimal ``rho`` weighs (the tabular ROMMEO-Q's ``rho
  ∝ P (sum_{a_i} exp(Q / alpha))^alpha``); the replayed ``a_i`` was drawn for another ``a``, and
  its ``log pi(a_i | o_i, a)`` term pulls ``rho`` towards the ``a`` under which the old action is
  likely. ``"replay"`` gives eq. 19 as printed. With ``"policy"`` the policy and opponent losses
  share one sample of ``a`` and ``a_i``; each moves only its own network.
- Target policies. The code soft-updates a target policy that nothing reads; the paper's and the
  code's value both use the online ``pi``, ``rho`` and ``P`` and the target ``Q``. So does this
  file, which keeps no target policy.
- Temperature. The paper says ROMMEO needs no delicate annealing; the code nevertheless anneals
  ``alpha_t = 0.1 + 500 exp(-0.1 max(t - 10, 0))``. The benchmark uses one schedule for every
  maximum-entropy method (the benchmark paper's App. H.5.3), SVNR's: geometric 30 -> 0.1 over the
  first 60% of ``total_steps`` (``algorithms/common/alpha.py``). Alpha weighs the policy's
  entropy only: the KL to the prior has weight 1 in the paper and the code.
- The code's critic, policy and models read agent ``i``'s observation; the critic here reads the
  global state, the policy and the two models ``o_i`` (as in this repo's PR2; in the games every
  agent observes the state).

Hyperparameters from the code (the notes' section 4): 2x100 ReLU MLPs, Adam 1e-2 for all four
networks, gamma 0.95, tau 0.01 every step, batch 512, replay 1e6, 10 steps before training,
Gaussian-parameter penalty 1e-3. One departure, for time: the policy, opponent-model and prior
steps use 128 states (``policy_batch_size``, ``prior_batch_size``), the critic all 512; with 512
everywhere a ``max_of_three`` run costs about twice as much.

Cost on this project's 2-core CPU, one thread, CPU time measured while the machine ran 4 to 8
other jobs: a ``max_of_three-s2=1.5`` run (5000 gradient steps at about 9 ms, 21 evaluations)
about 57 s; Particle Gather (125000 env steps, 4 agents; a gradient step there costs about
17 ms) about 3.2 minutes with ``update_every=16`` (7800 gradient steps; 193 s for a whole run)
and 6 minutes with 8.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ro_bench.agents import EnvSpaces
from ro_bench.configs import documented
from ro_bench.params import choice, integer
from ro_bench.search import HIDDEN_UNITS, LEARNING_RATE
from ro_bench_zoo.common.alpha import AnnealedAlpha
from ro_bench_zoo.common.grouped import GroupedMLP
from ro_bench_zoo.common.off_policy import OffPolicyAgent, check_widths
from ro_bench_zoo.common.target import soft_update

OWN_ACTIONS = ("policy", "replay")
ATANH_LIMIT = 1.0 - 1e-6  # replayed actions are clipped to this before atanh
LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@dataclass(frozen=True)
class ROMMEOConfig(AnnealedAlpha):
    """ROMMEO-AC's settings: the authors' code's where it gives them (networks, Adam 1e-2, gamma,
    tau, batch, prior window, penalty), the benchmark's shared alpha schedule, ours otherwise (see
    the module docstring)."""

    opponent_own_action: str = documented("policy",
        f"a_i in the opponent model's loss: one of {', '.join(OWN_ACTIONS)}; policy: re-sampled "
        "from pi_i(. | o_i, a_-i) and differentiated through a_-i (the authors' code), replay: "
        "the replayed a_i (eq. 19 as printed)")
    prior_window: int = documented(512,
        "the prior P is fitted on the most recent prior_window transitions (the authors' code: "
        "512); 0 fits it on the replayed minibatch, i.e. the whole replay (the paper)")
    gaussian_reg: float = documented(1e-3,
        "weight of 1/2 (mean mu^2 + mean (log sigma)^2) in the losses of pi, rho and P (the "
        "authors' code: 1e-3)")
    log_std_min: float = documented(-20.0,
        "log sigma of every tanh-Gaussian is clipped to [log_std_min, log_std_max] (soft "
        "actor-critic's code, which the authors' Gaussians come from: -20)")
    log_std_max: float = documented(2.0,
        "see log_std_min (soft actor-critic's code: 2)")
    policy_hidden: tuple[int, ...] = documented((100, 100),
        "hidden widths of each agent's conditional policy pi (ReLU; the code: 2x100)",
        search=HIDDEN_UNITS)
    opponent_hidden: tuple[int, ...] = documented((100, 100),
        "hidden widths of each agent's opponent model rho (ReLU; the code: 2x100)",
        search=HIDDEN_UNITS)
    prior_hidden: tuple[int, ...] = documented((100, 100),
        "hidden widths of each agent's opponent prior P (ReLU; the code: 2x100)",
        search=HIDDEN_UNITS)
    policy_lr: float = documented(1e-2,
        "Adam learning rate of the policy pi (the code: 1e-2)",
        search=LEARNING_RATE)
    opponent_lr: float = documented(1e-2,
        "Adam learning rate of the opponent model rho (the code: 1e-2)",
        search=LEARNING_RATE)
    prior_lr: float = documented(1e-2,
        "Adam learning rate of the prior P (the code: 1e-2)",
        search=LEARNING_RATE)
    policy_batch_size: int = documented(128,
        "replayed states per policy and opponent-model step (the first ones of the critic's "
        "batch, so at most batch_size; the code's 512 makes these steps 2.5x dearer)")
    prior_batch_size: int = documented(128,
        "transitions per prior step, drawn with replacement from the prior window (or the first "
        "ones of the critic's batch when prior_window is 0); the code takes the whole window of "
        "512 every step, 2.5x dearer")
    # the code's: Adam 1e-2 for the critic, 10 exploration-only steps (the others are the
    # base's, which the code shares: 2x100 critics, gamma 0.95, tau 0.01, batch 512, buffer 1e6)
    critic_lr: float = 1e-2
    learning_starts: int = 10

    def __post_init__(self) -> None:
        super().__post_init__()
        choice("opponent_own_action", self.opponent_own_action, OWN_ACTIONS)
        for name in ("policy_batch_size", "prior_batch_size"):
            integer(name, getattr(self, name), low=1)
        integer("prior_window", self.prior_window, low=0)
        if self.gaussian_reg < 0:
            raise ValueError(f"gaussian_reg must be 0 or more; got {self.gaussian_reg}")
        if not self.log_std_min < self.log_std_max:
            raise ValueError(f"log_std_min must be below log_std_max; got {self.log_std_min} and "
                             f"{self.log_std_max}")
        for name in ("policy_hidden", "opponent_hidden", "prior_hidden"):
            check_widths(name, getattr(self, name))


# ----------------------------------------------------------------------------- pure functions
def log_tanh_jacobian(pre_tanh: Tensor) -> Tensor:
    """``log(1 - tanh(u)^2)`` elementwise, as ``2 (log 2 - u - softplus(-2 u))``: exact, and finite
    for every ``u`` (the direct form underflows to ``-inf`` in float32 from ``|u| ~ 9``)."""
    return 2.0 * (math.log(2.0) - pre_tanh - F.softplus(-2.0 * pre_tanh))


def tanh_gaussian_log_prob(pre_tanh: Tensor, mean: Tensor, log_std: Tensor) -> Tensor:
    """``log p(tanh(u))`` for ``u ~ N(mean, exp(log_std)^2)``, independent over the last dimension
    and summed over it: the Gaussian's log-density at ``u`` minus ``log(1 - tanh(u)^2)`` per
    dimension (the change of variables ``a = tanh(u)``)."""
    z = (pre_tanh - mean) * torch.exp(-log_std)
    log_normal = -0.5 * z.square() - log_std - LOG_SQRT_2PI
    return (log_normal - log_tanh_jacobian(pre_tanh)).sum(-1)


def tanh_gaussian_sample(mean: Tensor, log_std: Tensor, noise: Tensor) -> tuple[Tensor, Tensor]:
    """The reparameterised sample ``(tanh(u), u)`` with ``u = mean + exp(log_std) * noise``."""
    pre_tanh = mean + torch.exp(log_std) * noise
    return torch.tanh(pre_tanh), pre_tanh


def clipped_atanh(actions: Tensor) -> Tensor:
    """``atanh`` of actions in [-1, 1], clipped to ``+-(1 - 1e-6)`` first, so the bounds map to
    ``+-7.25`` rather than infinity."""
    return torch.atanh(actions.clamp(-ATANH_LIMIT, ATANH_LIMIT))


def gaussian_penalty(mean: Tensor, log_std: Tensor, weight: float) -> Tensor:
    """Each agent's ``weight * 1/2 (mean mu^2 + mean (log sigma)^2)`` for ``[n, ..., k]`` heads,
    summed over the agents (each agent's own loss, as the grouped losses are)."""
    n = mean.shape[0]
    squares = mean.reshape(n, -1).square().mean(-1) + log_std.reshape(n, -1).square().mean(-1)
    return weight * 0.5 * squares.sum()


def soft_next_value(q_next: Tensor, log_rho: Tensor, log_pi: Tensor, log_prior: Tensor,
                    alpha: float) -> Tensor:
    """Eq. 16's one-sample value: ``Q_target(s', a_i', a') - log rho(a' | s') - alpha log pi(a_i' |
    s', a') + log P(a' | s')``."""
    return q_next - log_rho - alpha * log_pi + log_prior


# ------------------------------------------------------------------------------------ agent
class ROMMEO(OffPolicyAgent):
    """ROMMEO-AC; see the module docstring."""

    config_class = ROMMEOConfig
    saved = ("policy", "opponent", "prior", "critic", "critic_target", "policy_opt",
             "opponent_opt", "prior_opt", "critic_opt", "explore_noise", "update_noise")

    def __init__(self, config: ROMMEOConfig, spaces: EnvSpaces, seed: int) -> None:
        if spaces.n_agents < 2:
            raise ValueError(f"ROMMEO models the other agents and needs at least 2; got "
                             f"{spaces.n_agents}")
        super().__init__(config, spaces, seed)
        self.opp_dim = (self.n - 1) * self.act_dim
        # others[i] lists the agents other than i, in agent order
        self.others = torch.tensor([[j for j in range(self.n) if j != i] for i in range(self.n)])
        self.explore_noise, self.update_noise = self.generator(0), self.generator(1)
        n, d, c = self.n, self.act_dim, config
        self.policy = GroupedMLP(n, self.obs_dim + self.opp_dim, 2 * d, c.policy_hidden)
        self.opponent = GroupedMLP(n, self.obs_dim, 2 * self.opp_dim, c.opponent_hidden)
        self.prior = GroupedMLP(n, self.obs_dim, 2 * self.opp_dim, c.prior_hidden)
        self.critic = GroupedMLP(n, self.state_dim + d + self.opp_dim, 1, c.critic_hidden)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.policy_opt = self.adam(self.policy, c.policy_lr)
        self.opponent_opt = self.adam(self.opponent, c.opponent_lr)
        self.prior_opt = self.adam(self.prior, c.prior_lr)
        self.critic_opt = self.adam(self.critic, c.critic_lr)
        self.buffer = self.make_buffer(("obs", "state", "actions", "reward", "next_obs",
                                        "next_state", "terminated"), stream=2)
        # the most recent prior_window transitions, the prior's data
        self.window = None if c.prior_window == 0 else self.make_buffer(
            ("obs", "actions"), stream=3, capacity=c.prior_window, name="prior_window")

    # ---------------------------------------------------------------------------- acting
    @property
    def alpha(self) -> float:
        return self.config.alpha(self.steps)

    def act(self, obs: np.ndarray, *, explore: bool) -> np.ndarray:
        obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32)).reshape(len(obs), self.n, -1)
        obs_t = obs_t.transpose(0, 1)  # [n, B, o]
        with torch.no_grad():
            if explore:
                others, _, _ = self.sample_opponents(obs_t, self.explore_noise)
                a, _, _ = self.sample_own(obs_t, others, self.explore_noise)
            else:
                others = torch.tanh(self.heads(self.opponent, obs_t)[0])
                a = torch.tanh(self.heads(self.policy, torch.cat([obs_t, others], -1))[0])
        return self.box.to_env(a.transpose(0, 1).numpy())

    def heads(self, net: GroupedMLP, inputs: Tensor) -> tuple[Tensor, Tensor]:
        """A tanh-Gaussian's ``mean`` and clipped ``log_std`` from ``inputs [n, ..., in]``."""
        shape = inputs.shape[:-1]
        out = net(inputs.reshape(shape[0], -1, inputs.shape[-1])).reshape(*shape, -1)
        mean, log_std = out.chunk(2, dim=-1)
        return mean, log_std.clamp(self.config.log_std_min, self.config.log_std_max)

    def sample_opponents(self, obs: Tensor, generator: torch.Generator
                         ) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor]]:
        """``a_-i ~ rho_i(. | o_i)`` reparameterised, for ``obs [n, B, o]``: the action ``[n, B,
        D_-i]``, its pre-tanh value and rho's ``(mean, log_std)``."""
        mean, log_std = self.heads(self.opponent, obs)
        noise = torch.randn(mean.shape, generator=generator)
        action, pre_tanh = tanh_gaussian_sample(mean, log_std, noise)
        return action, pre_tanh, (mean, log_std)

    def sample_own(self, obs: Tensor, others: Tensor, generator: torch.Generator
                   ) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor]]:
        """``a_i ~ pi_i(. | o_i, a_-i)`` reparameterised: the action ``[n, B, d]``, its pre-tanh
        value and pi's ``(mean, log_std)``."""
        mean, log_std = self.heads(self.policy, torch.cat([obs, others], -1))
        noise = torch.randn(mean.shape, generator=generator)
        action, pre_tanh = tanh_gaussian_sample(mean, log_std, noise)
        return action, pre_tanh, (mean, log_std)

    def q(self, critic: GroupedMLP, states: Tensor, own: Tensor, others: Tensor) -> Tensor:
        """``Q_i(s, a_i, a_-i)`` ``[n, B]`` for ``states [n, B, S]``, ``own [n, B, d]``, ``others
        [n, B, D_-i]``."""
        return critic(torch.cat([states, own, others], -1)).squeeze(-1)

    # -------------------------------------------------------------------------- learning
    def gradient_step(self) -> dict[str, float]:
        """One step of the prior, the critic, the policy and the opponent model (Alg. 2), then the
        target critic's."""
        c = self.config
        batch = self._grouped(self.buffer.sample(c.batch_size))
        alpha = self.alpha
        prior_nll = self._prior_step(batch)
        critic_loss = self._critic_step(batch, alpha)
        policy_batch = {k: batch[k][:, : c.policy_batch_size] for k in ("obs", "state", "own")}
        policy_loss, opponent_loss, stats = self.policy_losses(policy_batch, alpha,
                                                               self.update_noise)
        self.policy_opt.zero_grad()
        self.opponent_opt.zero_grad()
        # each loss moves its own network only: pi's does not train rho, nor rho's pi
        policy_loss.backward(inputs=list(self.policy.parameters()), retain_graph=True)
        opponent_loss.backward(inputs=list(self.opponent.parameters()))
        self.policy_opt.step()
        self.opponent_opt.step()
        soft_update(self.critic_target, self.critic, c.tau)
        return {"losses/critic": critic_loss, "losses/policy": policy_loss.item() / self.n,
                "losses/opponent": opponent_loss.item() / self.n, "losses/prior_nll": prior_nll,
                "charts/alpha": alpha, **stats}

    def _grouped(self, sample: dict[str, np.ndarray]) -> dict[str, Tensor]:
        """A replayed batch laid out per agent, ``[n, B, ...]``: the state is repeated for every
        agent, ``others`` holds the other agents' actions and ``terminated`` stays ``[B]``."""
        t = {k: torch.as_tensor(v) for k, v in sample.items()}
        b = t["obs"].shape[0]
        grouped = {"obs": t["obs"].transpose(0, 1), "own": t["actions"].transpose(0, 1),
                   "others": t["actions"][:, self.others].reshape(b, self.n, -1).transpose(0, 1)}
        if "state" in t:
            grouped.update({
                "next_obs": t["next_obs"].transpose(0, 1),
                "state": t["state"].expand(self.n, b, -1),
                "next_state": t["next_state"].expand(self.n, b, -1),
                "reward": t["reward"].expand(self.n, b), "terminated": t["terminated"]})
        return grouped

    def _prior_step(self, batch: dict[str, Tensor]) -> float:
        """Maximum likelihood of the others' actions under ``P_i`` (on the window, or the batch)."""
        size = self.config.prior_batch_size
        if self.window is None:
            batch = {k: batch[k][:, :size] for k in ("obs", "others")}
        else:
            batch = self._grouped(self.window.sample(size))
        loss, nll = self.prior_loss(batch["obs"], batch["others"])
        self.prior_opt.zero_grad()
        loss.backward(inputs=list(self.prior.parameters()))
        self.prior_opt.step()
        return nll

    def prior_loss(self, obs: Tensor, others: Tensor) -> tuple[Tensor, float]:
        """``-E[log P_i(a_-i | o_i)]`` summed over agents, plus the Gaussian-parameter penalty;
        and each agent's mean negative log-likelihood."""
        mean, log_std = self.heads(self.prior, obs)
        nll = -tanh_gaussian_log_prob(clipped_atanh(others), mean, log_std).mean(-1).sum()
        loss = nll + gaussian_penalty(mean, log_std, self.config.gaussian_reg)
        return loss, nll.item() / self.n

    def _critic_step(self, batch: dict[str, Tensor], alpha: float) -> float:
        y = self.critic_targets(batch, alpha, self.update_noise)
        q = self.q(self.critic, batch["state"], batch["own"], batch["others"])
        loss = 0.5 * (q - y).square().mean(-1).sum()  # each agent's loss, summed
        self.critic_opt.zero_grad()
        loss.backward()
        self.critic_opt.step()
        return loss.item() / self.n

    @torch.no_grad()
    def critic_targets(self, batch: dict[str, Tensor], alpha: float,
                       generator: torch.Generator) -> Tensor:
        """``y_i = r_i + gamma (1 - terminated) V_i(s')`` ``[n, B]`` (eqs. 14-16)."""
        c = self.config
        y = batch["reward"] * c.reward_scale
        live = ~batch["terminated"]
        if live.any():  # one-step games: every transition ends its episode
            next_obs = batch["next_obs"][:, live]
            others, others_u, rho_heads = self.sample_opponents(next_obs, generator)
            own, own_u, pi_heads = self.sample_own(next_obs, others, generator)
            value = soft_next_value(
                self.q(self.critic_target, batch["next_state"][:, live], own, others),
                tanh_gaussian_log_prob(others_u, *rho_heads),
                tanh_gaussian_log_prob(own_u, *pi_heads),
                tanh_gaussian_log_prob(others_u, *self.heads(self.prior, next_obs)), alpha)
            y[:, live] += c.gamma * value
        return y

    def policy_losses(self, batch: dict[str, Tensor], alpha: float, generator: torch.Generator
                      ) -> tuple[Tensor, Tensor, dict[str, float]]:
        """The policy's loss (eq. 17) and the opponent model's (eq. 19), each summed over agents
        with its Gaussian-parameter penalty; both share one sample ``a_-i ~ rho_i``."""
        c = self.config
        obs, states = batch["obs"], batch["state"]
        others, others_u, rho_heads = self.sample_opponents(obs, generator)
        log_rho = tanh_gaussian_log_prob(others_u, *rho_heads)
        log_prior = tanh_gaussian_log_prob(others_u, *self.heads(self.prior, obs))
        own, own_u, pi_heads = self.sample_own(obs, others, generator)
        log_pi = tanh_gaussian_log_prob(own_u, *pi_heads)
        q = self.q(self.critic, states, own, others)  # [n, B]
        soft_q = q - alpha * log_pi
        policy_loss = -soft_q.mean(-1).sum() + gaussian_penalty(*pi_heads, c.gaussian_reg)
        if c.opponent_own_action == "replay":
            replayed = batch["own"]
            log_pi_replayed = tanh_gaussian_log_prob(clipped_atanh(replayed), *pi_heads)
            soft_q = self.q(self.critic, states, replayed, others) - alpha * log_pi_replayed
        kl = log_rho - log_prior
        opponent_loss = (kl - soft_q).mean(-1).sum() + gaussian_penalty(*rho_heads, c.gaussian_reg)
        stats = {"charts/kl_rho_prior": kl.mean().item(),
                 "charts/policy_entropy": -log_pi.mean().item(), "charts/q_mean": q.mean().item()}
        return policy_loss, opponent_loss, stats
