"""Damaged data files, hostile inputs and degenerate features (issue 17, "also seen")."""

from __future__ import annotations

import io
import warnings
import zipfile

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from graphclust import DegreeKMeans, SVDKMeans, load_dataset
from graphclust.data import to_graph
from graphclust.data.formats import _cache
from graphclust.data.formats.adgc import read_adgc
from graphclust.data.formats.sdcn import read_sdcn


# ---------------------------------------------------------------------------- SDCN
def _sdcn(tmp_path, features="1 0\n0 1\n1 1\n", labels="1\n2\n1\n", graph="0 1\n1 2\n"):
    folder = tmp_path / "toy"
    (folder / "data").mkdir(parents=True)
    (folder / "graph").mkdir()
    for path, text in ((folder / "data" / "toy.txt", features),
                       (folder / "data" / "toy_label.txt", labels),
                       (folder / "graph" / "toy_graph.txt", graph)):
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return folder


def test_sdcn_toy_files_load(tmp_path):
    graph = read_sdcn(_sdcn(tmp_path), "toy")
    assert graph.num_nodes == 3 and graph.y.tolist() == [0, 1, 0]


@pytest.mark.parametrize("part, content, message", [
    ("features", "1 0\n0 x\n1 1\n", r"toy\.txt: could not convert string 'x' .*row 1"),
    ("features", b"1 0\n\xff\xfe\n1 1\n", r"toy\.txt: 'utf-8' codec can't decode"),
    ("features", "1 0\n0\n1 1\n", r"toy\.txt: the number of columns changed from 2 to 1 at "
                                  "row 2"),
    ("labels", "1\nlabel\n1\n", r"toy_label\.txt: could not convert string 'label' to int64 "
                               "at row 1"),
    ("graph", "0 1\n1 two\n", r"toy_graph\.txt: could not convert string 'two' .*row 1, "
                              r"column 2;"),
], ids=["text-in-numbers", "not-utf8", "ragged", "labels", "graph"])
def test_damaged_sdcn_file_is_named_with_its_row_and_the_remedy(tmp_path, part, content,
                                                                message):
    folder = _sdcn(tmp_path, **{part: content})
    with pytest.raises(ValueError, match=message + ".*replace it with the original"):
        read_sdcn(folder, "toy")


def test_truncated_sdcn_features_name_the_files_that_disagree(tmp_path):
    folder = _sdcn(tmp_path, features="1 0\n0 1\n")  # a row lost
    with pytest.raises(ValueError, match=r"toy\.txt has 2 rows but .*toy_label\.txt has 3 "
                                         "labels"):
        read_sdcn(folder, "toy")
    folder = _sdcn(tmp_path / "b", labels="1\n2\n1\n", graph="0 1\n1 5\n")
    with pytest.raises(ValueError, match=r"toy_graph\.txt names node 5 .*toy\.txt has 3 rows"):
        read_sdcn(folder, "toy")


# ---------------------------------------------------------------------------- A-DGC
def _npy(array) -> bytes:
    stream = io.BytesIO()
    np.save(stream, array, allow_pickle=True)
    return stream.getvalue()


def _adgc(tmp_path, **replace) -> object:
    members = {"toy_feat.npy": _npy(np.eye(3, dtype=np.float32)),
               "toy_label.npy": _npy(np.array([0, 1, 0])),
               "toy_adj.npy": _npy(np.ones((3, 3)) - np.eye(3))}
    members.update(replace)
    path = tmp_path / "toy.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_adgc_toy_archive_loads(tmp_path):
    graph = read_adgc(_adgc(tmp_path))
    assert graph.num_nodes == 3 and graph.edge_index.shape == (2, 6)


def test_adgc_object_array_is_refused_without_unpickling(tmp_path):
    path = _adgc(tmp_path, **{"toy_label.npy": _npy(np.array([0, "a", 1], dtype=object))})
    with pytest.raises(ValueError, match=r"member toy_label\.npy is not a numpy array readable "
                                         r"without pickle \(dtype object"):
        read_adgc(path)


def test_adgc_header_declaring_more_than_its_bytes_is_refused(tmp_path):
    # Same header length: the new shape takes 12 of the header's padding spaces.
    data = _npy(np.eye(3, dtype=np.float32)).replace(b"(3, 3), }" + b" " * 12,
                                                     b"(3000000, 3000000), }")
    with pytest.raises(ValueError, match=r"toy_feat\.npy declares shape \(3000000, 3000000\)"):
        read_adgc(_adgc(tmp_path, **{"toy_feat.npy": data}))


