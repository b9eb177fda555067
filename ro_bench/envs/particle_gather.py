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
    ``integrator="openai"`` instead follows openai/multiagent-particle-envs, the MPE the paper's
    authors' code pins: the velocity is updated first and the particle moves with the *new* one
    (``vel = vel * (1 - damping) + force / mass * dt; pos += vel * dt``); everything else is the
    same. A test checks it step for step against a plain transcription of that ``World``.

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
    ``start``: ``"circle"`` (default) or ``"square"``. Each particle starts at rest, drawn
    independently: on the circle of radius ``start_radius`` around the landmark at a uniform
    angle, or uniformly in the square ``landmark + [-start_radius, start_radius]^2`` (as MPE's
    scenarios draw their agents and landmarks in [-1, 1]^2).
    ``start_radius``: a real in (0, 10], default 1.
    ``episode_length``: an int in [1, 1000], default 25.
    ``integrator``: ``"mpe2"`` (default, bit-exact against mpe2) or ``"openai"`` (see Physics).

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
    averages that bound over the start distribution, on a grid of 2^16 start angles (or start
    points of the square). Braking is ignored, so no policy reaches the bound exactly;
    ``arrival_steps`` gives ``k_i`` for a state. Per step (``optimum_reward``, ``trap_reward``):
    5 with both particles in, 0 with both out.

A bound on the final-step reward
    With ``p_i`` the probability that particle ``i`` is in at the last step, the expected
    final-step reward is ``5 P(both) - 2 (p_0 + p_1 - 2 P(both)) = 9 P(both) - 2 (p_0 + p_1)``.
    If the two particles behave alike and independently (``p_0 = p_1 = p``), that is
    ``9 p^2 - 4 p``, whose minimum, at ``p = 2/9``, is ``-4/9 ≈ -0.44``, whatever the
    parameters. A lower mean needs particles that behave differently (one parked inside) or
    correlated ones.

Severity (``ro_bench.envs.particle_gather_severity``, computed before any algorithm ran)
    Under uniform random actions, the share of the 1,000,000 steps of 40,000 episodes on which
    both particles are in, or exactly one is; and the scores of two scripted decentralized
    controllers, each agent steering its axis with ``a = clip(5 (landmark - p) - 2 v, -1, 1)``:
    "both go" (all four steer) and "one goes" (particle 1 stays still). The protocols'
    severity levels (``ro-bench list``) are the rows marked with their protocol.

    | protocol | setting | both in (random) | exactly one in (random) | both go: final / per step | one goes: final / per step |
    |---|---|---|---|---|---|
    |  | square ±1, reach 0.1 | 0.0055% (55 steps) | 1.5% | 5.00 / 2.78 | -2.00 / -1.31 |
    | particle_gather-square-reach=0.2 | square ±1, reach 0.2 | 0.1% (1,000 steps) | 6% | 5.00 / 3.34 | -1.83 / -1.38 |
    |  | square ±1, reach 0.3 | 0.47% (4,690 steps) | 13% | 5.00 / 3.63 | -1.57 / -1.28 |
    | particle_gather-square-reach=0.4 | square ±1, reach 0.4 | 1.5% (14,561 steps) | 22% | 5.00 / 3.83 | -1.15 / -1.00 |
    |  | circle r=0.5, reach 0.1 | 0.011% (113 steps) | 1.9% | 5.00 / 3.56 | -2.00 / -1.44 |
    |  | circle r=0.5, reach 0.2 | 0.17% (1,686 steps) | 7.4% | 5.00 / 4.07 | -2.00 / -1.66 |
    |  | circle r=0.5, reach 0.3 | 0.98% (9,839 steps) | 17% | 5.00 / 4.39 | -2.00 / -1.76 |
    |  | circle r=0.5, reach 0.4 | 3.6% (36,079 steps) | 29% | 5.00 / 4.60 | -2.00 / -1.84 |
    |  | circle r=1, reach 0.1 | 0% (0 steps) | 0.17% | 5.00 / 2.76 | -2.00 / -1.16 |
    |  | circle r=1, reach 0.2 | 0.001% (10 steps) | 0.75% | 5.00 / 3.39 | -2.00 / -1.36 |
    |  | circle r=1, reach 0.3 | 0.0093% (93 steps) | 1.9% | 5.00 / 3.59 | -2.00 / -1.47 |
    |  | circle r=1, reach 0.4 | 0.05% (497 steps) | 3.8% | 5.00 / 3.79 | -2.00 / -1.55 |

Version history
    v0: first release. ``start`` and ``integrator`` were added later; their defaults are v0's
    dynamics, unchanged.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from ro_bench import render
from ro_bench.params import choice, integer, real, real_array
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
SQUARE_GRID = 2**8  # per axis: the square start's bound averages over 2^16 start points too
STARTS = ("circle", "square")
INTEGRATORS = ("mpe2", "openai")
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


