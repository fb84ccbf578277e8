"""Benchmarks: stages of the pipeline at several scale factors, against a floor and a peer.

``python -m bench.run --scales 0.1,1,10`` (``make bench``); results in ``bench/results/`` and
``BENCHMARKS.md``.
"""
