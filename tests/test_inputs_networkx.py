"""to_graph with a networkx graph: which row of X each node is, and what is reported."""

from __future__ import annotations

import warnings

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from torch_geometric.data import Data

from graphclust.data import GraphInputWarning, to_graph


def _no_warning_to_graph(*args, **kwargs) -> Data:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return to_graph(*args, **kwargs)


def test_networkx_whole_number_ids_are_rows_in_numeric_order():
    """Ids from 1, or in the order an edge list names them: numeric order, not a guess."""
    graph = nx.Graph([(3, 1), (4, 2)])  # graph.nodes: 3, 1, 4, 2
    assert _no_warning_to_graph(np.eye(4), graph).edge_index.tolist() == \
        [[0, 1, 2, 3], [2, 3, 0, 1]]


def test_networkx_nodes_that_are_not_0_to_n_map_by_their_order_when_it_is_sorted():
    graph = nx.DiGraph()
    graph.add_nodes_from("abc")  # a->0, b->1, c->2: the graph's order is the sorted one
    graph.add_edges_from([("c", "a"), ("a", "b")])
    with pytest.warns(GraphInputWarning, match="adding 2 reverse edges"):
        result = to_graph(np.eye(3), graph)
    assert result.edge_index.tolist() == [[0, 0, 1, 2], [1, 2, 0, 0]]


def test_networkx_names_whose_graph_order_is_not_sorted_are_refused():
    """"n0".."n10" in the graph's order: sorted as text, "n10" would be row 2 and every
    later row would get another node's edges. Refused, naming the first moved node and
    both relabellings; the relabelled graph is read as the integer one."""
    graph = nx.path_graph([f"n{v}" for v in range(11)])
    with pytest.raises(ValueError, match=r"node 'n2' is at position 2 of graph.nodes, "
                                         r"'n10' sorts there.*convert_node_labels_to_integers"):
        to_graph(np.eye(11), graph)
    relabelled = nx.convert_node_labels_to_integers(graph)
    assert _no_warning_to_graph(np.eye(11), relabelled).edge_index.tolist() == \
        _no_warning_to_graph(np.eye(11), nx.path_graph(11)).edge_index.tolist()


@pytest.mark.parametrize("make", [nx.Graph, nx.DiGraph])
def test_networkx_self_loop_is_counted_once_as_for_scipy(make):
    graph = make([(0, 1), (1, 0), (1, 2), (2, 1), (2, 2)])
    with pytest.warns(GraphInputWarning) as from_networkx:
        result = to_graph(np.eye(3), graph)
    matrix = sp.csr_matrix(nx.to_numpy_array(graph))
    with pytest.warns(GraphInputWarning) as from_scipy:
        to_graph(np.eye(3), matrix)
    assert str(from_networkx[0].message) == str(from_scipy[0].message)
    assert "removed 1 self-loop." in str(from_networkx[0].message)
    assert result.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]


def test_networkx_edge_weights_are_reported_as_ignored():
    graph = nx.Graph()
    graph.add_weighted_edges_from([(0, 1, 2.5), (1, 2, 1.0)])
    with pytest.warns(GraphInputWarning, match="ignored edge weights"):
        to_graph(np.eye(3), graph)
    _no_warning_to_graph(np.eye(3), nx.Graph([(0, 1), (1, 2)]))  # unweighted: silent


def test_networkx_nodes_written_as_numbers_must_sort_in_numeric_order():
    """``nx.read_edgelist`` names nodes "0", "1", ..., "10": sorted as text, node "10"
    would be row 2. Refused, with the remedy; names whose text order is their numeric
    order (zero-padded) keep the documented sorted order."""
    graph = nx.path_graph([str(v) for v in range(11)])
    with pytest.raises(ValueError, match=r"whole numbers written as text \('0', '1', '10'.*"
                                         r"nodetype=int"):
        to_graph(np.eye(11), graph)
    padded = nx.relabel_nodes(graph, {str(v): f"{v:02d}" for v in range(11)})
    result = _no_warning_to_graph(np.eye(11), padded)
    assert result.edge_index.tolist() == _no_warning_to_graph(
        np.eye(11), nx.path_graph(11)).edge_index.tolist()


def test_networkx_nodes_that_cannot_be_sorted_are_refused():
    graph = nx.Graph([("a", 1), (1, 2)])
    with pytest.raises(TypeError, match="cannot be sorted"):
        to_graph(np.eye(3), graph)
