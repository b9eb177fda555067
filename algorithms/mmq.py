"""MMQ: MaxMax Q-learning (Zhu, Jin, Houssineau and Montana, TMLR 2024, arXiv 2411.11099).

Independent learners: agent ``i`` sees only its own observation ``o_i``, its own action ``a_i``
and the team reward, in training as in execution; it never sees another agent's action. Each
agent owns (every agent's copy in one ``GroupedMLP``, one batched pass):

- a deterministic actor ``mu_i(o) = tanh(f_i(o))`` in [-1, 1]^d (the env gets ``low + (a + 1) / 2
  (high - low)``) and a critic ``Q_i(o, a_i)``, both with Polyak-averaged targets;
- two next-observation quantile models ``L_i(o, a_i)`` and ``U_i(o, a_i)``. Each predicts an
  increment and returns ``o + Delta``, clamped to the observation box where it is bounded. They
  learn the 0.05 and 0.95 quantiles of ``o'`` with the pinball loss ``mean(max((tau - 1) e, tau
  e))``, ``e = o' - prediction`` (``pinball_loss``);
- a reward model ``R_i(o')`` trained by mean squared error on the replayed rewards.

One training call, every agent at once on its own minibatch (the authors give each agent a buffer
of its own; here agent ``i`` reads its own columns of an independent draw from the one buffer):

1. One Adam step on ``L``, ``U`` (on a random ``quantile_batch`` of the minibatch) and ``R``.
2. One actor step on ``-mean Q_i(o, mu_i(o))``. This comes before the critic step, as in the
   authors' code.
3. The target. Draw ``M = next_state_samples`` candidates ``s_m ~ Uniform(box[L(o, a_i), U(o,
   a_i)])`` per dimension (``sample_in_box``). Score them ``y_m = R(s_m) + gamma (1 - d)
   Q_target(s_m, mu_target(s_m))``, and the observed transition ``y_0 = r + gamma (1 - d)
   Q_target(o', mu_target(o'))``. The target is ``y = max_m y_m`` over ``m = 0..M``
   (``maxmax_target``). The max over next states sits on top of the actor's max over its own
   actions, hence "MaxMax": the agent learns as if its teammates steered the next state to the
   best one that its model thinks they can reach.
4. ``critic_iterations`` critic steps on ``mean (Q_i(o, a_i) - y)^2``, with ``y`` held fixed.
5. Polyak updates of the target critic and the target actor.

Truncation is not termination: ``d`` is the env's ``terminated``.

The one-step games (``max_of_three``, ``two_modalities``, ``max_of_two``, and the matrix games
with continuous actions). Every transition terminates, so ``Q_target`` never enters the
target: the candidates are ``r`` and ``R(s_1) .. R(s_M)``. The authors' code does exactly this:
their backup is ``R(s_m) + (1 - done) gamma Q_target``, and the candidates stay in the max when
``done``. The observation is the constant ``[0]`` before and after the step. ``L`` and ``U``
therefore learn the degenerate box ``[0, 0]``, and ``R(0)`` learns the mean replayed reward. The
target becomes ``max(r, mean replayed reward)``. That is a lenient floor under the rewards, not an
imagined teammate, because a stateless game's next observation carries nothing about what the
teammates did. Before the box has collapsed, the candidates also sample ``R`` where it never saw
data, which adds optimism of no particular kind. What MMQ is about, an optimistic model of the
next state, only acts in Particle Gather, where the next observation (both particles' positions
and velocities) depends on the teammates' forces. With ``reward_input="obs_action_next_obs"``
(the authors' MA-MuJoCo input) the floor becomes ``max(r, E[r | a_i])``, the expected reward of
the agent's own action.

What that does, measured with the defaults. On ``max_of_three-s2=1.5``, seeds 0 to 4 end at 9.79,
9.68, 9.57, 9.67 and 9.67: every seed escapes the trap. The SVNR paper's Table 2 has MMQ at
-0.07 +- 0.04 there. With the imagined candidates taken out of the max, the target is ``r`` and
the method is independent DDPG on the same networks; seeds 0 and 1 then stay in the trap (-0.42
and -0.06). So the floor is what escapes it. On Particle Gather (``update_every=100``, seed 0)
MMQ stays in the trap: final-step reward 0, episode return -0.27. The SVNR paper reports -0.75.

Not a maximum-entropy method. The SVNR paper (App. H.5.3) lists MMQ among the maximum-entropy
methods given the same alpha annealing schedule. The MMQ authors' code has no temperature: a
deterministic actor, a plain critic, and epsilon-uniform or Gaussian exploration noise. Its
abstract describes no entropy term either; the rest of the paper's text was not available to us.
There is no alpha to anneal, so this file has no alpha fields.

Choices, and where each comes from (``[C]`` the authors' code, ``Maxmax_Q_learning-main/DG_MPE``
in ``tejaey/RL_possibility_theory``; the paper's own hyperparameter table could not be checked):

- The quantile variant (``MMQ_model_Quantile.py``, the one their scripts run), not the
  Gaussian one. No ensemble: ensemble size 1, as every script sets, and an argparse comment
  says ensembles were left out of the final results. ``M = 15``. The 80-of-100 random subset
  for the quantile models is their ``--random_batch``. [C]
- The reward model's input is ``o'``, as in their differential-game and MPE scripts [C].
- Clamping to the observation box: their differential-game model clamps predictions and samples
  to [-1, 1], its state box [C]. Here the clamp is to the env's observation box where that is
  finite, which is [0, 1] in the stateless games and nowhere in Particle Gather.
- 256-256 ReLU MLPs; Adam 1e-3 for every network; gamma 0.99; tau 0.005; batch 100; 10 critic
  iterations per call; epsilon 0.1; Gaussian noise 0.1 [C]. The SVNR paper says every method
  shared one backbone, tuned (widths 64 to 256, batch 256 to 1024). We keep the MMQ authors'
  values because the SVNR paper gives none for MMQ.
- Initialisation: the zoo's (``nn.Linear``'s, non-zero biases), not the authors' Xavier weights
  with zero biases. A stateless game observes the constant ``[0]``. With zero biases, every
  hidden unit of a network that reads only the observation (the actor, the reward model) is
  then exactly 0 and gets no gradient, so only the output bias learns, at Adam's rate of about
  ``lr`` per step. On ``max_of_three-s2=1.5`` (seed 0) that left ``R(0)`` at -2.3 after 2,400
  calls, against a mean reward of -11 under uniform actions, and the actor nearly still.
- No reward shift by default. Their differential-game script subtracts 2 from training rewards
  that lie in [0, 1] (``reward_shift = -2`` reproduces that). For the terminal transitions of
  the one-step games, a shift moves every candidate equally and changes nothing but the critic's
  starting error.
- The schedule, scaled to the budget. The authors collect 500k env steps: uniform random actions
  for the first 20k (4%), then one training call every 50 env steps (9,600 calls). Our one-step
  games have 5,000 env steps, where that ratio would give 96 calls, so:
  - the warm-up is the same 4% of ``total_steps`` (``warmup_fraction``): 200 steps here, 5,000
    on Particle Gather;
  - one call every 10 env steps by default: 480 calls on a 5,000-step game, five times the
    authors' update-to-data ratio. One call (1 model step, 1 actor step, 10 critic steps,
    ``M = 15`` candidates) takes about 50 ms of CPU with 3 agents on this project's shared
    2-core machine, so a ``max_of_three`` run takes about 30 s of CPU. One call every 5 steps
    doubles that; on ``max_of_three-s2=1.5`` seeds 0 and 1 both escape the trap either way;
  - on Particle Gather, ``update_every=100``: 1,200 calls at about 105 ms each. A whole run
    took 170 s of CPU. ``update_every=50`` is the authors' own ratio: 2,400 calls, about 5
    minutes.
- Each agent's exploration decisions (epsilon or noise) are independent, as in their code.

Decentralized execution: ``act(explore=False)`` returns ``mu_i(o_i)`` for each agent, a function
of its own observation only, with no randomness. Exploration draws from a generator of its own,
so evaluating never changes training. The update's random numbers (quantile subsets, candidate
next states) come from a third generator, and replay sampling from the buffer's own.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ro_bench.agents import EnvSpaces, Transitions
from ro_bench.configs import documented
from ro_bench.params import choice, integer, real
from ro_bench.search import HIDDEN_UNITS, LEARNING_RATE
from ro_bench_zoo.common.grouped import GroupedMLP
from ro_bench_zoo.common.off_policy import OffPolicyAgent, ReplayConfig, check_widths
from ro_bench_zoo.common.target import soft_update

REWARD_INPUTS = ("next_obs", "obs_action_next_obs")


@dataclass(frozen=True)
class MMQConfig(ReplayConfig):
    """MMQ's settings: the authors' code's values, with the schedule scaled to the budget (see
    the module docstring). The shared fields are ``ReplayConfig``'s; MMQ has no
    ``learning_starts`` field (its warm-up is ``warmup_fraction`` of the budget) and shifts its
    rewards rather than scaling them."""

    warmup_fraction: float = documented(0.04,
        "share of total_steps played with uniform random actions before any training (the "
        "authors' 20k of 500k env steps)")
    critic_iterations: int = documented(10,
        "critic steps per training call on one minibatch and one fixed target (authors: 10)")
    next_state_samples: int = documented(15,
        "M, candidate next observations drawn from each quantile box (authors: 15)")
    lower_quantile: float = documented(0.05,
        "quantile learned by the lower next-observation model L (authors: 0.05)")
    upper_quantile: float = documented(0.95,
        "quantile learned by the upper next-observation model U (authors: 0.95)")
    quantile_batch: int = documented(80,
        "random subset of each agent's minibatch the quantile models train on, without "
        "replacement; at least batch_size uses all (authors: 80 of 100)")
    reward_input: str = documented("next_obs",
        f"the reward model's input: one of {', '.join(REWARD_INPUTS)} (authors: next_obs for "
        "the differential game and MPE, obs, action and next obs for MA-MuJoCo)")
    reward_shift: float = documented(0.0,
        "added to every training reward (the authors' differential-game script: -2 on rewards "
        "in [0, 1]); evaluation is unaffected")
    epsilon: float = documented(0.1,
        "after the warm-up, the probability that an agent plays a uniform random action "
        "(authors: 0.1)")
    noise_std: float = documented(0.1,
        "otherwise, the std of the Gaussian noise added to mu(o), in [-1, 1] action units, "
        "then clipped (authors: 0.1)")
    actor_hidden: tuple[int, ...] = documented((256, 256),
        "hidden widths of each agent's actor MLP (ReLU, tanh output; authors: 256-256)",
        search=HIDDEN_UNITS)
    model_hidden: tuple[int, ...] = documented((256, 256),
        "hidden widths of each agent's quantile models and reward model (authors: 256-256)",
        search=HIDDEN_UNITS)
    actor_lr: float = documented(1e-3, "Adam learning rate of the actors",
        search=LEARNING_RATE)
    model_lr: float = documented(1e-3,
        "Adam learning rate of the quantile and reward models (authors: 1e-3 for all)",
        search=LEARNING_RATE)
    # the authors': 256-256 critics Q_i(o, a_i), gamma 0.99, tau 0.005 per training call, 100
    # transitions per agent per call, drawn independently for each agent, 550k replay. They
    # train every 50 of 500k env steps; 10 gives a 5000-step game 480 calls (particle_gather:
    # use 100, 1200 calls, or 50, the authors' ratio). updates_per_step counts training calls:
    # one model step, one actor step and critic_iterations critic steps each.
    critic_hidden: tuple[int, ...] = (256, 256)
    gamma: float = 0.99
    tau: float = 0.005
    batch_size: int = 100
    buffer_size: int = 550_000
    update_every: int = 10

    def __post_init__(self) -> None:
        super().__post_init__()
        choice("reward_input", self.reward_input, REWARD_INPUTS)
        for name in ("critic_iterations", "next_state_samples", "quantile_batch"):
            integer(name, getattr(self, name), low=1)
        if not 0.0 < self.lower_quantile < self.upper_quantile < 1.0:
            raise ValueError("need 0 < lower_quantile < upper_quantile < 1; got "
                             f"{self.lower_quantile} and {self.upper_quantile}")
        for name in ("warmup_fraction", "epsilon"):
            real(name, getattr(self, name), low=0.0, high=1.0)
        real("noise_std", self.noise_std, low=0.0)
        real("reward_shift", self.reward_shift)
        for name in ("actor_hidden", "model_hidden"):
            check_widths(name, getattr(self, name))

    @property
    def learning_starts(self) -> int:
        """Env steps of uniform random play before the first training call (at least 1)."""
        return max(1, round(self.warmup_fraction * self.total_steps))


# ----------------------------------------------------------------------------- pure functions
def pinball_loss(prediction: Tensor, target: Tensor, quantile: Tensor) -> Tensor:
    """The quantile (pinball) loss ``mean(max((q - 1) e, q e))``, ``e = target - prediction``,
    for each group: ``prediction`` and ``target`` ``[G, B, k]``, ``quantile`` ``[G]``; returns
    ``[G]``."""
    e = target - prediction
    q = quantile[:, None, None]
    return torch.maximum((q - 1.0) * e, q * e).flatten(1).mean(1)


def sample_in_box(lower: Tensor, upper: Tensor, m: int, generator: torch.Generator) -> Tensor:
    """``m`` points uniform in each box ``[lower, upper]``, independently per dimension:
    ``[..., k]`` bounds give ``[..., m, k]``. Crossed bounds (``lower > upper``) sample the
    same interval the other way round."""
    u = torch.rand(*lower.shape[:-1], m, lower.shape[-1], generator=generator)
    return lower[..., None, :] + (upper - lower)[..., None, :] * u


def maxmax_target(rewards: Tensor, terminated: Tensor, next_values: Tensor | None,
                  gamma: float) -> tuple[Tensor, Tensor]:
    """MMQ's target: the best of the candidates' backups ``r_m + gamma (1 - d) V(s_m)``.

    ``rewards`` ``[..., K]`` (the observed reward first, then the reward model's), ``terminated``
    ``[...]``, ``next_values`` ``[..., K]`` (``Q_target(s_m, mu_target(s_m))``; ``None`` when
    every transition terminated). Returns the target ``[...]`` and the winning candidate index.
    """
    backups = rewards
    if next_values is not None:
        backups = rewards + gamma * (~terminated)[..., None] * next_values
    return backups.max(-1)


# ------------------------------------------------------------------------------------ agent
class MMQ(OffPolicyAgent):
    """MaxMax Q-learning with quantile next-observation models; see the module docstring. Its
    gradient step is the authors' training call."""

    config_class = MMQConfig
    saved = ("actor", "critic", "actor_target", "critic_target", "quantile_model",
             "reward_model", "actor_opt", "critic_opt", "model_opt", "explore_noise",
             "update_noise")

    def __init__(self, config: MMQConfig, spaces: EnvSpaces, seed: int) -> None:
        super().__init__(config, spaces, seed)
        box = spaces.observation_space
        self.obs_low = torch.tensor(np.broadcast_to(box.low, box.shape).reshape(-1),
                                    dtype=torch.float32)
        self.obs_high = torch.tensor(np.broadcast_to(box.high, box.shape).reshape(-1),
                                     dtype=torch.float32)
        self.explore_noise, self.update_noise = self.generator(0), self.generator(1)
        n, o, d = self.n, self.obs_dim, self.act_dim
        reward_in = o if config.reward_input == "next_obs" else 2 * o + d
        self.actor = GroupedMLP(n, o, d, config.actor_hidden)
        self.critic = GroupedMLP(n, o + d, 1, config.critic_hidden)
        # Groups 0..n-1 are the lower models L_i, groups n..2n-1 the upper models U_i.
        self.quantile_model = GroupedMLP(2 * n, o + d, o, config.model_hidden)
        self.reward_model = GroupedMLP(n, reward_in, 1, config.model_hidden)
        self.actor_target = copy.deepcopy(self.actor).requires_grad_(False)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.actor_opt = self.adam(self.actor, config.actor_lr)
        self.critic_opt = self.adam(self.critic, config.critic_lr)
        models = [*self.quantile_model.parameters(), *self.reward_model.parameters()]
        self.model_opt = torch.optim.Adam(models, lr=config.model_lr, fused=True)
        self.quantiles = torch.tensor([config.lower_quantile] * n + [config.upper_quantile] * n)
        self.buffer = self.make_buffer(("obs", "actions", "reward", "next_obs", "terminated"),
                                       stream=2)

    # ---------------------------------------------------------------------------- acting
    def act(self, obs: np.ndarray, *, explore: bool) -> np.ndarray:
        obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32)).reshape(len(obs), self.n, -1)
        with torch.no_grad():
            a = self.policy(obs_t.transpose(0, 1)).transpose(0, 1)  # [B, n, d]
            if explore:
                a = self._explore(a)
        return self.box.to_env(a.numpy())

    def policy(self, obs: Tensor, target: bool = False) -> Tensor:
        """``mu_i(o_i)`` ``[n, N, d]`` from each agent's observations ``[n, N, o]``."""
        return torch.tanh((self.actor_target if target else self.actor)(obs))

    def _explore(self, a: Tensor) -> Tensor:
        """Uniform actions during the warm-up; then, per agent, a uniform action with
        probability epsilon and ``clip(mu + N(0, noise_std^2))`` otherwise."""
        c = self.config
        uniform = 2.0 * torch.rand(a.shape, generator=self.explore_noise) - 1.0
        if self.steps < c.learning_starts:
            return uniform
        noise = torch.randn(a.shape, generator=self.explore_noise)
        pick = torch.rand(*a.shape[:2], 1, generator=self.explore_noise) < c.epsilon
        return torch.where(pick, uniform, (a + c.noise_std * noise).clamp(-1.0, 1.0))

    # -------------------------------------------------------------------------- learning
    def replay_fields(self, t: Transitions) -> dict[str, np.ndarray]:
        """The base's fields, the reward shifted by ``reward_shift``."""
        fields = super().replay_fields(t)
        fields["reward"] = (np.asarray(t.reward, np.float64) + self.config.reward_shift).astype(
            np.float32)
        return fields

    def gradient_step(self) -> dict[str, float]:
        """The authors' one training call: models, actor, target, critic iterations, targets."""
        c = self.config
        batch = self.sample_batch()
        quantile_loss, reward_loss = self._model_step(batch)
        actor_loss = self._actor_step(batch)
        y, winner, in_box = self.td_target(batch)
        for _ in range(c.critic_iterations):
            critic_loss = self._critic_step(batch, y)
        soft_update(self.critic_target, self.critic, c.tau)
        soft_update(self.actor_target, self.actor, c.tau)
        return {"losses/critic": critic_loss / self.n, "losses/actor": actor_loss / self.n,
                "losses/quantile": quantile_loss / (2 * self.n),
                "losses/reward": reward_loss / self.n, "charts/target_mean": y.mean().item(),
                "charts/observed_wins": (winner == 0).float().mean().item(),
                "charts/next_obs_in_box": in_box}

    def sample_batch(self) -> dict[str, Tensor]:
        """An independent minibatch for each agent, reduced to its own columns: ``obs``,
        ``actions``, ``next_obs`` ``[n, B, k]``; ``reward``, ``terminated`` ``[n, B]``."""
        n, b = self.n, self.config.batch_size
        rows = {k: torch.from_numpy(v) for k, v in self.buffer.sample(n * b).items()}
        own = torch.arange(n)
        batch = {k: rows[k].reshape(n, b, n, -1)[own, :, own] for k in ("obs", "actions",
                                                                         "next_obs")}
        return batch | {k: rows[k].reshape(n, b) for k in ("reward", "terminated")}

    def quantile_bounds(self, obs: Tensor, actions: Tensor) -> tuple[Tensor, Tensor]:
        """``L_i(o, a_i)`` and ``U_i(o, a_i)``, each ``[n, N, o]``: ``o + Delta``, clamped to the
        observation box."""
        x = torch.cat([obs, actions], -1).repeat(2, 1, 1)
        bounds = (obs.repeat(2, 1, 1) + self.quantile_model(x)).clamp(self.obs_low, self.obs_high)
        return bounds[: self.n], bounds[self.n:]

    def predicted_reward(self, obs: Tensor, actions: Tensor, next_obs: Tensor) -> Tensor:
        """``R_i`` at next observations ``[n, N, K, o]`` (for transitions ``obs``, ``actions``
        ``[n, N, .]``), ``[n, N, K]``."""
        n, rows, k, _ = next_obs.shape
        x = next_obs
        if self.config.reward_input == "obs_action_next_obs":
            here = torch.cat([obs, actions], -1)[:, :, None].expand(n, rows, k, -1)
            x = torch.cat([here, next_obs], -1)
        return self.reward_model(x.reshape(n, rows * k, -1)).reshape(n, rows, k)

    def target_value(self, states: Tensor) -> Tensor:
        """``Q_target_i(s, mu_target_i(s))`` at states ``[n, N, K, o]``, ``[n, N, K]``."""
        n, rows, k, o = states.shape
        flat = states.reshape(n, rows * k, o)
        q = self.critic_target(torch.cat([flat, self.policy(flat, target=True)], -1))
        return q.reshape(n, rows, k)

    @torch.no_grad()
    def td_target(self, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor, float]:
        """The target ``y`` ``[n, B]``, the winning candidate (0: the observed next observation),
        and the share of observed next observations inside the predicted box."""
        c = self.config
        obs, actions, next_obs = batch["obs"], batch["actions"], batch["next_obs"]
        lower, upper = self.quantile_bounds(obs, actions)
        imagined = sample_in_box(lower, upper, c.next_state_samples, self.update_noise)
        rewards = torch.cat([batch["reward"][..., None],
                             self.predicted_reward(obs, actions, imagined)], -1)
        terminated = batch["terminated"]
        next_values = None
        if not terminated.all():  # one-step games: nothing to bootstrap from
            next_values = self.target_value(torch.cat([next_obs[:, :, None], imagined], 2))
        y, winner = maxmax_target(rewards, terminated, next_values, c.gamma)
        inside = ((next_obs >= torch.minimum(lower, upper)) &
                  (next_obs <= torch.maximum(lower, upper))).all(-1)
        return y, winner, inside.float().mean().item()

    def _model_step(self, batch: dict[str, Tensor]) -> tuple[float, float]:
        c = self.config
        n, b = self.n, c.batch_size
        k = min(c.quantile_batch, b)
        subset = torch.rand(n, b, generator=self.update_noise).argsort(1)[:, :k]
        pick = {name: batch[name].gather(1, subset[..., None].expand(n, k, batch[name].shape[-1]))
                for name in ("obs", "actions", "next_obs")}
        lower, upper = self.quantile_bounds(pick["obs"], pick["actions"])
        quantile_loss = pinball_loss(torch.cat([lower, upper]), pick["next_obs"].repeat(2, 1, 1),
                                     self.quantiles).sum()
        predicted = self.predicted_reward(batch["obs"], batch["actions"],
                                          batch["next_obs"][:, :, None])[..., 0]
        reward_loss = (predicted - batch["reward"]).square().mean(1).sum()
        self.model_opt.zero_grad()
        (quantile_loss + reward_loss).backward()
        self.model_opt.step()
        return quantile_loss.item(), reward_loss.item()

    def _actor_step(self, batch: dict[str, Tensor]) -> float:
        obs = batch["obs"]
        self.critic.requires_grad_(False)  # no weight gradients for the critics
        try:
            q = self.critic(torch.cat([obs, self.policy(obs)], -1)).squeeze(-1)
        finally:
            self.critic.requires_grad_(True)
        loss = -q.mean(1).sum()  # each agent its own mean, so each actor its own gradient
        self.actor_opt.zero_grad()
        loss.backward()
        self.actor_opt.step()
        return loss.item()

    def _critic_step(self, batch: dict[str, Tensor], y: Tensor) -> float:
        q = self.critic(torch.cat([batch["obs"], batch["actions"]], -1)).squeeze(-1)
        loss = (q - y).square().mean(1).sum()
        self.critic_opt.zero_grad()
        loss.backward()
        self.critic_opt.step()
        return loss.item()
