"""The Amazon / Coauthor ``.npz`` reader and the degree baseline."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from numpy.lib import format as npy_format

from graphclust import DegreeKMeans, evaluate, load, load_dataset
from graphclust.data import make_sbm
from graphclust.data.formats.npz import npz_file, read_npz
from graphclust.estimators.degree_kmeans import log_degree


def _write_npz(path, adjacency, attributes, labels, **extra):
    adjacency, attributes = sp.csr_matrix(adjacency), sp.csr_matrix(attributes)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, adj_data=adjacency.data, adj_indices=adjacency.indices,
             adj_indptr=adjacency.indptr, adj_shape=np.array(adjacency.shape),
             attr_data=attributes.data, attr_indices=attributes.indices,
             attr_indptr=attributes.indptr, attr_shape=np.array(attributes.shape),
             labels=np.asarray(labels), **extra)


def test_npz_is_symmetrised_without_self_loops_and_labels_mapped(tmp_path):
    # 0 -> 1 listed one way only, 1 -> 2 both ways, a self-loop on 3 (Amazon's habits).
    adjacency = np.zeros((4, 4))
    adjacency[0, 1] = adjacency[1, 2] = adjacency[2, 1] = adjacency[3, 3] = 1
    attributes = np.eye(4)[:, :3]
    path = npz_file(tmp_path, "photo")
    _write_npz(path, adjacency, attributes, [5, 7, 7, 5])
    graph = read_npz(path)
    edges = {tuple(e) for e in graph.edge_index.T.tolist()}
    assert edges == {(0, 1), (1, 0), (1, 2), (2, 1)}
    assert graph.y.tolist() == [0, 1, 1, 0]
    np.testing.assert_array_equal(graph.x.numpy(), attributes.astype(np.float32))


def test_npz_edges_are_the_stored_entries_whatever_their_values(tmp_path):
    # A one-way edge stored as -1 had been lost to max(A, A^T) = 0; weights are ignored.
    adjacency = np.zeros((3, 3))
    adjacency[0, 1], adjacency[1, 2] = 2.5, -1.0
    path = npz_file(tmp_path, "photo")
    _write_npz(path, adjacency, np.eye(3), [0, 1, 0])
    edges = {tuple(e) for e in read_npz(path).edge_index.T.tolist()}
    assert edges == {(0, 1), (1, 0), (1, 2), (2, 1)}


def test_npz_never_unpickles_and_names_the_file(tmp_path):
    path = tmp_path / "bad.npz"
    # An object array where the labels should be: readable only with pickle.
    _write_npz(path, np.eye(2)[::-1], np.eye(2), np.array([0, 1]),
               node_names=np.array(["a", None], dtype=object))
    read_npz(path)  # the object member is present but never read
    _write_npz(path, np.eye(2)[::-1], np.eye(2), np.array([0, None], dtype=object))
    with pytest.raises(ValueError, match="bad.npz.*without pickle"):
        read_npz(path)
    path.write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="bad.npz.*not a readable"):
        read_npz(path)


def test_npz_sizes_that_disagree_are_refused(tmp_path):
    path = tmp_path / "sizes.npz"
    _write_npz(path, np.eye(3)[::-1], np.eye(2), [0, 1, 0])
    with pytest.raises(ValueError, match="sizes disagree"):
        read_npz(path)


def _write_raw_csr_attributes(path, indices, attr_shape):
    """A 3-node archive whose attribute CSR holds one entry at column ``indices[0]`` of
    row 0, with ``attr_shape`` as declared: what a damaged or hostile file can hold."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, adj_data=np.ones(2, np.float32), adj_indices=np.array([1, 0]),
             adj_indptr=np.array([0, 1, 2, 2]), adj_shape=np.array([3, 3]),
             attr_data=np.ones(1, np.float32), attr_indices=np.array(indices),
             attr_indptr=np.array([0, 1, 1, 1]), attr_shape=np.array(attr_shape),
             labels=np.array([0, 1, 0]))


@pytest.mark.parametrize("column", [5, -1])
def test_npz_indices_outside_the_declared_shape_are_refused(tmp_path, column):
    # Unchecked, toarray() writes such an entry into another row (5) or corrupts the
    # heap and aborts the interpreter (-1).
    path = tmp_path / "oob.npz"
    _write_raw_csr_attributes(path, [column], [3, 2])
    with pytest.raises(ValueError, match="oob.npz: the sparse 'attr' matrix is inconsistent"):
        read_npz(path)


