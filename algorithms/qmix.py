"""QMIX for continuous actions: COMIX, as Peng et al. ran it beside FACMAC (NeurIPS 2021).

QMIX (Rashid et al., ICML 2018) learns per-agent utilities mixed monotonically into a team value;
COMIX is the continuous-action QMIX of the FACMAC paper, whose utilities take the action as an
input and whose greedy actions come from the cross-entropy method (CEM). Following the FACMAC
paper and its authors' code (``oxwhirl/facmac``: ``cq_learner.py``, ``cqmix_controller.py``,
``comix_agent.py``; read to learn, not copied):

- Utilities ``Q_i(o_i, u_i)``: one ReLU MLP per agent on its own observation and action.
- Mixing: ``Q_tot(s, u) = Mixer(Q_1(o_1, u_1), .., Q_n(o_n, u_n); s)``, QMIX's monotonic
  hypernetwork mixer (``common/mixers.py``). Monotonicity (QMIX eq. 5) makes each agent's own
  argmax the argmax of ``Q_tot``, which is what lets every agent act greedily on its utility alone
  (decentralized execution); COMIX has no non-monotonic variant for that reason.
- Greedy action by CEM, for each agent on its own utility: ``K = 64`` pre-tanh samples from
  ``N(mu, sigma^2)``, starting at ``mu = 0``, ``sigma = 1``; each is scored at ``tanh(z)`` (an
  action in [-1, 1]); the ``E = 6`` best refit ``mu`` and ``sigma`` (the elites' mean and unbiased
  standard deviation, per action dimension); ``2`` iterations; the action is the best sample of the
  last iteration, as in the authors' ``cem_sampling``.
- Loss (QMIX §4): ``L = E[(Q_tot(s, u) - y)^2]`` over a replayed batch with
  ``y = r + gamma (1 - terminated) Q_tot'(s', u')``, ``u'_i`` the CEM argmax of the target utility
  ``Q'_i(o'_i, .)`` and ``Q_tot'`` the target mixer, as the authors' target ``select_actions``
  (``test_mode=True``) on the target controller. The replay stores ``terminated`` only: a truncated
  step bootstraps. One-step games (every transition terminated) skip the target entirely.
- One Adam over the utilities and the mixer, the global gradient norm clipped, then Polyak
  averaging of both targets after every gradient step (``target_update_mode: soft``).
- Exploration: uniform random actions for the warm-up, then the CEM action plus Gaussian noise
  (``exploration_mode: gaussian``), clipped to [-1, 1].

Defaults are the settings of FACMAC's MaMuJoCo runs (``common/factored.py``): 2x400 MLPs, Adam
1e-3 with ``eps = 0.01``, clip 0.5, batch 100, gamma 0.99, tau 0.001, noise 0.1. The authors'
code ships COMIX's configuration for the particle tasks only (``comix_pp.yaml``: lr 0.01, gamma
0.85, 32-episode batches, a 64-unit GRU); we use the MaMuJoCo settings that FACMAC runs with, so
the two methods differ in their learning rule alone.

Choices and deviations:

- Per-agent utilities, no parameter sharing: the authors share one network across agents with
  the agent's one-hot id in its input (``obs_agent_id: True``). The zoo's other methods give every
  agent its own networks (``GroupedMLP``, one batched pass for all agents), so that a comparison
  isolates the learning rule; and the zoo's games give agents different roles (the Climbing
  game's payoff is not symmetric), which a shared network would have to learn from the id bit.
- Feed-forward utilities on the current observation, where ``comix_pp`` uses a GRU over the
  observation history (with the last action in its input): the zoo's replay stores transitions,
  not episodes, and every method of the zoo acts on the current observation alone.
- Replayed transitions, not whole episodes (the authors' ``runner_scope: episodic``): the loss is
  the same mean of squared TD errors over the sampled steps.
- CEM's random numbers: exploration draws from one generator, the targets' CEM from another, both
  seeded through ``stream(k)`` and saved, so a resumed run continues exactly. Evaluation
  (``act(explore=False)``) runs CEM on a generator seeded afresh from ``stream(3)`` at every call:
  the greedy action is a fixed function of the observation and the weights, and evaluating never
  moves the training generators.

Decentralized execution: agent ``i``'s action is CEM on ``Q_i(o_i, .)`` alone, its samples drawn
in its own rows of the noise, so another agent's observation cannot change it.

Cost, measured with one thread on this project's 2-core CPU under load (load average about 6): a
``max_of_two`` run (5,000 updates at batch 100, 21 evaluations of 1,000 episodes, each
evaluation a CEM per agent and episode) used 156 s of CPU time. Bootstrapped targets are the
expensive part: on Particle Gather (4 agents) one gradient step takes about 230 ms, nearly all
of it the targets' CEM (100 transitions x 4 agents x 64 samples x 2 iterations through 2x400
MLPs), so one update per env step over 125,000 steps would take about 8 CPU-hours;
``update_every=8`` makes it about one, and smaller utilities (``critic_hidden``) or fewer
``cem_samples`` cut it further.

Learning, with these defaults: on ``max_of_two`` seeds 0, 1 and 2 settle on the trap (final team
reward -0.0016, -0.0077 and -0.0006, the trap's peak being 0 and the optimum 10), and on
``climbing`` seed 0 mostly on the joint action (1, 2), worth 6 (final team reward 6.025, the
optimum 11): a monotonic mix of per-agent utilities cannot represent these rewards, whose best
action for one agent depends on the other's.
On Max of Two as one smooth bowl (s2 = 10, no RO), seeds 0, 1 and 2 reach its peak, 10, within
0.1 (``tests/test_qmix.py``, marked slow).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ro_bench.agents import EnvSpaces
from ro_bench.configs import documented
from ro_bench.params import integer, real
from ro_bench_zoo.common.factored import (FactoredConfig, adam, clipped_step, mixed_td_target,
                                          training_action)
from ro_bench_zoo.common.grouped import GroupedMLP
from ro_bench_zoo.common.mixers import Mixer
from ro_bench_zoo.common.off_policy import OffPolicyAgent
from ro_bench_zoo.common.target import soft_update

EVAL_STREAM = 3  # evaluation's CEM generator is seeded afresh from stream(3) at every call


@dataclass(frozen=True)
class QMIXConfig(FactoredConfig):
    """COMIX's settings: CEM's as the FACMAC authors' ``cem_sampling``; the rest FACMAC's
    MaMuJoCo settings (``FactoredConfig``); ``critic_hidden`` and ``critic_lr`` are the
    utilities'."""

    cem_samples: int = documented(64,
        "K, pre-tanh actions CEM samples per iteration for each agent (FACMAC's COMIX: 64)")
    cem_elites: int = documented(6,
        "E, best samples that refit CEM's Gaussian (FACMAC's COMIX: 6)")
    cem_iterations: int = documented(2, "CEM iterations (FACMAC's COMIX: 2)")
    cem_std: float = documented(1.0,
        "standard deviation of CEM's first Gaussian over pre-tanh actions, centred at 0 "
        "(FACMAC's COMIX: N(0, 1))")

    def __post_init__(self) -> None:
        super().__post_init__()
        integer("cem_samples", self.cem_samples, low=2)
        integer("cem_elites", self.cem_elites, low=2, high=self.cem_samples)
        integer("cem_iterations", self.cem_iterations, low=1)
        real("cem_std", self.cem_std, low=0.0, low_open=True)


