"""load_dataset / datasets: the real shared files, each layout on tiny files, and refusals."""

from __future__ import annotations

import builtins
import gzip
import io
import urllib.error
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from graphclust.data import datasets, load_dataset


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path, monkeypatch):
    """Processed files go to a per-test cache; nothing may read stdin."""
    monkeypatch.setenv("GRAPHCLUST_CACHE", str(tmp_path / "cache"))

    def _no_prompt(*args):
        raise AssertionError(f"a loader asked on stdin: {args}")

    monkeypatch.setattr(builtins, "input", _no_prompt)


def _load_quietly(name, root, **kwargs):
    # Our warnings (graph changes, size mismatches) are UserWarnings; others' deprecations
    # are not this test's business.
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        return load_dataset(name, root=root, **kwargs)


def _edge_set(graph) -> set[tuple[int, int]]:
    return set(map(tuple, graph.edge_index.T.tolist()))


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(path): (path.stat().st_size, path.stat().st_mtime_ns)
            for path in folder.rglob("*")}


# --- the real files in ../shared/data ---------------------------------------------------

def test_dblp_matches_the_published_sizes_and_the_graph_file(data_root):
    graph = _load_quietly("DBLP", data_root)
    assert graph.x.shape == (4057, 334) and graph.x.dtype == torch.float32
    assert graph.edge_index.shape == (2, 7056)
    assert len({frozenset(edge) for edge in _edge_set(graph)}) == 3528
    assert int(graph.y.max()) + 1 == 4 and graph.name == "dblp"
    listed = np.loadtxt(data_root / "sdcn/dblp/graph/dblp_graph.txt", dtype=np.int64)
    assert _edge_set(graph) == set(map(tuple, listed.tolist()))


def test_adgc_dblp_equals_sdcn_dblp(data_root):
    sdcn = _load_quietly("dblp", data_root)
    adgc = _load_quietly("dblp", data_root, layout="adgc")
    assert torch.equal(sdcn.x, adgc.x)
    assert torch.equal(sdcn.y, adgc.y)
    assert torch.equal(sdcn.edge_index, adgc.edge_index)


def test_cora_through_planetoid_without_writing_anything(data_root, tmp_path):
    before = _snapshot(data_root)
    graph = _load_quietly("cora", data_root)
    assert graph.x.shape == (2708, 1433) and int(graph.y.max()) + 1 == 7
    assert graph.edge_index.shape == (2, 10556)
    assert _snapshot(data_root) == before
    assert not (tmp_path / "cache" / "planetoid").exists()  # raw files are read directly
    again = _load_quietly("cora", data_root)
    assert torch.equal(again.edge_index, graph.edge_index)


def test_mirror_tolerates_a_concurrent_process_linking_first(tmp_path, monkeypatch):
    # Two loaders started together (e.g. parallel benchmark runs) both find no link, and the
    # second one's symlink call fails because the first one just made it.
    from graphclust.data.formats import _cache

    source = tmp_path / "data" / "Cora"
    (source / "raw").mkdir(parents=True)
    (source / "raw" / "x.txt").write_text("1")
    real_symlink = _cache.os.symlink

    def other_process_wins(original, link, target_is_directory=False):
        real_symlink(original, link, target_is_directory=target_is_directory)
        raise FileExistsError(17, "File exists", str(link))

    monkeypatch.setattr(_cache.os, "symlink", other_process_wins)
    target = _cache.mirror(source, ["raw"], tmp_path / "cache", "planetoid")
    assert (target / "raw" / "x.txt").read_text() == "1"


def test_mirror_copies_where_links_are_refused_and_a_concurrent_copy_wins(tmp_path,
                                                                         monkeypatch):
    from graphclust.data.formats import _cache

    source = tmp_path / "data" / "Cora"
    (source / "raw").mkdir(parents=True)
    (source / "raw" / "x.txt").write_text("1")

    def no_links(*args, **kwargs):
        raise PermissionError(1, "links not allowed")

    real_rename = _cache.os.rename

    def other_process_copies_first(private, link):
        _cache.shutil.copytree(source / "raw", link)
        (link / "winner").write_text("")
        real_rename(private, link)

    monkeypatch.setattr(_cache.os, "symlink", no_links)
    monkeypatch.setattr(_cache.os, "rename", other_process_copies_first)
    target = _cache.mirror(source, ["raw"], tmp_path / "cache", "planetoid")
    assert not (target / "raw").is_symlink() and (target / "raw" / "winner").exists()
    assert [p.name for p in target.iterdir()] == ["raw"]  # no partial copy left behind


def _raw_source(tmp_path):
    source = tmp_path / "data" / "Cora"
    (source / "raw").mkdir(parents=True)
    (source / "raw" / "x.txt").write_text("1")
    return source


