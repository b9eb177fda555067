"""MAPPO: Multi-Agent PPO (Yu et al., "The Surprising Effectiveness of PPO in Cooperative
Multi-Agent Games", NeurIPS 2022 Datasets and Benchmarks), continuous actions.

Every agent acts with one shared Gaussian policy ``pi(a | o_i, id_i) = N(mu(o_i, id_i),
diag(exp(2 log_std)))`` over its own observation and a one-hot agent id, with a state-independent
learned ``log_std`` (the paper's parameter sharing, with the agent id among the "agent-specific"
inputs of its Suggestion 2). A centralized critic ``V(s, id_i)`` sees the env's global state and
the agent's id. Training is PPO (Schulman et al. 2017) on each rollout of ``n_steps`` env steps per
env, all agents' samples together:

- Advantages: GAE(lambda) on each agent's own values, bootstrapped on truncation and not on
  termination (``on_policy.gae``), normalized over the whole rollout (mean 0, std 1).
- Actor (the paper's actor objective: PPO's clipped surrogate, eq. 7 of Schulman et al. 2017,
  plus an entropy bonus):
  ``L = -E[min(r A, clip(r, 1 - eps, 1 + eps) A)] - c_ent E[H(pi)]`` with
  ``r = pi(a | o) / pi_old(a | o)``, the log-probabilities summed over action dimensions.
- Critic (the paper's critic objective, with Suggestion 1, value normalization): ``V`` predicts
  normalized returns ``(R - mean) / std`` under a running ``ValueNorm`` (``on_policy.py``); the
  loss is
  ``E[max(huber(R_n - V), huber(R_n - clip(V, V_old - eps, V_old + eps)))]`` with Huber's
  ``delta = 10``, the clipped value loss of the paper's critic objective.
- Each step: the actor's gradient, clipped to norm ``max_grad_norm`` (10), an Adam step; then
  the critic's, likewise. ``epochs`` passes over the rollout in ``minibatches`` shuffled
  mini-batches. The rollout is then discarded.

Defaults, each the paper's recommendation or, where it gives none, the authors' code's default
(``marlbenchmark/on-policy``, ``onpolicy/config.py``), read to learn and not copied:

- Suggestion 1: value normalization on (``value_norm``), with the code's ValueNorm statistics
  (``beta = 0.99999``). Suggestion 2: the critic sees the global state plus the agent's id.
- Suggestion 3, training data: 15 epochs (the paper's choice for easy tasks) and one mini-batch
  (the paper advises against splitting the data). Suggestion 4: clip 0.2 (the paper: 0.2 or
  less). Suggestion 5, batch size: ``n_steps = 200`` per env, the code's ``episode_length``.
- The code's: Adam 5e-4 for both networks with ``eps = 1e-5``, gamma 0.99, GAE lambda 0.95,
  entropy 0.01, value loss weight 1, gradient norm 10, Huber delta 10, two hidden layers of 64
  ReLU units each followed by LayerNorm, LayerNorm on the inputs (``use_feature_normalization``),
  orthogonal initialization (gain sqrt(2) in the hidden layers, 0.01 on the policy mean, 1 on the
  value; biases 0), ``log_std`` starting at 0.

The paper's benchmarks (MPE, SMAC, Google Research Football, Hanabi) have discrete actions; for
``Box`` actions these are the code's defaults, which it samples from a DiagGaussian with a
state-independent log-std, as here.

Actions and the log-probability of the action actually taken. The policy lives in [-1, 1] units
(``box`` maps them to the env's box): a sample ``a ~ pi`` is unbounded and the env gets
``clip(a, -1, 1)``, as the authors' code and Stable-Baselines3 do (neither squashes). The
log-probability that PPO's ratio needs is that of the unclipped sample; the env-box action the
harness hands back to ``observe`` has lost it wherever the sample was clipped. So ``act(explore=
True)`` keeps its last raw sample, and ``observe`` checks that the transitions' actions are
exactly what that sample gave the env, then stores the raw sample; any other actions are refused
with a ValueError (MAPPO is on-policy: it learns only from its own behaviour). We keep the
Gaussian rather than squash it with tanh: a tanh-Gaussian would make the action recoverable but is
not the paper's policy, and its log-probability needs the change-of-variables term. The
evaluation policy, ``act(explore=False)``, is the mean ``clip(mu(o_i, id_i), -1, 1)``.

What this means on a short budget. PPO maximizes the expected reward of the stochastic policy.
While ``sigma`` is large against the box (it starts at 1, half the box's width, and falls by
under 1% a rollout at the defaults), samples beyond an edge all land on it, so a mean past the
edge concentrates the played actions there: for the stochastic policy that can beat a mean at a
bowl's centre, and the greedy evaluation then plays the box edge. On the one-step games' 5,000
env steps (25 rollouts) ``sigma`` only reaches about 0.84 and the mean ends beyond the edge on
the dimensions whose centre is farthest out (Max of Three: ``(-10, -10, 6 to 8)`` past the trap's
``(-5, -5, 3)``, ``(10, 10, -10)`` past the optimum's ``(7, 7, -4)``). Stable-Baselines3's PPO
(``sb3_ppo``), with the same Gaussian and clipping, does the same.

Deviations from the authors' code, each deliberate:

- Time limits: the code's default (``use_proper_time_limits=False``) treats a truncated episode
  as terminated; we bootstrap on truncation and never on termination, Gymnasium's definition,
  which ro-bench's ``Transitions`` carry (``terminated`` and ``truncated``).
- Huber loss: the code's ``huber_loss(e, d)`` (``onpolicy/utils/util.py``, in the versions we
  read) tests ``e > d`` instead of ``|e| > d`` for the linear part, so an error below ``-d``
  costs nothing; we use the symmetric Huber loss the paper names.
- ValueNorm is updated once per rollout with all its returns (the code updates it in every
  mini-batch of every epoch, with the same returns); with ``beta`` this close to 1 both weigh
  every rollout almost equally. Its statistics are float64.
- Mini-batches: every sample is used (``torch.tensor_split``); the code drops the remainder of
  ``batch // minibatches``.
- No recurrent policy (the code's default for SMAC): ro-bench's envs are fully observed or
  one-step games, and the paper uses MLPs where recurrence does not help.
- Agents are never inactive (ro-bench's teams end episodes together): no active masks.

Decentralized execution: agent ``i``'s action is a function of ``(o_i, i)`` and, when exploring,
its own noise; the critic is used only in training. Exploration noise comes from a generator of
its own (``stream(0)``) and the mini-batch order from another (``stream(1)``); evaluation draws
nothing, so evaluating never changes training.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from ro_bench.agents import EnvSpaces, Transitions
from ro_bench.configs import documented
from ro_bench.params import boolean, integer, real
from ro_bench.search import LEARNING_RATE
from ro_bench_zoo.common.on_policy import (
    OnPolicyAgent, OnPolicyConfig, ValueNorm, gae, normalize_advantages)

LOG_2PI_E = math.log(2 * math.pi * math.e)


@dataclass(frozen=True)
class MAPPOConfig(OnPolicyConfig):
    """MAPPO's settings: the paper's suggestions and its authors' code's defaults (see the module
    docstring); the PPO fields and their defaults are ``OnPolicyConfig``'s."""

    critic_lr: float = documented(5e-4, "Adam learning rate of the centralized critic",
        search=LEARNING_RATE)
    minibatches: int = documented(1,
        "mini-batches per epoch (the paper: 1, do not split the data); at most n_steps")
    value_loss_coef: float = documented(1.0, "weight of the value loss (the code's: 1)")
    huber_delta: float = documented(10.0,
        "Huber's delta in the value loss (the code's: 10); 0 gives the squared error")
    value_norm: bool = documented(True,
        "train the critic on normalized returns under a running ValueNorm (Suggestion 1)")
    feature_norm: bool = documented(True, "LayerNorm on the networks' inputs (the code's)")
    adam_eps: float = documented(1e-5, "Adam's epsilon (the code's: 1e-5)")
    log_std_init: float = documented(0.0,
        "initial log standard deviation of the policy, in [-1, 1] action units")

    def __post_init__(self) -> None:
        super().__post_init__()
        integer("minibatches", self.minibatches, low=1, high=self.n_steps)
        real("critic_lr", self.critic_lr, low=0.0, low_open=True)
        real("value_loss_coef", self.value_loss_coef, low=0.0)
        real("huber_delta", self.huber_delta, low=0.0)
        real("adam_eps", self.adam_eps, low=0.0, low_open=True)
        real("log_std_init", self.log_std_init, low=-20.0, high=2.0)
        boolean("value_norm", self.value_norm)
        boolean("feature_norm", self.feature_norm)


