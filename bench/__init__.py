"""Benchmarks (run by hand and by ``make bench``, never by ``make test``); see bench/README.md."""
