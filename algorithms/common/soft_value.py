"""The soft value of a state under a soft Q-function, importance-sampled from a uniform proposal.

Soft Q-learning (Haarnoja et al., 2017) and the methods built on it (MASQL, PR2, ROMMEO, SVNR's
eq. 11) need ``V(s) = alpha log integral exp(Q(s, a) / alpha) da`` over the action box. With
``K`` actions drawn uniformly from ``[-1, 1]^D`` (density ``2^-D``) the estimate is
``alpha (logsumexp_k Q(s, a_k) / alpha - log K + D log 2)``.

A critic with a ``pairs(states, actions)`` method (``networks.MLP``) is evaluated through it, so
that the part of its first layer that sees the state is computed once per state, not once per
sample (the soft value is most of SVNR's update on MaMuJoCo's large states).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def soft_value(critic: nn.Module, states: Tensor, action_dim: int, samples: int, alpha: float,
               generator: torch.Generator) -> Tensor:
    """``V(s) = alpha log E_{a~q}[exp(Q(s, a) / alpha) / q(a)]`` (eq. 11), ``q = U[-1, 1]^D``:

    ``alpha (logsumexp_k Q(s, a_k) / alpha - log K + D log 2)`` with ``K`` uniform samples, soft
    Q-learning's estimate (Haarnoja et al., 2017). ``states [N, S]`` -> ``[N]``.
    """
    n = states.shape[0]
    actions = torch.rand(n, samples, action_dim, generator=generator) * 2.0 - 1.0
    if hasattr(critic, "pairs"):
        q = critic.pairs(states, actions).squeeze(-1)
    else:
        inputs = torch.cat([states[:, None].expand(n, samples, states.shape[1]), actions], -1)
        q = critic(inputs).squeeze(-1)
    correction = -math.log(samples) + action_dim * math.log(2.0)
    return alpha * (torch.logsumexp(q / alpha, dim=-1) + correction)
