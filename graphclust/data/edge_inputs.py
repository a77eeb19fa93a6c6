"""Edges of a user graph, from whatever form it came in: a networkx graph, a dense or sparse
adjacency matrix, or a ``(2, E)`` edge list.

Each reader returns a ``(2, E)`` int64 tensor of directed entries (not yet canonical:
:func:`graphclust.data.inputs.to_graph` symmetrises, de-duplicates and drops self-loops) and
whether it ignored edge weights, which ``to_graph`` reports.
"""

from __future__ import annotations

import numbers
import sys
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from graphclust._arrays import tensor_of

__all__ = ["adjacency_edges", "edge_index_array", "is_networkx_graph"]


def _check_node_count(num_nodes: int, adjacency_nodes: int, what: str) -> None:
    if adjacency_nodes != num_nodes:
        raise ValueError(
            f"shape mismatch: {what} has {adjacency_nodes} nodes but X has {num_nodes} rows"
        )


def _edges_from_matrix(
    rows: np.ndarray | torch.Tensor, cols: np.ndarray | torch.Tensor, values: Any
) -> tuple[torch.Tensor, bool]:
    """Edge list of the nonzero entries; whether values other than 0/1 were ignored."""
    rows, cols = torch.as_tensor(rows), torch.as_tensor(cols)
    values = torch.as_tensor(values)
    if values.dtype == torch.bool:
        nonzero = values
        weighted = False
    else:
        if values.is_floating_point() and not bool(torch.isfinite(values).all()):
            raise ValueError("adjacency has NaN or inf entries")
        nonzero = values != 0
        weighted = bool((values[nonzero] != 1).any())
    return torch.stack([rows[nonzero], cols[nonzero]]).to(torch.int64), weighted


def edge_index_array(edge_index: torch.Tensor, num_nodes: int, name: str = "edge_index",
                     received=None) -> torch.Tensor:
    """Validate an explicit ``(2, E)`` edge list; ``name`` is the argument it came in
    (``adjacency``, ``data.edge_index``), ``received`` its dtype as given (a numpy array's,
    before its conversion to a tensor) for the messages.

    A dtype that cannot hold node ids is a ``TypeError``, as in
    :func:`graphclust._checks.check_edge_index` (wrong type: ``TypeError``; wrong shape or
    ids: ``ValueError``, as numpy and scikit-learn do).
    """
    # Only an adjacency could have been meant as a matrix; a Data's edge_index could not.
    square = "; a dense adjacency matrix must be square (N x N)" if name != "data.edge_index" \
        else ""
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"{name} must have shape (2, E), got {tuple(edge_index.shape)}{square}")
    if edge_index.is_floating_point() or edge_index.is_complex() or (
        edge_index.dtype == torch.bool
    ):
        # np.loadtxt reads ids as floats: say how to cast rather than only refuse.
        raise TypeError(
            f"{name} is read as an edge_index of shape (2, E), which must hold integer node "
            f"ids, got dtype {edge_index.dtype if received is None else received}; cast "
            f"whole-number ids to integers (.astype(np.int64), .long()){square}")
    edge_index = edge_index.to(torch.int64)
    if edge_index.numel():
        low, high = int(edge_index.min()), int(edge_index.max())
        if low < 0 or high >= num_nodes:
            # Ids from 1 to N are the usual mistake: say so rather than only the range.
            counted_from_one = " (numbered from 1? subtract 1: row v of X is node v)" \
                if low == 1 and high == num_nodes else ""
            raise ValueError(
                f"{name} has node indices outside [0, {num_nodes}): min {low}, "
                f"max {high}, with N={num_nodes} nodes (rows of X){counted_from_one}"
            )
    return edge_index


def is_networkx_graph(value) -> bool:
    # A networkx graph can only exist once networkx is imported: checking sys.modules
    # spares everyone else networkx's import (about a second of start-up).
    networkx = sys.modules.get("networkx")
    return networkx is not None and isinstance(value, networkx.Graph)