def test_adgc_archive_that_is_not_a_zip_names_the_file(tmp_path):
    path = tmp_path / "toy.zip"
    path.write_bytes(b"PK\x03\x04 not really a zip archive")
    with pytest.raises(ValueError, match=r"toy\.zip is damaged \(BadZipFile.*replace it"):
        read_adgc(path)


def test_adgc_corrupted_member_names_the_file(tmp_path):
    path = _adgc(tmp_path)
    data = bytearray(path.read_bytes())
    offset = data.index(b"PK\x03\x04") + 30 + len("toy_feat.npy")  # compressed data
    data[offset + 5:offset + 25] = b"\xff" * 20
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"toy\.zip is damaged \((error|BadZipFile)"):
        read_adgc(path)


# ---------------------------------------------------------------------------- cache
def test_damaged_processed_folder_is_rebuilt_not_fatal(tmp_path):
    source = tmp_path / "source" / "Data"
    (source / "raw").mkdir(parents=True)
    processed = []

    def process(private):
        processed.append(private)
        (private / "processed").mkdir()
        (private / "processed" / "value.txt").write_text("42")

    def read(folder):
        return int((folder / "processed" / "value.txt").read_text())

    assert _cache.load_processed(source, ["raw"], tmp_path / "cache", "x", process, read) == 42
    target = next((tmp_path / "cache").rglob("value.txt"))
    target.write_bytes(b"\x00\x01")  # damaged: int() fails
    assert _cache.load_processed(source, ["raw"], tmp_path / "cache", "x", process, read) == 42
    assert len(processed) == 2
    assert _cache.load_processed(source, ["raw"], tmp_path / "cache", "x", process, read) == 42
    assert len(processed) == 2  # a sound folder is not rebuilt


def test_processed_folder_unreadable_after_rebuilding_is_reported(tmp_path):
    source = tmp_path / "source" / "Data"
    (source / "raw").mkdir(parents=True)

    def process(private):
        (private / "processed").mkdir()
        (private / "processed" / "value.txt").write_text("not a number")

    with pytest.raises(ValueError, match="cannot be read even after rebuilding"):
        _cache.load_processed(source, ["raw"], tmp_path / "cache", "x", process,
                              lambda folder: int((folder / "processed" / "value.txt")
                                                 .read_text()))


# ---------------------------------------------------------------------------- inputs
@pytest.mark.parametrize("name", [None, 3, b"cora"])
def test_load_dataset_refuses_a_name_that_is_not_text(name):
    with pytest.raises(TypeError, match="name must be a data set name"):
        load_dataset(name)


def test_editing_the_graph_never_changes_the_callers_features(tmp_path):
    array = np.ones((4, 2), dtype=np.float32)
    tensor = torch.ones(4, 2)
    for features in (array, tensor):
        graph = to_graph(features)
        graph.x[0, 0] = 5.0
        assert float(features[0, 0]) == 1.0


def test_read_only_memmap_features_are_copied(tmp_path):
    path = tmp_path / "x.bin"
    np.arange(8, dtype=np.float32).tofile(path)
    features = np.memmap(path, dtype=np.float32, mode="r", shape=(4, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns on read-only arrays it would share
        graph = to_graph(features)
    graph.x[0, 0] = 9.0  # wrote into the read-only mapping before: SIGSEGV
    assert features[0, 0] == 0.0 and graph.x.is_contiguous()


@pytest.mark.parametrize("features", [np.zeros((30, 4)), np.ones((30, 4)),
                                      np.repeat(np.eye(2, 4), 15, axis=0)],
                         ids=["all-zero", "constant", "two-distinct"])
def test_fewer_clusters_than_asked_is_never_silent(features):
    with pytest.warns(ConvergenceWarning, match=r"only [12] of n_clusters=3 clusters .*"
                                                r"the features do \(constant") as caught:
        SVDKMeans(3, n_components=2, random_state=0).fit(features.astype(np.float32))
    # A baseline trains nothing: training is not among the causes it gives.
    assert not any("training" in str(w.message) for w in caught)


def test_the_degree_baseline_names_the_degrees_as_the_cause():
    """On a ring every degree is 2: the features are not what left the clusters empty."""
    ring = np.stack([np.arange(12), (np.arange(12) + 1) % 12])
    with pytest.warns(ConvergenceWarning, match=r"only 1 of n_clusters=3 clusters are "
                                                r"non-empty: the nodes' degrees take fewer"):
        DegreeKMeans(3, random_state=0).fit(np.random.default_rng(0).random((12, 3)),
                                            adjacency=ring)

