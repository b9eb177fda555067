"""SB3 PPO: Stable-Baselines3's PPO (Raffin et al., JMLR 2021; PPO of Schulman et al. 2017),
driven by ro-bench's harness: independent learners, or one parameter-shared learner.

What is Stable-Baselines3's and what is ours. The policy (``ActorCriticPolicy``, SB3's
``"MlpPolicy"``: a diagonal Gaussian with a state-independent log-std and a value head, each on
its own MLP), the rollout buffer (``RolloutBuffer`` and its ``compute_returns_and_advantage``: GAE)
and the update (``PPO.train()``: clipped surrogate, value loss, entropy, gradient clipping, epochs
and mini-batches) are SB3's, called unchanged. Ours is the loop SB3's ``collect_rollouts`` would
run, fed by the harness: ``act(explore=True)`` samples the policy's distribution and takes its
values and log-probabilities (as the policy's ``forward`` does), ``observe`` adds the step to the
rollout buffer, and once it holds ``n_steps`` steps per env ``update()`` runs ``train()`` and
empties it. The loop does what ``collect_rollouts`` does:

- the buffer gets the unclipped Gaussian sample, the env its clip to [-1, 1] (mapped onto the
  env's box: SB3 sees the action space ``Box(-1, 1)``, as its documentation recommends);
  ``observe`` checks that the transitions' actions are what the last ``act(explore=True)`` gave
  the env, and refuses any other (PPO is on-policy);
- on truncation (and not termination) the reward gets ``gamma V(final observation)`` added, SB3's
  bootstrap for time limits; ``episode_starts`` mark the step after an episode ended;
- a full rollout's returns bootstrap from ``V(next observation)`` unless the episode ended there.

Learners (``shared_policy``):

- ``False`` (default): independent PPO, one SB3 policy, optimizer and rollout buffer per agent,
  each seeing only its own observation and the team reward; each agent's rollout has one entry
  per env of the batch.
- ``True``: one policy for every agent, its input the agent's observation with a one-hot agent id
  appended (without it, agents with equal observations, as in the matrix games, would be forced
  to act alike); the buffer has one entry per agent per env, as SuperSuit's
  ``pettingzoo_env_to_vec_env_v1`` lays a PettingZoo env out for SB3's own ``learn()`` (the
  README shows that recipe).

Defaults: SB3's PPO defaults (learning rate 3e-4, batch 64, 10 epochs, gamma 0.99, GAE lambda
0.95, clip 0.2, no entropy bonus, value weight 0.5, gradient norm 0.5, 64x64 tanh MLPs,
orthogonal initialization), except ``n_steps = 200`` where SB3 has 2048: a 5000-step protocol
would otherwise train two updates; 200 is MAPPO's setting here, so both on-policy methods update
as often.

SB3 APIs used, all public: ``PPO`` (constructed with a stand-in env that only carries the spaces
and is never stepped; SB3's check of ``batch_size`` against that env's single copy is silenced,
the real rollout having one entry per env of the batch), ``PPO.train``, ``PPO.rollout_buffer``
(assigned the buffer made once the batch size of the envs is known),
``ActorCriticPolicy.get_distribution / predict / predict_values`` (and the ``distribution``
attribute of SB3's ``DiagGaussianDistribution``, the torch ``Normal`` it wraps), ``RolloutBuffer``
and ``common.logger.Logger`` (an output-less logger whose recorded values become ``update()``'s
metrics). No private attribute or method is touched; one public attribute is reset: after
``train()`` the policy's ``action_dist.distribution`` (the last mini-batch's, with its autograd
graph) is set to None, so that the agent can be deep-copied (the harness's decentralization
check does) and the graph freed; the next ``get_distribution`` sets it anew.

Save and load, weights only: each policy's and optimizer's state dict in ``networks.pt``
(``torch.load(weights_only=True)``), the rollout buffers' arrays, positions and episode starts and
the mini-batch generator's state in ``rollout.npz``, the counters and the global random states in
``progress.json``.

Random numbers. SB3's own loop draws its actions from torch's global generator and its mini-batch
order from numpy's; here each agent owns both, so that two agents in one process, or an
evaluation between steps, never change each other's draws. Exploration noise comes from a torch
generator of its own (``stream(0)``): ``act`` draws ``mean + std * noise`` itself, the same
Gaussian sample ``forward`` would draw. ``RolloutBuffer.get`` shuffles with numpy's global
generator (``np.random.permutation``), so ``update()`` runs ``train()`` with that generator set to
the agent's own state (seeded from ``stream(1)``) and puts the caller's state back after.
Evaluation (``predict(deterministic=True)``) draws nothing. On a short budget the mean can end
past the box's edge (``mappo``'s docstring, "What this means on a short budget").

Decentralized execution: each agent's action is its policy's (or the shared policy's) function of
its own observation (and id); values are used only in training.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium
import numpy as np
import torch
from gymnasium import spaces as gym_spaces

from ro_bench.agents import EnvSpaces, Transitions
from ro_bench.atomic import atomic_write
from ro_bench.configs import documented
from ro_bench.params import boolean, integer, real
from ro_bench.search import BATCH_SIZE
from ro_bench_zoo.common.off_policy import TorchAgent
from ro_bench_zoo.common.on_policy import OnPolicyConfig

try:
    from stable_baselines3 import PPO
    from stable_baselines3.common.buffers import RolloutBuffer
    from stable_baselines3.common.logger import Logger
except ImportError as error:  # the sb3 extra
    raise ImportError("sb3_ppo needs Stable-Baselines3: pip install 'ro-bench[sb3]'") from error

METRICS = {"train/policy_gradient_loss": "losses/policy", "train/value_loss": "losses/value",
           "train/entropy_loss": "losses/entropy", "train/approx_kl": "charts/approx_kl",
           "train/clip_fraction": "charts/clip_fraction", "train/std": "charts/std"}


@dataclass(frozen=True)
class SB3PPOConfig(OnPolicyConfig):
    """Stable-Baselines3 PPO's settings: SB3's defaults but ``n_steps`` (see the module
    docstring). The PPO fields are ``OnPolicyConfig``'s, passed to SB3 as ``learning_rate``
    (lr), ``n_epochs`` (epochs), ``clip_range`` (clip), ``ent_coef`` (entropy_coef) and
    ``policy_kwargs.net_arch`` (hidden)."""

    lr: float = 3e-4
    epochs: int = 10
    entropy_coef: float = 0.0
    max_grad_norm: float = 0.5
    batch_size: int = documented(64,
        "samples per mini-batch (SB3's batch_size); at least 2",
        search=BATCH_SIZE)
    vf_coef: float = documented(0.5, "weight of the value loss (SB3's vf_coef)")
    shared_policy: bool = documented(False,
        "one policy for every agent (with a one-hot agent id) instead of one per agent")
    log_std_init: float = documented(0.0, "initial log standard deviation (SB3's log_std_init)")

    def __post_init__(self) -> None:
        super().__post_init__()
        integer("batch_size", self.batch_size, low=2)
        integer("n_steps", self.n_steps, low=2)  # SB3 needs at least two samples per rollout
        real("vf_coef", self.vf_coef, low=0.0)
        real("log_std_init", self.log_std_init, low=-20.0, high=2.0)
        boolean("shared_policy", self.shared_policy)


class _Spaces(gymnasium.Env):
    """The stand-in env SB3's constructor reads the spaces from; never reset or stepped."""

    def __init__(self, observation_space: gym_spaces.Box, action_space: gym_spaces.Box) -> None:
        self.observation_space, self.action_space = observation_space, action_space

    def step(self, action: Any) -> Any:
        raise NotImplementedError("the harness steps the env; SB3PPO is driven through it")

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> Any:
        raise NotImplementedError("the harness resets the env; SB3PPO is driven through it")


