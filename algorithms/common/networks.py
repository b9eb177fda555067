"""The multi-layer perceptron every algorithm builds its actors and critics from."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from ro_bench.params import integer


def mlp(
    in_dim: int,
    out_dim: int,
    hidden: Sequence[int] = (256, 256),
    activation: type[nn.Module] = nn.ReLU,
    output_activation: type[nn.Module] | None = None,
) -> nn.Sequential:
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
    return nn.Sequential(*layers)
