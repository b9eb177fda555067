"""Grouped MLPs: one independent MLP per agent, all evaluated in a single batched forward pass.

``GroupedMLP(n_groups, in_dim, out_dim, hidden)`` holds every layer's weights stacked as
``[n_groups, in, out]`` and maps ``x [n_groups, N, in]`` to ``[n_groups, N, out]`` with one
``torch.baddbmm`` per layer: group ``g``'s output depends only on ``x[g]`` and group ``g``'s
weights, exactly as if each group had its own ``mlp``. Each group is initialised like ``nn.Linear``
(``U(-1/sqrt(in), 1/sqrt(in))`` for weights and biases), from the default torch generator.
Without gradients, large inputs are evaluated in blocks of rows (``networks.in_blocks``), with
the same outputs bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ro_bench.params import integer
from ro_bench_zoo.common import networks


class GroupedMLP(nn.Module):
    """``n_groups`` MLPs of the same layout: Linear -> ReLU per hidden width, then Linear."""

    def __init__(self, n_groups: int, in_dim: int, out_dim: int,
                 hidden: Sequence[int] = (64, 64)) -> None:
        super().__init__()
        self.n_groups = integer("n_groups", n_groups, low=1)
        widths = [integer("in_dim", in_dim, low=1)]
        widths += [integer("hidden width", h, low=1) for h in hidden]
        widths.append(integer("out_dim", out_dim, low=1))
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for n_in, n_out in zip(widths[:-1], widths[1:]):
            bound = 1.0 / math.sqrt(n_in)
            weight = torch.empty(n_groups, n_in, n_out).uniform_(-bound, bound)
            bias = torch.empty(n_groups, 1, n_out).uniform_(-bound, bound)
            self.weights.append(nn.Parameter(weight))
            self.biases.append(nn.Parameter(bias))

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 3 or x.shape[0] != self.n_groups:
            raise ValueError(f"GroupedMLP expects [n_groups={self.n_groups}, N, in]; "
                             f"got {tuple(x.shape)}")
        return networks.in_blocks(self._forward, x, 1, networks.ROWS_PER_PASS // self.n_groups)

    def _forward(self, x: Tensor) -> Tensor:
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = torch.baddbmm(b, x, w)
            if i < last:
                x = torch.relu(x)
        return x
