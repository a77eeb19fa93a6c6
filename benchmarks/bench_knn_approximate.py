"""Approximate kNN runs of bench_knn.py: one library's search, its recall, the results table.

Every library searches the same operands graphclust's exact path ranks (unit rows for the
cosine metric) for ``k + 1`` neighbours with the same HNSW settings where it has them, and
each row's own index is dropped the same way, so recall@k is comparable across libraries.
"""

from __future__ import annotations

import time

import torch
from _machine import peak_rss_gib

RECALL_QUERIES = 1000
_COLUMN_BLOCK = 65536


def run_approximate(library: str, features: torch.Tensor, k: int, metric: str) -> dict:
    """Search all points with ``library``; recall@k on RECALL_QUERIES random query points."""
    from graphclust.data import knn
    from graphclust.data.knn_approximate import _drop_self, recall_at_k

    n_samples = features.shape[0]
    start = time.perf_counter()
    if library == "graphclust":
        neighbours = knn.knn_indices(features, k, metric, method="approximate")
    else:
        points = knn._prepare_operands(knn._as_feature_tensor(features, None), metric)["points"]
        found = _OTHER_SEARCHES[library](points.numpy(), k + 1, torch.get_num_threads())
        neighbours = torch.from_numpy(_drop_self(found, k))
    seconds = time.perf_counter() - start
    queries = torch.randperm(n_samples, generator=torch.Generator().manual_seed(1))
    queries = queries[:RECALL_QUERIES]
    exact = exact_neighbours(features, queries, k, metric)
    return {"seconds": seconds, "recall": recall_at_k(neighbours[queries], exact),
            "queries": len(queries), "rss": peak_rss_gib(), "threads": torch.get_num_threads()}


def exact_neighbours(features: torch.Tensor, queries: torch.Tensor, k: int,
                     metric: str) -> torch.Tensor:
    """Exact neighbours of the rows ``queries`` (self excluded), by blocks of candidates."""
    from graphclust.data import knn

    operands = knn._prepare_operands(knn._as_feature_tensor(features, None), metric)
    points = operands["points"]
    query_points = points[queries]
    best_scores = torch.full((len(queries), k), -torch.inf, dtype=points.dtype)
    best_indices = torch.full((len(queries), k), -1, dtype=torch.long)
    for start in range(0, points.shape[0], _COLUMN_BLOCK):
        block = points[start:start + _COLUMN_BLOCK]
        scores = query_points @ block.T
        if "squared_norms" in operands:  # -|q - x|^2 up to the query's own constant
            scores = 2 * scores - operands["squared_norms"][start:start + len(block)]
        own = (queries >= start) & (queries < start + len(block))
        scores[own.nonzero().squeeze(1), queries[own] - start] = -torch.inf
        top_scores, top_indices = scores.topk(k, dim=1)
        best_scores, best_indices = knn._merge_sorted(
            best_scores, best_indices, top_scores, top_indices + start, k)
    return best_indices


def _hnswlib_search(points, n_neighbours: int, threads: int):
    import hnswlib

    from graphclust.data.knn_approximate import HNSW_PARAMETERS

    index = hnswlib.Index(space="l2", dim=points.shape[1])
    index.init_index(max_elements=len(points), M=HNSW_PARAMETERS["M"],
                     ef_construction=HNSW_PARAMETERS["ef_construction"], random_seed=0)
    index.set_num_threads(threads)
    index.add_items(points)
    index.set_ef(max(HNSW_PARAMETERS["ef_search"], n_neighbours))
    found, _ = index.knn_query(points, n_neighbours)
    return found.astype("int64")


def _pynndescent_search(points, n_neighbours: int, threads: int):
    from pynndescent import NNDescent

    search = NNDescent(points, n_neighbors=n_neighbours, metric="euclidean", random_state=0,
                       n_jobs=threads)
    return search.neighbor_graph[0].astype("int64")


_OTHER_SEARCHES = {"hnswlib": _hnswlib_search, "pynndescent": _pynndescent_search}


def approximate_section(rows, command: str, n_features: int, k: int, metric: str,
                        machine: dict, load: str) -> list[str]:
    """The knn_approximate.md report for ``rows`` of (library, n_samples, result)."""
    from graphclust.data.knn_approximate import HNSW_PARAMETERS

    lines = [
        "# Approximate kNN graph benchmark",
        "",
        f"Command: `{command}` (one subprocess per run).",
        "",
        f"Input: float32 `torch.randn(n, {n_features})` (seed 0), searched for its k={k} "
        f"nearest neighbours by {metric} similarity (unit rows, squared L2). Random Gaussian "
        "rows are the hard case for graph indices: neighbours are barely closer than the rest.",
        f"HNSW settings (graphclust and hnswlib): {HNSW_PARAMETERS}. pynndescent: its "
        "defaults with `n_neighbors=k + 1`.",
        f"Recall@{k}: the mean share of the exact {k} neighbours found, over "
        f"{RECALL_QUERIES} random query points whose exact neighbours are computed by brute "
        "force. Time: the search of all points (the index build included, the recall "
        "check not).",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in machine.items()),
        f"| load average after the run (1/5/15 min) | {load} |",
        "",
        "| library | n | threads | time (s) | recall@k | peak RSS (GiB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for library, n_samples, result in rows:
        name = "graphclust (faiss-cpu HNSW)" if library == "graphclust" else library
        lines.append(f"| {name} | {n_samples:,} | {result['threads']} | "
                     f"{result['seconds']:.1f} | {result['recall']:.4f} | {result['rss']:.2f} |")
    return lines + [""]