# ----------------------------------------------------------------------------- pure functions
def cem_argmax(utility: Callable[[Tensor], Tensor], shape: tuple[int, ...], act_dim: int,
               generator: torch.Generator, samples: int = 64, elites: int = 6,
               iterations: int = 2, std: float = 1.0) -> tuple[Tensor, Tensor]:
    """The cross-entropy method's approximate argmax of ``utility`` over actions in [-1, 1]^d.

    ``utility`` maps actions ``[*shape, K, d]`` to values ``[*shape, K]``: one problem per index
    of ``shape``, each with its own Gaussian over pre-tanh actions ``z``, scored at ``tanh(z)``.
    Each iteration draws ``samples`` of ``z``, keeps the ``elites`` best and refits the mean and the
    (unbiased) standard deviation of each dimension to them. Returns the best sample of the last
    iteration, ``[*shape, d]`` in [-1, 1], and its value ``[*shape]``. Problem ``j``'s draws are its
    own slice of the noise: another problem's inputs cannot change its answer.
    """
    mean = torch.zeros(*shape, act_dim)
    scale = torch.full((*shape, act_dim), float(std))
    for _ in range(iterations):
        noise = torch.randn(*shape, samples, act_dim, generator=generator)
        z = mean[..., None, :] + scale[..., None, :] * noise
        actions = torch.tanh(z)
        values = utility(actions)  # [*shape, K]
        top = values.topk(elites, dim=-1).indices[..., None].expand(*shape, elites, act_dim)
        elite = z.gather(-2, top)
        mean, scale = elite.mean(-2), elite.std(-2)
    best = values.argmax(-1, keepdim=True)  # [*shape, 1]
    action = actions.gather(-2, best[..., None].expand(*shape, 1, act_dim)).squeeze(-2)
    return action, values.gather(-1, best).squeeze(-1)


