"""The replay buffer: ring semantics, sampling, errors, and exact resume through a file."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ro_bench_zoo.common.replay_buffer import ReplayBuffer

SHAPES = {"obs": (2, 3), "actions": (2,), "rewards": (2,), "terminated": (2,), "state": (4,)}
DTYPES = {"obs": np.float32, "actions": np.int64, "rewards": np.float32, "terminated": bool,
          "state": np.float64}


def make(capacity: int = 8, seed: int = 0) -> ReplayBuffer:
    return ReplayBuffer(capacity, SHAPES, DTYPES, seed=seed)


def batch(start: int, n: int) -> dict[str, np.ndarray]:
    """n transitions whose fields all encode the transition's id (terminated: its parity)."""
    ids = np.arange(start, start + n)
    out = {}
    for name, shape in SHAPES.items():
        values = ids % 2 if name == "terminated" else ids
        out[name] = np.broadcast_to(values.reshape(-1, *[1] * len(shape)), (n, *shape))
    return {name: values.astype(DTYPES[name]) for name, values in out.items()}


def ids_of(buffer: ReplayBuffer) -> list[int]:
    return sorted(buffer.state_dict()["arrays"]["state"][:, 0].astype(int).tolist())


def test_add_sets_len_and_wraps_keeping_the_newest() -> None:
    buffer = make(capacity=5)
    assert len(buffer) == 0
    buffer.add(**batch(0, 3))
    assert len(buffer) == 3 and ids_of(buffer) == [0, 1, 2]
    buffer.add(**batch(3, 4))
    assert len(buffer) == 5 and ids_of(buffer) == [2, 3, 4, 5, 6]
    assert buffer.state_dict()["position"] == 2


def test_a_batch_larger_than_capacity_keeps_its_last_rows() -> None:
    buffer = make(capacity=4)
    buffer.add(**batch(0, 1))
    buffer.add(**batch(1, 10))
    assert ids_of(buffer) == [7, 8, 9, 10]
    # Same slots as adding the 11 transitions one at a time.
    one_by_one = make(capacity=4)
    for i in range(11):
        one_by_one.add(**batch(i, 1))
    for name in SHAPES:
        np.testing.assert_array_equal(buffer.state_dict()["arrays"][name],
                                      one_by_one.state_dict()["arrays"][name])


@settings(max_examples=50, deadline=None)
@given(capacity=st.integers(1, 6), sizes=st.lists(st.integers(0, 9), max_size=8))
def test_holds_exactly_the_last_capacity_transitions(capacity: int, sizes: list[int]) -> None:
    buffer, start = make(capacity=capacity), 0
    for n in sizes:
        buffer.add(**batch(start, n))
        start += n
    assert len(buffer) == min(start, capacity)
    assert ids_of(buffer) == list(range(max(0, start - capacity), start))


def test_sample_returns_consistent_stored_rows_with_shapes_and_dtypes() -> None:
    buffer = make(capacity=8)
    buffer.add(**batch(0, 5))
    sample = buffer.sample(64)  # with replacement: more than stored
    for name, shape in SHAPES.items():
        assert sample[name].shape == (64, *shape) and sample[name].dtype == np.dtype(DTYPES[name])
    ids = sample["state"][:, 0].astype(int)
    assert set(ids) <= set(range(5)) and len(set(ids)) > 1
    np.testing.assert_array_equal(sample["obs"][:, 1, 2], ids)  # fields of one row stay together
    np.testing.assert_array_equal(sample["terminated"][:, 0], ids % 2 == 1)


def test_sample_is_uniform_over_stored_rows() -> None:
    buffer = make(capacity=4)
    buffer.add(**batch(0, 6))  # ids 2..5 survive
    counts = np.bincount(buffer.sample(40_000)["state"][:, 0].astype(int), minlength=6)
    assert counts[:2].sum() == 0
    np.testing.assert_allclose(counts[2:] / 40_000, 0.25, atol=0.015)


def test_sampling_is_determined_by_the_seed() -> None:
    a, b, c = make(seed=7), make(seed=7), make(seed=8)
    for buffer in (a, b, c):
        buffer.add(**batch(0, 8))
    draws = [buffer.sample(32)["state"] for buffer in (a, b, c)]
    np.testing.assert_array_equal(draws[0], draws[1])
    assert not np.array_equal(draws[0], draws[2])


def test_sample_returns_copies() -> None:
    buffer = make()
    buffer.add(**batch(0, 2))
    buffer.sample(4)["obs"][:] = -1
    assert ids_of(buffer) == [0, 1] and (buffer.state_dict()["arrays"]["obs"] >= 0).all()


def resumed_equals_original(original: ReplayBuffer, restored: ReplayBuffer) -> None:
    for step in range(5):  # keep adding (the ring wraps) and sampling on both
        original.add(**batch(100 + 3 * step, 3))
        restored.add(**batch(100 + 3 * step, 3))
        a, b = original.sample(16), restored.sample(16)
        for name in SHAPES:
            np.testing.assert_array_equal(a[name], b[name])
    assert json.dumps(_meta(original)) == json.dumps(_meta(restored))


def _meta(buffer: ReplayBuffer) -> dict:
    return {k: v for k, v in buffer.state_dict().items() if k != "arrays"}