def test_mirror_processes_privately_and_publishes_a_complete_folder(tmp_path):
    from graphclust.data.formats import _cache

    source = _raw_source(tmp_path)
    shared = []

    def process(private):
        shared.append(next((tmp_path / "cache").rglob("processed"), None))
        assert (private / "raw" / "x.txt").read_text() == "1"
        (private / "processed").mkdir()
        (private / "processed" / "data.pt").write_text("done")

    target = _cache.mirror(source, ["raw"], tmp_path / "cache", "planetoid", process)
    assert shared == [None]  # nothing half-made was visible while processing
    assert (target / "processed" / "data.pt").read_text() == "done"
    assert sorted(p.name for p in target.parent.iterdir()) == ["Cora"]  # private removed
    again = _cache.mirror(source, ["raw"], tmp_path / "cache", "planetoid",
                          lambda private: pytest.fail("processed twice"))
    assert again == target


def test_mirror_keeps_the_folder_a_concurrent_process_published_first(tmp_path):
    from graphclust.data.formats import _cache

    source = _raw_source(tmp_path)

    def process(private):
        (private / "processed").mkdir()
        (private / "processed" / "data.pt").write_text("ours")
        published = private.parent.parent / "Cora" / "processed"  # the other process wins
        published.mkdir()
        (published / "data.pt").write_text("theirs")
        (published / _cache.COMPLETE).touch()

    target = _cache.mirror(source, ["raw"], tmp_path / "cache", "planetoid", process)
    assert (target / "processed" / "data.pt").read_text() == "theirs"
    assert sorted(p.name for p in target.parent.iterdir()) == ["Cora"]


def test_mirror_replaces_an_incomplete_processed_folder(tmp_path):
    # Left by a process killed while writing, or by a cache from before the marker.
    from graphclust.data.formats import _cache

    source = _raw_source(tmp_path)
    target = _cache.mirror(source, ["raw"], tmp_path / "cache", "planetoid")
    (target / "processed").mkdir()
    (target / "processed" / "data.pt").write_text("half")

    def process(private):
        (private / "processed").mkdir()
        (private / "processed" / "data.pt").write_text("whole")

    again = _cache.mirror(source, ["raw"], tmp_path / "cache", "planetoid", process)
    assert (again / "processed" / "data.pt").read_text() == "whole"
    assert (again / "processed" / _cache.COMPLETE).is_file()
    assert sorted(p.name for p in again.parent.iterdir()) == ["Cora"]


def test_mirror_removes_private_folders_of_processes_that_died(tmp_path):
    import os
    import time

    from graphclust.data.formats import _cache

    source = _raw_source(tmp_path)
    target = _cache.mirror(source, ["raw"], tmp_path / "cache", "planetoid")
    old, recent = target.parent / ".processing-dead", target.parent / ".processing-busy"
    for folder in (old, recent):
        (folder / "Cora" / "processed").mkdir(parents=True)
    long_ago = time.time() - _cache._ABANDONED_AFTER_S - 60
    os.utime(old, (long_ago, long_ago))

    def process(private):
        (private / "processed").mkdir()

    _cache.mirror(source, ["raw"], tmp_path / "cache", "planetoid", process)
    assert not old.exists() and recent.exists()  # a recent one may be another live process


def test_mirror_reports_a_processing_step_that_wrote_nothing(tmp_path):
    from graphclust.data.formats import _cache

    with pytest.raises(FileNotFoundError):
        _cache.mirror(_raw_source(tmp_path), ["raw"], tmp_path / "cache", "planetoid",
                      lambda private: None)


def _load_cora_in_process(root, cache, queue):
    import os

    os.environ["GRAPHCLUST_CACHE"] = cache
    queue.put(int(_load_quietly("cora", root).num_nodes))


def test_two_processes_load_cora_into_an_empty_cache_at_once(data_root, tmp_path):
    # Found when two benchmark probes started together: one read the other's half-written
    # processed file ("failed finding central directory").
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_load_cora_in_process,
                               args=(str(data_root), str(tmp_path / "shared-cache"), queue))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(600)  # a hang only: spawning two torch processes is slow on a busy machine
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert [queue.get(timeout=1), queue.get(timeout=1)] == [2708, 2708]


@pytest.mark.parametrize("name, nodes", [("bat", 131), ("eat", 399), ("uat", 1190)])
def test_air_traffic_graphs_load(data_root, name, nodes):
    graph = _load_quietly(name, data_root)
    assert graph.num_nodes == nodes and int(graph.y.max()) + 1 == 4
    assert not bool((graph.edge_index[0] == graph.edge_index[1]).any())


def test_published_table_matches_every_present_file(data_root):
    rows = [row for row in datasets(data_root)
            if row["available"] and row["layout"] in ("sdcn", "adgc", "planetoid")]
    assert {(row["name"], row["layout"]) for row in rows} >= {
        ("dblp", "sdcn"), ("dblp", "adgc"), ("cora", "planetoid"), ("bat", "adgc"),
        ("eat", "adgc"), ("uat", "adgc")}
    for row in rows:
        graph = _load_quietly(row["name"], data_root, layout=row["layout"])
        found = (graph.num_nodes, graph.x.shape[1], int(graph.y.max()) + 1)
        assert found == (row["nodes"], row["features"], row["classes"]), row


