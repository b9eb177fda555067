"""QMIX's mixing network: per-agent values ``[batch, n_agents]`` to a team value ``[batch]``.

``Mixer`` is the hypernetwork mixer of QMIX (Rashid et al., ICML 2018, §4, Fig. 2), as
FACMAC (Peng et al., NeurIPS 2021) uses it for its factored critic and COMIX for its utilities::

    h       = ELU(q^T W_1(s) + b_1(s))          W_1(s) = |hyper_w1(s)|  [n_agents, embed]
    Q_tot   = h^T w_2(s) + V(s)                 w_2(s) = |hyper_w2(s)|  [embed]

``hyper_w1`` and ``hyper_w2`` are hypernetworks of the global state ``s`` (two layers with a ReLU,
``hypernet_hidden`` units, as FACMAC's ``hypernet_layers: 2``; or one linear layer with
``hypernet_hidden=0``), ``b_1(s)`` a linear map of the state and ``V(s)`` a state value of two
layers with a ReLU in place of a last bias (QMIX §4). The absolute values make every weight that
meets ``q`` non-negative, and ELU is increasing, so ``dQ_tot / dq_i >= 0`` for every agent in
every state (QMIX eq. 5): the argmax of ``Q_tot`` is every agent's own argmax.

``monotonic=False`` drops the absolute values: FACMAC's non-monotonic factorisation
("FACMAC-nonmonotonic"; ``QMixerNonmonotonic`` in the authors' code, ``oxwhirl/facmac``), which
FACMAC can use because its actors climb ``Q_tot`` by gradient rather than read a per-agent argmax.
Everything else is the same.

Initialisation is PyTorch's default for ``nn.Linear`` (FACMAC's code leaves
``hyper_initialization_nonzeros`` at 0, i.e. the default too), from the global torch generator.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ro_bench.params import integer


class Mixer(nn.Module):
    """QMIX's state-conditioned mixer, monotonic (``|W|``) or not; ``[B, n] x [B, S] -> [B]``."""

    def __init__(self, n_agents: int, state_dim: int, embed_dim: int = 64,
                 hypernet_hidden: int = 64, monotonic: bool = True) -> None:
        super().__init__()
        self.n_agents = integer("n_agents", n_agents, low=1)
        self.state_dim = integer("state_dim", state_dim, low=1)
        self.embed_dim = integer("mixing_embed", embed_dim, low=1)
        integer("hypernet_hidden", hypernet_hidden, low=0)
        self.monotonic = bool(monotonic)
        self.hyper_w1 = _hypernet(state_dim, n_agents * embed_dim, hypernet_hidden)
        self.hyper_w2 = _hypernet(state_dim, embed_dim, hypernet_hidden)
        self.hyper_b1 = nn.Linear(state_dim, embed_dim)
        self.value = nn.Sequential(nn.Linear(state_dim, embed_dim), nn.ReLU(),
                                   nn.Linear(embed_dim, 1))

    def weights(self, state: Tensor) -> tuple[Tensor, Tensor]:
        """``W_1(s) [B, n, embed]`` and ``w_2(s) [B, embed]``, non-negative when monotonic."""
        w1 = self.hyper_w1(state).view(-1, self.n_agents, self.embed_dim)
        w2 = self.hyper_w2(state)
        if self.monotonic:  # QMIX eq. 5: non-negative weights keep dQ_tot/dQ_i >= 0
            w1, w2 = w1.abs(), w2.abs()
        return w1, w2

    def forward(self, q: Tensor, state: Tensor) -> Tensor:
        if q.dim() != 2 or q.shape[1] != self.n_agents:
            raise ValueError(f"Mixer expects agent values [batch, n_agents={self.n_agents}]; "
                             f"got {tuple(q.shape)}")
        if state.shape != (q.shape[0], self.state_dim):
            raise ValueError(f"Mixer expects states [batch={q.shape[0]}, "
                             f"state_dim={self.state_dim}]; got {tuple(state.shape)}")
        w1, w2 = self.weights(state)
        hidden = F.elu(torch.bmm(q[:, None, :], w1).squeeze(1) + self.hyper_b1(state))
        return (hidden * w2).sum(-1) + self.value(state).squeeze(-1)


def _hypernet(in_dim: int, out_dim: int, hidden: int) -> nn.Module:
    if hidden == 0:
        return nn.Linear(in_dim, out_dim)
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))
