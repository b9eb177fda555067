"""Rewards of the matrix and differential games against closed forms and independent code."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import ro_bench

# ----------------------------------------------------------------------------- matrix games
TABLES = {
    "climbing": [[11, -30, 0], [-30, 7, 6], [0, 0, 5]],
    "penalty": [[10, 0, -100], [0, 2, 0], [-100, 0, 10]],
    "pro_game": [[3, 0], [2, 2]],
    "ero_game": [[3, 0], [0, 3]],
}
# (optimum, trap) per step, worked out by hand in each game's documentation page.
CLOSED_FORM = {"climbing": (11, 5), "penalty": (10, 2), "pro_game": (3, 2), "ero_game": (3, 1.5)}


def all_joint_actions(table):
    return [list(a) for a in itertools.product(*(range(n) for n in np.shape(table)))]


@pytest.mark.parametrize("env_id", sorted(TABLES))
def test_matrix_payoff_at_every_joint_action(env_id):
    joint = all_joint_actions(TABLES[env_id])
    vec = ro_bench.make_vec(env_id, num_envs=len(joint))
    vec.reset(seed=0)
    _, rewards, terminated, truncated, _ = vec.step(np.array(joint))
    expected = [TABLES[env_id][a][b] for a, b in joint]
    assert rewards[:, 0].tolist() == expected
    assert (rewards == rewards[:, :1]).all()  # a team reward
    assert terminated.all() and not truncated.any()  # one-shot


@pytest.mark.parametrize("env_id", sorted(CLOSED_FORM))
def test_matrix_optimum_and_trap_closed_form(env_id):
    env = ro_bench.make(env_id)
    assert (env.optimum, env.trap) == CLOSED_FORM[env_id]


@pytest.mark.parametrize("k", [-100.0, -20.0, -8.0, -4.0, 0.0])
def test_penalty_trap_follows_k(k):
    # Against a uniform partner the middle action is worth 2/3, the outer ones (10 + k) / 3.
    outer, middle = (10 + k) / 3, 2 / 3
    if outer < middle:
        trap = 2.0
    elif outer > middle:  # agents mix over {0, 2}: 0.25 * (10 + k + k + 10)
        trap = 5 + k / 2
    else:  # all three tie: the uniform average of the table
        trap = (20 + 2 + 2 * k) / 9
    env = ro_bench.make("penalty", k=k)
    assert env.optimum == 10
    assert env.trap == pytest.approx(trap, abs=1e-12)


def brute_force_trap(table: np.ndarray) -> float:
    """The trap by enumeration: each agent's uniform-partner values, ties mixed uniformly."""
    n = table.ndim
    joint = list(itertools.product(*(range(s) for s in table.shape)))
    best_sets = []
    for i in range(n):
        value = {}
        for a in joint:
            value[a[i]] = value.get(a[i], 0.0) + table[a] / (table.size / table.shape[i])
        top = max(value.values())
        best_sets.append([x for x, v in value.items() if abs(v - top) < 1e-9])
    total = sum(table[a] for a in itertools.product(*best_sets))
    return total / np.prod([len(s) for s in best_sets])


@pytest.mark.parametrize("seed", range(20))
def test_generic_matrix_game_matches_enumeration(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(1, 4, size=rng.integers(2, 5)))
    table = rng.integers(-5, 6, size=shape).astype(float)
    env = ro_bench.make("matrix_game", payoff=table, episode_length=2)
    assert env.optimum == 2 * table.max()
    assert env.trap == pytest.approx(2 * brute_force_trap(table), abs=1e-9)
    joint = all_joint_actions(table)
    vec = ro_bench.make_vec("matrix_game", num_envs=len(joint), payoff=table)
    vec.reset()
    _, rewards, *_ = vec.step(np.array(joint))
    assert rewards[:, 0].tolist() == [table[tuple(a)] for a in joint]


@pytest.mark.parametrize(
    "n, x, expected",
    [
        (2, [-1.0, -0.5, 0.0, 0.5, 1.0], [0, 0, 1, 1, 1]),
        (3, [-1.0, -0.5, 0.0, 0.5, 1.0], [0, 0, 1, 2, 2]),
        (4, [-1.0, -0.5, 0.0, 0.5, 1.0], [0, 1, 2, 3, 3]),
    ],
)
def test_continuous_actions_pick_equal_bins(n, x, expected):
    table = np.arange(n * n, dtype=float).reshape(n, n)
    vec = ro_bench.make_vec("matrix_game", num_envs=len(x), payoff=table, continuous_actions=True)
    vec.reset()
    actions = np.array([[[xi], [xi]] for xi in x], dtype=np.float32)
    _, rewards, *_ = vec.step(actions)
    assert rewards[:, 0].tolist() == [table[e, e] for e in expected]


# ----------------------------------------------------------------------- differential games
def independent_reward(u, h1, s1, m1, c1, h2, s2, m2, c2):
    """max(g1, g2) in plain Python floats, summing over agents left to right."""

    def g(h, s, m, c):
        acc = 0.0
        for i, (ui, mi) in enumerate(zip(u, m)):
            z = (ui - mi) / s
            acc = -(z * z) if i == 0 else acc - z * z
        return h * acc + c

    return max(g(h1, s1, m1, c1), g(h2, s2, m2, c2))


