"""Fits of ``SCGCStar`` two ways in one process, seed by seed, for the benchmarks that
compare a change of the code's insides (a patch) with the code as shipped."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext

from graphclust import SCGCStar, load_dataset

#: A short fit first, whose one-off costs (imports, allocations) no timed fit pays.
WARM_UP = {"pretrain_epochs": 2, "start_holdout": None, "max_epochs": 1}


def paired_fits(datasets, seeds: int, params: dict, root: str, way: str,
                patch: Callable[[], AbstractContextManager]) -> Iterator[tuple]:
    """Yield ``(dataset, seed, runs)`` with ``runs[name] = (fit seconds, fitted estimator)``
    for ``name`` = ``way`` (fitted under ``patch()``) and ``"shipped"``; ``way`` first on
    even seeds and second on odd ones, so that a drift of the machine's speed hits both."""
    for dataset in datasets:
        graph = load_dataset(dataset, root=root)
        k = int(graph.y.max()) + 1
        SCGCStar(k, random_state=0, **{**params, **WARM_UP}).fit(graph)
        for seed in range(seeds):
            runs = {}
            for name in (way, "shipped") if seed % 2 == 0 else ("shipped", way):
                with patch() if name == way else nullcontext():
                    start = time.perf_counter()
                    fitted = SCGCStar(k, random_state=seed, **params).fit(graph)
                    runs[name] = (time.perf_counter() - start, fitted)
            yield dataset, seed, runs


def paired_fit_table(datasets, seeds: int, params: dict, root: str, way: str,
                     patch: Callable[[], AbstractContextManager], compared: str,
                     compare: Callable[[SCGCStar, SCGCStar], str]) -> list[str]:
    """:func:`paired_fits` as a markdown table (printed row by row as the fits end):
    both fits' seconds, their ratio and ``compare(way's fit, shipped fit)`` under the
    heading ``compared``."""
    lines = [f"| data set | seed | {way} s | shipped s | {way} / shipped | {compared} |",
             "|---|---:|---:|---:|---:|---:|"]
    for dataset, seed, runs in paired_fits(datasets, seeds, params, root, way, patch):
        (patched, patched_fit), (shipped, shipped_fit) = runs[way], runs["shipped"]
        lines.append(f"| {dataset} | {seed} | {patched:.1f} | {shipped:.1f} | "
                     f"{patched / shipped:.2f} | {compare(patched_fit, shipped_fit)} |")
        print(lines[-1], flush=True)
    return lines