# ----------------------------------------------------------------------------- pure functions
def gaussian_log_prob(actions: Tensor, mean: Tensor, log_std: Tensor) -> Tensor:
    """``log N(a; mu, diag(sigma^2))`` summed over the last (action) dimension."""
    z = (actions - mean) * torch.exp(-log_std)
    return (-0.5 * z.square() - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)


def gaussian_entropy(log_std: Tensor) -> Tensor:
    """The entropy of ``N(mu, diag(exp(2 log_std)))``: ``sum_d (log_std_d + log(2 pi e) / 2)``."""
    return (log_std + 0.5 * LOG_2PI_E).sum(-1)


def clipped_surrogate(log_prob: Tensor, old_log_prob: Tensor, advantages: Tensor,
                      clip: float) -> Tensor:
    """PPO's clipped objective as a loss (eq. 7 of Schulman et al. 2017, negated):
    ``-mean(min(r A, clip(r, 1 - clip, 1 + clip) A))``, ``r = exp(log_prob - old_log_prob)``."""
    ratio = torch.exp(log_prob - old_log_prob)
    clipped = ratio.clamp(1.0 - clip, 1.0 + clip)
    return -torch.minimum(ratio * advantages, clipped * advantages).mean()


def huber(error: Tensor, delta: float) -> Tensor:
    """Elementwise Huber loss: ``e^2 / 2`` where ``|e| <= delta``, ``delta (|e| - delta / 2)``
    beyond; ``delta = 0`` gives ``e^2 / 2`` everywhere."""
    if delta == 0:
        return 0.5 * error.square()
    small = error.abs() <= delta
    return torch.where(small, 0.5 * error.square(), delta * (error.abs() - 0.5 * delta))


