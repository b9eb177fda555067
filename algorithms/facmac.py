"""FACMAC: Factored Multi-Agent Centralised Policy Gradients (Peng et al., NeurIPS 2021).

Deterministic actors ``u_i = mu_i(o_i) = tanh(f_i(o_i))`` in [-1, 1]^d (the env gets
``low + (u + 1) / 2 (high - low)``), a centralised but factored critic
``Q_tot(s, u) = Mixer(Q_1(o_1, u_1), .., Q_n(o_n, u_n); s)`` (per-agent critics ``Q_i`` mixed by
QMIX's hypernetwork mixer, ``common/mixers.py``; monotonic by default, ``mixer="nonmonotonic"``
drops the absolute values, as the paper allows), and the centralised policy gradient. Following
the paper and its authors' code (``oxwhirl/facmac``: ``facmac_learner.py``, ``critics/facmac.py``,
``cqmix_controller.py``; read to learn, not copied):

- Critic: ``L = E[(Q_tot(s, u) - y)^2]`` over a replayed batch with
  ``y = r + gamma (1 - terminated) Q_tot'(s', mu'_1(o'_1), .., mu'_n(o'_n))``: target actors,
  target critics and target mixer. The replay stores ``terminated`` only: a truncated step
  bootstraps. One-step games (every transition terminated) skip the targets.
- Actor, the centralised policy gradient: maximise ``Q_tot(s, mu_1(o_1), .., mu_n(o_n))`` with
  EVERY agent's action from its current policy, none from the replay (MADDPG's gradient keeps the
  other agents' replayed actions), so the gradient reaches each actor through the mixer and
  every agent's critic at once. Loss: ``-E[Q_tot] + 1e-3 E[mu(o)^2]``, the action regulariser
  of the authors' code on the tanh-squashed actions (``(pi**2).mean() * 1e-3`` in
  ``facmac_learner.py``); ``action_reg`` sets its weight.
- Order per gradient step, as the authors' ``train``: critic and mixer step (one Adam), then the
  actors' step on the updated critic, then Polyak averaging of every target. Each optimizer's
  gradients are clipped to a global norm before its step.
- Exploration: uniform random actions for the warm-up, then ``mu_i(o_i)`` plus Gaussian noise,
  clipped to [-1, 1] (``exploration_mode: gaussian``).

Defaults: the settings of FACMAC's MaMuJoCo runs (``common/factored.py``): 2x400 MLPs for actors
and critics, Adam 1e-3 for both with ``eps = 0.01``, clip 0.5, batch 100, gamma 0.99, tau 0.001,
noise 0.1, a 64-unit mixer with 64-unit hypernetworks.

Choices and deviations:

- Per-agent actors and critics, no parameter sharing: the authors' MaMuJoCo runs share one actor
  and one critic across agents, without an agent id (``obs_agent_id: False``). The zoo's other
  methods give every agent its own networks (``GroupedMLP``, one batched pass for all agents), so
  that a comparison isolates the learning rule, and the zoo's games give agents different roles
  (the Climbing game's payoff is not symmetric) that a shared network without an id cannot tell
  apart when the agents see the same observation.
- Each critic ``Q_i(o_i, u_i)`` sees its own observation and action, as the authors' feed-forward
  critic (``recurrent_critic: False``); the global state reaches ``Q_tot`` through the mixer only.
- Replayed transitions, not episodes; the losses are the same means over the sampled steps.
- The actor loss takes no gradient into the critics or the mixer (their weights are frozen while
  it is built); the authors' code computes those gradients and discards them before the next
  critic step: the same update.

Decentralized execution: ``act(explore=False)`` returns ``tanh(f_i(o_i))``, a function of agent
``i``'s own observation, with no randomness. Exploration draws from a generator of its own
(``stream(0)``), so evaluating never changes training; replay sampling draws from the buffer's.

Cost, measured with one thread on this project's 2-core CPU under load (load average about 6): a
``max_of_two`` run (5,000 updates at batch 100, 21 evaluations of 1,000 episodes) used 117 s of
CPU time, a ``climbing`` run 106 s. On Particle Gather (4 agents) one gradient step takes about
26 ms: one per env step over 125,000 steps would be about 55 CPU-minutes; ``update_every=8``
makes it about 7.

Learning, with these defaults: on ``max_of_two`` seeds 0, 1 and 2 settle on the trap (final team
reward -0.0007, -0.0016 and -0.0039, the trap's peak being 0 and the optimum 10), and on
``climbing`` seed 0 on the joint action (1, 1), worth 7 where the optimum is 11: the centralised
gradient follows the critic's slope from where the policies start, and noise of 0.1 rarely
leaves the basin it is in.
On Max of Two as one smooth bowl (s2 = 10, no RO), seeds 0, 1 and 2 reach its peak, 10, within
0.1 (``tests/test_facmac.py``, marked slow).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ro_bench.agents import EnvSpaces
from ro_bench.configs import documented
from ro_bench.params import choice, real
from ro_bench.search import HIDDEN_UNITS, LEARNING_RATE
from ro_bench_zoo.common.factored import (FactoredConfig, adam, clipped_step, mixed_td_target,
                                          training_action)
from ro_bench_zoo.common.grouped import GroupedMLP
from ro_bench_zoo.common.mixers import Mixer
from ro_bench_zoo.common.off_policy import OffPolicyAgent, check_widths
from ro_bench_zoo.common.target import soft_update

MIXERS = ("monotonic", "nonmonotonic")


@dataclass(frozen=True)
class FACMACConfig(FactoredConfig):
    """FACMAC's settings: its MaMuJoCo runs' (``FactoredConfig``), and the actors'."""

    mixer: str = documented("monotonic",
        "monotonic (QMIX's mixer, |W|) or nonmonotonic (the same without absolute values, "
        "FACMAC's non-monotonic factorisation)")
    actor_hidden: tuple[int, ...] = documented((400, 400),
        "hidden widths of each agent's actor MLP (ReLU; FACMAC MaMuJoCo: 400, 400)",
        search=HIDDEN_UNITS)
    actor_lr: float = documented(1e-3,
        "Adam learning rate of the actors (FACMAC MaMuJoCo: 1e-3)",
        search=LEARNING_RATE)
    action_reg: float = documented(1e-3,
        "weight of the mean squared (tanh-squashed) action in the actor loss (FACMAC's code: "
        "1e-3)")

    def __post_init__(self) -> None:
        super().__post_init__()
        choice("mixer", self.mixer, MIXERS)
        check_widths("actor_hidden", self.actor_hidden)
        real("actor_lr", self.actor_lr, low=0.0, low_open=True)
        real("action_reg", self.action_reg, low=0.0)