def integrate(pos: np.ndarray, vel: np.ndarray, actions: np.ndarray,
              integrator: str = "mpe2") -> None:
    """One MPE ``World.step`` of ``pos``/``vel`` (``[B, 2, 2]`` float64) in place.

    ``actions`` is float32 ``[B, 2, 2]``: ``[particle, (x, y)]``, already in [-1, 1].
    ``integrator``: ``"mpe2"`` moves with the old velocity, ``"openai"`` with the new one.
    """
    force = actions.astype(np.float64) * SENSITIVITY + 0.0  # + 0.0: mpe2 adds the (zero) noise
    f = contact_force(pos[:, 0] - pos[:, 1])
    force[:, 0] = f + force[:, 0]  # entity order: p_force[a] = f_a + p_force[a]
    force[:, 1] = -f + force[:, 1]
    if integrator == "mpe2":
        pos += vel * DT  # the old velocity moves the particle
    vel *= 1 - DAMPING
    vel += (force / MASS) * DT
    if integrator == "openai":
        pos += vel * DT  # the new velocity moves the particle


def thrust_reach(steps: int, integrator: str = "mpe2") -> np.ndarray:
    """``D_t`` for t = 0..steps: how far full thrust moves a particle from rest along one axis."""
    d = np.zeros(steps + 1)
    x = v = 0.0
    for t in range(1, steps + 1):
        v_new = v * (1 - DAMPING) + SENSITIVITY / MASS * DT
        x, v = x + (v if integrator == "mpe2" else v_new) * DT, v_new
        d[t] = x
    return d


def draw_offsets(start: str, radius: float, rng: np.random.Generator,
                 shape: tuple[int, ...]) -> np.ndarray:
    """Start offsets from the landmark, ``[*shape, 2]``, drawn from ``rng`` (see Parameters)."""
    if start == "circle":
        angles = rng.uniform(0.0, 2 * np.pi, size=shape)
        return np.stack([np.cos(angles), np.sin(angles)], axis=-1) * radius
    return rng.uniform(-radius, radius, size=(*shape, 2))


def start_grid(start: str) -> np.ndarray:
    """Midpoint grid of 2^16 start offsets, ``[N, 2]``, for a start distribution of radius 1."""
    if start == "circle":
        angles = (np.arange(ANGLE_GRID) + 0.5) * (2 * np.pi / ANGLE_GRID)
        return np.stack([np.cos(angles), np.sin(angles)], 1)
    axis = (np.arange(SQUARE_GRID) + 0.5) * (2 / SQUARE_GRID) - 1
    return np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2)


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
        start: str = "circle",
        start_radius: float = 1.0,
        episode_length: int = 25,
        integrator: str = "mpe2",
    ) -> None:
        super().__init__(num_envs)
        self.landmark = real_array("landmark", landmark, shape=(2,), low=-10.0, high=10.0)
        self.reach = real("reach", reach, low=0.0, high=10.0, low_open=True)
        self.start = choice("start", start, STARTS)
        self.start_radius = real("start_radius", start_radius, low=0.0, high=10.0, low_open=True)
        self.integrator = choice("integrator", integrator, INTEGRATORS)
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
        offsets = [draw_offsets(self.start, self.start_radius, self.rng(b), (2,))
                   for b in np.flatnonzero(mask)]
        self.pos[mask] = self.landmark + np.array(offsets)
        self.vel[mask] = 0.0

    def _transition(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Agents are ordered (particle 0: x, y; particle 1: x, y): one reshape gives [B, 2, 2].
        integrate(self.pos, self.vel, actions.reshape(self.num_envs, 2, 2), self.integrator)
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
        reach_t = thrust_reach(self.max_steps, self.integrator)  # [T + 1]
        gap = np.abs(start - self.landmark)[..., None, :] - reach_t[:, None]  # [..., T + 1, 2]
        gap = np.maximum(gap, 0.0)
        can = np.sqrt(gap[..., 0] ** 2 + gap[..., 1] ** 2) <= self.reach
        can[..., 0] = False  # step 0 is the start, before any reward
        return np.where(can.any(axis=-1), can.argmax(axis=-1), self.max_steps + 1)

    def _expected_bound(self) -> float:
        """The optimum bound averaged over both particles' start angles (see the docstring)."""
        k = self.arrival_steps(self.landmark + self.start_radius * start_grid(self.start))
        # P(max(k_0, k_1) <= t) = P(k <= t)^2 for independent, identically drawn starts.
        t = np.arange(self.max_steps + 2)
        cdf = (k[:, None] <= t).mean(axis=0) ** 2
        pmf = np.diff(cdf, prepend=0.0)
        returns = 5.0 * np.maximum(self.max_steps - t + 1, 0)
        return float(pmf @ returns)
