"""to_graph: every supported input gives the same canonical graph; bad input is refused."""

from __future__ import annotations

import warnings

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.data import Data

from graphclust import SVDKMeans
from graphclust.data import GraphInputWarning, to_graph
from graphclust.data.inputs import _canonical_edge_index

# A 4-node path 0-1-2-3 plus the edge 0-2, listed once per direction.
EDGES = np.array([[0, 1], [1, 2], [2, 3], [0, 2]])
CANONICAL = [[0, 0, 1, 1, 2, 2, 2, 3], [1, 2, 0, 2, 0, 1, 3, 2]]


def _features(num_nodes: int = 4, num_features: int = 3) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(num_nodes, num_features))


def _dense(edges: np.ndarray = EDGES, num_nodes: int = 4) -> np.ndarray:
    matrix = np.zeros((num_nodes, num_nodes))
    matrix[edges[:, 0], edges[:, 1]] = 1
    return matrix + matrix.T


def _no_warning_to_graph(*args, **kwargs) -> Data:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return to_graph(*args, **kwargs)


ADJACENCIES = {
    "scipy_csr": lambda: sp.csr_matrix(_dense()),
    "scipy_coo_array": lambda: sp.coo_array(_dense()),
    "dense_numpy_bool": lambda: _dense().astype(bool),
    "dense_torch": lambda: torch.from_numpy(_dense()),
    "torch_sparse": lambda: torch.from_numpy(_dense()).to_sparse_csr(),
    "edge_index_numpy": lambda: np.concatenate([EDGES, EDGES[:, ::-1]]).T,
    "edge_index_torch_int32": lambda: torch.from_numpy(
        np.concatenate([EDGES, EDGES[:, ::-1]]).T.astype(np.int32).copy()),
    "networkx": lambda: nx.Graph(EDGES.tolist()),
}


@pytest.mark.parametrize("kind", sorted(ADJACENCIES))
def test_every_adjacency_type_gives_the_canonical_graph(kind):
    graph = _no_warning_to_graph(_features(), ADJACENCIES[kind](), y=[3, 3, 7, 9])
    assert graph.edge_index.dtype == torch.int64
    assert graph.edge_index.tolist() == CANONICAL
    assert graph.x.dtype == torch.float32 and graph.x.shape == (4, 3)
    assert graph.y.tolist() == [0, 0, 1, 2]
    assert graph.num_nodes == 4


@pytest.mark.parametrize("features", [
    torch.from_numpy(_features()),
    sp.csr_matrix(_features()),
    _features().astype(np.float16),
    (_features() > 0),
])
def test_feature_types_become_dense_float32(features):
    graph = _no_warning_to_graph(features, ADJACENCIES["edge_index_numpy"]())
    expected = features.toarray() if sp.issparse(features) else np.asarray(features)
    assert graph.x.dtype == torch.float32
    np.testing.assert_allclose(graph.x.numpy(), expected.astype(np.float32))


def test_data_input_is_validated_and_cleaned_like_arrays():
    data = Data(x=torch.ones(4, 2), edge_index=torch.tensor(EDGES.T.copy()),
                y=torch.tensor([[5], [6], [5], [6]]), train_mask=torch.ones(4, dtype=torch.bool))
    with pytest.warns(GraphInputWarning, match=r"dropped Data attributes \['train_mask'\]"):
        graph = to_graph(data)
    assert graph.edge_index.tolist() == CANONICAL
    assert graph.y.tolist() == [0, 1, 0, 1]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("kind", ["dense_torch", "edge_index_numpy", "scipy_csr"])
def test_cuda_features_keep_the_graph_on_their_device(kind):
    adjacency = ADJACENCIES[kind]()
    if isinstance(adjacency, torch.Tensor):
        adjacency = adjacency.cuda()
    graph = _no_warning_to_graph(torch.from_numpy(_features()).cuda(), adjacency, y=[1, 0, 1, 0])
    assert graph.x.is_cuda and graph.edge_index.is_cuda and graph.y.is_cuda
    assert graph.edge_index.tolist() == CANONICAL