# ----------------------------------------------------------------------------- pure functions
def policy_loss(q_tot: Tensor, actions: Tensor, action_reg: float) -> Tensor:
    """The centralised policy-gradient loss ``-E[Q_tot(s, mu(o))] + action_reg E[mu(o)^2]``;
    ``q_tot [B]``, ``actions [n, B, d]`` (every agent's current action)."""
    return -q_tot.mean() + action_reg * actions.square().mean()


# ------------------------------------------------------------------------------------ agent
class FACMAC(OffPolicyAgent):
    """FACMAC with deterministic tanh actors and a mixed critic; see the module docstring."""

    config_class = FACMACConfig
    saved = ("actor", "critic", "mixer", "actor_target", "critic_target", "mixer_target",
             "actor_opt", "critic_opt", "explore_noise")

    def __init__(self, config: FACMACConfig, spaces: EnvSpaces, seed: int) -> None:
        super().__init__(config, spaces, seed)
        n, o, d = self.n, self.obs_dim, self.act_dim
        self.explore_noise = self.generator(0)
        self.actor = GroupedMLP(n, o, d, config.actor_hidden)
        self.critic = GroupedMLP(n, o + d, 1, config.critic_hidden)
        self.mixer = Mixer(n, self.state_dim, config.mixing_embed, config.hypernet_hidden,
                           monotonic=config.mixer == "monotonic")
        self.actor_target = copy.deepcopy(self.actor).requires_grad_(False)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.mixer_target = copy.deepcopy(self.mixer).requires_grad_(False)
        self.actor_opt = adam([*self.actor.parameters()], config.actor_lr, config.adam_eps)
        self.critic_opt = adam([*self.critic.parameters(), *self.mixer.parameters()],
                               config.critic_lr, config.adam_eps)
        self.buffer = self.make_buffer(("obs", "state", "actions", "reward", "next_obs",
                                        "next_state", "terminated"), stream=1)

    # ---------------------------------------------------------------------------- acting
    def policy(self, net: GroupedMLP, obs: Tensor) -> Tensor:
        """``mu_i(o_i) = tanh(f_i(o_i))`` ``[n, B, d]`` from ``obs [n, B, o]``."""
        return torch.tanh(net(obs))

    def act(self, obs: np.ndarray, *, explore: bool) -> np.ndarray:
        obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32)).reshape(len(obs), self.n, -1)
        with torch.no_grad():
            a = self.policy(self.actor, obs_t.transpose(0, 1))  # [n, B, d]
        if explore:
            warmup = self.steps < self.config.warmup_steps
            a = training_action(a, self.config.exploration_noise, warmup, self.explore_noise)
        return self.box.to_env(a.transpose(0, 1).numpy())

    # -------------------------------------------------------------------------- learning
    def gradient_step(self) -> dict[str, float]:
        """The critic and mixer step, then the actors' step, then every target."""
        c = self.config
        batch = {k: torch.from_numpy(v) for k, v in self.buffer.sample(c.batch_size).items()}
        critic_loss, q_tot, y = self.critic_loss(batch)
        critic_norm = clipped_step(self.critic_opt, critic_loss, c.grad_clip)
        actor_loss, q_pi = self.actor_loss(batch)
        actor_norm = clipped_step(self.actor_opt, actor_loss, c.grad_clip)
        for target, source in ((self.actor_target, self.actor),
                               (self.critic_target, self.critic),
                               (self.mixer_target, self.mixer)):
            soft_update(target, source, c.tau)
        return {"losses/critic": critic_loss.item(), "losses/actor": actor_loss.item(),
                "charts/q_tot_mean": q_tot.mean().item(), "charts/target_mean": y.mean().item(),
                "charts/q_tot_policy": q_pi.mean().item(),
                "charts/critic_grad_norm": critic_norm, "charts/actor_grad_norm": actor_norm}

    def mixed(self, critic: GroupedMLP, mixer: Mixer, obs: Tensor, actions: Tensor,
              state: Tensor) -> Tensor:
        """``Q_tot(s, u) = Mixer(Q_1(o_1, u_1), .., Q_n(o_n, u_n); s)`` ``[B]`` from
        ``obs [n, B, o]``, ``actions [n, B, d]`` and ``state [B, S]``."""
        q = critic(torch.cat([obs, actions], dim=-1)).squeeze(-1)  # [n, B]
        return mixer(q.T, state)

    def critic_loss(self, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        """``E[(Q_tot(s, u) - y)^2]`` with the replayed ``u``; also ``Q_tot`` and ``y`` ``[B]``."""
        y = self.td_target(batch)
        q_tot = self.mixed(self.critic, self.mixer, batch["obs"].transpose(0, 1),
                           batch["actions"].transpose(0, 1), batch["state"])
        return (q_tot - y).square().mean(), q_tot.detach(), y

    @torch.no_grad()
    def td_target(self, batch: dict[str, Tensor]) -> Tensor:
        """``y = r + gamma (1 - terminated) Q_tot'(s', mu'_1(o'_1), .., mu'_n(o'_n))`` ``[B]``."""
        c = self.config
        reward, terminated = batch["reward"] * c.reward_scale, batch["terminated"]
        next_q_tot = None
        if not terminated.all():  # one-step games: nothing to bootstrap from
            next_obs = batch["next_obs"].transpose(0, 1)
            next_q_tot = self.mixed(self.critic_target, self.mixer_target, next_obs,
                                    self.policy(self.actor_target, next_obs), batch["next_state"])
        return mixed_td_target(reward, terminated, next_q_tot, c.gamma)

    def actor_loss(self, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """The centralised policy gradient's loss, every agent's action from its current policy:
        ``-E[Q_tot(s, mu_1(o_1), .., mu_n(o_n))] + action_reg E[mu^2]``; also ``Q_tot [B]``.
        Its gradient reaches the actors only."""
        obs = batch["obs"].transpose(0, 1)
        actions = self.policy(self.actor, obs)  # [n, B, d], none from the replay
        frozen = (self.critic, self.mixer)
        for net in frozen:
            net.requires_grad_(False)  # no weight gradients for the critic and the mixer
        try:
            q_tot = self.mixed(self.critic, self.mixer, obs, actions, batch["state"])
        finally:
            for net in frozen:
                net.requires_grad_(True)
        return policy_loss(q_tot, actions, self.config.action_reg), q_tot.detach()