def clipped_value_loss(values: Tensor, old_values: Tensor, targets: Tensor, clip: float,
                       delta: float) -> Tensor:
    """MAPPO's critic loss: ``mean(max(huber(R - V), huber(R - V_clipped)))`` with
    ``V_clipped = V_old + clip(V - V_old, -clip, clip)``."""
    clipped = old_values + (values - old_values).clamp(-clip, clip)
    return torch.maximum(huber(targets - values, delta), huber(targets - clipped, delta)).mean()


# ----------------------------------------------------------------------------------- networks
def ppo_mlp(in_dim: int, out_dim: int, hidden: Sequence[int], feature_norm: bool,
            out_gain: float) -> nn.Sequential:
    """``[LayerNorm] -> (Linear -> ReLU -> LayerNorm) per hidden width -> Linear``, orthogonal
    weights (gain sqrt(2) in the hidden layers, ``out_gain`` at the output) and zero biases."""
    layers: list[nn.Module] = [nn.LayerNorm(in_dim)] if feature_norm else []
    width = in_dim
    for h in hidden:
        layers += [_orthogonal(nn.Linear(width, h), math.sqrt(2)), nn.ReLU(), nn.LayerNorm(h)]
        width = h
    layers.append(_orthogonal(nn.Linear(width, out_dim), out_gain))
    return nn.Sequential(*layers)