def _networkx_edges(graph, num_nodes: int) -> tuple[torch.Tensor, bool]:
    """Edge list of a networkx graph and whether it had edge weights (ignored).

    Node ``v`` maps to row ``v``; other whole-number names map to their rank in numeric
    order; any other names to their rank in ``graph.nodes``, which must be their sorted
    order (:func:`_refuse_ambiguous_order`). Each edge is read once from
    ``graph.edges`` (both directions for an undirected graph), so the changes reported
    later (self-loops, duplicates of a multigraph) count the user's edges: networkx's
    sparse export repeats a self-loop's diagonal entry.
    """
    _check_node_count(num_nodes, graph.number_of_nodes(), "the networkx graph")
    nodes = list(graph.nodes)
    if set(nodes) == set(range(num_nodes)):
        row_of = {node: node for node in nodes}
    else:
        try:
            order = sorted(nodes)
        except TypeError as err:
            raise TypeError(
                "networkx nodes are not 0..N-1 and cannot be sorted to define the row "
                f"order ({err}); relabel them with nx.convert_node_labels_to_integers"
            ) from err
        _refuse_text_numbers(order)
        if not all(isinstance(node, numbers.Integral) for node in nodes):
            _refuse_ambiguous_order(nodes, order)
        row_of = {node: row for row, node in enumerate(order)}
    pairs = [(row_of[u], row_of[v], data) for u, v, data in graph.edges(data=True)]
    weighted = any(data.get("weight", 1) != 1 for _, _, data in pairs)
    if not pairs:
        return torch.empty((2, 0), dtype=torch.int64), weighted
    edges = torch.tensor([(u, v) for u, v, _ in pairs], dtype=torch.int64).T
    if not graph.is_directed():
        # An undirected edge is both directions; a self-loop is one entry, not two.
        reverse = edges.flip(0)[:, edges[0] != edges[1]]
        edges = torch.cat([edges, reverse], dim=1)
    return edges, weighted


def _refuse_text_numbers(order: list) -> None:
    """Refuse node names that are whole numbers written as text ("0", "1", "10", ...,
    what ``nx.read_edgelist`` gives by default) when their sorted order is not their
    numeric order: the user means node "10" as row 10, the sorted order makes it row 2."""
    if not all(isinstance(node, str) and node.isdecimal() for node in order):
        return
    if order != sorted(order, key=int):
        raise ValueError(
            f"the networkx graph's nodes are whole numbers written as text ({order[0]!r}, "
            f"{order[1]!r}, {order[2] if len(order) > 2 else order[-1]!r}, ...), whose "
            "sorted order (row i = the i-th smallest name) is not their numeric order; "
            "read the graph with nodetype=int (nx.read_edgelist(..., nodetype=int)) or "
            "relabel the nodes with integers so that node v is row v of X")


def _refuse_ambiguous_order(nodes: list, order: list) -> None:
    """Refuse names that are not whole numbers and whose order in the graph
    (``graph.nodes``, the order networkx's and PyG's exports use) is not their sorted
    order: which row of X each node is would be a guess, and a wrong guess gives every
    row another node's edges without any error ("n10" sorts before "n2"). Numbered nodes
    (ids from 1, or with gaps) keep their numeric order, which is not a guess."""
    if nodes == order:
        return
    moved = next(row for row, (node, rank) in enumerate(zip(nodes, order, strict=True))
                 if node != rank)
    raise ValueError(
        f"the networkx graph's nodes are names, and their order in the graph is not "
        f"their sorted order (node {nodes[moved]!r} is at position {moved} of graph.nodes, "
        f"{order[moved]!r} sorts there), so which row of X each node is would be a guess; "
        "relabel the nodes with integers so that node v is row v of X, e.g. "
        "nx.convert_node_labels_to_integers(G) when X's rows follow G.nodes, or "
        "nx.convert_node_labels_to_integers(G, ordering='sorted') when they follow the "
        "sorted names")


def _table_edges(table, num_nodes: int) -> torch.Tensor:
    """The edges of a table (a pandas or polars frame) of two integer columns, source
    and target, one edge a row: the common form of an edge list, and, unlike an (E, 2)
    array, one that cannot be read the other way round."""
    columns = list(table.columns)
    if len(columns) != 2:
        square = len(columns) == len(table) == num_nodes
        raise ValueError(
            f"an edge table needs two columns, source and target, got {len(columns)}: "
            f"{columns[:5]}; select them (table[[source, target]]), edge weights are "
            "not read" + ("; an N x N adjacency matrix in a frame is read as "
                          "table.to_numpy()" if square else ""))
    # pandas names a missing value whatever the column type (NaN, pd.NA, None).
    if hasattr(table, "isna") and bool(table.isna().to_numpy().any()):
        raise ValueError("an edge table's columns have missing values; drop those rows "
                         "(table.dropna()) first")
    values = table.to_numpy()
    if values.dtype == object and all(getattr(dtype, "kind", "O") in "iu"
                                      for dtype in table.dtypes):
        # pandas' nullable integer columns ("Int64": read_csv's numpy_nullable backend)
        # hand out objects; without a missing value they are plain integers.
        values = table.to_numpy(dtype=np.int64)
    if values.dtype.kind not in "iu":
        raise TypeError(
            f"an edge table's columns must hold node rows as integers, got dtype "
            f"{values.dtype}")
    # A copy: pandas may hand out a read-only view, which torch warns about.
    return edge_index_array(torch.from_numpy(np.array(values.T, order="C")), num_nodes,
                            "an edge table")