class SB3PPO(TorchAgent):
    """Stable-Baselines3 PPO driven by the harness; see the module docstring."""

    config_class = SB3PPOConfig
    saved = ("policies", "optimizers", "explore_noise")
    COUNTERS: ClassVar[tuple[str, ...]] = ("steps", "updates")

    def __init__(self, config: SB3PPOConfig, spaces: EnvSpaces, seed: int) -> None:
        super().__init__(config, spaces, seed)
        self.shared = config.shared_policy
        width = self.obs_dim + (self.n if self.shared else 0)
        obs_space = gym_spaces.Box(-np.inf, np.inf, (width,), np.float32)
        act_space = gym_spaces.Box(-1.0, 1.0, (self.act_dim,), np.float32)
        self.models = [self._model(obs_space, act_space) for _ in range(1 if self.shared else
                                                                         self.n)]
        self.policies = [m.policy for m in self.models]
        self.optimizers = [p.optimizer for p in self.policies]
        self.explore_noise = self.generator(0)
        self.rollouts = _Rollouts(self)
        self.buffers["rollout"] = self.rollouts
        self.updates = 0
        self._sampled: list[tuple[np.ndarray, torch.Tensor, torch.Tensor]] | None = None
        self._sampled_env_actions: np.ndarray | None = None

    def _model(self, obs_space: gym_spaces.Box, act_space: gym_spaces.Box) -> PPO:
        c = self.config
        with warnings.catch_warnings():  # SB3 checks batch_size against the stand-in's one env
            warnings.filterwarnings("ignore", message="You have specified a mini-batch size")
            model = PPO("MlpPolicy", _Spaces(obs_space, act_space), learning_rate=c.lr,
                        n_steps=c.n_steps, batch_size=c.batch_size, n_epochs=c.epochs,
                        gamma=c.gamma, gae_lambda=c.gae_lambda, clip_range=c.clip,
                        ent_coef=c.entropy_coef, vf_coef=c.vf_coef,
                        max_grad_norm=c.max_grad_norm if c.max_grad_norm else float("inf"),
                        policy_kwargs={"net_arch": list(c.hidden),
                                       "log_std_init": c.log_std_init},
                        device="cpu", verbose=0, seed=None)
        model.set_logger(Logger(folder=None, output_formats=[]))
        return model

    # ------------------------------------------------------------------- observations
    def slots(self, obs: np.ndarray) -> list[np.ndarray]:
        """Each policy's inputs: ``[B, o]`` per agent, or ``[B * N, o + N]`` (env-major, with
        one-hot ids) for the shared policy."""
        obs = np.asarray(obs, dtype=np.float32).reshape(len(obs), self.n, -1)
        if not self.shared:
            return [obs[:, i] for i in range(self.n)]
        ids = np.broadcast_to(np.eye(self.n, dtype=np.float32), (len(obs), self.n, self.n))
        return [np.concatenate([obs, ids], axis=-1).reshape(len(obs) * self.n, -1)]

    def _joint(self, per_policy: list[np.ndarray], b: int) -> np.ndarray:
        """Per-policy actions back to ``[B, N, d]``."""
        if self.shared:
            return per_policy[0].reshape(b, self.n, self.act_dim)
        return np.stack(per_policy, axis=1)

    # ---------------------------------------------------------------------------- acting
    def act(self, obs: np.ndarray, *, explore: bool) -> np.ndarray:
        b = len(obs)
        inputs = self.slots(obs)
        if not explore:
            means = [p.predict(x, deterministic=True)[0] for p, x in zip(self.policies, inputs)]
            return self.box.to_env(self._joint(means, b))
        sampled = []
        for policy, x in zip(self.policies, inputs):
            policy.set_training_mode(False)
            x_t = torch.as_tensor(x)
            with torch.no_grad():
                distribution = policy.get_distribution(x_t)
                normal = distribution.distribution
                noise = torch.randn(normal.mean.shape, generator=self.explore_noise)
                actions = normal.mean + normal.stddev * noise
                log_probs = distribution.log_prob(actions)
                values = policy.predict_values(x_t)
            sampled.append((actions.numpy(), values, log_probs))
        raw = self._joint([s[0] for s in sampled], b)
        env_actions = self.box.to_env(np.clip(raw, -1.0, 1.0))
        self._sampled, self._sampled_env_actions = sampled, env_actions
        return env_actions

    # ------------------------------------------------------------------------ learning
    def observe(self, transitions: Transitions) -> None:
        t, b = transitions, len(transitions.obs)
        sampled, self._sampled = self._sampled, None
        if sampled is None or not np.array_equal(np.asarray(t.actions), self._sampled_env_actions):
            raise ValueError(
                "SB3PPO learns on-policy: observe() takes only the transitions of the actions its "
                "last act(explore=True) returned, once each (the rollout stores the unclipped "
                "samples, values and log-probabilities behind them)")
        repeat = self.n if self.shared else 1
        terminated = np.repeat(np.asarray(t.terminated, bool), repeat)
        truncated = np.repeat(np.asarray(t.truncated, bool), repeat) & ~terminated
        done = terminated | np.repeat(np.asarray(t.truncated, bool), repeat)
        reward = np.repeat(np.asarray(t.reward, np.float32), repeat)
        buffers = self.rollouts.get(b * self.n if self.shared else b)
        for k, (model, x, x_next) in enumerate(zip(self.models, self.slots(t.obs),
                                                   self.slots(t.next_obs))):
            actions, values, log_probs = sampled[k]
            r = reward.copy()
            if truncated.any():  # SB3's time-limit bootstrap: r + gamma V(final observation)
                with torch.no_grad():
                    final = model.policy.predict_values(torch.as_tensor(x_next[truncated]))
                r[truncated] += self.config.gamma * final.numpy().ravel()
            buffers[k].add(x, actions, r, self.rollouts.episode_starts[k], values, log_probs)
            self.rollouts.episode_starts[k] = done.astype(np.float32)
            if buffers[k].full:
                with torch.no_grad():
                    last = model.policy.predict_values(torch.as_tensor(x_next))
                buffers[k].compute_returns_and_advantage(last_values=last, dones=done)
        self.steps += b

    def update(self) -> dict[str, float]:
        """Once the rollouts are full: SB3's ``train()`` on each, then empty them."""
        buffers = self.rollouts.buffers
        if not buffers or not buffers[0].full:
            return {}
        sums = dict.fromkeys(METRICS.values(), 0.0)
        callers = np.random.get_state()
        np.random.set_state(self.rollouts.shuffle_state)  # RolloutBuffer.get's permutation
        try:
            for model, buffer in zip(self.models, buffers):
                model.rollout_buffer = buffer
                model.train()
                # The policy's distribution object keeps the last mini-batch's graph; drop it
                # (it would hold memory, and a graph cannot be deep-copied).
                model.policy.action_dist.distribution = None
                for key, name in METRICS.items():
                    sums[name] += float(model.logger.name_to_value[key])
                model.logger.dump()
                buffer.reset()
        finally:
            self.rollouts.shuffle_state = np.random.get_state()
            np.random.set_state(callers)
        self.updates += 1
        return {name: value / len(self.models) for name, value in sums.items()}