GAMES = {
    "max_of_three": lambda s2=1.5: (0.8, 3.0, (-5, -5, 3), 0.0, 1.0, s2, (7, 7, -4), 10.0),
    "two_modalities": lambda s2=2.0: (0.8, 3.0, (-5, -5, 3), 10.0, 1.0, s2, (7, 7, -3), 10.0),
    "max_of_two": lambda s2=1.0: (0.8, 3.0, (-5, -5), 0.0, 1.0, s2, (5, 5), 10.0),
}


@pytest.mark.parametrize("env_id", sorted(GAMES))
@pytest.mark.parametrize("s2", [None, 1.5, 2.0, 3.0, 0.7])
def test_differential_rewards_match_independent_formula(env_id, s2):
    kwargs = {} if s2 is None else {"s2": s2}
    params = GAMES[env_id](**kwargs)
    vec = ro_bench.make_vec(env_id, num_envs=2000, **kwargs)
    rng = np.random.default_rng(0)
    u = rng.uniform(-10, 10, size=(2000, vec.n_agents, 1)).astype(np.float32)
    vec.reset(seed=0)
    _, rewards, *_ = vec.step(u)
    expected = [independent_reward([float(x) for x in ui[:, 0]], *params) for ui in u]
    assert rewards[:, 0].tolist() == expected  # bit for bit


@pytest.mark.parametrize("s2", [1.5, 2.0, 3.0])
def test_max_of_three_optimum_and_trap(s2):
    env = ro_bench.make("max_of_three", s2=s2)
    assert (env.optimum, env.trap) == (10.0, 0.0)
    vec = env.vec
    assert vec.reward_at(np.array([7.0, 7.0, -4.0])) == 10.0
    assert vec.reward_at(np.array([-5.0, -5.0, 3.0])) == 0.0


@pytest.mark.parametrize(
    "env_id, optimum, trap, modes",
    [
        ("max_of_three", 10.0, 0.0, [(7, 7, -4), (-5, -5, 3)]),
        ("two_modalities", 10.0, 10.0, [(7, 7, -3), (-5, -5, 3)]),
        ("max_of_two", 10.0, 0.0, [(5, 5), (-5, -5)]),
    ],
)
def test_optimum_is_the_maximum_and_trap_a_local_maximum(env_id, optimum, trap, modes):
    vec = ro_bench.make_vec(env_id, num_envs=100_000)
    assert (vec.optimum, vec.trap) == (optimum, trap)
    rng = np.random.default_rng(1)
    vec.reset()
    u = rng.uniform(-10, 10, size=(100_000, vec.n_agents, 1))
    _, rewards, *_ = vec.step(u)
    assert rewards.max() <= optimum  # nothing beats the optimum
    for mode, value in zip(modes, (optimum, trap)):
        assert vec.reward_at(np.array(mode, float)) == value
        nearby = np.array(mode, float) + rng.normal(0, 0.05, size=(200, vec.n_agents))
        assert all(vec.reward_at(x) < value for x in nearby)  # a strict local maximum


def test_generic_optimum_clips_centres_to_the_box():
    # g2's centre lies outside [-2, 2]^2: its best value is at the clipped centre (2, 2).
    env = ro_bench.make(
        "differential_game", n_agents=2, centre1=(0, 0), centre2=(3, 3), s2=1.0, action_bound=2.0
    )
    assert env.optimum == pytest.approx(max(10 - 2 * 1.0, 0.0))
    assert env.trap == pytest.approx(0.0)


def test_out_of_range_actions_are_clipped_and_counted():
    vec = ro_bench.make_vec("max_of_three", num_envs=2)
    vec.reset(seed=0)
    actions = np.array([[[12.0], [7.0], [-4.0]], [[7.0], [-30.0], [11.0]]])
    _, rewards, _, _, infos = vec.step(actions)
    clipped = np.clip(actions, -10, 10)
    assert rewards[:, 0].tolist() == [vec.reward_at(c[:, 0]) for c in clipped]
    assert infos["clipped"].tolist() == [[1, 0, 0], [0, 1, 1]]


@pytest.mark.parametrize(
    "env_id, kwargs, name",
    [
        ("matrix_game", {"payoff": [[True, 0], [0, 1]]}, "payoff"),
        ("matrix_game", {"payoff": [[True, False], [False, True]]}, "payoff"),
        ("matrix_game", {"payoff": np.eye(2, dtype=bool)}, "payoff"),
        ("matrix_game", {"payoff": [np.array([True, False]), [0.0, 1.0]]}, "payoff"),
        ("matrix_game", {"payoff": np.array([[True, 0], [0, 1]], dtype=object)}, "payoff"),
        ("differential_game", {"centre1": (True, 0, 0)}, "centre1"),
        ("differential_game", {"centre2": [np.bool_(True), 0.0, 0.0]}, "centre2"),
        ("particle_gather", {"landmark": (False, 0.5)}, "landmark"),
    ],
)
def test_bool_arrays_are_refused(env_id, kwargs, name):
    """numpy reads True as 1: a bool in a payoff is a mistake, not a number."""
    with pytest.raises(ValueError, match=f"{name} must be .*real numbers.*not booleans"):
        ro_bench.make(env_id, **kwargs)
