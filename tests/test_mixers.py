"""QMIX's mixer: the formula by hand, shapes, V(s), monotonicity in every agent's value over random
states (and a counterexample for the non-monotonic variant)."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from ro_bench_zoo.common.mixers import Mixer  # noqa: E402

pytestmark = pytest.mark.usefixtures("restore_process_state")


def slopes(mixer: Mixer, q: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
    """``dQ_tot / dq_i`` for every row and agent, ``[B, n]``."""
    q = q.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(mixer(q, state).sum(), q)
    return grad


def scramble(mixer: Mixer, gen: torch.Generator, scale: float = 3.0) -> None:
    """Large random weights everywhere, so that signs vary as much as they can."""
    with torch.no_grad():
        for p in mixer.parameters():
            p.copy_(scale * torch.randn(p.shape, generator=gen))


def test_the_mixer_is_qmix_formula_by_hand() -> None:
    """One-layer hypernets with zero weights and set biases: W_1 = |[[1], [-2]]| (embed 1),
    b_1 = 0.5, w_2 = |-3|, V = -1. At q = (1, -2): ELU(1 * 1 + (-2) * 2 + 0.5) = e^-2.5 - 1."""
    mixer = Mixer(2, 3, embed_dim=1, hypernet_hidden=0)
    with torch.no_grad():
        for p in mixer.parameters():
            p.zero_()
        mixer.hyper_w1.bias.copy_(torch.tensor([1.0, -2.0]))
        mixer.hyper_w2.bias.fill_(-3.0)
        mixer.hyper_b1.bias.fill_(0.5)
        mixer.value[2].bias.fill_(-1.0)
    q = torch.tensor([[1.0, -2.0], [0.0, 0.0]])
    state = torch.randn(2, 3)
    expected = [3.0 * (math.exp(-2.5) - 1.0) - 1.0, 3.0 * 0.5 - 1.0]
    assert mixer(q, state).tolist() == pytest.approx(expected, rel=1e-6)
    nonmonotonic = Mixer(2, 3, embed_dim=1, hypernet_hidden=0, monotonic=False)
    nonmonotonic.load_state_dict(mixer.state_dict())
    # Without |.|: ELU(1 * 1 + (-2) * (-2) + 0.5) = 5.5, times -3, minus 1.
    assert nonmonotonic(q, state).tolist() == pytest.approx([-3.0 * 5.5 - 1.0, -3 * 0.5 - 1.0])


@pytest.mark.parametrize("hypernet_hidden", [0, 64])
def test_shapes_and_the_state_value_term(hypernet_hidden: int) -> None:
    mixer = Mixer(4, 5, embed_dim=8, hypernet_hidden=hypernet_hidden)
    q, state = torch.randn(7, 4), torch.randn(7, 5)
    assert mixer(q, state).shape == (7,)
    w1, w2 = mixer.weights(state)
    assert w1.shape == (7, 4, 8) and w2.shape == (7, 8)
    # With w_2(s) = 0 the agents' values drop out and Q_tot is V(s) alone, which varies with s.
    last = mixer.hyper_w2 if hypernet_hidden == 0 else mixer.hyper_w2[2]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()
    v = mixer.value(state).squeeze(-1)
    assert torch.equal(mixer(q, state), v) and torch.equal(mixer(5 * q, state), v)
    assert v.std() > 0


def test_bad_shapes_are_explained() -> None:
    mixer = Mixer(3, 2)
    with pytest.raises(ValueError, match=r"\[batch, n_agents=3\]"):
        mixer(torch.zeros(4, 2), torch.zeros(4, 2))
    with pytest.raises(ValueError, match=r"state_dim=2"):
        mixer(torch.zeros(4, 3), torch.zeros(4, 5))
    with pytest.raises(ValueError, match="mixing_embed must be an integer in"):
        Mixer(3, 2, embed_dim=0)


def test_the_monotonic_mixer_never_decreases_in_any_agents_value() -> None:
    """dQ_tot/dq_i >= 0 for 2000 random (state, q) under each of 5 random large weight draws;
    and a finite step up in q_i never lowers Q_tot."""
    gen = torch.Generator().manual_seed(0)
    mixer = Mixer(3, 4, embed_dim=16, hypernet_hidden=16)
    for _ in range(5):
        scramble(mixer, gen)
        q = 5 * torch.randn(2000, 3, generator=gen)
        state = 3 * torch.randn(2000, 4, generator=gen)
        grad = slopes(mixer, q, state)
        assert (grad >= 0).all() and (grad > 0).float().mean() > 0.5
        with torch.no_grad():
            for i in range(3):
                up = q.clone()
                up[:, i] += torch.rand(2000, generator=gen)
                assert (mixer(up, state) >= mixer(q, state) - 1e-4).all()


def test_the_nonmonotonic_mixer_can_decrease_in_an_agents_value() -> None:
    gen = torch.Generator().manual_seed(0)
    mixer = Mixer(3, 4, embed_dim=16, hypernet_hidden=16, monotonic=False)
    scramble(mixer, gen)
    q = 5 * torch.randn(500, 3, generator=gen)
    state = 3 * torch.randn(500, 4, generator=gen)
    grad = slopes(mixer, q, state)
    assert (grad < -1e-3).any() and (grad > 1e-3).any()
    row, agent = map(int, (grad < -1e-3).nonzero()[0])  # a counterexample, checked by a step
    with torch.no_grad():
        up = q[row: row + 1].clone()
        up[0, agent] += 1e-2
        assert mixer(up, state[row: row + 1]) < mixer(q[row: row + 1], state[row: row + 1])
