"""Benchmarks: each writes its figures to bench/results/. Run them from the repository root as modules,
`python -m bench.NAME --help` (so `mnist_demo` and `tests.harness` import without path edits)."""
