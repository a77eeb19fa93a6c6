"""Planetoid raw files are read without running any code they name (issue 17, item 2)."""

from __future__ import annotations

import os
import pickle
import shutil
import warnings
from collections import defaultdict

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from graphclust.data import to_graph
from graphclust.data.formats.planetoid import read_planetoid
from graphclust.data.formats.safe_pickle import load_pickle


def _dump(path, value) -> None:
    with open(path, "wb") as stream:
        pickle.dump(value, stream, protocol=2)  # the raw files' protocol


def _tiny_planetoid(folder):
    """A 510-node Cora-layout data set written with today's numpy and scipy pickles (PyG's
    reader needs 500 nodes past the labelled ones for its validation mask)."""
    raw = folder / "Cora" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    allx = sp.csr_matrix((rng.random((508, 5)) > 0.5).astype(np.float32))
    tx = sp.csr_matrix(np.eye(2, 5, dtype=np.float32))
    ally = np.eye(3, dtype=np.int32)[rng.integers(0, 3, 508)]
    ty = np.eye(3, dtype=np.int32)[[2, 1]]
    graph = defaultdict(list, {node: [node - 1, node + 1] for node in range(1, 509)})
    graph[0], graph[509] = [1, 0], [508]  # a self-loop and a one-way list, as in the files
    for suffix, value in {"x": allx[:2], "tx": tx, "allx": allx, "y": ally[:2], "ty": ty,
                          "ally": ally, "graph": graph}.items():
        _dump(raw / f"ind.cora.{suffix}", value)
    (raw / "ind.cora.test.index").write_text("509\n508\n")
    return raw


