"""Target-network updates: Polyak averaging (``soft_update``) and copying (``hard_update``).

Both walk parameters *and* buffers by name, so a target of a different architecture is an error
rather than a silent mismatched zip, and normalisation statistics (e.g. BatchNorm running means)
follow the source like the weights do. Integer buffers (BatchNorm's ``num_batches_tracked``)
cannot be averaged and are copied.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

import torch
from torch import nn

from ro_bench.params import real


@torch.no_grad()
def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """In place: ``target <- tau * source + (1 - tau) * target`` for every parameter and buffer."""
    tau = real("tau", tau, low=0.0, high=1.0)
    for t, s in _pairs(target, source):
        if t.is_floating_point():
            t.mul_(1.0 - tau).add_(s, alpha=tau)
        else:
            t.copy_(s)


@torch.no_grad()
def hard_update(target: nn.Module, source: nn.Module) -> None:
    """In place: ``target <- source`` (values copied; the two share no storage afterwards)."""
    for t, s in _pairs(target, source):
        t.copy_(s)


def _pairs(target: nn.Module, source: nn.Module) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    ts = dict(chain(target.named_parameters(), target.named_buffers()))
    ss = dict(chain(source.named_parameters(), source.named_buffers()))
    if ts.keys() != ss.keys():
        only_t, only_s = sorted(ts.keys() - ss.keys()), sorted(ss.keys() - ts.keys())
        raise ValueError(
            f"target and source differ: only in target {only_t}, only in source {only_s}"
        )
    for name, t in ts.items():
        if t.shape != ss[name].shape:
            shapes = f"target shape {tuple(t.shape)} != source {tuple(ss[name].shape)}"
            raise ValueError(f"{name}: {shapes}")
    return ((t, ss[name]) for name, t in ts.items())
