"""Checkpoints: round trips, exact resume of a training run, refused pickles, atomic writes."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ro_bench.atomic import atomic_write  # noqa: E402
from ro_bench_zoo.common.torch_files import load_torch, save_torch  # noqa: E402
from ro_bench_zoo.common.networks import mlp  # noqa: E402
from ro_bench_zoo.common.replay_buffer import ReplayBuffer  # noqa: E402
from ro_bench_zoo.common.seeding import rng_state, seed_everything, set_rng_state  # noqa: E402

EXECUTED: list[str] = []  # what a malicious pickle managed to run


def _payload(tag: str) -> None:
    EXECUTED.append(tag)


class Malicious:
    """Unpickling this calls _payload: what a crafted checkpoint would do with os.system."""

    def __reduce__(self):
        return (_payload, ("pwned",))


@pytest.fixture(autouse=True)
def restore_global_rngs():
    saved = (torch.get_rng_state(), np.random.get_state(),
             torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled())
    yield
    torch.set_rng_state(saved[0])
    np.random.set_state(saved[1])
    torch.use_deterministic_algorithms(saved[2], warn_only=saved[3])


def test_round_trip_of_a_tree_of_tensors_and_plain_values(tmp_path) -> None:
    net = mlp(3, 2, hidden=(4,))
    optimizer = torch.optim.Adam(net.parameters())
    net(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    tree = {"actor": net.state_dict(), "optim": optimizer.state_dict(), "step": 7,
            "name": "svnr", "misc": [1.5, None, True, (1, 2)]}
    path = tmp_path / "agent.pt"
    save_torch(path, tree)
    loaded = load_torch(path)
    assert loaded.keys() == tree.keys() and loaded["step"] == 7 and loaded["name"] == "svnr"
    assert loaded["misc"] == [1.5, None, True, (1, 2)]
    assert all(torch.equal(loaded["actor"][k], v) for k, v in tree["actor"].items())
    fresh = mlp(3, 2, hidden=(4,))
    fresh.load_state_dict(loaded["actor"])
    x = torch.randn(5, 3)
    assert torch.equal(fresh(x), net(x))
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("write", [
    lambda path: torch.save({"weights": torch.zeros(2), "extra": Malicious()}, path),
    lambda path: path.write_bytes(pickle.dumps(Malicious(), protocol=2)),
    lambda path: path.write_bytes(pickle.dumps(Malicious(), protocol=pickle.HIGHEST_PROTOCOL)),
], ids=["torch.save", "pickle-2", "pickle-highest"])
def test_load_torch_rejects_a_pickled_object_without_running_it(tmp_path, write) -> None:
    path = tmp_path / "evil.pt"
    write(path)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        load_torch(path)
    assert EXECUTED == []


def test_the_malicious_payload_is_live_and_named_in_the_error(tmp_path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"extra": Malicious()}, path)
    with pytest.raises(pickle.UnpicklingError, match=r"it references .*\._payload"):
        load_torch(path)
    assert EXECUTED == []
    torch.load(path, weights_only=False)  # control: an unrestricted load does run it
    assert EXECUTED == ["pwned"]
    EXECUTED.clear()


def test_load_torch_rejects_numpy_arrays(tmp_path) -> None:
    torch.save({"a": np.zeros(3)}, tmp_path / "np.pt")
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        load_torch(tmp_path / "np.pt")


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_interrupted_save_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch, error):
    path = tmp_path / "agent.pt"
    save_torch(path, {"w": torch.arange(3)})
    before = path.read_bytes()

    def crash(obj, f):
        f.write(b"\x80half a pickle")
        raise error

    monkeypatch.setattr(torch, "save", crash)  # the call inside save_torch
    with pytest.raises(type(error)):
        save_torch(path, {"w": torch.arange(5)})
    monkeypatch.undo()
    assert path.read_bytes() == before and list(tmp_path.iterdir()) == [path]
    assert torch.equal(load_torch(path)["w"], torch.arange(3))


def test_atomic_write_creates_the_file_only_on_success(tmp_path) -> None:
    path = tmp_path / "out.bin"
    with pytest.raises(RuntimeError):
        with atomic_write(path) as f:
            f.write(b"partial")
            raise RuntimeError
    assert list(tmp_path.iterdir()) == []
    with atomic_write(path) as f:
        f.write(b"whole")
        assert not path.exists()  # invisible until the block exits
    assert path.read_bytes() == b"whole" and list(tmp_path.iterdir()) == [path]


def run(net, optimizer, buffer: ReplayBuffer, generator: np.random.Generator, steps: int):
    """A toy off-policy loop touching every RNG: env noise, buffer sampling, dropout."""
    for _ in range(steps):
        obs = generator.standard_normal((4, 3)).astype(np.float32)
        buffer.add(obs=obs, target=obs.sum(-1, keepdims=True))
        batch = buffer.sample(8)
        loss = (net(torch.from_numpy(batch["obs"])) - torch.from_numpy(batch["target"])).pow(2)
        optimizer.zero_grad()
        loss.mean().backward()
        optimizer.step()
    return [p.detach().clone() for p in net.parameters()]


def fresh(seed: int):
    seed_everything(seed)
    net = torch.nn.Sequential(mlp(3, 8, hidden=(16,)), torch.nn.Dropout(0.3), mlp(8, 1, hidden=()))
    shapes, dtypes = {"obs": (3,), "target": (1,)}, {"obs": "float32", "target": "float32"}
    buffer = ReplayBuffer(10, shapes, dtypes, seed)
    return net, torch.optim.Adam(net.parameters(), lr=1e-2), buffer, np.random.default_rng(seed)


def test_checkpoint_resume_reproduces_an_uninterrupted_run_bit_for_bit(tmp_path) -> None:
    net, optimizer, buffer, generator = fresh(0)
    run(net, optimizer, buffer, generator, steps=4)
    save_torch(tmp_path / "agent.pt", {"net": net.state_dict(), "optim": optimizer.state_dict()})
    buffer.save(tmp_path / "buffer.npz")
    (tmp_path / "rng.json").write_text(json.dumps(
        {"global": rng_state(), "generator": generator.bit_generator.state}))
    uninterrupted = run(net, optimizer, buffer, generator, steps=4)

    net, optimizer, buffer, generator = fresh(99)  # a new process, seeded differently
    saved = load_torch(tmp_path / "agent.pt")
    net.load_state_dict(saved["net"])
    optimizer.load_state_dict(saved["optim"])
    buffer.load(tmp_path / "buffer.npz")
    rngs = json.loads((tmp_path / "rng.json").read_text())
    set_rng_state(rngs["global"])
    generator.bit_generator.state = rngs["generator"]
    resumed = run(net, optimizer, buffer, generator, steps=4)
    assert all(torch.equal(a, b) for a, b in zip(uninterrupted, resumed))
