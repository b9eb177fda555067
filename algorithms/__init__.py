"""The ro-bench algorithm zoo, imported as ``ro_bench_zoo`` (its folder is ``algorithms/``).

Each algorithm is one file over the shared pieces of ``common/``; ``pyproject.toml`` registers
them under the entry-point group ``ro_bench.algorithms``, exactly as an outside package registers
its own, and ro-bench finds them there by name (``ro_bench.algorithms.get("svnr")``). ro-bench
itself never imports the zoo.
"""

if __name__ != "ro_bench_zoo":  # e.g. ``import algorithms`` from the repository's root
    raise ImportError(f"the zoo is installed as ro_bench_zoo (pip install -e .); import "
                      f"ro_bench_zoo, not {__name__}, so that its classes exist once")
