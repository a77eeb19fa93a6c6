"""Approximate k-nearest neighbours through faiss's HNSW graph index (optional ``[ann]`` extra).

The exact search of :mod:`graphclust.data.knn` scores all :math:`N^2` pairs: 45 s at 100k
points but about 90 minutes at 1M (``benchmarks/results/knn.md``). A hierarchical navigable
small-world graph (Malkov and Yashunin, 2018; ``faiss.IndexHNSWFlat``) is built in about
:math:`O(N \\log N)` distance evaluations and answers each query by a greedy search that
keeps the ``ef_search`` closest candidates seen. The result is a *subset estimate* of the
exact neighbours: its quality is recall@k, the share of the exact ``k`` neighbours found,
measured by :func:`recall_at_k` on a sample of query points.

Metrics map onto faiss's squared L2 distance: ``"cosine"`` ranks unit vectors (for unit
vectors :math:`\\lVert a - b \\rVert^2 = 2 - 2\\cos(a, b)`), ``"euclidean"`` and
``"heat"`` rank the raw rows. Rows of zeros have no direction and stay zero, as in the exact
path. A point is never its own neighbour.

The index is built with faiss's OpenMP threads set to torch's thread count. With more than
one thread the insertion order of the graph, and so the result, can differ between runs;
with one thread it is deterministic.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import torch

__all__ = ["ANN_EXTRA_HINT", "HNSW_PARAMETERS", "approximate_knn_indices", "drop_self",
           "has_ann", "recall_at_k"]

ANN_EXTRA_HINT = "pip install 'graphclust[ann]' (faiss-cpu)"
"""How to install the approximate search, quoted by the error and warning messages."""

HNSW_PARAMETERS = {"M": 32, "ef_construction": 100, "ef_search": 256}
"""Graph degree ``M``, construction beam and search beam (``ef_search`` is raised to ``k + 1``
if smaller). Recall@10 0.99 on 100k Gaussian points in 64 dimensions, the hard case
(``benchmarks/results/knn_approximate.md``)."""


def has_ann() -> bool:
    """Whether the ``[ann]`` extra (faiss) is installed; does not import it."""
    return importlib.util.find_spec("faiss") is not None


def approximate_knn_indices(points: torch.Tensor, k: int, metric: str) -> torch.Tensor:
    """Approximate ``k`` nearest neighbours of every row of ``points``, self excluded.

    ``points`` is a validated feature tensor, already normalised for ``"cosine"`` (the
    operands of the exact path). Returns a ``(n_samples, k)`` LongTensor on the device of
    ``points``, closest first.
    """
    faiss = _import_faiss()
    data = np.ascontiguousarray(points.detach().cpu().numpy(), dtype=np.float32)
    n_samples, n_features = data.shape
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(torch.get_num_threads())
    try:
        index = faiss.IndexHNSWFlat(n_features, HNSW_PARAMETERS["M"])
        index.hnsw.efConstruction = HNSW_PARAMETERS["ef_construction"]
        index.add(data)
        index.hnsw.efSearch = max(HNSW_PARAMETERS["ef_search"], k + 1)
        _, found = index.search(data, k + 1)
    finally:
        faiss.omp_set_num_threads(threads)
    return torch.from_numpy(drop_self(found, k)).to(points.device)


def recall_at_k(approximate: torch.Tensor, exact: torch.Tensor) -> float:
    """Mean share of each row's exact neighbours that the approximate row also lists.

    Both are ``(n_queries, k)`` index tensors for the same query points.
    """
    if approximate.shape != exact.shape:
        raise ValueError(f"shapes differ: {tuple(approximate.shape)} and {tuple(exact.shape)}")
    approximate, exact = approximate.cpu(), exact.cpu()
    hits = (approximate.unsqueeze(2) == exact.unsqueeze(1)).any(dim=2).sum()
    return float(hits) / exact.numel()


def drop_self(found: np.ndarray, k: int) -> np.ndarray:
    """Remove each row's own index (or, if absent, its last candidate) from ``k + 1``.

    A search may miss the query itself when duplicates of it fill the beam; the row then
    keeps its ``k`` best. Entries of -1 (fewer results than asked) cannot occur while
    ``k < n_samples``, since HNSW connects every inserted point.
    """
    own = np.arange(found.shape[0])[:, None]
    is_self = found == own
    # Rows without their own index drop the last (farthest) candidate instead.
    is_self[~is_self.any(axis=1), -1] = True
    # The first occurrence only, in case a row lists itself twice.
    is_self &= np.cumsum(is_self, axis=1) == 1
    return found[~is_self].reshape(found.shape[0], k).astype(np.int64)


def _import_faiss():
    try:
        import faiss
    except ImportError as error:
        raise ImportError(
            f"approximate kNN search needs faiss: {ANN_EXTRA_HINT}, or search exactly "
            "(method='exact'; an estimator's knn_method='exact'; the command line's "
            "--knn-method exact)"
        ) from error
    return faiss