def test_datasets_reports_missing_files_with_the_path(data_root):
    rows = {(row["name"], row["layout"]): row for row in datasets(data_root)}
    pubmed = rows[("pubmed", "planetoid")]
    assert not pubmed["available"]
    assert "planetoid/PubMed/raw/ind.pubmed.x" in pubmed["reason"]
    assert rows[("karate", "embedded")]["available"]


# --- embedded sets ------------------------------------------------------------------------

def test_digits_is_scaled_with_a_symmetric_cosine_knn_graph(tmp_path):
    graph = _load_quietly("digits", tmp_path)
    assert graph.x.shape == (1797, 64) and int(graph.y.max()) + 1 == 10
    assert float(graph.x.min()) == 0.0 and float(graph.x.max()) == 1.0
    edges = _edge_set(graph)
    assert all((j, i) in edges for i, j in edges)
    degree = torch.bincount(graph.edge_index[0], minlength=1797)
    assert int(degree.min()) >= 10
    sparser = _load_quietly("digits", tmp_path, k=3)
    assert sparser.edge_index.shape[1] < graph.edge_index.shape[1]


def test_karate_has_two_clubs_and_78_edges(tmp_path):
    graph = _load_quietly("karate", tmp_path)
    assert graph.num_nodes == 34 and graph.edge_index.shape == (2, 156)
    assert torch.equal(graph.x, torch.eye(34))
    assert graph.y.bincount().tolist() == [17, 17]


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
    with pytest.raises(FileNotFoundError, match=r"usps5_graph.txt"):
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


def _write_adgc(path: Path, name: str, folder: str = "") -> None:
    adjacency = np.eye(3, dtype=np.int32)
    adjacency[0, 1] = adjacency[1, 0] = 1
    arrays = {"feat": np.arange(6.0).reshape(3, 2), "label": np.array([2, 0, 2]),
              "adj": adjacency}
    with zipfile.ZipFile(path, "w") as archive:
        for part, array in arrays.items():
            buffer = io.BytesIO()
            np.save(buffer, array)
            archive.writestr(f"{folder}{name}_{part}.npy", buffer.getvalue())


def test_adgc_archive_in_a_folder_and_discovered_by_name(tmp_path):
    (tmp_path / "adgc").mkdir()
    _write_adgc(tmp_path / "adgc" / "Toy.zip", "Toy", folder="toy/")
    row = next(row for row in datasets(tmp_path) if row["name"] == "toy")
    assert row["layout"] == "adgc" and row["available"] and row["nodes"] is None
    graph = _load_quietly("toy", tmp_path)
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
    before = _snapshot(folder)
    with pytest.warns(UserWarning, match=r"published sizes are \(169343, 128, 40\)"):
        graph = load_dataset("ogbn-arxiv", root=tmp_path / "data")
    assert graph.edge_index.tolist() == [[0, 0, 1, 1, 2, 3, 4, 4], [1, 4, 0, 2, 1, 4, 0, 3]]
    assert graph.y.tolist() == [1, 0, 1, 2, 0]
    np.testing.assert_allclose(graph.x[1].numpy(), [0.3, 0.4, 0.5])
    assert _snapshot(folder) == before
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


# --- names and arguments ------------------------------------------------------------------

def test_root_defaults_to_the_environment_variable(tmp_path, monkeypatch):
    (tmp_path / "adgc").mkdir()
    _write_adgc(tmp_path / "adgc" / "toy.zip", "toy")
    monkeypatch.setenv("GRAPHCLUST_DATA", str(tmp_path))
    assert _load_quietly("toy", None).num_nodes == 3


def test_unknown_name_lists_known_names_and_a_close_match(tmp_path):
    with pytest.raises(ValueError, match=r"unknown data set 'dbpl'; did you mean 'dblp'.*"
                                         r"Known: .*cora.*karate"):
        load_dataset("dbpl", root=tmp_path)
    with pytest.raises(ValueError, match=r"^unknown data set 'nosuch'\. Known: "):
        load_dataset("nosuch", root=tmp_path)


def test_layout_and_k_that_do_not_apply_are_refused(tmp_path):
    with pytest.raises(ValueError, match="'cora' has no 'sdcn' copy; layouts: planetoid"):
        load_dataset("cora", root=tmp_path, layout="sdcn")
    with pytest.raises(ValueError, match="k applies to SDCN kNN graphs and to digits"):
        load_dataset("karate", root=tmp_path, k=3)


def test_sdcn_and_adgc_are_not_downloadable(tmp_path):
    missing_hint = r"Pass root= \(--root on the command line\) or set \$GRAPHCLUST_DATA"
    with pytest.raises(FileNotFoundError, match=missing_hint) as missing:
        load_dataset("acm", root=tmp_path, download=True)
    assert "download=True" not in str(missing.value)
