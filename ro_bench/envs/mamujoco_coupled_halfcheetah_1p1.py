"""MaMuJoCo CoupledHalfCheetah 1p1 (``mamujoco_coupled_halfcheetah_1p1``): two tethered cheetahs.

Two planar half cheetahs whose torsos are joined by an elastic spatial tendon (sites ``t0`` and
``t1``, rest range 1.5 to 3.5 m, stiffness 0.1), from gymnasium-robotics' CoupledHalfCheetah
(MuJoCo). As in the paper (App. F.1), each agent drives one cheetah: agent 0 the six actuators
``bthigh0 .. ffoot0``, agent 1 ``bthigh1 .. ffoot1``. gymnasium-robotics 1.4.2 uses exactly this
action partition; ``tests/test_mamujoco.py`` checks it by actuator and joint name. Served by
``mamujoco`` with ``scenario="CoupledHalfCheetah", agent_conf="1p1"``. Engine, seeding,
rendering, padding and exactness are described there.

Reward and episode end
    Team reward per step: the average of the two cheetahs' HalfCheetah rewards,
    ``(x_velocity_0 + x_velocity_1) / 2 - 0.1 * (sum(a_0^2) + sum(a_1^2)) / 2`` (``dt = 0.05``).
    Never terminates; episodes are truncated after ``max_episode_steps`` (1000).

Spaces (defaults, ``agent_obsk = 1``)
    Actions ``Box(-1, 1, (6,), float32)`` per agent, in the actuator order above.
    Observations ``Box(-inf, inf, (28,), float32)``, the same layout for both agents:
    ``[bfoot qpos, bfoot qvel, bshin qpos, bshin qvel, bthigh qpos, bthigh qvel,
    ten_J[0, rootx0], ten_J[0, rootz0], ten_J[0, rootx1], ten_J[0, rootz1], ten_length,
    ten_velocity, ffoot qpos, ffoot qvel, fshin qpos, fshin qvel, fthigh qpos, fthigh qvel,
    rooty0, rootz0, rooty1, rootz1 (qpos), rootx0, rooty0, rootz0, rootx1, rooty1, rootz1
    (qvel)]``. Entries 6 to 9 are the tendon Jacobian ``d ten_length / d qpos`` in the dense
    ``[ntendon, nv]`` layout at the columns of the two torsos' x and z slides. Those are all of
    its nonzero entries: the tendon's sites sit on the torsos' rotation axes. Like every MuJoCo
    quantity derived from positions, the Jacobian, ``ten_length`` and ``ten_velocity`` come from
    the forward pass that ``mj_step`` runs before integrating. After a step they therefore
    describe the state before the last of the step's 5 substeps (``dt / 5 = 0.01`` s earlier).
    State:
    CoupledHalfCheetah's 40-number observation (both cheetahs' joints, the Jacobian entries,
    tendon length and velocity), ``Box(-inf, inf, (40,), float32)``.

    Known issue, kept for exactness with gymnasium-robotics 1.4.2: BOTH agents' joint
    observations (entries 0-5 and 12-17) are cheetah 1's joints. Cheetah 0's nodes use the
    single-cheetah indices -6..-1, which in the coupled model's 18-long ``qpos`` point at cheetah
    1. Agent 0 therefore never observes the joints it drives; only the state holds them. The
    test ``test_coupled_halfcheetah_observes_cheetah_1_joints_twice`` pins this down.

Parameters
    ``agent_obsk``, ``local_categories``, ``global_categories``, ``max_episode_steps``: as for
    ``mamujoco`` (defaults 1, None, None, 1000). Categories may include ``ten_J``,
    ``ten_length`` and ``ten_velocity``.

Optimum and trap
    None: no analytic values (see ``mamujoco``).

Version history
    v0: first release (gymnasium-robotics 1.4.2, MuJoCo 3.5).
"""

from __future__ import annotations

from ro_bench.envs.mamujoco import Partition


class MaMuJoCoCoupledHalfCheetah1p1(Partition):
    SCENARIO = "CoupledHalfCheetah"
    AGENT_CONF = "1p1"
