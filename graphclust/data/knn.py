"""k-nearest-neighbour graphs from a feature matrix: exact, or approximate for large inputs.

``method="auto"`` (default) is exact up to :data:`APPROXIMATE_ABOVE` points or on CUDA; above
it on the CPU it is the approximate search of :mod:`graphclust.data.knn_approximate` if the
``[ann]`` extra is installed (else exact, with a warning naming it). Approximate neighbours
are not always the exact ones (recall@k in ``benchmarks/results/knn.md``).

The exact search is brute force but blocked: the ``N x N`` score matrix is never built. Query rows
and candidate columns are both cut into blocks of ``block_size``; each ``block x block`` score
tile is reduced to its best candidates at once and merged into a running ``(rows, k)`` result.
Memory is therefore ``O(N * k + block_size ** 2)`` and the work ``O(N ** 2 * d)``, all of it in
dense torch kernels that run unchanged on CPU or CUDA.

Ranking is by a score where larger means closer:

* ``"cosine"``: :math:`s_{ij} = \\hat x_i^\\top \\hat x_j` with
  :math:`\\hat x = x / \\lVert x \\rVert_2`. A row of zeros has no direction; like
  :func:`sklearn.preprocessing.normalize` we leave it at zero, so its similarity to every
  point is 0 (cosine distance 1). Its own neighbours are then the lowest-index other points.
* ``"euclidean"``: :math:`d_{ij} = \\lVert x_i \\rVert^2 + \\lVert x_j \\rVert^2
  - 2 x_i^\\top x_j`, clamped at 0 because rounding can make it slightly negative for
  (near-)duplicate rows; the score is :math:`-\\max(d_{ij}, 0)`.
* ``"heat"``: SDCN's heat-kernel similarity :math:`\\exp(-\\lVert x_i - x_j \\rVert^2 / t)`.
  It is strictly decreasing in the squared distance for every bandwidth ``t > 0``, so its
  top-k are exactly the euclidean top-k; it shares the euclidean code path and has no ``t``.
  (Computing the kernel itself, as SDCN does, underflows to 0 for far points and turns them
  into ties; ranking by distance avoids that.)

A point is never its own neighbour, even when other points duplicate it. Equal scores are
broken towards the lower column index, so the result is deterministic. It is independent of
the block size whenever the scores themselves are: BLAS may round the same dot product
differently for different tile shapes, which can reorder near-duplicates.
"""

from __future__ import annotations

import math
import warnings

import torch

from graphclust._checks import check_flag, check_integer
from graphclust._warnings import user_stacklevel
from graphclust.data.knn_approximate import ANN_EXTRA_HINT, approximate_knn_indices, has_ann
from graphclust.data.knn_inputs import check_k, feature_tensor

__all__ = ["APPROXIMATE_ABOVE", "METHODS", "METRICS", "knn_graph", "knn_indices"]

METRICS = ("cosine", "euclidean", "heat")
"""Metrics accepted by :func:`knn_indices` and :func:`knn_graph`."""

METHODS = ("auto", "exact", "approximate")
"""Search methods accepted by :func:`knn_indices` and :func:`knn_graph`."""

APPROXIMATE_ABOVE = 100_000
"""``method="auto"`` searches approximately above this many points (on the CPU, with the
``[ann]`` extra): the exact search takes 45 s at 100k points and 8 min at 300k on 2 cores."""

# Target size of one score tile (block_size ** 2 entries) plus its two operand slices.
_BLOCK_BUDGET_BYTES = 128 * 2**20


