"""Benchmarks of the production-like stack; run `python bench/run.py` (see docs/BENCHMARKS.md)."""