def test_no_adjacency_gives_a_graph_without_edges():
    graph = _no_warning_to_graph(_features())
    assert graph.edge_index.shape == (2, 0) and graph.edge_index.dtype == torch.int64


def test_warning_counts_every_change_in_one_message():
    edges = np.array([[0, 1, 0, 2, 3], [1, 2, 1, 3, 3]])  # 0->1 twice, 3->3 loop
    with pytest.warns(GraphInputWarning) as record:
        graph = to_graph(_features(), edges)
    assert len(record) == 1
    message = str(record[0].message)
    assert "removed 1 self-loop;" in message
    assert "removed 1 duplicate edge;" in message
    assert "symmetrised by adding 3 reverse edges" in message
    assert graph.edge_index.tolist() == [[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]]


def test_weighted_adjacency_is_read_as_structure_with_a_warning():
    weighted = _dense() * 0.5
    with pytest.warns(GraphInputWarning, match="ignored edge weights"):
        graph = to_graph(_features(), sp.csr_matrix(weighted))
    assert graph.edge_index.tolist() == CANONICAL


def test_explicit_zeros_in_a_sparse_matrix_are_not_edges():
    matrix = sp.csr_matrix(_dense())
    matrix.data[:] = 0.0
    graph = _no_warning_to_graph(_features(), matrix)
    assert graph.edge_index.shape == (2, 0)


def test_duplicate_entries_of_a_sparse_adjacency_add_up_as_in_the_matrix():
    # (0, 1) stored twice, +1 and -1: the matrix holds 0 there, so no edge 0-1; each
    # stored entry had counted as an edge (a torch sparse adjacency was coalesced).
    matrix = sp.coo_matrix(([1.0, -1.0, 1.0], ([0, 0, 1], [1, 1, 2])), shape=(3, 3))
    with pytest.warns(GraphInputWarning):  # symmetrised
        graph = to_graph(np.eye(3, dtype=np.float32), matrix)
    assert graph.edge_index.tolist() == [[1, 2], [2, 1]]
    assert matrix.nnz == 3  # the caller's matrix is left as it was


def test_square_two_by_two_array_is_a_matrix_when_n_is_two():
    graph = _no_warning_to_graph(np.eye(2), np.array([[0, 1], [1, 0]]))
    assert graph.edge_index.tolist() == [[0, 1], [1, 0]]
    # With N = 3 the same (2, 2) shape can only be an edge list: the edges 0->1 and 1->0.
    graph = _no_warning_to_graph(np.eye(3), np.array([[0, 1], [1, 0]]))
    assert graph.edge_index.tolist() == [[0, 1], [1, 0]]


