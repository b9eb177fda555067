"""The multi-layer perceptrons every algorithm builds its actors and critics from.

``mlp`` builds one MLP (``MLP``, an ``nn.Sequential``); ``GroupedMLP`` (``grouped.py``) holds one
per agent. Both evaluate large inputs in blocks of rows when no gradient is taken (``in_blocks``):
the soft values and targets evaluate a critic at tens of thousands of state-action pairs, and on
CPU a matrix product of more than a few thousand rows runs at half the speed of the same product
done in blocks whose activations stay in cache (``benchmarks/bench_row_blocks.py``). Each row's
output is the same either way, bit for bit, at one torch thread: blocks are aligned so that every
row meets the same kernel, in the same position, as in the whole pass (``in_blocks``;
``tests/test_common_nn.py`` checks it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ro_bench.params import integer

ROWS_PER_PASS = 1024  # rows (summed over agents) evaluated at once without gradients
BLOCK_ALIGN = 64  # every block but the last has a multiple of this many rows, the last at least


def block_rows(rows: int) -> int:
    """``rows`` rounded down to a multiple of ``BLOCK_ALIGN`` (at least one multiple)."""
    return max(BLOCK_ALIGN, rows // BLOCK_ALIGN * BLOCK_ALIGN)


def in_blocks(forward: Callable[[Tensor], Tensor], x: Tensor, dim: int, rows: int) -> Tensor:
    """``forward(x)``, evaluated on blocks along ``dim`` and concatenated when no gradient is
    being recorded; in one pass otherwise (a gradient summed over blocks would add in another
    order). Blocks have ``block_rows(rows)`` rows; the last takes the remainder, joined to the
    block before it when shorter than ``BLOCK_ALIGN``.

    Why aligned blocks of at least 64 rows: on CPU the matrix-vector kernel (a layer with one
    output) rounds a row according to its position modulo the kernel's unrolling, and products
    of one to three rows take another kernel; blocks that start at multiples of 64 and are never
    that short give every row the bits of the whole pass (``tests/test_common_nn.py``).
    """
    rows = block_rows(rows)
    total = x.shape[dim]
    if torch.is_grad_enabled() or total < rows + BLOCK_ALIGN:
        return forward(x)
    sizes = [rows] * (total // rows)
    remainder = total - rows * len(sizes)
    if remainder >= BLOCK_ALIGN:
        sizes.append(remainder)
    else:
        sizes[-1] += remainder
    return torch.cat([forward(block) for block in x.split(sizes, dim=dim)], dim=dim)


class MLP(nn.Sequential):
    """``nn.Sequential`` whose forward takes ``[..., in]`` and, without gradients, evaluates it
    ``ROWS_PER_PASS`` rows at a time (same outputs; see the module docstring)."""

    def forward(self, x: Tensor) -> Tensor:
        if torch.is_grad_enabled() or x.dim() < 2:
            return super().forward(x)
        flat = x.reshape(-1, x.shape[-1])
        out = in_blocks(super().forward, flat, 0, ROWS_PER_PASS)
        return out.reshape(*x.shape[:-1], out.shape[-1])

    def pairs(self, states: Tensor, actions: Tensor) -> Tensor:
        """``self`` at every state paired with each of its actions: ``states [N, S]`` and
        ``actions [N, K, A]`` give ``[N, K, out]``, the MLP of ``[states[n], actions[n, k]]``.

        The first layer's state part ``W_s s + b`` is computed once per state and added to
        ``W_a a`` (``W = [W_s, W_a]``): the same function, with the first layer's sum rounded in
        another order, for ``N K`` rows of ``A`` inputs where the concatenation has ``S + A``.
        Without gradients, ``ROWS_PER_PASS // K`` states at a time.
        """
        first, rest = self[0], self[1:]
        if not isinstance(first, nn.Linear):
            raise TypeError(f"MLP.pairs needs a Linear first layer; got {type(first).__name__}")
        s = states.shape[-1]
        w_state, w_action = first.weight[:, :s], first.weight[:, s:]
        n, k = actions.shape[:2]
        per = n if torch.is_grad_enabled() else max(1, ROWS_PER_PASS // k)
        blocks = [rest(F.linear(states[i: i + per], w_state, first.bias)[:, None]
                       + F.linear(actions[i: i + per], w_action))
                  for i in range(0, n, per)]
        return torch.cat(blocks) if len(blocks) > 1 else blocks[0]


def mlp(
    in_dim: int,
    out_dim: int,
    hidden: Sequence[int] = (256, 256),
    activation: type[nn.Module] = nn.ReLU,
    output_activation: type[nn.Module] | None = None,
) -> MLP:
    """``Linear -> activation`` per hidden width, then ``Linear(.., out_dim)``, then
    ``output_activation`` if given.

    Layers keep PyTorch's default initialisation, so under a fixed ``torch.manual_seed`` the
    weights are reproducible. ``hidden=()`` gives a single linear layer.
    """
    widths = [integer("in_dim", in_dim, low=1)]
    widths += [integer("hidden width", h, low=1) for h in hidden]
    widths.append(integer("out_dim", out_dim, low=1))
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(n_in, n_out))
        last = i == len(widths) - 2
        if not last:
            layers.append(activation())
        elif output_activation is not None:
            layers.append(output_activation())
    return MLP(*layers)
