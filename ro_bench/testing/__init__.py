"""Reference builds of ro-bench environments on their original engines, for tests and benchmarks."""