def knn_indices(
    X,
    k: int = 10,
    metric: str = "cosine",
    *,
    block_size: int | None = None,
    device: str | torch.device | None = None,
    method: str = "auto",
) -> torch.Tensor:
    """Indices of the ``k`` nearest neighbours of every row of ``X``, self excluded.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Finite feature matrix (numpy array, torch tensor or nested sequence). float64 input is
        searched in float64, anything else in float32.
    k : int, default=10
        Number of neighbours per point, ``1 <= k < n_samples``.
    metric : {"cosine", "euclidean", "heat"}, default="cosine"
        Similarity used for ranking; see the module docstring for the exact definitions.
    block_size : int, optional
        Rows and columns per score tile. By default the largest ``b`` (at most
        ``n_samples``) with ``(b ** 2 + 2 * b * n_features) * itemsize <= 128 MiB``, i.e. one
        tile of about 128 MiB (5,700 x 5,700 float32 at 64 features). At most one copy of a
        tile's rows is made on top, so the extra memory stays below about 256 MiB.
    device : str or torch.device, optional
        Where to compute. Default: the device of ``X`` if it is a tensor, else the CPU.
        The approximate search always runs on the CPU; its result is moved to ``device``.
    method : {"auto", "exact", "approximate"}, default="auto"
        ``"exact"``: the blocked search above. ``"approximate"``: faiss's HNSW index
        (:mod:`graphclust.data.knn_approximate`; needs ``pip install 'graphclust[ann]'``;
        ``block_size`` is unused). ``"auto"``: approximate for more than
        :data:`APPROXIMATE_ABOVE` points on the CPU when faiss is installed, else exact.

    Returns
    -------
    torch.LongTensor of shape (n_samples, k)
        Row ``i`` lists the neighbours of point ``i`` from closest to farthest; equal scores are
        ordered by index (exact search). On ``device``.

    Raises
    ------
    TypeError
        If ``X`` is sparse, complex or not numeric, or ``k``/``block_size`` is not an integer.
    ValueError
        If ``X`` is not 2-D, is empty or holds NaN/inf, if ``k`` is out of range, if the metric
        or method is unknown, or if euclidean squared norms overflow the working dtype.
    ImportError
        If ``method="approximate"`` and faiss (the ``[ann]`` extra) is not installed.
    """
    features = feature_tensor(X, device)
    n_samples, n_features = features.shape
    check_k(k, n_samples)
    metric = _check_metric(metric)
    if _resolve_method(method, n_samples, features.device) == "approximate":
        with torch.no_grad():
            points = _prepare_operands(features, metric)["points"]
        return approximate_knn_indices(points, k, metric)
    block_size = _resolve_block_size(block_size, n_samples, n_features, features.element_size())
    with torch.no_grad():
        operands = _prepare_operands(features, metric)
        neighbours = torch.empty((n_samples, k), dtype=torch.long, device=features.device)
        for start in range(0, n_samples, block_size):
            stop = min(start + block_size, n_samples)
            neighbours[start:stop] = _query_block_neighbours(operands, start, stop, k, block_size)
    return neighbours


