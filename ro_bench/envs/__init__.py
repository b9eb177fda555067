"""The list of ro-bench environments: every id is registered here, and only here."""

from ro_bench.registry import register

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
