"""MaMuJoCo Walker2d 2x3 (``mamujoco_walker2d_2x3``): the right leg and the left leg of a biped.

Gymnasium's planar ``Walker2d-v5`` (MuJoCo) split between two agents, as in the paper
(App. F.1): agent 0 drives the right leg (actuators of joints ``foot_joint, leg_joint,
thigh_joint``), agent 1 the left leg (``foot_left_joint, leg_left_joint, thigh_left_joint``).
Each agent also observes the walker's top (torso). gymnasium-robotics 1.4.2 uses exactly this
partition; ``tests/test_mamujoco.py`` checks it by joint name. Served by ``mamujoco`` with
``scenario="Walker2d", agent_conf="2x3"``. Engine, seeding, rendering, padding and exactness are
described there.

Reward and episode end
    Team reward per step (``Walker2d-v5`` defaults, ``dt = 0.008``):
    ``1 + x_velocity - 1e-3 * sum(a^2)``. Terminated when the walker falls: the torso's height
    leaves (0.8, 2.0) or its angle leaves (-1, 1). Otherwise truncated after
    ``max_episode_steps`` (1000).

Spaces (defaults, ``agent_obsk = 1``)
    Actions ``Box(-1, 1, (3,), float32)`` per agent, in the joint order above.
    Observations ``Box(-inf, inf, (12,), float32)``. Agent 0 observes
    ``[foot qpos, foot qvel, leg qpos, leg qvel, thigh qpos, thigh qvel, thigh_left qpos,
    rootz qpos, rooty qpos, rootx qvel, rootz qvel, rooty qvel]``: its joints, the other hip
    (``thigh_left_joint``), and the top's height, angle and velocities. Agent 1 observes the same
    with the left joints and neighbour ``thigh_joint``. State: ``Walker2d-v5``'s observation,
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


class MaMuJoCoWalker2d2x3(Partition):
    SCENARIO = "Walker2d"
    AGENT_CONF = "2x3"
