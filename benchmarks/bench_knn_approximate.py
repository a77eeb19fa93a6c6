"""Time and recall of the approximate kNN graph (knn_graph(..., method="approximate")).

The approximate path (faiss HNSW, the ``[ann]`` extra) searches all ``n`` points of a float32
(n, 64) matrix for their k = 10 cosine neighbours; recall@k is the mean share of the exact
neighbours found over ``RECALL_QUERIES`` random query points, whose exact neighbours are
computed by brute force. Two inputs (``--inputs``):

- ``gaussian``: ``torch.randn(n, 64)``, intrinsic dimension 64. The hard case for any index:
  a point's nearest neighbours are barely closer than the rest, and the neighbour relation
  is hardly transitive, so a graph index must visit a large share of the points.
- ``clustered``: what feature matrices to be clustered look like: a mixture of 50 Gaussians
  in a 16-dimensional latent space, mapped linearly into 64 dimensions, plus isotropic noise
  of scale 0.1. ``--compare-libraries`` adds the other candidate libraries
that are installed (hnswlib, pynndescent) on the same unit rows with the same harness.
Each run is a fresh subprocess, so that its peak resident memory is its own.

    nice -n 5 python -m benchmarks.bench_knn_approximate
    nice -n 5 python -m benchmarks.bench_knn_approximate --compare-libraries --sizes 100000 \
        --inputs gaussian

writes benchmarks/results/knn_approximate.md.
"""

from __future__ import annotations

import importlib.util
import json
import time

import torch
import torch.nn.functional as F

from benchmarks._machine import (
    parse,
    peak_rss_gib,
    results_header,
    run_module,
    script_parser,
    write_results,
)

SIZES = (1_000_000,)
TINY_SIZES = (2_000,)
N_FEATURES = 64
K = 10
RECALL_QUERIES = 1000
OTHER_LIBRARIES = ("hnswlib", "pynndescent")


INPUTS = ("gaussian", "clustered")
LATENT_DIMENSION = 16
N_COMPONENTS = 50


def _features(n_samples: int, kind: str) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    if kind == "gaussian":
        return torch.randn(n_samples, N_FEATURES, generator=generator)
    centres = 2 * torch.randn(N_COMPONENTS, LATENT_DIMENSION, generator=generator)
    component = torch.randint(N_COMPONENTS, (n_samples,), generator=generator)
    latent = centres[component] + torch.randn(n_samples, LATENT_DIMENSION, generator=generator)
    mixing = torch.randn(LATENT_DIMENSION, N_FEATURES, generator=generator)
    return latent @ mixing + 0.1 * torch.randn(n_samples, N_FEATURES, generator=generator)


def exact_neighbours(points: torch.Tensor, queries: torch.Tensor, k: int,
                     block: int = 65536) -> torch.Tensor:
    """Exact cosine neighbours of the rows ``queries`` of unit ``points`` (self excluded)."""
    best_scores = torch.empty(len(queries), 0)
    best_indices = torch.empty(len(queries), 0, dtype=torch.long)
    for start in range(0, points.shape[0], block):
        scores = points[queries] @ points[start:start + block].T
        own = (queries >= start) & (queries < start + scores.shape[1])
        scores[own.nonzero().squeeze(1), queries[own] - start] = -torch.inf
        top = scores.topk(min(k, scores.shape[1]), dim=1)
        best_scores = torch.cat([best_scores, top.values], 1)
        best_indices = torch.cat([best_indices, top.indices + start], 1)
        keep = best_scores.topk(min(k, best_scores.shape[1]), dim=1).indices
        best_scores, best_indices = best_scores.gather(1, keep), best_indices.gather(1, keep)
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
    return index.knn_query(points, n_neighbours)[0].astype("int64")


def _pynndescent_search(points, n_neighbours: int, threads: int):
    from pynndescent import NNDescent

    search = NNDescent(points, n_neighbors=n_neighbours, metric="euclidean", random_state=0,
                       n_jobs=threads)
    return search.neighbor_graph[0].astype("int64")


_OTHER_SEARCHES = {"hnswlib": _hnswlib_search, "pynndescent": _pynndescent_search}