def test_minus_one_beside_classes_from_0_is_said_to_be_scored_as_a_class():
    """-1 is scikit-learn's and PyG's mark of an unlabelled node: said, since it becomes
    a class of its own; {-1, 1} (binary labels without 0) stays silent."""
    with pytest.warns(GraphInputWarning, match=r"y has -1 in 1 of 4 entries beside classes "
                                               r"from 0"):
        graph = to_graph(_features(), y=np.array([0, 1, -1, 1]))
    assert graph.y.tolist() == [1, 2, 0, 2]
    assert _no_warning_to_graph(_features(), y=np.array([-1, 1, -1, 1])).y.tolist() == \
        [0, 1, 0, 1]
    with pytest.warns(GraphInputWarning, match="y has -1 in 1 of 4"):  # as a file reads
        to_graph(_features(), y=np.array([0.0, 1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="y holds 1 floats that are not whole numbers"):
        to_graph(_features(), y=np.array([0.0, 1.0, 0.5, 1.0]))


def test_labels_of_any_sortable_type_map_to_0_k():
    graph = _no_warning_to_graph(_features(), y=np.array(["b", "a", "c", "a"]))
    assert graph.y.tolist() == [1, 0, 2, 0] and graph.y.dtype == torch.int64
    graph = _no_warning_to_graph(_features(), y=torch.tensor([4.0, 1.0, 4.0, 2.0]))
    assert graph.y.tolist() == [2, 0, 2, 1]


def test_canonical_edge_index_reports_what_it_did():
    edge_index = torch.tensor([[2, 2, 0, 1], [2, 0, 1, 0]])
    result, report = _canonical_edge_index(edge_index, 3)
    assert result.tolist() == [[0, 0, 1, 2], [1, 2, 0, 0]]
    assert report == {"self_loops_removed": 1, "duplicates_removed": 0,
                      "reverse_edges_added": 1}


@settings(max_examples=60, deadline=None)
@given(num_nodes=st.integers(1, 12), data=st.data())
def test_canonical_edge_index_equals_the_set_definition(num_nodes, data):
    pairs = data.draw(st.lists(st.tuples(st.integers(0, num_nodes - 1),
                                         st.integers(0, num_nodes - 1)), max_size=40))
    edge_index = torch.tensor(pairs, dtype=torch.int64).reshape(-1, 2).T
    result, report = _canonical_edge_index(edge_index, num_nodes)
    expected = sorted({(i, j) for i, j in pairs if i != j} | {(j, i) for i, j in pairs if i != j})
    assert [tuple(pair) for pair in result.T.tolist()] == expected
    assert report["self_loops_removed"] == sum(i == j for i, j in pairs)


# --- refusals: exact error type and a message naming the problem ----------------------------

def test_nan_features_are_refused_with_the_row_count():
    features = _features()
    features[1, 0], features[3, 2] = np.nan, np.inf
    match = r"NaN or inf values in 2 of 4 rows \(first rows: \[1, 3\]"
    with pytest.raises(ValueError, match=match):
        to_graph(features)


@pytest.mark.parametrize("kind", ["dense", "sparse", "torch", "list"])
def test_finite_features_beyond_float32_are_refused_as_such(kind):
    """Finite float64 values above float32's range turn to inf in the cast: the message
    says so (not 'NaN or inf ... impute'), and the cast does not warn on its way."""
    features = _features()
    features[2, 1] = 1e300
    given = {"dense": features, "sparse": sp.csr_matrix(features),
             "torch": torch.from_numpy(features), "list": features.tolist()}[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match=r"beyond float32's range .* in 1 of 4 rows "
                                             r"\(first rows: \[2\]\)"):
            # An estimator's fit: a list passes scikit-learn's checks first.
            SVDKMeans(2, n_components=2).fit(given)


def test_duplicate_sparse_entries_are_summed_before_the_float32_cast():
    """COO entries of one cell (1e-8, 1, -1) sum to 1e-8 in float64; summed after the
    cast to float32 they would give 0."""
    rows, cols = np.repeat(np.arange(4), 3), np.zeros(12, dtype=int)
    coo = sp.coo_matrix((np.tile([1e-8, 1.0, -1.0], 4), (rows, cols)), shape=(4, 2))
    graph = to_graph(coo)
    assert graph.x[:, 0].tolist() == [np.float32(1e-8)] * 4


@pytest.mark.parametrize("edges, match", [
    (np.array([[0, 1], [1, 4]]), r"outside \[0, 4\): min 0, max 4, with N=4"),
    (np.array([[0, -1], [1, 2]]), r"outside \[0, 4\): min -1, max 2"),
])
def test_edges_outside_the_node_range_are_refused(edges, match):
    with pytest.raises(ValueError, match=match):
        to_graph(_features(), edges)


FLOAT_EDGES = np.array([[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]])


@pytest.mark.parametrize(("call", "message"), [
    (lambda: to_graph(_features(), FLOAT_EDGES), "adjacency is read as an edge_index of "
     r"shape \(2, E\), which must hold integer node ids, got dtype float64;"),
    (lambda: to_graph(_features(), torch.tensor(FLOAT_EDGES)), "adjacency .* got dtype "
     "torch.float64"),
    (lambda: to_graph(_features(), torch.tensor(FLOAT_EDGES) > 0), "got dtype torch.bool"),
    (lambda: to_graph(Data(x=torch.ones(4, 2), edge_index=torch.tensor(FLOAT_EDGES))),
     "data.edge_index .* got dtype torch.float64; cast whole-number ids to integers"),
    (lambda: SVDKMeans(n_clusters=2).fit(_features(), adjacency=FLOAT_EDGES),
     "adjacency .* got dtype float64"),
])
def test_a_float_edge_index_is_a_type_error_everywhere(call, message):
    """A wrong dtype is a TypeError, as in check_edge_index (the metrics', the sampler's):
    to_graph had raised ValueError for the same float edge list."""
    with pytest.raises(TypeError, match=message):
        call()


def test_edge_index_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match=r"edge_index of shape \(2, E\), got shape \(3, 5\)"):
        to_graph(_features(), np.zeros((3, 5), dtype=np.int64))
    data = Data(x=torch.ones(4, 2), edge_index=torch.zeros(3, 2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"edge_index must have shape \(2, E\), got \(3, 2\)"):
        to_graph(data)


@pytest.mark.parametrize("adjacency", [sp.csr_matrix((4, 5)), torch.sparse_coo_tensor(
    torch.zeros((2, 0), dtype=torch.long), torch.zeros(0), (4, 5), check_invariants=True)])
def test_non_square_sparse_adjacency_is_refused(adjacency):
    with pytest.raises(ValueError, match=r"must be square \(N x N\), got shape \(4, 5\)"):
        to_graph(_features(), adjacency)


def test_non_square_dense_adjacency_is_refused():
    with pytest.raises(ValueError, match=r"square \(N x N\) matrix .* got shape \(4, 5\)"):
        to_graph(_features(), np.zeros((4, 5)))


@pytest.mark.parametrize("adjacency, what", [
    (np.zeros((5, 5)), "the adjacency matrix has 5 nodes but X has 4 rows"),
    (sp.eye(3), "the adjacency matrix has 3 nodes but X has 4 rows"),
    (nx.path_graph(6), "the networkx graph has 6 nodes but X has 4 rows"),
])
def test_adjacency_size_must_match_x(adjacency, what):
    with pytest.raises(ValueError, match=f"shape mismatch: {what}"):
        to_graph(_features(), adjacency)


def test_label_count_must_match_x():
    with pytest.raises(ValueError, match="shape mismatch: y has 3 labels but X has 4 rows"):
        to_graph(_features(), y=[0, 1, 0])


@pytest.mark.parametrize("y", [
    [0.0, np.nan, 1.0, 1.0],
    [0.0, np.inf, 1.0, 1.0],  # had become a class of its own
    np.array([0, np.nan, 1, 1], dtype=object),  # np.unique keeps object NaNs apart
])
def test_labels_with_nan_or_inf_are_refused(y):
    from graphclust.metrics import accuracy

    with pytest.raises(ValueError, match="y has NaN or infinite values in 1 of 4 entries"):
        to_graph(_features(), y=y)
    with pytest.raises(ValueError, match="y_true has NaN or infinite values in 1 of 4"):
        accuracy(y, [0, 1, 1, 1])


def test_labels_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match=r"y must have shape \(N,\) or \(N, 1\), got \(4, 2\)"):
        to_graph(_features(), y=np.zeros((4, 2)))


@pytest.mark.parametrize("features", [np.zeros((0, 3)), np.zeros((4, 0))])
def test_empty_graphs_are_refused(features):
    with pytest.raises(ValueError, match="empty graph: X has shape"):
        to_graph(features)


@pytest.mark.parametrize("features, match", [
    (np.zeros((2, 3, 4)), r"X must be 2-D \(nodes x features\), got 3-D"),
    (np.zeros(4), r"got 1-D .*X\.reshape\(-1, 1\)"),
])
def test_features_must_be_2d(features, match):
    with pytest.raises(ValueError, match=match):
        to_graph(features)


@pytest.mark.parametrize("features, match", [
    ([[0.0, 1.0]], "X must be a numpy array, .* got builtins.list"),
    (np.array([[object()]]), "X has unsupported dtype object"),
    (np.array([["a"]]), "X has unsupported dtype <U1"),
    (torch.ones(2, 2, dtype=torch.complex64), "unsupported complex dtype"),
])
def test_unsupported_feature_types_raise_type_error(features, match):
    with pytest.raises(TypeError, match=match):
        to_graph(features)


def test_unsupported_adjacency_type_raises_type_error():
    with pytest.raises(TypeError, match="adjacency must be .* got builtins.dict"):
        to_graph(_features(), {0: [1]})


def test_nan_in_adjacency_is_refused():
    adjacency = _dense()
    adjacency[0, 3] = np.nan
    with pytest.raises(ValueError, match="adjacency has NaN or inf entries"):
        to_graph(_features(), adjacency)


def test_data_with_separate_adjacency_or_without_features_is_refused():
    data = Data(x=torch.ones(4, 2), edge_index=torch.tensor(EDGES.T.copy()))
    with pytest.raises(ValueError, match="pass either a Data object or X with adjacency/y"):
        to_graph(data, adjacency=EDGES.T)
    with pytest.raises(ValueError, match=r"no node features \(data.x is None\)"):
        to_graph(Data(edge_index=torch.tensor(EDGES.T.copy()), num_nodes=4))
    with pytest.raises(ValueError, match="data.num_nodes is 5 but data.x has 4 rows"):
        to_graph(Data(x=torch.ones(4, 2), num_nodes=5))


def test_edges_in_adj_t_are_read_where_there_is_no_edge_index():
    """PyG's ToSparseTensor moves the edges into adj_t: they are the graph's edges (not a
    dropped attribute leaving a graph without edges); weights there are reported."""
    import torch_geometric.transforms as T

    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    data = Data(x=torch.rand(4, 3), edge_index=edge_index)
    prepared = T.ToSparseTensor()(data.clone())  # (torch warns about sparse checks)
    with warnings.catch_warnings():
        warnings.simplefilter("error", GraphInputWarning)  # nothing dropped or changed
        graph = to_graph(prepared)
    assert graph.edge_index.tolist() == to_graph(data).edge_index.tolist()
    # Weights, zero ones included, and attribute vectors: every stored entry is an edge,
    # as with edge_index beside those attributes.
    for name, values in (("edge_weight", torch.tensor([2.0, 2.0, 0.0, 0.0, 1.0, 1.0])),
                         ("edge_attr", torch.rand(6, 2))):
        prepared = T.ToSparseTensor(attr=name)(Data(x=data.x, edge_index=edge_index,
                                                    **{name: values}))
        with pytest.warns(GraphInputWarning, match="ignored adj_t's edge values"):
            assert to_graph(prepared).edge_index.tolist() == to_graph(data).edge_index.tolist()
    with pytest.raises(ValueError, match=r"data.adj_t must be N x N with N = 3"):
        to_graph(Data(x=torch.rand(3, 2), adj_t=prepared.adj_t))


def test_hetero_data_is_refused_with_what_to_pass():
    from torch_geometric.data import HeteroData

    from graphclust import SCGCStar

    hetero = HeteroData()
    hetero["paper"].x = torch.rand(5, 3)
    model = SCGCStar(n_clusters=2, random_state=0, hidden_dims=(8,), embedding_dim=4,
                     max_epochs=1, pretrain_epochs=1).fit(np.random.default_rng(0).random((20, 3)))
    for call in (lambda: to_graph(hetero), lambda: SCGCStar(n_clusters=2).fit(hetero),
                 lambda: model.predict(hetero), lambda: model.transform(hetero)):
        with pytest.raises(TypeError, match=r"HeteroData .*to_homogeneous\(\)"):
            call()
