"""MaMuJoCo HalfCheetah 2x3 (``mamujoco_halfcheetah_2x3``): back leg and front leg of one cheetah.

The planar HalfCheetah of Gymnasium (``HalfCheetah-v5``, MuJoCo) split between two agents, as in
the paper (App. F.1): agent 0 drives the back leg (actuators ``bthigh``, ``bshin``, ``bfoot``),
agent 1 the front leg (``fthigh``, ``fshin``, ``ffoot``). gymnasium-robotics 1.4.2 uses exactly
this partition; ``tests/test_mamujoco.py`` checks it by actuator and joint name. Served by
``mamujoco`` with ``scenario="HalfCheetah", agent_conf="2x3"``. Engine, seeding, rendering,
padding and exactness are described there.

Reward and episode end
    Team reward per step: ``x_velocity - 0.1 * sum(a^2)`` over all six actuators
    (``HalfCheetah-v5`` defaults; ``dt = 0.05``). The cheetah never terminates; episodes are
    truncated after ``max_episode_steps`` (1000).

Spaces (defaults, ``agent_obsk = 1``)
    Actions ``Box(-1, 1, (3,), float32)`` per agent, in the actuator order above.
    Observations ``Box(-inf, inf, (12,), float32)``. Agent 0 observes
    ``[bfoot qpos, bfoot qvel, bshin qpos, bshin qvel, bthigh qpos, bthigh qvel, fthigh qpos,
    rootz qpos, rooty qpos, rootx qvel, rootz qvel, rooty qvel]``: its joints, the neighbouring
    joint ``fthigh``, and the torso's height, angle and velocities. Agent 1 observes the same with
    ``ffoot, fshin, fthigh`` and neighbour ``bthigh``. State: ``HalfCheetah-v5``'s observation,
    ``Box(-inf, inf, (17,), float32)``.

Parameters
    ``agent_obsk``, ``local_categories``, ``global_categories``, ``max_episode_steps``: as for
    ``mamujoco`` (defaults 1, None, None, 1000).

Optimum and trap
    None: no analytic values (see ``mamujoco``).

Version history
    v0: first release (gymnasium-robotics 1.4.2, MuJoCo 3.5).
"""

from __future__ import annotations

from ro_bench.envs.mamujoco import Partition


class MaMuJoCoHalfCheetah2x3(Partition):
    SCENARIO = "HalfCheetah"
    AGENT_CONF = "2x3"