def run_one(library: str, n_samples: int, kind: str) -> dict:
    """Search all points of input ``kind`` with ``library``; recall@k on RECALL_QUERIES points."""
    from graphclust.data.knn import knn_indices
    from graphclust.data.knn_approximate import drop_self, recall_at_k

    features = _features(n_samples, kind)
    start = time.perf_counter()
    if library == "graphclust":
        neighbours = knn_indices(features, K, "cosine", method="approximate")
    else:
        points = F.normalize(features, dim=1).numpy()
        found = _OTHER_SEARCHES[library](points, K + 1, torch.get_num_threads())
        neighbours = torch.from_numpy(drop_self(found, K))
    seconds = time.perf_counter() - start
    generator = torch.Generator().manual_seed(1)
    queries = torch.randperm(n_samples, generator=generator)[:RECALL_QUERIES]
    exact = exact_neighbours(F.normalize(features, dim=1), queries, K)
    return {"seconds": seconds, "recall": recall_at_k(neighbours[queries], exact),
            "rss": peak_rss_gib(), "threads": torch.get_num_threads()}


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/knn_approximate.md", root=False,
                           threads=2)
    parser.add_argument("--sizes", type=int, nargs="+", help="numbers of points")
    parser.add_argument("--compare-libraries", action="store_true",
                        help="also hnswlib and pynndescent, where installed")
    parser.add_argument("--inputs", nargs="+", choices=INPUTS, default=list(INPUTS),
                        help="which point sets (default: both)")
    parser.add_argument("--library", help="internal: one run of this library")
    parser.add_argument("--n", type=int, help="internal: number of points")
    args = parse(parser, argv, "benchmarks.bench_knn_approximate")
    if args.library is not None:
        print(json.dumps(run_one(args.library, args.n, args.inputs[0])))
        return
    libraries = ["graphclust"] + [name for name in OTHER_LIBRARIES if args.compare_libraries
                                  and importlib.util.find_spec(name) is not None]
    rows = []
    for kind in args.inputs:
        for n_samples in TINY_SIZES if args.tiny else (args.sizes or SIZES):
            for library in libraries:
                result = json.loads(run_module(
                    "benchmarks.bench_knn_approximate", "--library", library, "--n",
                    str(n_samples), "--inputs", kind, "--threads", str(args.threads),
                    fresh=not args.tiny))
                rows.append((kind, library, n_samples, result))
            # Rewritten after every run, so that a long sweep keeps what it measured.
            write_results(args.out, _report(rows, args.command))


def _report(rows, command: str) -> list[str]:
    from graphclust.data.knn_approximate import HNSW_PARAMETERS

    lines = results_header("Approximate kNN graph benchmark", command) + [
        f"Inputs: float32 (n, {N_FEATURES}) matrices (seed 0), searched for their k={K} "
        "nearest neighbours by cosine similarity. `gaussian`: `torch.randn(n, "
        f"{N_FEATURES})`, intrinsic dimension {N_FEATURES}, the hard case for any index "
        "(neighbours are barely closer than the rest). `clustered`: a mixture of "
        f"{N_COMPONENTS} Gaussians in a {LATENT_DIMENSION}-dimensional latent space, mapped "
        f"linearly into {N_FEATURES} dimensions, plus noise of scale 0.1.",
        f"HNSW settings (graphclust and hnswlib): {HNSW_PARAMETERS}. pynndescent: its "
        "defaults with `n_neighbors=k + 1`. Recall@k over "
        f"{RECALL_QUERIES} random query points; time: the search of all points (the index "
        "build included, the recall check not).", "",
        "| input | library | n | threads | time (s) | recall@k | peak RSS (GiB) |",
        "|---|---|---:|---:|---:|---:|---:|"]
    for kind, library, n_samples, result in rows:
        name = "graphclust (faiss-cpu HNSW)" if library == "graphclust" else library
        lines.append(f"| {kind} | {name} | {n_samples:,} | {result['threads']} | "
                     f"{result['seconds']:.1f} | {result['recall']:.4f} | {result['rss']:.2f} |")
    return lines


if __name__ == "__main__":
    main()
