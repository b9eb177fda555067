"""mlp layouts, and target-network updates checked against hand computations."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from ro_bench_zoo.common import networks  # noqa: E402
from ro_bench_zoo.common.grouped import GroupedMLP  # noqa: E402
from ro_bench_zoo.common.networks import mlp  # noqa: E402
from ro_bench_zoo.common.soft_value import soft_value  # noqa: E402
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


# ------------------------------------------------------------------ evaluation in row blocks
@pytest.fixture
def one_thread():
    """Bit-for-bit claims hold at a fixed thread count; the agents run with one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("rows", [1, 100, 1000])
@pytest.mark.parametrize("total", [1921, 2005, 4099])
def test_mlp_without_gradients_gives_the_same_bits_in_row_blocks(monkeypatch, one_thread, rows,
                                                                 total) -> None:
    """Row blocks change the speed, never a number: each row's output is the one the whole
    pass gives, bit for bit (the entries of record rely on it). A one-output last layer is the
    case where a row's position matters."""
    torch.manual_seed(0)
    net = mlp(23, 1, hidden=(100, 100))
    x = torch.randn(total, 23)
    monkeypatch.setattr(networks, "ROWS_PER_PASS", 10**9)
    with torch.no_grad():
        whole = net(x)
    monkeypatch.setattr(networks, "ROWS_PER_PASS", rows)
    with torch.no_grad():
        blocks = net(x)
    assert blocks.shape == (total, 1)
    assert torch.equal(blocks, whole)


@pytest.mark.parametrize("out", [1, 2])
@pytest.mark.parametrize("total", [130, 2049, 2113])
def test_grouped_mlp_without_gradients_gives_the_same_bits_in_row_blocks(
        monkeypatch, one_thread, out, total) -> None:
    torch.manual_seed(0)
    net = GroupedMLP(3, 17, out, hidden=(100, 100))
    x = torch.randn(3, total, 17)
    monkeypatch.setattr(networks, "ROWS_PER_PASS", 10**9)
    with torch.no_grad():
        whole = net(x)
    monkeypatch.setattr(networks, "ROWS_PER_PASS", 3 * 64)
    with torch.no_grad():
        blocks = net(x)
    assert torch.equal(blocks, whole)


def test_blocks_are_aligned_and_never_shorter_than_the_alignment() -> None:
    seen = []

    def forward(x):
        seen.append(len(x))
        return x

    x = torch.zeros(1000)
    with torch.no_grad():
        assert torch.equal(networks.in_blocks(forward, x, 0, 300), x)
        assert seen == [256, 256, 256, 232]
        seen.clear()
        networks.in_blocks(forward, torch.zeros(1030), 0, 1024)
        assert seen == [1030]  # a remainder under 64 rows joins the block before it
        seen.clear()
        networks.in_blocks(forward, torch.zeros(2100), 0, 1024)
        assert seen == [1024, 1076]


def test_row_blocks_are_never_used_while_recording_gradients(monkeypatch) -> None:
    """A weight gradient summed over blocks would add in another order: with gradients the
    network runs in one pass, whatever the block size."""
    calls = []
    forward = GroupedMLP._forward

    def counting(self, x):
        calls.append(x.shape[1])
        return forward(self, x)

    monkeypatch.setattr(GroupedMLP, "_forward", counting)
    monkeypatch.setattr(networks, "ROWS_PER_PASS", 8)  # blocks of 64 rows, the least
    net = GroupedMLP(2, 3, 1, hidden=(4,))
    net(torch.randn(2, 100, 3)).sum().backward()
    assert calls == [100]
    with torch.no_grad():
        net(torch.randn(2, 200, 3))
    assert calls[1:] == [64, 64, 72]


def test_mlp_pairs_is_the_mlp_of_each_state_with_each_of_its_actions(monkeypatch) -> None:
    """``pairs`` splits the first layer into its state and action parts: the same function as
    the MLP of the concatenation, to float rounding, with and without gradients."""
    torch.manual_seed(0)
    net = mlp(17, 1, hidden=(100, 100)).double()
    states, actions = torch.randn(50, 11).double(), torch.rand(50, 9, 6).double() * 2 - 1
    joined = net(torch.cat([states[:, None].expand(50, 9, 11), actions], -1))
    monkeypatch.setattr(networks, "ROWS_PER_PASS", 20)  # blocks of 2 states
    with torch.no_grad():
        torch.testing.assert_close(net.pairs(states, actions), joined, rtol=1e-12, atol=1e-12)
    paired = net.pairs(states, actions)
    torch.testing.assert_close(paired, joined, rtol=1e-12, atol=1e-12)
    (g1,) = torch.autograd.grad(paired.sum(), net[0].weight)
    (g2,) = torch.autograd.grad(joined.sum(), net[0].weight)
    torch.testing.assert_close(g1, g2, rtol=1e-12, atol=1e-12)


def test_soft_value_of_an_mlp_critic_matches_the_estimate_on_concatenated_inputs() -> None:
    """``soft_value`` evaluates an MLP critic through ``pairs``; the same uniform draws through a
    critic without ``pairs`` give the same values, to float rounding."""
    torch.manual_seed(0)
    net = mlp(7, 1, hidden=(32, 32))
    states = torch.randn(40, 4)
    fast = soft_value(net, states, 3, 16, 0.5, torch.Generator().manual_seed(1))
    plain = soft_value(lambda x: net(x), states, 3, 16, 0.5, torch.Generator().manual_seed(1))
    assert fast.shape == (40,)
    torch.testing.assert_close(fast, plain, rtol=1e-5, atol=1e-5)
