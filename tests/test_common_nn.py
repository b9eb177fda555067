"""mlp layouts, and target-network updates checked against hand computations."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from ro_bench_zoo.common.networks import mlp  # noqa: E402
from ro_bench_zoo.common.target import hard_update, soft_update  # noqa: E402


@pytest.mark.parametrize("hidden", [(), (5,), (7, 3), (4, 4, 4)])
def test_mlp_layer_widths_and_output_shape(hidden) -> None:
    net = mlp(6, 2, hidden=hidden)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    widths = [6, *hidden, 2]
    assert [(m.in_features, m.out_features) for m in linears] == list(zip(widths, widths[1:]))
    assert net(torch.zeros(10, 6)).shape == (10, 2)
    assert net(torch.zeros(3, 4, 6)).shape == (3, 4, 2)  # extra leading dims pass through


def test_mlp_activations_between_layers_and_at_the_output() -> None:
    net = mlp(3, 1, hidden=(4, 4), activation=nn.Tanh, output_activation=nn.Sigmoid)
    kinds = [type(m) for m in net]
    assert kinds == [nn.Linear, nn.Tanh, nn.Linear, nn.Tanh, nn.Linear, nn.Sigmoid]
    assert net[1] is not net[3]  # one instance per layer, not shared
    out = net(torch.randn(100, 3) * 100)
    assert ((out > 0) & (out < 1)).all()
    assert type(mlp(3, 1, hidden=(4,))[-1]) is nn.Linear  # default: no output activation


def test_mlp_defaults_and_seeded_initialisation() -> None:
    torch.manual_seed(0)
    a = mlp(3, 2)
    torch.manual_seed(0)
    b = mlp(3, 2)
    assert [m.out_features for m in a if isinstance(m, nn.Linear)] == [256, 256, 2]
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


@pytest.mark.parametrize("kwargs", [{"in_dim": 0}, {"out_dim": -1}, {"hidden": (4, 0)},
                                    {"in_dim": 2.0}])
def test_mlp_rejects_bad_sizes(kwargs) -> None:
    with pytest.raises(ValueError, match="must be an integer"):
        mlp(**{"in_dim": 2, "out_dim": 1, **kwargs})


def linear(weight: list[list[float]], bias: list[float]) -> nn.Linear:
    layer = nn.Linear(len(weight[0]), len(weight))
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight))
        layer.bias.copy_(torch.tensor(bias))
    return layer


def test_soft_update_matches_hand_computation() -> None:
    target = linear([[1.0, 2.0]], [4.0])
    source = linear([[3.0, -2.0]], [0.0])
    soft_update(target, source, tau=0.25)
    # 0.25 * source + 0.75 * target
    assert torch.allclose(target.weight, torch.tensor([[1.5, 1.0]]))
    assert torch.allclose(target.bias, torch.tensor([3.0]))
    soft_update(target, source, tau=0.25)  # again: 0.25 * [3, -2, 0] + 0.75 * [1.5, 1, 3]
    assert torch.allclose(target.weight, torch.tensor([[1.875, 0.25]]))
    assert torch.allclose(target.bias, torch.tensor([2.25]))
    assert torch.equal(source.weight, torch.tensor([[3.0, -2.0]]))  # source untouched


def test_soft_update_extremes_and_no_autograd_history() -> None:
    target, source = linear([[1.0]], [1.0]), linear([[5.0]], [-5.0])
    soft_update(target, source, tau=0.0)
    assert target.weight.item() == 1.0 and target.bias.item() == 1.0
    soft_update(target, source, tau=1.0)
    assert target.weight.item() == 5.0 and target.bias.item() == -5.0
    assert target.weight.requires_grad and target.weight.grad_fn is None and target.weight.is_leaf


def test_soft_update_averages_float_buffers_and_copies_integer_ones() -> None:
    target, source = nn.BatchNorm1d(2), nn.BatchNorm1d(2)
    source.running_mean.fill_(4.0)
    source.num_batches_tracked.fill_(7)
    soft_update(target, source, tau=0.5)
    assert torch.equal(target.running_mean, torch.tensor([2.0, 2.0]))
    assert target.num_batches_tracked.item() == 7


def test_hard_update_copies_values_without_sharing_storage() -> None:
    torch.manual_seed(1)
    target, source = mlp(3, 2, hidden=(4,)), mlp(3, 2, hidden=(4,))
    hard_update(target, source)
    x = torch.randn(5, 3)
    assert torch.equal(target(x), source(x))
    with torch.no_grad():
        source[0].weight.add_(1.0)
    assert not torch.equal(target[0].weight, source[0].weight)


def test_updates_reject_mismatched_networks_and_bad_tau() -> None:
    target = mlp(3, 2, hidden=(4,))
    with pytest.raises(ValueError, match=r"0.weight: target shape \(4, 3\) != source \(5, 3\)"):
        hard_update(target, mlp(3, 2, hidden=(5,)))
    with pytest.raises(ValueError, match=r"only in source \['4.bias', '4.weight'\]"):
        soft_update(target, mlp(3, 2, hidden=(4, 4)), tau=0.1)
    with pytest.raises(ValueError, match=r"tau must be a finite real number in \[0, 1\]"):
        soft_update(target, mlp(3, 2, hidden=(4,)), tau=1.5)
