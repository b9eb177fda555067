"""seed_everything makes runs repeat; rng_state / set_rng_state resume the same streams."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ro_bench_zoo.common import seeding  # noqa: E402
from ro_bench_zoo.common.networks import mlp  # noqa: E402
from ro_bench_zoo.common.seeding import rng_state, seed_everything, set_rng_state  # noqa: E402


@pytest.fixture(autouse=True)
def restore_global_rngs():
    """These tests reseed process-wide state; put it back so other tests are unaffected."""
    saved = (random.getstate(), np.random.get_state(), torch.get_rng_state(),
             torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled())
    yield
    random.setstate(saved[0])
    np.random.set_state(saved[1])
    torch.set_rng_state(saved[2])
    torch.use_deterministic_algorithms(saved[3], warn_only=saved[4])


def draws(generator: np.random.Generator | None = None) -> dict[str, list[float]]:
    out = {
        "python": [random.random(), random.gauss(0, 1), random.gauss(0, 1)],
        "numpy": np.random.standard_normal(3).tolist(),
        "torch": torch.randn(3).tolist() + torch.randint(0, 1000, (2,)).tolist(),
    }
    if generator is not None:
        out["generator"] = generator.random(3).tolist()
    return out


def test_same_seed_gives_identical_draws_and_other_seeds_do_not() -> None:
    first = draws(seed_everything(5))
    again = draws(seed_everything(5))
    other = draws(seed_everything(6))
    assert first == again
    assert all(first[k] != other[k] for k in first)


def test_seed_everything_switches_on_deterministic_algorithms_warn_only() -> None:
    torch.use_deterministic_algorithms(False)
    seed_everything(0, deterministic=False)
    assert not torch.are_deterministic_algorithms_enabled()
    seed_everything(0)
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.is_deterministic_algorithms_warn_only_enabled()


def train(steps: int, net: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """Dropout and data draw from the global torch RNG, so they exercise the seeding."""
    for _ in range(steps):
        x = torch.randn(16, 4)
        loss = (net(x) - x.sum(-1, keepdim=True)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def make_model() -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    net = torch.nn.Sequential(mlp(4, 8, hidden=(32,)), torch.nn.Dropout(0.2), mlp(8, 1, hidden=()))
    return net, torch.optim.Adam(net.parameters(), lr=1e-2)


def test_same_seed_gives_bit_identical_training() -> None:
    results = []
    for _ in range(2):
        seed_everything(123)
        net, optimizer = make_model()
        train(5, net, optimizer)
        results.append([p.detach().clone() for p in net.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*results))


def test_rng_state_is_json_able_and_resumes_every_stream() -> None:
    seed_everything(9)
    random.gauss(0, 1)  # leaves a cached Gaussian in python's state
    np.random.standard_normal()  # and in numpy's legacy state
    state = json.loads(json.dumps(rng_state()))
    expected = draws()
    draws()  # move every stream on
    set_rng_state(state)
    assert draws() == expected


def test_rng_state_does_not_alias_live_state() -> None:
    seed_everything(1)
    state = rng_state()
    snapshot = json.dumps(state)
    draws()
    assert json.dumps(state) == snapshot


def test_set_rng_state_rejects_a_state_captured_without_torch() -> None:
    state = rng_state()
    before = random.getstate()
    with pytest.raises(ValueError, match="disagree on torch"):
        set_rng_state({**state, "torch": None})
    assert random.getstate() == before  # nothing was half-restored


def test_seed_everything_without_torch_still_seeds_numpy_and_python(monkeypatch) -> None:
    monkeypatch.setattr(seeding, "torch", None)
    seed_everything(3)
    first = (random.random(), np.random.random())
    seed_everything(3)
    assert (random.random(), np.random.random()) == first
    assert rng_state()["torch"] is None


@pytest.mark.parametrize("seed", [-1, 2**32, 1.0, True])
def test_seed_everything_rejects_bad_seeds(seed) -> None:
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 4294967295\]"):
        seed_everything(seed)
