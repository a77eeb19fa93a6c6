"""load_dataset on tiny files written here, one layout at a time (SDCN, A-DGC, OGB,
Planetoid downloads)."""

from __future__ import annotations

import gzip
import io
import urllib.error
import zipfile
from pathlib import Path

import numpy as np
import pytest
from dataset_helpers import load_quietly, snapshot, write_adgc

from graphclust.data import datasets, load_dataset

pytestmark = pytest.mark.usefixtures("cache_in_tmp")


# --- each layout on tiny files written here ------------------------------------------------

def _write_sdcn(root: Path, name: str, graphs: dict[str, str]) -> None:
    folder = root / "sdcn" / name
    (folder / "data").mkdir(parents=True)
    (folder / "graph").mkdir()
    (folder / "data" / f"{name}.txt").write_text("1 0 0.5\n0 1 0\n1 1 1\n0 0 2\n")
    (folder / "data" / f"{name}_label.txt").write_text("1\n3\n1\n2\n")
    for file_name, text in graphs.items():
        (folder / "graph" / file_name).write_text(text)


def test_sdcn_labels_from_1_and_knn_graph_selection(tmp_path):
    _write_sdcn(tmp_path, "usps", {"usps3_graph.txt": "0 0\n0 1\n1 0\n2 3\n3 3\n",
                                   "usps1_graph.txt": "0 1\n"})
    with pytest.warns(UserWarning, match=r"published sizes are \(9298, 256, 10\)"):
        graph = load_dataset("usps", root=tmp_path)  # SDCN's default k=3
    assert graph.y.tolist() == [0, 2, 0, 1]
    assert graph.x.tolist()[0] == [1.0, 0.0, 0.5]
    assert graph.edge_index.tolist() == [[0, 1, 2, 3], [1, 0, 3, 2]]
    with pytest.warns(UserWarning, match="published sizes"):
        assert load_dataset("usps", root=tmp_path, k=1).edge_index.shape == (2, 2)


def test_sdcn_missing_graph_names_the_knn_files_present(tmp_path):
    _write_sdcn(tmp_path, "usps", {"usps3_graph.txt": "0 1\n"})
    # load_dataset says that the rest of the copy is there, and which k it has.
    with pytest.raises(FileNotFoundError, match=r"missing usps5_graph.txt; its other files "
                       r"are there, and kNN graphs for k in \[3\]: pass one as k"):
        load_dataset("usps", root=tmp_path, k=5)
    from graphclust.data.formats import read_sdcn
    with pytest.raises(FileNotFoundError, match=r"kNN graphs present for k in \[3\]"):
        read_sdcn(tmp_path / "sdcn" / "usps", "usps")


def test_citeseer_alias_prefers_the_sdcn_copy_when_present(tmp_path):
    with pytest.raises(FileNotFoundError) as missing:
        load_dataset("citeseer", root=tmp_path)
    assert "sdcn/cite" in str(missing.value) and "planetoid/CiteSeer/raw" in str(missing.value)
    assert "download=True" in str(missing.value)
    _write_sdcn(tmp_path, "cite", {"cite_graph.txt": "0 1\n1 2\n"})
    with pytest.warns(UserWarning, match="cite \\(sdcn\\)"):
        graph = load_dataset("CiteSeer", root=tmp_path)
    assert graph.num_nodes == 4 and graph.name == "citeseer"


def test_adgc_archive_in_a_folder_and_discovered_by_name(tmp_path):
    (tmp_path / "adgc").mkdir()
    write_adgc(tmp_path / "adgc" / "Toy.zip", "Toy", folder="toy/")
    row = next(row for row in datasets(tmp_path) if row["name"] == "toy")
    assert row["layout"] == "adgc" and row["available"] and row["nodes"] is None
    graph = load_quietly("toy", tmp_path)
    assert graph.edge_index.tolist() == [[0, 1], [1, 0]]  # the diagonal is dropped
    assert graph.y.tolist() == [1, 0, 1]


