"""Turn user graphs of many kinds into one validated, canonical PyG ``Data``.

Every reader and estimator in graphclust works on the same graph currency: a
:class:`torch_geometric.data.Data` with

* ``x``: float32 features of shape ``(N, d)`` with ``N >= 1`` and ``d >= 1``, all finite;
* ``edge_index``: int64 of shape ``(2, E)``, symmetric (``(i, j)`` present iff ``(j, i)``
  is), without duplicates or self-loops, sorted by source then target;
* ``y`` (optional): int64 labels in ``0..K-1``;
* ``num_nodes = N``.

:func:`to_graph` builds that object and refuses, with a message naming the problem, what it
cannot repair. What it does repair (asymmetric edges, duplicates, self-loops, edge weights
and unused ``Data`` attributes) is reported in a single :class:`GraphInputWarning`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from torch_geometric.data import Data, HeteroData

from graphclust._checks import check_label_values
from graphclust._warnings import user_stacklevel
from graphclust.data.edge_inputs import adjacency_edges, edge_index_array

__all__ = ["GraphInputWarning", "label_codes", "to_graph"]

# Data attributes that to_graph understands; anything else on an input Data is dropped
# (and reported) because the canonical edge set no longer lines up with per-edge values.
_DATA_KEYS_KEPT = frozenset({"x", "edge_index", "y", "num_nodes", "name"})


class GraphInputWarning(UserWarning):
    """Issued by :func:`to_graph` when it had to change the input graph.

    A subclass of :class:`UserWarning` so that callers who convert a layout known to list
    both edge directions or self-loops (as the dataset readers do) can filter exactly this
    warning and nothing else.
    """


def _adj_t_edges(adj_t: Any, num_nodes: int) -> tuple[torch.Tensor, bool]:
    """The edges of PyG's ``adj_t`` (a torch sparse tensor, or a torch_sparse
    ``SparseTensor`` where torch-sparse is installed): every stored entry, as
    ``edge_index`` lists every edge whatever its attributes, and whether the entries hold
    values other than 1 (edge weights or attribute vectors, which are ignored)."""
    convert = getattr(adj_t, "to_torch_sparse_coo_tensor", None)
    if callable(convert) and not isinstance(adj_t, torch.Tensor):
        adj_t = convert()
    if not isinstance(adj_t, torch.Tensor) or adj_t.layout == torch.strided:
        raise TypeError("data.adj_t must be a sparse adjacency (a torch sparse tensor or a "
                        f"torch_sparse SparseTensor), got {type(adj_t).__name__}")
    if tuple(adj_t.shape[:2]) != (num_nodes, num_nodes):
        raise ValueError(f"data.adj_t must be N x N with N = {num_nodes} (the rows of data.x), "
                         f"got shape {tuple(adj_t.shape)}")
    coo = adj_t.to_sparse_coo().coalesce()
    row, col = coo.indices()[:2]
    values = coo.values()
    weighted = values.dim() > 1 or bool((values != 1).any())
    return torch.stack([col, row]).to(torch.int64), weighted  # adj_t[i, j]: edge j -> i


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _canonical_edge_index(
    edge_index: torch.Tensor, num_nodes: int
) -> tuple[torch.Tensor, dict[str, int]]:
    r"""Symmetrise, de-duplicate, drop self-loops and sort an edge list.

    Each directed entry :math:`(i, j)` is encoded as the key :math:`iN + j`, so that
    de-duplication and sorting are one ``torch.unique`` call each (no Python loop). The
    result is the edge set :math:`\{(i, j), (j, i) : (i, j) \in E, i \ne j\}`.

    Parameters
    ----------
    edge_index : torch.Tensor
        Integer tensor of shape ``(2, E)`` with entries already checked to lie in
        ``[0, num_nodes)``.
    num_nodes : int
        Number of nodes ``N``.

    Returns
    -------
    edge_index : torch.LongTensor
        Canonical edge list of shape ``(2, E')`` on the input's device.
    report : dict
        ``self_loops_removed``, ``duplicates_removed`` (repeated directed entries) and
        ``reverse_edges_added`` (entries added to make the graph symmetric).
    """
    # Each intermediate is dropped once read: on large graphs this was a fit's peak (about
    # 100 bytes an edge entry held at once), before its memory check could run.
    row, col = edge_index.to(torch.int64)
    kept = row != col
    entries = int(kept.sum())
    keys = row[kept].mul_(num_nodes).add_(col[kept])
    loops = row.numel() - entries
    del row, col, kept
    directed = torch.unique(keys)
    del keys
    reverse = (directed % num_nodes).mul_(num_nodes).add_(directed // num_nodes).sort().values
    # A symmetric input (the usual case) is its own union with its reverse; sorting one
    # copy holds far less than the unique of both.
    undirected = directed if torch.equal(reverse, directed) else \
        torch.unique(torch.cat([directed, reverse]))
    report = {
        "self_loops_removed": loops,
        "duplicates_removed": entries - directed.numel(),
        "reverse_edges_added": undirected.numel() - directed.numel(),
    }
    del directed, reverse
    return torch.stack([undirected // num_nodes, undirected % num_nodes]), report


def _features(X: Any) -> torch.Tensor:
    """Features as a dense float32 tensor (kept on its device for torch input)."""
    if isinstance(X, torch.Tensor):
        x = X.detach()
        if x.layout != torch.strided:
            x = x.to_dense()
    elif sp.issparse(X) or isinstance(X, np.ndarray):
        if X.dtype.kind not in "biuf":
            raise TypeError(
                f"X has unsupported dtype {X.dtype}; features must be numbers "
                "(bool, integer or float)"
            )
        # A writable float32 copy: graph.x never aliases the caller's array (an edit of one
        # would change the other, and a write into a read-only memmap kills the process).
        # Sparse input is cast before it is made dense: a float64 dense copy first would
        # double the peak memory.
        with np.errstate(over="ignore"):  # values beyond float32 are refused below
            x = torch.from_numpy(_dense_float32(X) if sp.issparse(X)
                                 else np.array(X, dtype=np.float32, order="C"))
    else:
        raise TypeError(
            "X must be a numpy array, torch tensor, scipy sparse matrix or "
            f"torch_geometric Data, got {type(X).__module__}.{type(X).__qualname__}"
        )
    if x.is_complex():
        raise TypeError(f"X has unsupported complex dtype {x.dtype}; use real numbers")
    if x.dim() != 2:
        raise ValueError(
            f"X must be 2-D (nodes x features), got {x.dim()}-D with shape {tuple(x.shape)}"
            + ("; use X.reshape(-1, 1) for a single feature" if x.dim() == 1 else "")
        )
    num_nodes, num_features = x.shape
    if num_nodes == 0 or num_features == 0:
        raise ValueError(
            f"empty graph: X has shape {tuple(x.shape)}; at least one node and one "
            "feature are needed"
        )
    # Torch input is copied too (the numpy paths made their copy above).
    x = x.to(torch.float32, copy=isinstance(X, torch.Tensor))
    bad_rows = (~torch.isfinite(x)).any(dim=1)
    if bool(bad_rows.any()):
        first = torch.nonzero(bad_rows).flatten()[:5].tolist()
        if _all_finite(X):  # the float32 cast overflowed, not the data
            raise ValueError(
                f"X has values beyond float32's range (up to "
                f"{float(np.finfo(np.float32).max):.1e}) in {int(bad_rows.sum())} of "
                f"{num_nodes} rows (first rows: {first}); graphclust computes in float32: "
                "rescale the features into its range"
            )
        raise ValueError(
            f"X has NaN or inf values in {int(bad_rows.sum())} of {num_nodes} rows "
            f"(first rows: {first}); impute or drop them first"
        )
    return x


def _dense_float32(X) -> np.ndarray:
    """A sparse matrix as a dense float32 array: duplicate entries summed in the matrix's
    own precision first (as a float64 ``toarray`` did), then cast before it is made dense
    (a float64 dense copy would double the peak memory)."""
    summed = X.tocsr(copy=True)
    summed.sum_duplicates()
    return summed.astype(np.float32).toarray()


def _all_finite(X: Any) -> bool:
    """Whether the caller's features (before the float32 cast) hold only finite values."""
    if isinstance(X, torch.Tensor):  # only on the way to an error: a dense copy is fine
        values = X.detach() if X.layout == torch.strided else X.detach().to_dense()
        return bool(torch.isfinite(values).all())
    values = X.data if sp.issparse(X) else np.asarray(X)
    return bool(np.isfinite(values).all())


def label_codes(y: Any, num_nodes: int) -> torch.Tensor:
    """Labels mapped to ``0..K-1`` in sorted order of the original values; ``y`` of
    another length than ``num_nodes``, NaN or values that cannot be sorted are refused."""
    values = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values.ravel()
    if values.ndim != 1:
        raise ValueError(f"y must have shape (N,) or (N, 1), got {values.shape}")
    if values.shape[0] != num_nodes:
        raise ValueError(
            f"shape mismatch: y has {values.shape[0]} labels but X has {num_nodes} rows"
        )
    if values.dtype.kind == "c":
        raise TypeError(f"y has unsupported complex dtype {values.dtype}")
    check_label_values("y", values, given=y)
    if values.dtype.kind in "iuf" and values.size and values.min() == -1 and (values == 0).any():
        warnings.warn(
            f"y has -1 in {int((values == -1).sum())} of {num_nodes} entries beside classes "
            "from 0: if -1 marks unlabelled nodes (as in scikit-learn and PyG), they are "
            "scored as one more class; drop y or give them their classes",
            GraphInputWarning, stacklevel=user_stacklevel())
    try:
        _, codes = np.unique(values, return_inverse=True)
    except TypeError as err:
        raise TypeError(f"y values cannot be sorted into classes: {err}") from err
    return torch.from_numpy(codes.reshape(-1).astype(np.int64))


def to_graph(X: Any, adjacency: Any = None, y: Any = None) -> Data:
    r"""Validate a graph and return it in graphclust's canonical ``Data`` form.

    Parameters
    ----------
    X : numpy.ndarray, torch.Tensor, scipy.sparse matrix or torch_geometric.data.Data
        Node features, ``(N, d)``; copied to dense float32 (torch input keeps its
        device), so editing the graph's ``x`` never changes ``X``. A ``Data`` object
        brings its own ``x``, ``edge_index`` and ``y`` and is validated and cleaned
        exactly like the separate inputs; without an ``edge_index``, its ``adj_t`` (what
        PyG's ``ToSparseTensor`` leaves) holds the edges.
    adjacency : optional
        The edges, one of

        * a scipy sparse matrix or torch sparse tensor, ``(N, N)``;
        * a dense numpy array or torch tensor, ``(N, N)`` (a square array is always read
          as a matrix, also when ``N == 2``);
        * an integer ``edge_index`` array or tensor of shape ``(2, E)``;
        * a table (a pandas or polars frame) of two integer columns, source and target,
          one edge a row;
        * a networkx graph with ``N`` nodes. If its nodes are exactly ``0..N-1``, node
          ``v`` is row ``v`` of ``X``; other whole numbers are rows in numeric order;
          other names are rows in the order of ``graph.nodes``, which must be their
          sorted order (else the row of each node would be a guess: refused, with how
          to relabel).

        Any nonzero matrix entry :math:`A_{ij}` is an edge; weights are ignored (graph
        structure only). ``None`` (default) gives a graph without edges; building a kNN
        graph is the caller's decision (see :func:`graphclust.data.knn_graph`).
    y : array-like, optional
        Labels, ``(N,)`` or ``(N, 1)``, of any sortable type. Mapped to ``0..K-1`` by the
        sorted order of the distinct values (``np.unique``'s inverse).

    Returns
    -------
    torch_geometric.data.Data
        ``x`` float32 ``(N, d)``; ``edge_index`` int64 ``(2, E)`` holding both directions
        of every edge, without duplicates or self-loops, sorted; ``y`` int64 ``(N,)`` when
        given; ``num_nodes``.

    Raises
    ------
    ValueError
        Non-finite features, empty graphs (no nodes or no features), mismatched sizes of
        ``X``, ``adjacency`` and ``y``, non-square matrices, ``edge_index`` not of shape
        ``(2, E)`` or holding indices outside ``[0, N)``, NaN labels.
    TypeError
        Unsupported input types or dtypes (object, string, complex), an ``edge_index``
        of floats or bools.

    Warns
    -----
    GraphInputWarning
        One warning listing every change made: self-loops removed, duplicate edges
        removed, reverse edges added to symmetrise, weights ignored, ``Data`` attributes
        dropped.

    Examples
    --------
    >>> import numpy as np
    >>> g = to_graph(np.eye(3), np.array([[0, 1], [1, 2]]), y=["b", "a", "b"])
    >>> g.edge_index.tolist(), g.y.tolist()
    ([[0, 1, 1, 2], [1, 0, 2, 1]], [1, 0, 1])
    """
    if isinstance(X, HeteroData):
        raise TypeError(
            "a HeteroData (several node or edge types) is not supported: pass one "
            "homogeneous graph, e.g. data.to_homogeneous() where every node type's features "
            "have one width, or one node type's x with the edges among its nodes")
    changes: list[str] = []
    name = None
    if isinstance(X, Data):
        data = X
        if adjacency is not None or y is not None:
            raise ValueError(
                "pass either a Data object or X with adjacency/y, not both: the Data "
                "already carries edge_index and y"
            )
        if data.x is None:
            raise ValueError("the Data object has no node features (data.x is None)")
        # PyG's ToSparseTensor moves the edges into adj_t (the adjacency, transposed):
        # without an edge_index, those are the edges (their direction does not matter,
        # every edge is kept both ways).
        edges_in_adj_t = data.edge_index is None and data.get("adj_t") is not None
        read = _DATA_KEYS_KEPT | ({"adj_t"} if edges_in_adj_t else set())
        dropped = sorted(set(data.keys()) - read)
        if dropped:
            changes.append(f"dropped Data attributes {dropped}")
        if isinstance(data.get("name"), str):
            name = data.name
        x = _features(data.x)
        num_nodes = x.shape[0]
        if "num_nodes" in data.keys() and data.num_nodes != num_nodes:
            raise ValueError(
                f"shape mismatch: data.num_nodes is {data.num_nodes} but data.x has "
                f"{num_nodes} rows"
            )
        if edges_in_adj_t:
            edge_index, weighted = _adj_t_edges(data.adj_t, num_nodes)
            if weighted:
                changes.append("ignored adj_t's edge values (every stored entry is an edge, "
                               "as with edge_index and its edge attributes)")
        elif data.edge_index is None:
            edge_index = torch.empty((2, 0), dtype=torch.int64)
        elif isinstance(data.edge_index, torch.Tensor):
            edge_index = edge_index_array(data.edge_index, num_nodes, "data.edge_index")
        else:
            raise TypeError(
                f"data.edge_index must be a torch tensor, got {type(data.edge_index)}"
            )
        y = data.y
    else:
        x = _features(X)
        num_nodes = x.shape[0]
        edge_index, weights_ignored = adjacency_edges(adjacency, num_nodes)
        if weights_ignored:
            changes.append("ignored edge weights (any nonzero entry is an edge)")
    labels = None if y is None else label_codes(y, num_nodes).to(x.device)
    edge_index, report = _canonical_edge_index(edge_index.to(x.device), num_nodes)
    if report["self_loops_removed"]:
        changes.append(f"removed {_count(report['self_loops_removed'], 'self-loop')}")
    if report["duplicates_removed"]:
        changes.append(f"removed {_count(report['duplicates_removed'], 'duplicate edge')}")
    if report["reverse_edges_added"]:
        changes.append(
            f"symmetrised by adding {_count(report['reverse_edges_added'], 'reverse edge')}"
        )
    if changes:
        warnings.warn("to_graph changed the input graph: " + "; ".join(changes) + ".",
                      GraphInputWarning, stacklevel=user_stacklevel())
    graph = Data(x=x, edge_index=edge_index, y=labels, num_nodes=num_nodes)
    if name is not None:
        graph.name = name
    return graph
