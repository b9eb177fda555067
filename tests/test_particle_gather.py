"""Particle Gather: exact MPE physics (against mpe2 itself), rewards at built states, optimum,
frames."""

from __future__ import annotations

import numpy as np
import pytest

import ro_bench
from ro_bench.envs.particle_gather import (
    FRAME_SIZE,
    LANDMARK_COLOUR,
    PARTICLE_COLOURS,
    SIZE,
    thrust_reach,
)

mpe2_reference = pytest.importorskip(
    "ro_bench.testing.mpe2_particle_gather", reason="needs mpe2: pip install 'ro-bench[dev]'"
)


def drawn_actions(rng: np.random.Generator) -> np.ndarray:
    """Four float32 actions: in range, at the bounds, or far outside (clipped by both sides)."""
    kind = rng.integers(0, 4, size=4)
    a = np.select(
        [kind == 0, kind == 1, kind == 2],
        [rng.uniform(-1, 1, 4), rng.choice([-1.0, 0.0, 1.0], 4), rng.choice([-3.0, 3.0], 4)],
        rng.uniform(-5, 5, 4),
    )
    return a.astype(np.float32)


def starts(rng: np.random.Generator, episode: int):
    """The env's own start, or particles overlapping, or flying into each other."""
    if episode % 3 == 0:
        return None
    centre = rng.uniform(-0.3, 0.3, 2)
    direction = rng.normal(size=2)
    direction /= np.linalg.norm(direction)
    if episode % 3 == 1:  # overlapping: the contact force acts from the first step
        gap = rng.uniform(1e-3, 0.09)
        pos = np.stack([centre + gap / 2 * direction, centre - gap / 2 * direction])
        return pos, rng.normal(0, 0.3, (2, 2))
    pos = np.stack([centre + 0.4 * direction, centre - 0.4 * direction])  # head-on
    return pos, np.stack([-direction, direction]) * rng.uniform(1, 3)


def test_kernel_matches_mpe2_bit_for_bit():
    from pettingzoo.utils.env_logger import EnvLogger

    EnvLogger.suppress_output()  # mpe2's clip wrapper warns on every out-of-range action
    rng = np.random.default_rng(0)
    ours = ro_bench.make("particle_gather")
    theirs = mpe2_reference.parallel_env()
    scenario = theirs.unwrapped.scenario
    contacts = clipped = 0
    for episode in range(60):
        ours.reset(seed=episode)
        start = starts(rng, episode)
        if start is not None:  # place both engines in the same hand-built state
            ours.vec.pos[0], ours.vec.vel[0] = start
        scenario.start = (ours.vec.pos[0].copy(), ours.vec.vel[0].copy())
        theirs.reset(seed=episode)
        for t in range(25):
            contacts += np.linalg.norm(ours.vec.pos[0, 0] - ours.vec.pos[0, 1]) < 2 * SIZE
            a = drawn_actions(rng)
            clipped += int((np.abs(a) > 1).sum())
            _, rewards, _, truncated, _ = ours.step(dict(zip(ours.possible_agents, a[:, None])))
            _, their_rewards, _, their_truncated, _ = theirs.step(
                {"particle_0": mpe2_reference.mpe2_action(a[0], a[1]),
                 "particle_1": mpe2_reference.mpe2_action(a[2], a[3])}
            )
            world = theirs.unwrapped.world
            for i, particle in enumerate(world.agents):
                assert np.array_equal(particle.state.p_pos, ours.vec.pos[0, i]), (episode, t, i)
                assert np.array_equal(particle.state.p_vel, ours.vec.vel[0, i]), (episode, t, i)
            assert set(rewards.values()) == {their_rewards["particle_0"]}
            assert truncated["particle_0_x"] == their_truncated["particle_0"] == (t == 24)
    assert contacts > 20 and clipped > 1000  # both paths were exercised


def reward_at(positions) -> float:
    vec = ro_bench.make_vec("particle_gather", landmark=(0.5, -0.25), reach=0.2)
    return float(vec.team_reward(np.array(positions, dtype=np.float64)[None])[0])


@pytest.mark.parametrize(
    "positions, reward",
    [
        ([[0.5, -0.25], [0.6, -0.2]], 5.0),  # both in
        ([[0.45, -0.3], [1.5, 1.0]], -2.0),  # one in
        ([[-1.0, 0.0], [0.5, 0.25]], 0.0),  # none in
        ([[0.7, -0.25], [0.5, -0.45]], 5.0),  # both exactly on the radius (distance 0.2)
        ([[0.5, -0.25], [0.5, -0.45000000000000007]], -2.0),  # one a hair outside
    ],
)
def test_rewards_at_built_states(positions, reward):
    assert reward_at(positions) == reward


def test_radius_boundary_in_float64():
    # Distances computed in float64 as sqrt(dx*dx + dy*dy): 0.2 along an axis is inside, the next
    # double beyond it is not.
    assert reward_at([[0.5 + 0.2, -0.25], [0.5, -0.25]]) == 5.0
    assert reward_at([[np.nextafter(0.7, 1.0), -0.25], [0.5, -0.25]]) == -2.0