def knn_graph(
    X,
    k: int = 10,
    metric: str = "cosine",
    *,
    block_size: int | None = None,
    device: str | torch.device | None = None,
    symmetric: bool = True,
    method: str = "auto",
) -> torch.Tensor:
    """k-nearest-neighbour graph of the rows of ``X`` as an ``edge_index``.

    Every point ``i`` gets an edge ``i -> j`` to each of its ``k`` nearest neighbours ``j``
    (:func:`knn_indices`; never itself). With ``symmetric=True`` the reverse edges are added
    and duplicates removed, giving the undirected graph in which ``i`` and ``j`` are linked
    when either is among the other's neighbours; every node then has degree at least ``k``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Finite feature matrix.
    k : int, default=10
        Neighbours per point, ``1 <= k < n_samples``.
    metric : {"cosine", "euclidean", "heat"}, default="cosine"
        See :func:`knn_indices`.
    block_size : int, optional
        Tile size of the blocked search; see :func:`knn_indices`.
    device : str or torch.device, optional
        Where to compute; see :func:`knn_indices`.
    symmetric : bool, default=True
        Return the union of ``i -> j`` and ``j -> i`` (what the data loaders use) instead of
        the directed kNN relation.
    method : {"auto", "exact", "approximate"}, default="auto"
        Exact or approximate neighbours; see :func:`knn_indices`.

    Returns
    -------
    torch.LongTensor of shape (2, n_edges)
        Edges sorted by (source, target), without duplicates or self-loops. ``n_edges`` is
        ``n_samples * k`` when ``symmetric=False`` and between that and twice that otherwise.
    """
    # Checked before the search: any string, "False" too, is truthy.
    symmetric = check_flag("symmetric", symmetric)
    neighbours = knn_indices(X, k, metric, block_size=block_size, device=device, method=method)
    n_samples = neighbours.shape[0]
    sources = torch.arange(n_samples, device=neighbours.device).repeat_interleave(k)
    if not symmetric:
        targets = neighbours.sort(dim=1).values.reshape(-1)
        return torch.stack([sources, targets])
    targets = neighbours.reshape(-1)
    # One int64 key per directed edge: sorting the keys sorts by (source, target) and
    # torch.unique drops the edges that both endpoints contributed.
    keys = torch.cat([sources * n_samples + targets, targets * n_samples + sources]).unique()
    return torch.stack([keys // n_samples, keys % n_samples])


def _check_metric(metric: str) -> str:
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; valid metrics are {', '.join(METRICS)}")
    return metric


def _resolve_method(method: str, n_samples: int, device: torch.device) -> str:
    """``"exact"`` or ``"approximate"``: the user's choice, or what ``"auto"`` picks."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid methods are {', '.join(METHODS)}")
    if method != "auto":
        return method
    if n_samples <= APPROXIMATE_ABOVE or device.type != "cpu":
        return "exact"
    if has_ann():
        return "approximate"
    warnings.warn(
        f"exact kNN search of {n_samples} points costs O(N^2) (minutes to hours on a CPU); "
        f"for the approximate search: {ANN_EXTRA_HINT}",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
    return "exact"


def _resolve_block_size(
    block_size: int | None, n_samples: int, n_features: int, itemsize: int
) -> int:
    """Tile size: the user's choice, or the largest one that fits the memory budget."""
    if block_size is None:
        # Largest b with b**2 + 2*b*d entries <= budget: the positive root of that quadratic.
        entries = _BLOCK_BUDGET_BYTES // itemsize
        block = int(math.sqrt(n_features**2 + entries)) - n_features
        return max(1, min(block, n_samples))
    return min(check_integer("block_size", block_size, 1, accepts="an integer or None"),
               n_samples)


def _prepare_operands(features: torch.Tensor, metric: str) -> dict[str, torch.Tensor]:
    """Per-metric operands so that ``score(i, j)`` is one matrix product plus O(1) per entry."""
    if metric == "cosine":
        # Dividing by the largest |x| first keeps the squared norm from overflowing for huge
        # values; the direction, which is all cosine looks at, is unchanged. Zero rows stay 0.
        scale = features.abs().amax(dim=1, keepdim=True)
        unit = features / torch.where(scale > 0, scale, torch.ones_like(scale))
        norms = torch.linalg.vector_norm(unit, dim=1, keepdim=True)
        unit = unit / torch.where(norms > 0, norms, torch.ones_like(norms))
        return {"points": unit}
    # "euclidean" and "heat" rank identically (the heat kernel is monotone in the distance).
    squared_norms = features.square().sum(dim=1)
    # |2 x_i.x_j| <= |x_i|^2 + |x_j|^2, so this bound keeps every score finite.
    limit = torch.finfo(features.dtype).max / 4
    if not bool(squared_norms.max() < limit):
        raise ValueError(
            f"squared row norms of X overflow {features.dtype} in the euclidean expansion; "
            "rescale X or pass float64"
        )
    return {"points": features, "squared_norms": squared_norms}


def _score_tile(
    operands: dict[str, torch.Tensor], rows: slice, cols: slice, out: torch.Tensor
) -> torch.Tensor:
    """Fill ``out`` with scores (larger = closer) of query ``rows`` against candidate ``cols``."""
    points = operands["points"]
    if "squared_norms" not in operands:
        return torch.mm(points[rows], points[cols].T, out=out)
    squared_norms = operands["squared_norms"]
    # -max(d_ij, 0) = min(2 x_i.x_j - |x_j|^2, |x_i|^2) - |x_i|^2; the row constant |x_i|^2
    # does not change a row's ranking, so it is left out and only the clamp is kept.
    torch.addmm(-squared_norms[cols].unsqueeze(0), points[rows], points[cols].T, alpha=2, out=out)
    return out.clamp_(max=squared_norms[rows].unsqueeze(1))


def _query_block_neighbours(
    operands: dict[str, torch.Tensor], start: int, stop: int, k: int, block_size: int
) -> torch.Tensor:
    """Neighbours of query rows ``start:stop`` against all points, one column tile at a time.

    The running best ``k`` per row are kept sorted by (score descending, index ascending).
    Column tiles are visited in increasing index order, so a candidate that only ties the
    current k-th score never displaces it, and a row whose best score in a tile does not
    beat its k-th score can skip that tile's top-k. After ``c`` tiles a row expects about
    ``k / c`` improving candidates in the next one, so skipping pays off on large inputs.
    """
    points = operands["points"]
    n_samples = points.shape[0]
    n_rows = stop - start
    device, dtype = points.device, points.dtype
    best_scores = torch.full((n_rows, k), -math.inf, dtype=dtype, device=device)
    best_indices = torch.full((n_rows, k), -1, dtype=torch.long, device=device)
    tile_buffer = torch.empty(n_rows * block_size, dtype=dtype, device=device)
    for col_start in range(0, n_samples, block_size):
        col_stop = min(col_start + block_size, n_samples)
        scores = tile_buffer[: n_rows * (col_stop - col_start)].view(n_rows, -1)
        _score_tile(operands, slice(start, stop), slice(col_start, col_stop), scores)
        _mask_self(scores, start, stop, col_start, col_stop)
        improving_rows = (scores.amax(dim=1) > best_scores[:, -1]).nonzero().squeeze(1)
        if improving_rows.numel() == 0:
            continue
        if 2 * improving_rows.numel() <= n_rows:
            # Copying the few improving rows is cheaper than a top-k over all of them.
            scores = scores[improving_rows]
        else:
            # Rows that cannot improve go through top-k too; the merge leaves them unchanged.
            improving_rows = slice(None)
        tile_scores, tile_indices = _tile_topk(scores, k)
        merged_scores, merged_indices = _merge_sorted(
            best_scores[improving_rows],
            best_indices[improving_rows],
            tile_scores,
            tile_indices + col_start,
            k,
        )
        best_scores[improving_rows] = merged_scores
        best_indices[improving_rows] = merged_indices
    return best_indices


def _mask_self(scores: torch.Tensor, start: int, stop: int, col_start: int, col_stop: int) -> None:
    """Set the score of each point against itself to -inf (where the tile holds it)."""
    first, last = max(start, col_start), min(stop, col_stop)
    if first < last:
        own = torch.arange(first, last, device=scores.device)
        scores[own - start, own - col_start] = -math.inf


def _tile_topk(scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Best ``min(k, n_cols)`` columns per row, ties resolved towards the lower column.

    ``torch.topk`` does not say which of several equal values it returns. Asking for one
    extra value shows where that matters: only rows whose k-th and (k+1)-th values are equal.
    Those rows (rare unless points are duplicated) are redone exactly: every column scoring
    above the k-th value, then the lowest-index columns equal to it until k are taken.
    """
    n_cols = scores.shape[1]
    if n_cols <= k:
        return scores, torch.arange(n_cols, device=scores.device).expand_as(scores)
    top_scores, top_indices = scores.topk(k + 1, dim=1)
    tied = (top_scores[:, k - 1] == top_scores[:, k]).nonzero().squeeze(1)
    top_scores, top_indices = top_scores[:, :k], top_indices[:, :k]
    if tied.numel() > 0:
        tied_scores = scores[tied]
        kth = top_scores[tied, k - 1 :]
        above = tied_scores > kth
        at_kth = tied_scores == kth
        still_needed = k - above.sum(dim=1, keepdim=True)
        chosen = above | (at_kth & (at_kth.cumsum(dim=1) <= still_needed))
        columns = chosen.nonzero()[:, 1].view(-1, k)
        top_scores[tied] = tied_scores.gather(1, columns)
        top_indices[tied] = columns
    return top_scores, top_indices


def _merge_sorted(
    scores_a: torch.Tensor,
    indices_a: torch.Tensor,
    scores_b: torch.Tensor,
    indices_b: torch.Tensor,
    k: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Best ``k`` of two candidate lists per row by (score descending, index ascending)."""
    scores = torch.cat([scores_a, scores_b], dim=1)
    indices = torch.cat([indices_a, indices_b], dim=1)
    # Two stable sorts make a lexicographic one: by index first, then by score.
    indices, by_index = indices.sort(dim=1, stable=True)
    scores = scores.gather(1, by_index)
    scores, by_score = scores.sort(dim=1, descending=True, stable=True)
    indices = indices.gather(1, by_score)
    return scores[:, :k], indices[:, :k]
