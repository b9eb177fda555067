"""Particle Gather's severity parameters: the square start, the openai/multiagent-particle-envs
integrator (against a plain transcription of its ``World.step``), the final-step bound, the
published severity table and the protocols registered on it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import ro_bench
from ro_bench import protocols
from ro_bench.envs import particle_gather as pg
from ro_bench.envs import particle_gather_severity as severity


class OpenAIWorld:
    """openai/multiagent-particle-envs ``World.step`` for two movable, colliding particles,
    written out entity by entity as that code does it (``apply_action_force``,
    ``apply_environment_force``, ``integrate_state``), independent of ro-bench's kernel."""

    def __init__(self, pos: np.ndarray, vel: np.ndarray) -> None:
        self.pos = [p.copy() for p in pos]
        self.vel = [v.copy() for v in vel]

    def step(self, u: np.ndarray) -> None:
        p_force = [None, None]
        for i in range(2):  # apply_action_force: u * sensitivity, no noise
            p_force[i] = np.float64(u[i, 0]) * 5.0, np.float64(u[i, 1]) * 5.0
            p_force[i] = np.array(p_force[i]) + 0.0
        for a in range(2):  # apply_environment_force: each pair once, a < b
            for b in range(2):
                if b <= a:
                    continue
                delta = self.pos[a] - self.pos[b]
                dist = np.sqrt(np.sum(np.square(delta)))
                penetration = np.logaddexp(0, -(dist - 0.1) / 1e-3) * 1e-3
                force = 100.0 * delta / dist * penetration
                p_force[a] = force + p_force[a]
                p_force[b] = -force + p_force[b]
        for i in range(2):  # integrate_state: velocity first, then move with the new velocity
            self.vel[i] = self.vel[i] * (1 - 0.25)
            self.vel[i] += (p_force[i] / 1.0) * 0.1
            self.pos[i] += self.vel[i] * 0.1


def test_openai_integrator_matches_its_transcription_step_for_step():
    rng = np.random.default_rng(0)
    # 26-step episodes: the 25 compared steps never reach the batch's automatic reset.
    vec = ro_bench.make_vec("particle_gather", integrator="openai", episode_length=26)
    contacts = 0
    for episode in range(40):
        vec.reset(seed=episode)
        if episode % 2:  # start overlapping, so that the contact force acts
            vec.pos[0, 1] = vec.pos[0, 0] + rng.uniform(-0.05, 0.05, 2)
        world = OpenAIWorld(vec.pos[0], vec.vel[0])
        for _ in range(25):
            contacts += np.linalg.norm(vec.pos[0, 0] - vec.pos[0, 1]) < 2 * pg.SIZE
            a = rng.uniform(-1, 1, (2, 2)).astype(np.float32)
            vec.step(a.reshape(1, 4, 1))
            world.step(a)
            for i in range(2):
                np.testing.assert_allclose(vec.pos[0, i], world.pos[i], rtol=0, atol=1e-15)
                np.testing.assert_allclose(vec.vel[0, i], world.vel[i], rtol=0, atol=1e-15)
    assert contacts > 10


def test_the_two_integrators_differ_only_in_when_the_particle_moves():
    mpe2 = ro_bench.make_vec("particle_gather")
    openai = ro_bench.make_vec("particle_gather", integrator="openai")
    for vec in (mpe2, openai):
        vec.reset(seed=0)
        vec.pos[0] = [[0.0, 0.0], [5.0, 5.0]]
    push = np.float32([[[1.0], [0.0], [0.0], [0.0]]])
    mpe2.step(push)
    openai.step(push)
    assert mpe2.pos[0, 0, 0] == 0.0  # moved with the old velocity, 0
    assert openai.pos[0, 0, 0] == pytest.approx(0.05)  # with the new one, 5 * 0.1 * 0.1
    np.testing.assert_array_equal(mpe2.vel, openai.vel)
    assert pg.thrust_reach(3, "openai")[1:] == pytest.approx([0.05, 0.1375, 0.253125])  # v: 0.5, 0.875, 1.156