@pytest.mark.parametrize("n_added", [0, 5, 8, 13])  # empty, partial, exactly full, wrapped
def test_state_dict_round_trip_through_json_resumes_exactly(n_added: int) -> None:
    original = make(seed=3)
    original.add(**batch(0, n_added))
    if n_added:
        original.sample(10)  # advance the generator so its state matters
    state = original.state_dict()
    arrays = state.pop("arrays")
    assert all(isinstance(a, np.ndarray) and a.dtype != object for a in arrays.values())
    state = json.loads(json.dumps(state))  # everything else must be JSON-able
    restored = make(seed=999)
    restored.load_state_dict({**state, "arrays": arrays})
    assert len(restored) == len(original)
    resumed_equals_original(original, restored)


def test_state_dict_is_a_snapshot() -> None:
    buffer = make(capacity=2)
    buffer.add(**batch(0, 2))
    state = buffer.state_dict()
    buffer.add(**batch(5, 2))
    assert sorted(state["arrays"]["state"][:, 0].astype(int)) == [0, 1]


def test_save_load_round_trip_resumes_exactly_without_pickle(tmp_path) -> None:
    original = make(seed=11)
    original.add(**batch(0, 11))
    original.sample(5)
    path = tmp_path / "buffer.npz"
    original.save(path)
    with np.load(path, allow_pickle=False) as npz:  # readable with pickle forbidden
        assert set(npz.files) == set(SHAPES) | {"meta.json"}
    restored = make(seed=999)
    restored.load(path)
    resumed_equals_original(original, restored)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_failed_save_leaves_the_previous_file_intact(tmp_path, monkeypatch) -> None:
    path = tmp_path / "buffer.npz"
    buffer = make()
    buffer.add(**batch(0, 3))
    buffer.save(path)
    before = path.read_bytes()

    def crash(file, **arrays):
        file.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)  # the call inside ReplayBuffer.save
    buffer.add(**batch(3, 3))
    with pytest.raises(OSError, match="disk full"):
        buffer.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before and list(tmp_path.iterdir()) == [path]
    restored = make()
    restored.load(path)
    assert len(restored) == 3


def test_load_rejects_files_of_other_buffers_and_other_writers(tmp_path) -> None:
    make(capacity=8).save(tmp_path / "small.npz")
    with pytest.raises(ValueError, match="this one has"):
        make(capacity=16).load(tmp_path / "small.npz")
    np.savez(tmp_path / "other.npz", obs=np.zeros(3))
    with pytest.raises(ValueError, match="not written by ReplayBuffer.save"):
        make().load(tmp_path / "other.npz")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b.pop("rewards"), r"missing \['rewards'\]"),
        (lambda b: b.update(reward=b.pop("rewards")), "Did you mean 'rewards'"),
        (lambda b: b.update(obs=np.zeros((3, 3, 2), np.float32)), r"obs must have shape \[B, 2, 3"),
        (lambda b: b.update(obs=np.zeros((3, 6), np.float32)), r"\[B, 2, 3\]; got \(3, 6\)"),
        (lambda b: b.update(state=np.zeros((2, 4))), "same batch size"),
        (lambda b: b.update(actions=np.zeros((3, 2), np.float32)), "cannot store float32"),
        (lambda b: b.update(terminated=np.zeros((3, 2), np.int64)), "stored as bool"),
    ],
)
def test_add_rejects_bad_batches_without_writing(change, message) -> None:
    buffer = make()
    bad = batch(0, 3)
    change(bad)
    with pytest.raises(ValueError, match=message):
        buffer.add(**bad)
    assert len(buffer) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"capacity": 0}, "capacity must be an integer"),
        ({"shapes": {}}, "non-empty"),
        ({"shapes": {**SHAPES, "obs": 3}}, r"must be a tuple such as \(3,\)"),
        ({"shapes": {"next obs": (2,)}, "dtypes": {"next obs": np.float32}}, "identifiers"),
        ({"dtypes": {**DTYPES, "extra": np.float32}}, "dtypes must name exactly"),
        ({"dtypes": {**DTYPES, "obs": object}}, "bool or numeric dtype"),
        ({"seed": -1}, "seed must be an integer"),
    ],
)
def test_constructor_rejects_bad_arguments(kwargs, message) -> None:
    args = {"capacity": 4, "shapes": SHAPES, "dtypes": DTYPES, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        ReplayBuffer(**args)


def test_sample_rejects_empty_buffer_and_bad_sizes() -> None:
    buffer = make()
    with pytest.raises(ValueError, match="empty"):
        buffer.sample(1)
    buffer.add(**batch(0, 1))
    with pytest.raises(ValueError, match="batch_size"):
        buffer.sample(0)


def test_load_state_dict_rejects_another_buffers_state() -> None:
    source = make(capacity=8)
    source.add(**batch(0, 3))
    with pytest.raises(ValueError, match="this one has"):
        make(capacity=9).load_state_dict(source.state_dict())
    state = source.state_dict()
    state["arrays"]["obs"] = state["arrays"]["obs"][:2]
    target = make(capacity=8)
    with pytest.raises(ValueError, match=r"stored obs must be float32 of shape \(3, 2, 3\)"):
        target.load_state_dict(state)
    assert len(target) == 0  # nothing was half-restored
