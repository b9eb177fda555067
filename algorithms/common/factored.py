"""What the zoo's two factored methods, COMIX (``qmix.py``) and FACMAC (``facmac.py``), share:
the settings of FACMAC's multi-agent MuJoCo runs, the mixer's settings, the uniform warm-up and
Gaussian exploration, and the TD target of the mixed value.

Both follow Peng et al., "FACMAC: Factored Multi-Agent Centralised Policy Gradients" (NeurIPS
2021) and the authors' public code (``oxwhirl/facmac``, read, not copied). The defaults are the
settings of that code's MaMuJoCo runs (``config/algs/facmac_mamujoco.yaml``):

- 2x400 ReLU MLPs, Adam with learning rate 1e-3 and ``eps = 0.01`` (its ``optimizer_epsilon``),
  gradients clipped to a global norm of 0.5, batches of 100 transitions, gamma 0.99, Polyak
  rate 0.001 on every target network;
- the mixer: 64 mixing units, two-layer hypernetworks of 64 units (``hypernet_layers: 2``);
- exploration: uniform random actions for the first 10,000 of 2,000,000 env steps
  (``start_steps``), then Gaussian noise of standard deviation 0.1 on the greedy action, clipped
  to the action box (``act_noise``).

Where our budgets differ from theirs, the schedule scales: the uniform warm-up is the same share
of the budget (``warmup_fraction`` 0.005: 25 steps of a 5,000-step game, 625 of Particle
Gather's 125,000), and training starts once a batch is stored (``learning_starts`` 100, their
``can_sample(batch_size)``; their further 1,000-transition ``buffer_warmup`` is dropped).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ro_bench.configs import documented
from ro_bench.params import integer, real
from ro_bench_zoo.common.off_policy import OffPolicyConfig


@dataclass(frozen=True)
class FactoredConfig(OffPolicyConfig):
    """The fields COMIX and FACMAC share, with the defaults of FACMAC's MaMuJoCo runs (see the
    module docstring); ``critic_hidden`` and ``critic_lr`` are the per-agent utilities'."""

    warmup_fraction: float = documented(0.005,
        "share of total_steps played with uniform random actions (FACMAC's start_steps: 10,000 "
        "of 2,000,000 env steps)")
    exploration_noise: float = documented(0.1,
        "standard deviation of the Gaussian noise on the greedy action, in [-1, 1] action units "
        "(FACMAC's act_noise)")
    mixing_embed: int = documented(64, "units of the mixer's hidden layer (FACMAC: 64)")
    hypernet_hidden: int = documented(64,
        "hidden units of the mixer's hypernetworks; 0 makes each a single linear layer "
        "(FACMAC: 64)")
    adam_eps: float = documented(0.01, "Adam's epsilon (FACMAC's optimizer_epsilon: 0.01)")
    grad_clip: float = documented(0.5,
        "clip each optimizer's gradients to this global norm (FACMAC: 0.5); 0 turns it off")
    critic_hidden: tuple[int, ...] = (400, 400)
    critic_lr: float = 1e-3
    gamma: float = 0.99
    tau: float = 0.001
    batch_size: int = 100
    learning_starts: int = 100

    def __post_init__(self) -> None:
        super().__post_init__()
        real("warmup_fraction", self.warmup_fraction, low=0.0, high=1.0)
        real("exploration_noise", self.exploration_noise, low=0.0)
        integer("mixing_embed", self.mixing_embed, low=1)
        integer("hypernet_hidden", self.hypernet_hidden, low=0)
        real("adam_eps", self.adam_eps, low=0.0, low_open=True)
        real("grad_clip", self.grad_clip, low=0.0)

    @property
    def warmup_steps(self) -> int:
        """Env steps of uniform random play at the start of training."""
        return round(self.warmup_fraction * self.total_steps)


def mixed_td_target(reward: Tensor, terminated: Tensor, next_q_tot: Tensor | None,
                    gamma: float) -> Tensor:
    """``y = r + gamma (1 - terminated) Q_tot'(s', u')`` (QMIX's and FACMAC's TD target), ``[B]``.
    Truncated transitions bootstrap: only termination ends the return. ``next_q_tot`` may be
    ``None`` when every transition terminated."""
    if next_q_tot is None:
        if not terminated.all():
            raise ValueError("mixed_td_target needs next_q_tot unless every transition "
                             "terminated")
        return reward
    return reward + gamma * (~terminated) * next_q_tot


def training_action(greedy: Tensor, std: float, warmup: bool, generator: torch.Generator) -> Tensor:
    """Training actions in [-1, 1]: uniform during the warm-up, else ``greedy`` plus Gaussian
    noise of ``std``, clipped to the box (FACMAC's ``exploration_mode: gaussian``)."""
    if warmup:
        return torch.rand(greedy.shape, generator=generator) * 2.0 - 1.0
    noise = torch.randn(greedy.shape, generator=generator)
    return (greedy + std * noise).clamp(-1.0, 1.0)


def adam(params: list[torch.nn.Parameter], lr: float, eps: float) -> torch.optim.Adam:
    """Adam over ``params`` with FACMAC's epsilon (fused: the zoo's cheaper kernel)."""
    return torch.optim.Adam(params, lr=lr, eps=eps, fused=True)


def clipped_step(optimizer: torch.optim.Optimizer, loss: Tensor, grad_clip: float) -> float:
    """Backward, clip the optimizer's gradients to a global norm (none when ``grad_clip`` is 0),
    step; the norm before clipping."""
    optimizer.zero_grad()
    loss.backward()
    params = [p for group in optimizer.param_groups for p in group["params"]]
    norm = torch.nn.utils.clip_grad_norm_(params, grad_clip or float("inf"))
    optimizer.step()
    return norm.item()
