"""Benchmarks: `make bench` or `python -m bench NAME`; results go to bench/results/."""
