"""The list of ro-bench environments: every id is registered here, and only here."""

from ro_bench.registry import register
from ro_bench.render import prefer_headless_mujoco_gl

# Matrix games (§2 Figure 1, Claus & Boutilier 1998)
register("climbing", "ro_bench.envs.climbing:Climbing", family="matrix")
register("penalty", "ro_bench.envs.penalty:Penalty", family="matrix")
register("pro_game", "ro_bench.envs.pro_game:ProGame", family="matrix")
register("ero_game", "ro_bench.envs.ero_game:EroGame", family="matrix")
register("matrix_game", "ro_bench.envs.matrix_game:MatrixGame", family="matrix")

# Differential games (§6 (1))
register("max_of_three", "ro_bench.envs.max_of_three:MaxOfThree", family="differential")
register("two_modalities", "ro_bench.envs.two_modalities:TwoModalities", family="differential")
register("max_of_two", "ro_bench.envs.max_of_two:MaxOfTwo", family="differential")
register(
    "differential_game", "ro_bench.envs.differential_game:DifferentialGame", family="differential"
)

# Particle Gather on MPE physics (§6 (2))
register("particle_gather", "ro_bench.envs.particle_gather:ParticleGather", family="particle")

# MaMuJoCo on real MuJoCo, from gymnasium-robotics (App. F.1); needs the mujoco extra. Its frames
# need an OpenGL backend chosen before MuJoCo is first imported, so the choice is made here.
prefer_headless_mujoco_gl()
_MUJOCO = {"family": "mamujoco", "requires": ("gymnasium_robotics", "mujoco"), "extra": "mujoco"}
register("mamujoco", "ro_bench.envs.mamujoco:MaMuJoCo", **_MUJOCO)
register(
    "mamujoco_halfcheetah_2x3",
    "ro_bench.envs.mamujoco_halfcheetah_2x3:MaMuJoCoHalfCheetah2x3",
    **_MUJOCO,
)
register(
    "mamujoco_coupled_halfcheetah_1p1",
    "ro_bench.envs.mamujoco_coupled_halfcheetah_1p1:MaMuJoCoCoupledHalfCheetah1p1",
    **_MUJOCO,
)
register("mamujoco_ant_2x4", "ro_bench.envs.mamujoco_ant_2x4:MaMuJoCoAnt2x4", **_MUJOCO)
register(
    "mamujoco_walker2d_2x3", "ro_bench.envs.mamujoco_walker2d_2x3:MaMuJoCoWalker2d2x3", **_MUJOCO
)