def _orthogonal(layer: nn.Linear, gain: float) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, gain=gain)
    nn.init.zeros_(layer.bias)
    return layer


class GaussianPolicy(nn.Module):
    """The shared actor: the mean ``mu(o_i, id_i)`` and a state-independent ``log_std``."""

    def __init__(self, in_dim: int, act_dim: int, config: MAPPOConfig) -> None:
        super().__init__()
        self.mean = ppo_mlp(in_dim, act_dim, config.hidden, config.feature_norm, 0.01)
        self.log_std = nn.Parameter(torch.full((act_dim,), float(config.log_std_init)))

    def forward(self, x: Tensor) -> Tensor:
        return self.mean(x)


# -------------------------------------------------------------------------------------- agent
class MAPPO(OnPolicyAgent):
    """Multi-Agent PPO with a shared Gaussian actor and a centralized critic; see the module
    docstring."""

    config_class = MAPPOConfig
    saved = ("actor", "critic", "value_norm", "actor_opt", "critic_opt", "explore_noise",
             "shuffle")

    def __init__(self, config: MAPPOConfig, spaces: EnvSpaces, seed: int) -> None:
        super().__init__(config, spaces, seed)
        n = self.n
        self.ids = torch.eye(n)
        self.actor = GaussianPolicy(self.obs_dim + n, self.act_dim, config)
        self.critic = ppo_mlp(self.state_dim + n, 1, config.hidden, config.feature_norm, 1.0)
        self.value_norm = ValueNorm()
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=config.lr,
                                          eps=config.adam_eps)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=config.critic_lr,
                                           eps=config.adam_eps)
        self.explore_noise = self.generator(0)
        self.shuffle = self.generator(1)
        self._sampled: tuple[np.ndarray, np.ndarray] | None = None  # (raw, env actions)

    # ---------------------------------------------------------------------------- acting
    def act(self, obs: np.ndarray, *, explore: bool) -> np.ndarray:
        obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32)).reshape(len(obs), self.n, -1)
        with torch.no_grad():
            mean = self.actor(self._actor_input(obs_t))  # [B, N, d]
            if not explore:
                return self.box.to_env(mean.clamp(-1.0, 1.0).numpy())
            noise = torch.randn(mean.shape, generator=self.explore_noise)
            raw = mean + self.actor.log_std.exp() * noise
        actions = self.box.to_env(raw.clamp(-1.0, 1.0).numpy())
        self._sampled = (raw.numpy(), actions)
        return actions

    def rollout_actions(self, transitions: Transitions) -> np.ndarray:
        """The raw Gaussian samples behind ``transitions.actions``, which must be the actions of
        the last ``act(explore=True)`` (see the module docstring)."""
        sampled, self._sampled = self._sampled, None
        if sampled is None or not np.array_equal(np.asarray(transitions.actions), sampled[1]):
            raise ValueError(
                "MAPPO learns on-policy: observe() takes only the transitions of the actions its "
                "last act(explore=True) returned, once each (it stores the unclipped samples "
                "behind them); act(explore=True), step the env with those actions, observe")
        return sampled[0]

    # -------------------------------------------------------------------------- learning
    def learn(self, rollout: dict[str, Tensor]) -> dict[str, float]:
        """One PPO update on the rollout ``[T, B, ...]``: advantages, then ``epochs`` passes in
        ``minibatches`` mini-batches, each an actor step then a critic step."""
        c = self.config
        x = self._actor_input(rollout["obs"])  # [T, B, N, o + N]
        v_in = self._critic_input(rollout["state"])  # [T, B, N, s + N]
        with torch.no_grad():
            old_values = self.critic(v_in).squeeze(-1)  # normalized, [T, B, N]
            next_values = self.critic(self._critic_input(rollout["next_state"])).squeeze(-1)
            advantages, returns = gae(rollout["reward"], self._denormalize(old_values),
                                      self._denormalize(next_values), rollout["terminated"],
                                      rollout["truncated"], c.gamma, c.gae_lambda)
            if c.value_norm:
                self.value_norm.update(returns)
            targets = self.value_norm.normalize(returns) if c.value_norm else returns
            advantages = normalize_advantages(advantages)
            old_log_prob = gaussian_log_prob(rollout["actions"], self.actor(x),
                                             self.actor.log_std)
        samples = {"x": x.flatten(0, 2), "v_in": v_in.flatten(0, 2),
                   "actions": rollout["actions"].flatten(0, 2),
                   "old_log_prob": old_log_prob.flatten(), "advantages": advantages.flatten(),
                   "old_values": old_values.flatten(), "targets": targets.flatten()}
        sums = {"losses/policy": 0.0, "losses/value": 0.0, "charts/clip_fraction": 0.0}
        steps = 0
        for _ in range(c.epochs):
            order = torch.randperm(len(samples["x"]), generator=self.shuffle)
            for idx in order.tensor_split(c.minibatches):
                mb = {k: v[idx] for k, v in samples.items()}
                policy_loss, clip_fraction = self._actor_step(mb)
                sums["losses/policy"] += policy_loss
                sums["charts/clip_fraction"] += clip_fraction
                sums["losses/value"] += self._critic_step(mb)
                steps += 1
        metrics = {k: v / steps for k, v in sums.items()}
        with torch.no_grad():
            metrics |= {"charts/entropy": gaussian_entropy(self.actor.log_std).item(),
                        "charts/std": self.actor.log_std.exp().mean().item(),
                        "charts/return_mean": returns.mean().item()}
        return metrics

    def _actor_step(self, mb: dict[str, Tensor]) -> tuple[float, float]:
        c = self.config
        log_prob = gaussian_log_prob(mb["actions"], self.actor(mb["x"]), self.actor.log_std)
        policy_loss = clipped_surrogate(log_prob, mb["old_log_prob"], mb["advantages"], c.clip)
        loss = policy_loss - c.entropy_coef * gaussian_entropy(self.actor.log_std)
        self._step(self.actor, self.actor_opt, loss)
        with torch.no_grad():
            clipped = ((log_prob - mb["old_log_prob"]).exp() - 1.0).abs() > c.clip
        return policy_loss.item(), clipped.float().mean().item()

    def _critic_step(self, mb: dict[str, Tensor]) -> float:
        c = self.config
        values = self.critic(mb["v_in"]).squeeze(-1)
        value_loss = clipped_value_loss(values, mb["old_values"], mb["targets"], c.clip,
                                        c.huber_delta)
        self._step(self.critic, self.critic_opt, c.value_loss_coef * value_loss)
        return value_loss.item()

    def _step(self, net: nn.Module, optimizer: torch.optim.Optimizer, loss: Tensor) -> None:
        optimizer.zero_grad()
        loss.backward()
        if self.config.max_grad_norm:
            nn.utils.clip_grad_norm_(net.parameters(), self.config.max_grad_norm)
        optimizer.step()

    # ------------------------------------------------------------------------- inputs
    def _actor_input(self, obs: Tensor) -> Tensor:
        """``[..., N, o]`` observations with each agent's one-hot id appended."""
        ids = self.ids.expand(*obs.shape[:-1], self.n)
        return torch.cat([obs, ids], dim=-1)

    def _critic_input(self, state: Tensor) -> Tensor:
        """``[..., s]`` states as ``[..., N, s + N]``: the state with each agent's id."""
        shared = state.unsqueeze(-2).expand(*state.shape[:-1], self.n, state.shape[-1])
        return torch.cat([shared, self.ids.expand(*state.shape[:-1], self.n, self.n)], dim=-1)

    def _denormalize(self, values: Tensor) -> Tensor:
        return self.value_norm.denormalize(values) if self.config.value_norm else values