def test_square_start_is_uniform_in_the_square_and_seeded():
    vec = ro_bench.make_vec("particle_gather", 4000, start="square", landmark=(1.0, -2.0),
                            start_radius=0.5)
    vec.reset(seed=7)
    offsets = vec.pos - [1.0, -2.0]
    assert (np.abs(offsets) <= 0.5).all() and (vec.vel == 0).all()
    # Uniform on [-0.5, 0.5]: mean 0, variance 1/12 * 1 = 0.0833 per coordinate.
    assert np.abs(offsets.mean()) < 0.01
    assert offsets.var() == pytest.approx(1 / 12, rel=0.03)
    again = ro_bench.make_vec("particle_gather", 4000, start="square", landmark=(1.0, -2.0),
                              start_radius=0.5)
    again.reset(seed=7)
    np.testing.assert_array_equal(again.pos, vec.pos)


def test_square_optimum_bound_matches_a_monte_carlo_estimate():
    vec = ro_bench.make_vec("particle_gather", start="square", reach=0.4)
    starts = np.random.default_rng(0).uniform(-1, 1, size=(100_000, 2, 2))
    k = vec.arrival_steps(starts).max(axis=1)
    assert vec.optimum == pytest.approx((5.0 * np.maximum(25 - k + 1, 0)).mean(), abs=0.1)


@pytest.mark.parametrize("kwargs, message", [
    ({"start": "sqaure"}, r"start must be one of 'circle', 'square'; got 'sqaure'\. "
                          r"Did you mean 'square'"),
    ({"integrator": "mpe"}, r"integrator must be one of 'mpe2', 'openai'.*Did you mean 'mpe2'"),
])
def test_bad_choices_name_the_parameter_and_the_nearest_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ro_bench.make("particle_gather", **kwargs)


def test_final_step_bound_for_alike_independent_particles():
    # Park each particle in or out of reach independently with probability p and read the team
    # reward from the env: its mean is 9 p^2 - 4 p, lowest (-4/9) at p = 2/9.
    vec = ro_bench.make_vec("particle_gather")
    rng = np.random.default_rng(0)
    n = 400_000
    for p in (0.1, 2 / 9, 0.5):
        inside = rng.random((n, 2)) < p
        pos = np.where(inside[..., None], 0.0, 1.0) * np.array([1.0, 0.0])
        mean = vec.team_reward(pos).mean()
        assert mean == pytest.approx(9 * p * p - 4 * p, abs=0.01)
        assert mean >= -4 / 9 - 0.01


def test_the_published_figures_are_a_fresh_computation():
    records = json.loads((Path(severity.__file__).parent.parent / severity.DATA).read_text())
    assert records == [severity.measure(key) for key in severity.CANDIDATES]


def test_the_env_page_shows_the_published_severity_table():
    assert severity.page_table() in ro_bench.spec("particle_gather").doc


def test_levels_are_ordered_by_their_random_both_in_rate():
    rates = [severity.published(key)[0] for key in severity.LEVELS.values()]
    assert rates[0].both_in > rates[1].both_in > rates[2].both_in > 0
    for key in severity.LEVELS.values():  # the optimum is real at every level
        assert severity.published(key)[1].final_step == 5.0
    with pytest.raises(ValueError, match="circle r=0.7, reach 0.2 is not among the published"):
        severity.published(severity.level(start_radius=0.7))


def test_one_particle_going_alone_ends_on_the_penalty_at_v0():
    # v0's particles start at distance 1: the one that stays is out, the one that goes is in.
    rates, both, one = severity.published(severity.LEVELS["particle_gather"])
    assert both.final_step == 5.0 and one.final_step == -2.0


def test_a_protocol_per_level_with_both_metrics():
    for name, key in severity.LEVELS.items():
        p = protocols.get(name)
        assert p.env_id == "particle_gather" and tuple(sorted(p.env_kwargs.items())) == key
        assert p.also == ("mean_step_reward",)
        assert p.also_values(50.0) == {"mean_step_reward": 2.0}  # 25 steps an episode
    assert dict(protocols.get("particle_gather").env_kwargs) == {}  # v0's defaults


def test_also_names_a_known_metric():
    with pytest.raises(ValueError, match=r"also must name metrics among .*'mean_step_reward'.*"
                                         r"Did you mean 'mean_step_reward'"):
        protocols.Protocol("x", 1, "particle_gather", also=("mean_step_rewards",))