def test_npz_declared_sizes_do_not_size_memory(tmp_path):
    path = tmp_path / "wide.npz"
    _write_raw_csr_attributes(path, [0], [3, 1 << 30])  # 12 GiB dense from a tiny file
    with pytest.raises(ValueError, match="wide.npz: a 3 x 1073741824 attribute matrix is "
                                         "larger than"):
        read_npz(path)
    # A member whose header declares more than its bytes hold is not allocated either.
    _write_npz(path, np.eye(2)[::-1], np.eye(2), [0, 1])
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    labels = io.BytesIO()
    npy_format.write_array_header_1_0(labels, {"descr": "<i8", "fortran_order": False,
                                               "shape": (200_000_000,)})
    members["labels.npy"] = labels.getvalue() + np.array([0, 1], "<i8").tobytes()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ValueError, match=r"member labels.npy declares shape \(200000000,\)"):
        read_npz(path)


def test_npz_missing_archive_is_reported_with_its_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="amazon_electronics_photo.npz"):
        load_dataset("photo", root=tmp_path)


@pytest.mark.parametrize("name, nodes, features, classes",
                         [("photo", 7650, 745, 8), ("cs", 18333, 6805, 15)])
def test_real_npz_graphs_match_the_published_sizes(data_root, name, nodes, features,
                                                   classes):
    if not npz_file(data_root, name).is_file():
        pytest.skip(f"{npz_file(data_root, name)} is absent")
    graph = load_dataset(name, root=data_root)
    assert (graph.num_nodes, graph.x.shape[1], int(graph.y.max()) + 1) == (
        nodes, features, classes)
    row, col = graph.edge_index
    assert bool((row != col).all())
    reverse = set(zip(col.tolist(), row.tolist(), strict=True))
    assert set(zip(row.tolist(), col.tolist(), strict=True)) == reverse


def test_log_degree_counts_neighbours():
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    np.testing.assert_allclose(log_degree(edge_index, 4).squeeze(1).numpy(),
                               np.log1p([1, 2, 1, 0]), rtol=1e-6)


def test_degree_baseline_separates_degree_levels_and_round_trips(tmp_path):
    # Two groups of nodes whose degrees differ tenfold: the baseline must split them.
    rng = np.random.default_rng(0)
    hubs, leaves = np.arange(10), np.arange(10, 110)
    edges = [(h, leaf) for leaf in leaves for h in rng.choice(hubs, 1)]
    edges += [(a, b) for a in hubs for b in hubs if a < b]
    edge_index = torch.tensor(edges).T
    graph_x = np.ones((110, 3), dtype=np.float32)
    model = DegreeKMeans(n_clusters=2, random_state=0).fit(graph_x, adjacency=edge_index)
    truth = np.r_[np.zeros(10, int), np.ones(100, int)]
    assert evaluate(truth, model.labels_)["acc"] == 1.0
    model.save(tmp_path / "degree.gc")
    loaded = load(tmp_path / "degree.gc")
    np.testing.assert_array_equal(loaded.predict(graph_x, adjacency=edge_index),
                                  model.labels_)
    with pytest.raises(ValueError, match=r"reads the graph at inference \(each node's "
                                         r"degree, counted on its edges\)"):
        model.predict(graph_x)


def test_degree_baseline_ignores_the_features_and_is_seeded():
    graph = make_sbm(200, 3, 8, avg_degree=6, random_state=1)
    first = DegreeKMeans(n_clusters=3, random_state=4).fit_predict(graph)
    graph.x = torch.randn_like(graph.x)
    np.testing.assert_array_equal(DegreeKMeans(n_clusters=3, random_state=4)
                                  .fit_predict(graph), first)


def test_npz_float64_attributes_are_densified_as_float32(tmp_path):
    # Densified at the file's float64 first, the reader had held three float32 matrices'
    # worth at once (numpy's allocations are traced by tracemalloc; torch's are not); two
    # now: the dense float32 matrix and to_graph's own copy.
    import tracemalloc

    n, width = 512, 4096  # 8 MiB dense in float32
    attributes = sp.random(n, width, density=0.001, format="csr", random_state=0, dtype=np.float64)
    path = npz_file(tmp_path, "photo")
    _write_npz(path, sp.eye(n, k=1) + sp.eye(n, k=-1), attributes, np.arange(n) % 2)
    tracemalloc.start()
    try:
        graph = read_npz(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert graph.x.dtype == torch.float32
    np.testing.assert_allclose(graph.x.numpy(), attributes.toarray(), rtol=1e-6)
    assert peak < 2.5 * n * width * 4