def adjacency_edges(adjacency: Any, num_nodes: int) -> tuple[torch.Tensor, bool]:
    """Edge list of any supported adjacency; whether edge weights were ignored."""
    if adjacency is None:
        return torch.empty((2, 0), dtype=torch.int64), False
    if is_networkx_graph(adjacency):
        return _networkx_edges(adjacency, num_nodes)
    if sp.issparse(adjacency):
        if adjacency.ndim != 2 or adjacency.shape[0] != adjacency.shape[1]:
            raise ValueError(
                f"adjacency must be square (N x N), got shape {tuple(adjacency.shape)}"
            )
        _check_node_count(num_nodes, adjacency.shape[0], "the adjacency matrix")
        coo = sp.coo_array(adjacency, copy=True)
        if coo.dtype.kind not in "biuf":
            raise TypeError(f"adjacency has unsupported dtype {coo.dtype}")
        # Stored duplicates add up, as the matrix they stand for does (a torch sparse
        # adjacency is coalesced the same way): entries that cancel are no edge. Summed as
        # int64: uint8 duplicates summing to 256 had wrapped to 0, an edge lost.
        if coo.dtype.kind in "iu" and coo.dtype.itemsize < 8:
            coo = coo.astype(np.int64)
        coo.sum_duplicates()
        return _edges_from_matrix(coo.row, coo.col, coo.data)
    if hasattr(adjacency, "columns") and hasattr(adjacency, "to_numpy"):
        return _table_edges(adjacency, num_nodes), False
    received = None
    if isinstance(adjacency, np.ndarray):
        received = adjacency.dtype  # named as given, not as the tensor it becomes
        if adjacency.dtype.kind not in "biuf":
            raise TypeError(
                f"adjacency has unsupported dtype {adjacency.dtype}; use numbers or bool"
            )
        adjacency = tensor_of(adjacency)
    if not isinstance(adjacency, torch.Tensor):
        raise TypeError(
            "adjacency must be a scipy sparse matrix, a dense (N x N) numpy array or "
            "torch tensor, an edge_index (2 x E), a table of (source, target) rows or a "
            "networkx graph, got "
            f"{type(adjacency).__module__}.{type(adjacency).__qualname__}"
        )
    if adjacency.is_complex():  # dense or sparse: an edge has no complex weight
        raise TypeError(f"adjacency has unsupported dtype {adjacency.dtype}")
    if adjacency.layout != torch.strided:
        if adjacency.dim() != 2 or adjacency.shape[0] != adjacency.shape[1]:
            raise ValueError(
                f"adjacency must be square (N x N), got shape {tuple(adjacency.shape)}"
            )
        _check_node_count(num_nodes, adjacency.shape[0], "the adjacency matrix")
        coo = adjacency.to_sparse_coo().coalesce()
        return _edges_from_matrix(*coo.indices(), coo.values())
    if tuple(adjacency.shape) == (num_nodes, num_nodes):
        # Checked before the edge-list reading so that the documented rule holds when
        # N == 2, the one case where a (2, 2) array could be either.
        rows, cols = torch.nonzero(adjacency != 0, as_tuple=True)
        return _edges_from_matrix(rows, cols, adjacency[rows, cols])
    if adjacency.dim() == 2 and adjacency.shape[0] == 2:
        return edge_index_array(adjacency, num_nodes, "adjacency", received), False
    if adjacency.dim() == 2 and adjacency.shape[0] == adjacency.shape[1]:
        _check_node_count(num_nodes, adjacency.shape[0], "the adjacency matrix")
    raise ValueError(
        "adjacency must be a square (N x N) matrix or an edge_index of shape (2, E), "
        f"got shape {tuple(adjacency.shape)}"
    )