def _pyg_reference(folder):
    """What PyG's own (unpickling) reader makes of trusted files, canonicalised."""
    from torch_geometric.datasets import Planetoid

    data = Planetoid(str(folder), "Cora")[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return to_graph(data.x, data.edge_index, data.y)


def _assert_same_graph(graph, reference):
    assert torch.equal(graph.x, reference.x)
    assert torch.equal(graph.y, reference.y)
    assert torch.equal(graph.edge_index, reference.edge_index)


def test_reader_matches_pyg_on_files_written_by_todays_numpy(tmp_path):
    _tiny_planetoid(tmp_path / "ours")
    shutil.copytree(tmp_path / "ours", tmp_path / "pyg")
    graph = read_planetoid(tmp_path / "ours", "cora")
    assert graph.num_nodes == 510
    _assert_same_graph(graph, _pyg_reference(tmp_path / "pyg"))


def test_reader_matches_pyg_on_the_real_cora(data_root, tmp_path):
    shutil.copytree(data_root / "planetoid" / "Cora" / "raw", tmp_path / "Cora" / "raw")
    graph = read_planetoid(data_root / "planetoid", "cora")
    _assert_same_graph(graph, _pyg_reference(tmp_path))


class _Planted:
    """Pickles as a call of os.system, as the reported planted ind.cora.ty did."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def test_planted_os_system_pickle_is_refused_and_not_run(tmp_path):
    raw = _tiny_planetoid(tmp_path)
    marker = tmp_path / "ran"
    _dump(raw / "ind.cora.ty", _Planted(f"touch {marker}"))
    with pytest.raises(ValueError, match=r"ind\.cora\.ty is damaged or not a Planetoid .*"
                                         r"refusing (posix|os)\.system"):
        read_planetoid(tmp_path, "cora")
    assert not marker.exists()


@pytest.mark.parametrize("value, message", [
    (np.array([1, "a"], dtype=object), "dtype object is not a plain numeric dtype"),
    (np.zeros(3, dtype=[("a", "f4")]), "not a plain numeric dtype"),
    ({1, 2}, r"refusing (__builtin__|builtins)\.set"),
], ids=["object-array", "record-array", "set"])
def test_other_types_are_refused(tmp_path, value, message):
    path = tmp_path / "ind.cora.y"
    _dump(path, value)
    with pytest.raises(ValueError, match=r"ind\.cora\.y is damaged.*" + message):
        load_pickle(path)


class _Allocate:
    """Pickles as ``numpy.ndarray((2**40,), "b")``: a call that would allocate 1 TiB."""

    def __reduce__(self):
        return (np.ndarray, ((2**40,), "b"))


def test_ndarray_cannot_be_called_to_allocate(tmp_path):
    path = tmp_path / "ind.cora.x"
    _dump(path, _Allocate())
    with pytest.raises(ValueError, match="may only appear as _reconstruct's type"):
        load_pickle(path)


def test_declared_shape_larger_than_the_bytes_is_refused(tmp_path):
    path = tmp_path / "ind.cora.ally"
    _dump(path, np.zeros((4, 3), dtype=np.float32))
    data = path.read_bytes()
    # The shape (4, 3) is pickled as two small ints: claim 400 rows instead of 4.
    patched = data.replace(b"K\x04K\x03\x86", b"M\x90\x01K\x03\x86", 1)
    assert patched != data
    path.write_bytes(patched)
    with pytest.raises(ValueError, match=r"ind\.cora\.ally .*needs 4800 bytes, the file "
                                         r"holds 48"):
        load_pickle(path)


def test_truncated_file_names_the_file_and_the_remedy(tmp_path):
    raw = _tiny_planetoid(tmp_path)
    data = (raw / "ind.cora.allx").read_bytes()
    (raw / "ind.cora.allx").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"ind\.cora\.allx is damaged.*replace it with the "
                                         "original"):
        read_planetoid(tmp_path, "cora")


def test_csr_with_indices_outside_its_shape_is_refused(tmp_path):
    raw = _tiny_planetoid(tmp_path)
    matrix = sp.csr_matrix(np.eye(2, 5, dtype=np.float32))
    matrix.indices[0] = 99  # scipy does not check on assignment
    _dump(raw / "ind.cora.tx", matrix)
    with pytest.raises(ValueError, match=r"ind\.cora\.tx is damaged"):
        read_planetoid(tmp_path, "cora")


def test_csr_declaring_a_huge_dense_shape_is_refused(tmp_path):
    raw = _tiny_planetoid(tmp_path)
    empty = sp.csr_matrix((np.zeros(0, np.float32), np.zeros(0, np.int32),
                           np.zeros(3, np.int32)), shape=(2, 10**9))
    _dump(raw / "ind.cora.tx", empty)
    with pytest.raises(ValueError, match=r"ind\.cora\.tx: a 2 x 1000000000 feature matrix is "
                                         "larger than"):
        read_planetoid(tmp_path, "cora")


def test_bad_test_index_names_the_file(tmp_path):
    raw = _tiny_planetoid(tmp_path)
    (raw / "ind.cora.test.index").write_text("5\nfour\n")
    with pytest.raises(ValueError, match=r"ind\.cora\.test\.index: expected one node index"):
        read_planetoid(tmp_path, "cora")


def test_edges_outside_the_graph_are_refused(tmp_path):
    raw = _tiny_planetoid(tmp_path)
    _dump(raw / "ind.cora.graph", defaultdict(list, {0: [1], 1: [0, 600]}))
    with pytest.raises(ValueError, match=r"has node indices outside \[0, 510\): min 0, max 600"):
        read_planetoid(tmp_path, "cora")


@pytest.mark.parametrize("text, message", [
    ("509\n509\n", "lists a node index twice"),  # had loaded, the row of node 508 lost
    ("5" * 20 + "\n508\n", "expected one node index a line"),
])
def test_test_index_with_a_repeat_or_beyond_64_bits_is_refused(tmp_path, text, message):
    raw = _tiny_planetoid(tmp_path)
    (raw / "ind.cora.test.index").write_text(text)
    with pytest.raises(ValueError, match=r"ind\.cora\.test\.index.*" + message):
        read_planetoid(tmp_path, "cora")


def test_graph_with_a_node_index_beyond_64_bits_is_refused(tmp_path):
    raw = _tiny_planetoid(tmp_path)
    _dump(raw / "ind.cora.graph", defaultdict(list, {0: [1], 2**70: [0]}))
    with pytest.raises(ValueError, match=r"ind\.cora\.graph holds a node index beyond 64"):
        read_planetoid(tmp_path, "cora")


def test_label_files_of_different_widths_are_refused(tmp_path):
    raw = _tiny_planetoid(tmp_path)
    _dump(raw / "ind.cora.ty", np.eye(4, dtype=np.int32)[[2, 1]])  # ally has 3 classes
    with pytest.raises(ValueError, match=r"Planetoid cora: the raw files disagree in size"):
        read_planetoid(tmp_path, "cora")


@pytest.mark.parametrize("shared", ["list", "array"])
def test_an_object_shared_by_reference_is_refused_not_expanded(tmp_path, shared):
    # Each level of [L, L] doubles what a copying reader builds: 40 levels, a few hundred
    # bytes, would be 2**40 lists (12 here, so that a regression fails instead of hanging).
    node = [0] if shared == "list" else np.zeros(2)
    for _ in range(12):
        node = [node, node]
    path = tmp_path / "ind.cora.graph"
    _dump(path, {0: node})
    with pytest.raises(ValueError, match="appears twice by reference"):
        load_pickle(path)