def test_full_thrust_covers_the_thrust_reach():
    # Drive one particle with full thrust along both axes through the kernel itself (the other
    # far away, so that contacts are negligible) and compare with the closed form used by the
    # optimum bound.
    vec = ro_bench.make_vec("particle_gather", start_radius=5.0, episode_length=30)
    vec.reset(seed=0)
    vec.pos[0] = [[0.0, 0.0], [-9.0, -9.0]]
    vec.vel[0] = 0.0
    reach_t = thrust_reach(25)
    for t in range(1, 26):
        vec.step(np.array([[[1.0], [1.0], [0.0], [0.0]]], dtype=np.float32))
        np.testing.assert_allclose(vec.pos[0, 0], [reach_t[t]] * 2, rtol=1e-12, atol=1e-15)


def test_optimum_bound_matches_a_monte_carlo_estimate():
    vec = ro_bench.make_vec("particle_gather")
    rng = np.random.default_rng(0)
    angles = rng.uniform(0, 2 * np.pi, size=(100_000, 2))
    starts = np.stack([np.cos(angles), np.sin(angles)], axis=-1)  # start_radius 1, landmark 0
    k = vec.arrival_steps(starts).max(axis=1)
    estimate = (5.0 * np.maximum(25 - k + 1, 0)).mean()
    assert vec.trap == 0.0
    assert 85.0 < vec.optimum < 100.0
    assert vec.optimum == pytest.approx(estimate, abs=0.05)


def test_arrival_steps_at_known_starts():
    vec = ro_bench.make_vec("particle_gather")  # reach 0.2
    reach_t = thrust_reach(25)
    # On an axis at distance 1 the particle must cover 0.8 along one axis.
    assert vec.arrival_steps(np.array([1.0, 0.0])) == np.argmax(reach_t >= 0.8)
    # On the diagonal each axis needs 1/sqrt(2) - 0.2/sqrt(2).
    need = (1 - 0.2) / np.sqrt(2)
    assert vec.arrival_steps(np.array([1.0, 1.0]) / np.sqrt(2)) == np.argmax(reach_t >= need)
    assert vec.arrival_steps(np.array([0.1, 0.0])) == 1  # already within reach
    assert vec.arrival_steps(np.array([100.0, 0.0])) == 26  # never in this episode


def test_episode_is_25_steps_and_truncates():
    env = ro_bench.make("particle_gather")
    env.reset(seed=1)
    steps = 0
    while env.agents:
        _, _, terminated, truncated, _ = env.step({a: np.zeros(1, np.float32) for a in env.agents})
        steps += 1
    assert steps == 25 and truncated["particle_0_x"] and not terminated["particle_0_x"]


def test_start_distribution():
    vec = ro_bench.make_vec("particle_gather", 500, landmark=(1.0, 2.0), start_radius=0.75)
    vec.reset(seed=3)
    np.testing.assert_allclose(np.linalg.norm(vec.pos - [1.0, 2.0], axis=-1), 0.75)
    assert (vec.vel == 0).all()
    obs = vec.state()
    np.testing.assert_array_equal(obs[:, 8:], np.float32([[1.0, 2.0]] * 500))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"reach": 0.0}, r"reach must be a finite real number in \(0, 10\]"),
        ({"start_radius": -1.0}, r"start_radius .* \(0, 10\]"),
        ({"landmark": (0.0, 11.0)}, r"landmark .* \[-10, 10\]"),
        ({"landmark": (0.0,)}, r"landmark must have shape \(2,\)"),
        ({"episode_length": 0}, r"episode_length must be an integer in \[1, 1000\]"),
        ({"raech": 0.2}, r"Did you mean 'reach'"),
    ],
)
def test_bad_kwargs(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ro_bench.make("particle_gather", **kwargs)


def test_frame_shows_particles_landmark_and_reach_where_they_are():
    vec = ro_bench.make_vec("particle_gather", render_mode="rgb_array", landmark=(0.5, -0.25))
    vec.reset(seed=0)
    vec.pos[0] = [[1.0, -0.25], [0.5, -0.85]]
    frame = vec.render()[0]
    assert frame.shape == (FRAME_SIZE, FRAME_SIZE, 3) and frame.dtype == np.uint8
    view = vec.view(0)
    assert view.half_width == 1.2  # 1.2 start radii: both particles are nearer

    def pixel(point):
        col, row = view(point)
        return frame[int(row), int(col)].tolist()

    assert pixel(vec.pos[0, 0]) == list(PARTICLE_COLOURS[0])
    assert pixel(vec.pos[0, 1]) == list(PARTICLE_COLOURS[1])
    assert pixel(vec.landmark) == list(LANDMARK_COLOUR)
    assert pixel(vec.landmark + [0.0, vec.reach]) != [255, 255, 255]  # on the reach circle
    assert pixel(vec.landmark + [0.0, vec.reach / 2]) == [255, 255, 255]  # inside it, empty
    assert frame[0, 0].tolist() == [255, 255, 255]


def test_view_widens_to_keep_far_particles_in_frame():
    vec = ro_bench.make_vec("particle_gather", render_mode="rgb_array")
    vec.reset(seed=0)
    vec.pos[0] = [[3.0, 0.0], [0.0, -0.5]]
    col, row = vec.view(0)(vec.pos[0, 0])
    assert 0 <= col < FRAME_SIZE and 0 <= row < FRAME_SIZE
    assert vec.render()[0][int(row), int(col)].tolist() == list(PARTICLE_COLOURS[0])