class _Rollouts:
    """The SB3 rollout buffers of every policy, made once the batch size is known, the
    ``episode_starts`` of the next step and the mini-batch generator's state (numpy's legacy
    ``RandomState``, which SB3 shuffles with); saved as one ``.npz``."""

    FIELDS = ("observations", "actions", "rewards", "returns", "episode_starts", "values",
              "log_probs", "advantages")

    def __init__(self, agent: SB3PPO) -> None:
        self.agent = agent
        self.buffers: list[RolloutBuffer] = []
        self.episode_starts: list[np.ndarray] = []
        self.shuffle_state = np.random.RandomState(agent.stream(1)).get_state()

    def get(self, n_envs: int) -> list[RolloutBuffer]:
        if self.buffers and self.buffers[0].n_envs != n_envs:
            raise ValueError(f"SB3PPO's rollouts hold {self.buffers[0].n_envs} entries per step; "
                             f"this batch has {n_envs}: keep the env's batch size")
        if not self.buffers:
            self._make(n_envs)
        return self.buffers

    def _make(self, n_envs: int) -> None:
        c = self.agent.config
        self.buffers = [RolloutBuffer(c.n_steps, m.observation_space, m.action_space,
                                      device="cpu", gae_lambda=c.gae_lambda, gamma=c.gamma,
                                      n_envs=n_envs) for m in self.agent.models]
        self.episode_starts = [np.ones(n_envs, np.float32) for _ in self.agent.models]

    def save(self, path: str | os.PathLike[str]) -> None:
        arrays: dict[str, np.ndarray] = {}
        name, keys, pos, has_gauss, gauss = self.shuffle_state
        meta = {"shuffle": [name, keys.tolist(), pos, has_gauss, gauss],
                "n_envs": self.buffers[0].n_envs if self.buffers else 0,
                "pos": [buf.pos for buf in self.buffers], "full": [buf.full for buf in
                                                                   self.buffers]}
        for k, buf in enumerate(self.buffers):
            arrays |= {f"{k}/{name}": getattr(buf, name) for name in self.FIELDS}
            arrays[f"{k}/next_episode_starts"] = self.episode_starts[k]
        arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        with atomic_write(path) as f:
            np.savez(f, **arrays)

    def load(self, path: str | os.PathLike[str]) -> None:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(npz["__meta__"].tobytes().decode())
            name, keys, pos, has_gauss, gauss = meta["shuffle"]
            self.shuffle_state = (name, np.asarray(keys, np.uint32), pos, has_gauss, gauss)
            self.buffers, self.episode_starts = [], []
            if not meta["n_envs"]:
                return
            self._make(meta["n_envs"])
            if len(meta["pos"]) != len(self.buffers):
                raise ValueError(f"{os.fspath(path)} holds {len(meta['pos'])} rollouts; this "
                                 f"agent has {len(self.buffers)} policies")
            for k, buf in enumerate(self.buffers):
                for name in self.FIELDS:
                    getattr(buf, name)[...] = npz[f"{k}/{name}"]
                buf.pos, buf.full = meta["pos"][k], meta["full"][k]
                self.episode_starts[k] = npz[f"{k}/next_episode_starts"].copy()
