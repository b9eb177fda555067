"""Testing aids: PettingZoo's test kit's view of ro-bench envs (``pettingzoo_module``), and
reference builds of ro-bench environments on their original engines
(``ro_bench.testing.mpe2_particle_gather``, which needs mpe2), for tests and benchmarks."""

from ro_bench.testing.pettingzoo_kit import (
    PettingZooModule,
    episode_length_parameter,
    pettingzoo_module,
)

__all__ = ["PettingZooModule", "episode_length_parameter", "pettingzoo_module"]