def test_adgc_refuses_pickled_arrays(tmp_path):
    (tmp_path / "adgc").mkdir()
    with zipfile.ZipFile(tmp_path / "adgc" / "bad.zip", "w") as archive:
        for part in ("feat", "label", "adj"):
            buffer = io.BytesIO()
            np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
            archive.writestr(f"bad_{part}.npy", buffer.getvalue())
    with pytest.raises(ValueError, match="bad_feat.npy is not a numpy array readable without"):
        load_dataset("bad", root=tmp_path)


def test_adgc_archive_without_an_array_is_refused(tmp_path):
    (tmp_path / "adgc").mkdir()
    with zipfile.ZipFile(tmp_path / "adgc" / "half.zip", "w") as archive:
        archive.writestr("half_feat.npy", b"")
    with pytest.raises(ValueError, match="expected one half_label.npy in the archive, found 0"):
        load_dataset("half", root=tmp_path)


def _write_ogb_arxiv(root: Path) -> Path:
    """The smallest folder that ogb's own reader accepts as ogbn-arxiv."""
    folder = root / "ogb" / "ogbn_arxiv"
    (folder / "raw").mkdir(parents=True)
    (folder / "RELEASE_v1.txt").write_text("")
    tables = {
        "edge": ([[0, 1], [1, 2], [3, 4], [4, 0]], "%d"),  # directed citations
        "node-feat": (np.arange(15).reshape(5, 3) / 10, "%.2f"),
        "num-node-list": ([5], "%d"),
        "num-edge-list": ([4], "%d"),
        "node-label": ([[7], [3], [7], [12], [3]], "%d"),
        "node_year": ([[2019]] * 5, "%d"),
    }
    for stem, (table, fmt) in tables.items():
        with gzip.open(folder / "raw" / f"{stem}.csv.gz", "wt") as stream:
            np.savetxt(stream, np.asarray(table), fmt=fmt, delimiter=",")
    return folder


def test_ogb_reads_a_tiny_folder_through_the_real_ogb_loader(tmp_path):
    folder = _write_ogb_arxiv(tmp_path / "data")
    before = snapshot(folder)
    with pytest.warns(UserWarning, match=r"published sizes are \(169343, 128, 40\)"):
        graph = load_dataset("ogbn-arxiv", root=tmp_path / "data")
    assert graph.edge_index.tolist() == [[0, 0, 1, 1, 2, 3, 4, 4], [1, 4, 0, 2, 1, 4, 0, 3]]
    assert graph.y.tolist() == [1, 0, 1, 2, 0]
    np.testing.assert_allclose(graph.x[1].numpy(), [0.3, 0.4, 0.5])
    assert snapshot(folder) == before
    assert list((tmp_path / "cache" / "ogb").rglob("geometric_data_processed.pt"))


def test_ogb_missing_files_name_the_folder_and_the_remedy(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"ogb/ogbn_products.*download=True"):
        load_dataset("ogbn-products", root=tmp_path)
    folder = _write_ogb_arxiv(tmp_path)
    (folder / "RELEASE_v1.txt").unlink()  # ogb itself would ask on stdin here
    with pytest.raises(FileNotFoundError, match="RELEASE_v1.txt"):
        load_dataset("ogbn-arxiv", root=tmp_path)


def test_ogb_download_without_network_raises_file_not_found(tmp_path, monkeypatch):
    import ogb.utils.url

    def offline(url, folder, log=True):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(ogb.utils.url, "download_url", offline)
    with pytest.raises(FileNotFoundError, match="download of .*arxiv.zip .* failed"):
        load_dataset("ogbn-arxiv", root=tmp_path, download=True)


def test_planetoid_download_without_network_raises_file_not_found(tmp_path, monkeypatch):
    from torch_geometric.datasets import Planetoid

    def offline(self):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(Planetoid, "download", offline)
    with pytest.raises(FileNotFoundError, match="PubMed: download into .* failed"):
        load_dataset("pubmed", root=tmp_path, download=True)
