"""MaMuJoCo Ant 2x4 (``mamujoco_ant_2x4``): the front legs and the back legs of a four-legged ant.

Gymnasium's ``Ant-v5`` (MuJoCo) split between two agents, as in the paper (App. F.1): agent 0
drives the front legs (actuators of joints ``hip_1, ankle_1, hip_2, ankle_2``), agent 1 the back
legs (``hip_3, ankle_3, hip_4, ankle_4``). gymnasium-robotics 1.4.2 uses exactly this partition
(its nodes hip1, ankle1, hip2, ankle2 / hip3, ankle3, hip4, ankle4); ``tests/test_mamujoco.py``
checks it by joint name. Served by ``mamujoco`` with ``scenario="Ant", agent_conf="2x4"``.
Engine, seeding, rendering, padding and exactness are described there.

Reward and episode end
    Team reward per step (``Ant-v5`` defaults, ``dt = 0.05``):
    ``1 + x_velocity - 0.5 * sum(a^2) - 5e-4 * sum(clip(cfrc_ext, -1, 1)^2)``. Terminated
    when the torso's height leaves [0.2, 1.0] or the state is not finite. Otherwise truncated
    after ``max_episode_steps`` (1000).

Spaces (defaults, ``agent_obsk = 1``)
    Actions ``Box(-1, 1, (4,), float32)`` per agent, in the joint order above.
    Observations ``Box(-inf, inf, (63,), float32)``. Agent 0 observes, joint by joint in the
    order ankle_1, ankle_2, hip_1, hip_2: the joint's ``qpos``, ``qvel`` and the external
    contact forces ``cfrc_ext`` (6 numbers per body, clipped to [-1, 1]) of the bodies it moves
    that no earlier joint listed. These are ankle_1: front_left_leg, aux_1 and the foot body;
    ankle_2: front_right_leg, aux_2 and the foot body; hip_1: torso; hip_2: none. Then the
    ``qpos`` of the neighbouring hips hip_3, hip_4, then the global node, the torso: its
    height and orientation quaternion (``qpos[2:7]``) and its 6 velocities (``qvel[0:6]``).
    That is 8 + 42 + 2 + 11 = 63. Agent 1 observes the same with legs 3 and 4 (bodies back_leg,
    aux_3, right_back_leg, aux_4, their feet, torso) and neighbours hip_1, hip_2. State:
    ``Ant-v5``'s observation, ``Box(-inf, inf, (105,), float32)``.

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


class MaMuJoCoAnt2x4(Partition):
    SCENARIO = "Ant"
    AGENT_CONF = "2x4"
