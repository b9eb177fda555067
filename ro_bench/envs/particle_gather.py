"""Particle Gather (``particle_gather``): two particles, four agents, one landmark (§6 (2)).

Two particles move in the 2-D world of the Multi-Agent Particle Environments (MPE). Each particle
is driven by two agents: its x-agent picks the x component of the particle's force and its
y-agent the y component. All four agents share the team reward, given after every step:
+5 when both particles are within ``reach`` of the landmark, -2 when exactly one is, 0 otherwise.
Without knowing what the others will do, every agent is safest far from the landmark: that is
the RO trap. An episode lasts ``episode_length`` steps (25) and is then truncated.

Physics (mpe2 1.1.1 defaults, bit for bit)
    Per step, as ``World.step`` does it: the action force is ``sensitivity * a`` with the float32
    action ``a`` in [-1, 1] widened to float64 (``sensitivity = 5``); the two particles (size
    0.05 each) push each other with MPE's soft contact force
    ``contact_force * delta / dist * logaddexp(0, -(dist - 0.1) / margin) * margin``
    (``contact_force = 100``, ``margin = 1e-3``), added to the action forces in entity order; the
    landmark does not collide. Then ``pos += vel * dt`` with the *old* velocity, and
    ``vel = vel * (1 - damping) + force / mass * dt`` (``dt = 0.1``, ``damping = 0.25``,
    ``mass = 1``; no speed limit). Positions and velocities are float64. A test drives mpe2's own
    ``World`` beside this kernel and requires identical states and rewards at every step.

Spaces
    Agents ``particle_0_x, particle_0_y, particle_1_x, particle_1_y``, each acting in
    ``Box(-1, 1, (1,), float32)``; out-of-range actions are clipped to [-1, 1] (as mpe2's
    ``ClipOutOfBoundsWrapper`` does) and counted in ``infos["clipped"]``. Every agent observes the
    full physical state, ``Box(-inf, inf, (10,), float32)``:
    ``[p0x, p0y, v0x, v0y, p1x, p1y, v1x, v1y, landmark_x, landmark_y]``. The global state is the
    same vector.

Parameters
    ``landmark``: the landmark's position, two reals in [-10, 10], default (0, 0).
    ``reach``: the reach radius, a real in (0, 10], default 0.2 (four particle radii, so that both
    particles fit inside together). A particle is within reach when its distance to the landmark,
    ``sqrt(dx * dx + dy * dy)`` in float64, is at most ``reach``.
    ``start_radius``: a real in (0, 10], default 1. Each particle starts at rest on the circle of
    this radius around the landmark, at an angle drawn uniformly and independently.
    ``episode_length``: an int in [1, 1000], default 25.

Rendering
    ``render_mode="rgb_array"``: a 400 x 400 x 3 uint8 frame per step (``render_fps`` 10, one
    frame per step of ``dt = 0.1``), drawn by ro-bench's own numpy rasterizer
    (``ro_bench.render``): particle 0 blue and particle 1 orange (disks of radius 0.05), the
    landmark a dark dot, the reach circle grey, on white. The view is centred on the landmark and
    spans 1.2 start radii either way, widened while a particle is farther out. No other mode (no
    window): a benchmark runs headless.

Seeding
    ``reset(seed=s)`` draws the start angles from the env's generator seeded with ``s``; any
    non-negative int is a seed. ``reset()`` without a seed continues that generator, or, in an env
    never seeded, starts it from the OS's entropy.

Optimum and trap (episode return of one agent)
    Trap 0: both particles stay away. Optimum: an upper bound, the expected return if both
    particles reach the landmark as early as the physics allows and stay there. Each axis is
    an independent damped double integrator (contacts aside), so after ``t`` steps from rest a
    particle can be anywhere in the square of half-width ``D_t`` around its start, where ``D_t``
    is the distance full thrust covers in ``t`` steps. Particle ``i`` can first be within reach
    after step ``k_i``, the first ``t`` at which that square comes within ``reach`` of the
    landmark, and the return is at most ``5 * (episode_length - max(k_0, k_1) + 1)``. ``optimum``
    averages that bound over the start distribution, on a grid of 2^16 start angles. Braking is
    ignored, so no policy reaches the bound exactly; ``arrival_steps`` gives ``k_i`` for a state.
    Per step (``optimum_reward``, ``trap_reward``): 5 with both particles in, 0 with both out.

Version history
    v0: first release.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from ro_bench import render
from ro_bench.params import integer, real, real_array
from ro_bench.vector import VecEnv

# mpe2 1.1.1 defaults: World (core.py) and the action scaling of simple_env.py.
DT = 0.1
DAMPING = 0.25
MASS = 1.0
SENSITIVITY = 5.0
SIZE = 0.05
CONTACT_FORCE = 1e2
CONTACT_MARGIN = 1e-3
ANGLE_GRID = 2**16
# Frames: MPE's particle blue, an orange to tell particle 1 apart, MPE's landmark grey.
FRAME_SIZE = 400
PARTICLE_COLOURS = ((89, 89, 217), (230, 140, 40))
LANDMARK_COLOUR = (64, 64, 64)
REACH_COLOUR = (160, 160, 160)


def contact_force(delta: np.ndarray) -> np.ndarray:
    """MPE's soft contact force on particle 0 from particle 1, ``delta = p0 - p1`` of ``[B, 2]``.

    The operations and their order are mpe2's ``World.get_collision_force``.
    """
    dist = np.sqrt(delta[:, :1] * delta[:, :1] + delta[:, 1:] * delta[:, 1:])
    penetration = np.logaddexp(0, -(dist - (SIZE + SIZE)) / CONTACT_MARGIN) * CONTACT_MARGIN
    return CONTACT_FORCE * delta / dist * penetration


def integrate(pos: np.ndarray, vel: np.ndarray, actions: np.ndarray) -> None:
    """One MPE ``World.step`` of ``pos``/``vel`` (``[B, 2, 2]`` float64) in place.

    ``actions`` is float32 ``[B, 2, 2]``: ``[particle, (x, y)]``, already in [-1, 1].
    """
    force = actions.astype(np.float64) * SENSITIVITY + 0.0  # + 0.0: mpe2 adds the (zero) noise
    f = contact_force(pos[:, 0] - pos[:, 1])
    force[:, 0] = f + force[:, 0]  # entity order: p_force[a] = f_a + p_force[a]
    force[:, 1] = -f + force[:, 1]
    pos += vel * DT  # the old velocity moves the particle
    vel *= 1 - DAMPING
    vel += (force / MASS) * DT


def thrust_reach(steps: int) -> np.ndarray:
    """``D_t`` for t = 0..steps: how far full thrust moves a particle from rest along one axis."""
    d = np.zeros(steps + 1)
    x = v = 0.0
    for t in range(1, steps + 1):
        x, v = x + v * DT, v * (1 - DAMPING) + SENSITIVITY / MASS * DT
        d[t] = x
    return d


class ParticleGather(VecEnv):
    """Two MPE particles, four agents (one per particle and axis), one landmark."""

    _snapshot_arrays = ("pos", "vel")
    render_modes = ("rgb_array",)
    render_fps = round(1 / DT)

    def __init__(
        self,
        num_envs: int = 1,
        *,
        landmark: tuple[float, float] = (0.0, 0.0),
        reach: float = 0.2,
        start_radius: float = 1.0,
        episode_length: int = 25,
    ) -> None:
        super().__init__(num_envs)
        self.landmark = real_array("landmark", landmark, shape=(2,), low=-10.0, high=10.0)
        self.reach = real("reach", reach, low=0.0, high=10.0, low_open=True)
        self.start_radius = real("start_radius", start_radius, low=0.0, high=10.0, low_open=True)
        self.max_steps = integer("episode_length", episode_length, low=1, high=1000)
        self.agents = ("particle_0_x", "particle_0_y", "particle_1_x", "particle_1_y")
        box = spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.action_spaces = {a: box for a in self.agents}
        state = spaces.Box(-np.inf, np.inf, (10,), np.float32)
        self.observation_spaces = {a: state for a in self.agents}
        self.state_space = state
        self.pos = np.zeros((self.num_envs, 2, 2))
        self.vel = np.zeros((self.num_envs, 2, 2))
        self._finish_init()
        self.trap, self.trap_reward = 0.0, 0.0  # episode return; team reward of one step
        self.optimum, self.optimum_reward = self._expected_bound(), 5.0

    # ---------------------------------------------------------------------------- dynamics
    def _reset_envs(self, mask: np.ndarray) -> None:
        envs = np.flatnonzero(mask)
        angles = np.array([self.rng(b).uniform(0.0, 2 * np.pi, size=2) for b in envs])
        offsets = np.stack([np.cos(angles), np.sin(angles)], axis=-1) * self.start_radius
        self.pos[mask] = self.landmark + offsets
        self.vel[mask] = 0.0

    def _transition(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Agents are ordered (particle 0: x, y; particle 1: x, y): one reshape gives [B, 2, 2].
        integrate(self.pos, self.vel, actions.reshape(self.num_envs, 2, 2))
        return self.team_reward(self.pos), np.zeros(self.num_envs, dtype=bool)

    def team_reward(self, pos: np.ndarray) -> np.ndarray:
        """+5 if both particles are within reach, -2 if exactly one is, else 0; ``pos [B, 2, 2]``."""
        d = pos - self.landmark
        inside = np.sqrt(d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1]) <= self.reach
        return np.choose(inside.sum(axis=1), [0.0, -2.0, 5.0])

    def _state(self) -> np.ndarray:
        b = self.num_envs
        physical = np.concatenate([self.pos, self.vel], axis=2).reshape(b, 8)
        landmark = np.broadcast_to(self.landmark, (b, 2))
        return np.concatenate([physical, landmark], axis=1).astype(np.float32)

    def _observe(self) -> np.ndarray:
        return self._state()[:, None, :].repeat(self.n_agents, axis=1)

    # --------------------------------------------------------------------------- rendering
    def view(self, env: int) -> render.View:
        """The part of the world env ``env``'s frame shows (see Rendering in the docstring)."""
        farthest = np.abs(self.pos[env] - self.landmark).max() + 2 * SIZE
        return render.View(self.landmark, max(1.2 * self.start_radius, farthest), FRAME_SIZE)

    def render_frame(self, env: int) -> np.ndarray:
        view = self.view(env)
        image = render.blank(FRAME_SIZE)
        centre = view(self.landmark)
        render.ring(image, centre, self.reach * view.scale, 2.0, REACH_COLOUR)
        render.disk(image, centre, 3.0, LANDMARK_COLOUR)
        for position, colour in zip(self.pos[env], PARTICLE_COLOURS):
            render.disk(image, view(position), max(SIZE * view.scale, 2.0), colour)
        return image

    # ------------------------------------------------------------------------ optimum bound
    def arrival_steps(self, start: np.ndarray) -> np.ndarray:
        """First step after which a particle starting at rest at ``start`` (``[..., 2]``) can be
        within reach, ignoring contacts; ``episode_length + 1`` if it cannot within the episode."""
        reach_t = thrust_reach(self.max_steps)  # [T + 1]
        gap = np.abs(start - self.landmark)[..., None, :] - reach_t[:, None]  # [..., T + 1, 2]
        gap = np.maximum(gap, 0.0)
        can = np.sqrt(gap[..., 0] ** 2 + gap[..., 1] ** 2) <= self.reach
        can[..., 0] = False  # step 0 is the start, before any reward
        return np.where(can.any(axis=-1), can.argmax(axis=-1), self.max_steps + 1)

    def _expected_bound(self) -> float:
        """The optimum bound averaged over both particles' start angles (see the docstring)."""
        angles = (np.arange(ANGLE_GRID) + 0.5) * (2 * np.pi / ANGLE_GRID)
        starts = self.landmark + self.start_radius * np.stack([np.cos(angles), np.sin(angles)], 1)
        k = self.arrival_steps(starts)
        # P(max(k_0, k_1) <= t) = P(k <= t)^2 for independent, identically drawn starts.
        t = np.arange(self.max_steps + 2)
        cdf = (k[:, None] <= t).mean(axis=0) ** 2
        pmf = np.diff(cdf, prepend=0.0)
        returns = 5.0 * np.maximum(self.max_steps - t + 1, 0)
        return float(pmf @ returns)
