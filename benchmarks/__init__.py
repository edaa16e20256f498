"""The benchmark suite: ``python -m benchmarks`` runs every workload and prints one table.

Each ``bench_*.py`` script also runs on its own; see ``benchmarks/__main__.py``.
"""
