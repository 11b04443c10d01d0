"""SYNTHETIC data generators shared by the tests and the benchmarks (test code: never installed).

* `synthetic_corpus`: gold for the real seed article from declared name lists, and corpora recombined
  from an article's sentences and gold (dataset build tests and benchmarks);
* `synthetic_release`: release folders with random tokens and labels, noisy predictions and
  submission bundles (leaderboard tests and benchmark).

Tests import them as ``tests.support.<module>`` (pytest puts the repository root on ``sys.path``);
the benchmark scripts put the root there themselves.
"""