# ------------------------------------------------------------------------------------ agent
class QMIX(OffPolicyAgent):
    """COMIX: CEM-greedy per-agent utilities, mixed monotonically; see the module docstring."""

    config_class = QMIXConfig
    saved = ("utility", "mixer", "utility_target", "mixer_target", "optimizer",
             "explore_noise", "update_noise")

    def __init__(self, config: QMIXConfig, spaces: EnvSpaces, seed: int) -> None:
        super().__init__(config, spaces, seed)
        self.explore_noise, self.update_noise = self.generator(0), self.generator(1)
        self.utility = GroupedMLP(self.n, self.obs_dim + self.act_dim, 1, config.critic_hidden)
        self.mixer = Mixer(self.n, self.state_dim, config.mixing_embed, config.hypernet_hidden)
        self.utility_target = copy.deepcopy(self.utility).requires_grad_(False)
        self.mixer_target = copy.deepcopy(self.mixer).requires_grad_(False)
        self.optimizer = adam([*self.utility.parameters(), *self.mixer.parameters()],
                              config.critic_lr, config.adam_eps)
        self.buffer = self.make_buffer(("obs", "state", "actions", "reward", "next_obs",
                                        "next_state", "terminated"), stream=2)

    # ---------------------------------------------------------------------------- acting
    def utilities(self, net: GroupedMLP, obs: Tensor, actions: Tensor) -> Tensor:
        """``Q_i(o_i, u_ik)`` ``[n, B, K]`` from ``obs [n, B, o]`` and ``actions [n, B, K, d]``."""
        n, b, k, d = actions.shape
        o = obs[:, :, None, :].expand(n, b, k, obs.shape[-1])
        x = torch.cat([o, actions], dim=-1).reshape(n, b * k, -1)
        return net(x).reshape(n, b, k)

    @torch.no_grad()
    def greedy(self, net: GroupedMLP, obs: Tensor, generator: torch.Generator
               ) -> tuple[Tensor, Tensor]:
        """Each agent's CEM argmax of ``net``'s utility at ``obs [n, B, o]``: actions
        ``[n, B, d]`` and their utilities ``[n, B]``."""
        c = self.config
        return cem_argmax(lambda a: self.utilities(net, obs, a), tuple(obs.shape[:2]),
                          self.act_dim, generator, c.cem_samples, c.cem_elites,
                          c.cem_iterations, c.cem_std)

    def act(self, obs: np.ndarray, *, explore: bool) -> np.ndarray:
        obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32)).reshape(len(obs), self.n, -1)
        obs_t = obs_t.transpose(0, 1)  # [n, B, o]
        warmup = explore and self.steps < self.config.warmup_steps
        if warmup:  # uniform actions replace the greedy ones: no CEM needed
            a = torch.zeros(*obs_t.shape[:2], self.act_dim)
        else:
            generator = (self.explore_noise if explore else
                         torch.Generator().manual_seed(self.stream(EVAL_STREAM)))
            a, _ = self.greedy(self.utility, obs_t, generator)
        if explore:
            a = training_action(a, self.config.exploration_noise, warmup, self.explore_noise)
        return self.box.to_env(a.transpose(0, 1).numpy())

    # -------------------------------------------------------------------------- learning
    def gradient_step(self) -> dict[str, float]:
        c = self.config
        batch = {k: torch.from_numpy(v) for k, v in self.buffer.sample(c.batch_size).items()}
        loss, q_tot, y = self.loss(batch)
        grad_norm = clipped_step(self.optimizer, loss, c.grad_clip)
        soft_update(self.utility_target, self.utility, c.tau)
        soft_update(self.mixer_target, self.mixer, c.tau)
        return {"losses/td": loss.item(), "charts/q_tot_mean": q_tot.mean().item(),
                "charts/target_mean": y.mean().item(), "charts/grad_norm": grad_norm}

    def loss(self, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        """QMIX's loss ``E[(Q_tot(s, u) - y)^2]``, with ``Q_tot [B]`` and the target ``y [B]``."""
        y = self.td_target(batch)
        obs = batch["obs"].transpose(0, 1)  # [n, B, o]
        q = self.utilities(self.utility, obs, batch["actions"].transpose(0, 1)[:, :, None])
        q_tot = self.mixer(q.squeeze(-1).T, batch["state"])
        return (q_tot - y).square().mean(), q_tot.detach(), y

    @torch.no_grad()
    def td_target(self, batch: dict[str, Tensor]) -> Tensor:
        """``y = r + gamma (1 - terminated) Q_tot'(s', argmax_u' Q'(o', u'))`` ``[B]``, the
        argmax by CEM on each target utility."""
        c = self.config
        reward, terminated = batch["reward"] * c.reward_scale, batch["terminated"]
        next_q_tot = None
        if not terminated.all():  # one-step games: nothing to bootstrap from
            _, next_q = self.greedy(self.utility_target, batch["next_obs"].transpose(0, 1),
                                    self.update_noise)  # [n, B]
            next_q_tot = self.mixer_target(next_q.T, batch["next_state"])
        return mixed_td_target(reward, terminated, next_q_tot, c.gamma)

