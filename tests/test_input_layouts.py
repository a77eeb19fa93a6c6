"""Inputs of unusual layout or dtype: arrays torch cannot take as they are, complex
sparse adjacencies, small-integer duplicates."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from graphclust.data import GraphInputWarning, to_graph


@pytest.mark.parametrize("layout", ["reversed", "big-endian", "read-only", "field"])
def test_arrays_of_any_layout_are_read_as_their_values(layout):
    # torch.from_numpy refuses negative strides and a foreign byte order, and warns on a
    # read-only array: kNN search, adjacency matrices and the graph scores had passed
    # those errors on.
    from graphclust.data.knn import knn_indices
    from graphclust.metrics import modularity

    def laid_out(array):
        if layout == "reversed":
            return np.ascontiguousarray(array[::-1])[::-1]
        if layout == "big-endian":
            return array.astype(array.dtype.newbyteorder(">"))
        if layout == "field":  # strides not a multiple of the item size
            record = np.zeros(array.shape, dtype=[("a", array.dtype), ("b", np.int32)])
            record["a"] = array
            return record["a"]
        array = array.copy()
        array.flags.writeable = False
        return array

    points = np.random.default_rng(0).standard_normal((6, 3))
    adjacency = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert torch.equal(knn_indices(laid_out(points), 2), knn_indices(points, 2))
        assert torch.equal(to_graph(np.eye(3), laid_out(adjacency)).edge_index,
                           to_graph(np.eye(3), adjacency).edge_index)
        edges = np.array([[0, 1, 1, 2], [1, 0, 2, 1]])
        assert modularity(laid_out(edges), [0, 0, 1]) == modularity(edges, [0, 0, 1])


def test_a_complex_sparse_tensor_adjacency_is_refused():
    # Dense and scipy complex adjacencies were refused; a torch sparse one was read.
    complex_adjacency = torch.tensor([[0, 1j, 0], [1j, 0, 0], [0, 0, 0]]).to_sparse()
    with pytest.raises(TypeError, match="adjacency has unsupported dtype torch.complex64"):
        to_graph(np.eye(3), complex_adjacency)


def test_small_integer_duplicates_are_summed_without_wrapping():
    # 200 + 56 stored twice for one uint8 entry had wrapped to 0: an edge lost.
    adjacency = sp.coo_array((np.array([200, 56], dtype=np.uint8),
                              (np.array([0, 0]), np.array([1, 1]))), shape=(3, 3))
    with pytest.warns(GraphInputWarning):
        graph = to_graph(np.eye(3), adjacency)
    assert graph.edge_index.tolist() == [[0, 1], [1, 0]]
