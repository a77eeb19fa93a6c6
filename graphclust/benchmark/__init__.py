"""Benchmarks: every (data set, model, seed), scored, timed and written to disk.

One module a concern: :mod:`~graphclust.benchmark.runner` (:func:`run_benchmark`, the grid),
:mod:`~graphclust.benchmark.grid` (names, seeds and parameters, checked before the first
run), :mod:`~graphclust.benchmark.baselines` (the no-training rows every grid adds, and
each trained model's margin over the best of them),
:mod:`~graphclust.benchmark.comparison` (one fitted model against them, from Python),
:mod:`~graphclust.benchmark.measure`
(peak memory, learned numbers), :mod:`~graphclust.benchmark.protocols` (the metrics and
the final/paper protocols),
:mod:`~graphclust.benchmark.summaries` (mean ± std, machine description) and
:mod:`~graphclust.benchmark.writers` (``results.csv``, ``results.md``, plots).
Models are named as in :mod:`graphclust.registry`.

The names below are imported on first use, so that the ``graphclust`` command lists the
protocols in ``--help`` without importing torch.
"""

from __future__ import annotations

from graphclust._lazy import lazy_attributes

# Public name -> module that defines it.
_LAZY = {
    "METRICS": "graphclust.benchmark.protocols",
    "PROTOCOLS": "graphclust.benchmark.protocols",
    "BASELINES": "graphclust.benchmark.baselines",
    "BaselineComparison": "graphclust.benchmark.comparison",
    "BenchmarkResults": "graphclust.benchmark.summaries",
    "against_baselines": "graphclust.benchmark.baselines",
    "build_estimator": "graphclust.registry",
    "compare_with_baselines": "graphclust.benchmark.comparison",
    "count_parameters": "graphclust.benchmark.measure",
    "peak_resident_bytes": "graphclust.benchmark.measure",
    "reset_peak_resident": "graphclust.benchmark.measure",
    "fit_threads": "graphclust.benchmark.summaries",
    "machine_info": "graphclust.benchmark.summaries",
    "model_params": "graphclust.benchmark.grid",
    "run_benchmark": "graphclust.benchmark.runner",
    "summarize": "graphclust.benchmark.summaries",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
