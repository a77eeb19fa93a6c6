"""load_dataset / datasets: the real shared files, the embedded sets, names and arguments."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from dataset_helpers import edge_set, load_quietly, snapshot, write_adgc

from graphclust.data import datasets, load_dataset

pytestmark = pytest.mark.usefixtures("cache_in_tmp")


# --- the real files in ../shared/data ---------------------------------------------------

def test_dblp_matches_the_published_sizes_and_the_graph_file(data_root):
    graph = load_quietly("DBLP", data_root)
    assert graph.x.shape == (4057, 334) and graph.x.dtype == torch.float32
    assert graph.edge_index.shape == (2, 7056)
    assert len({frozenset(edge) for edge in edge_set(graph)}) == 3528
    assert int(graph.y.max()) + 1 == 4 and graph.name == "dblp"
    listed = np.loadtxt(data_root / "sdcn/dblp/graph/dblp_graph.txt", dtype=np.int64)
    assert edge_set(graph) == set(map(tuple, listed.tolist()))


def test_adgc_dblp_equals_sdcn_dblp(data_root):
    sdcn = load_quietly("dblp", data_root)
    adgc = load_quietly("dblp", data_root, layout="adgc")
    assert torch.equal(sdcn.x, adgc.x)
    assert torch.equal(sdcn.y, adgc.y)
    assert torch.equal(sdcn.edge_index, adgc.edge_index)


def test_cora_through_planetoid_without_writing_anything(data_root, tmp_path):
    before = snapshot(data_root)
    graph = load_quietly("cora", data_root)
    assert graph.x.shape == (2708, 1433) and int(graph.y.max()) + 1 == 7
    assert graph.edge_index.shape == (2, 10556)
    assert snapshot(data_root) == before
    assert not (tmp_path / "cache" / "planetoid").exists()  # raw files are read directly
    again = load_quietly("cora", data_root)
    assert torch.equal(again.edge_index, graph.edge_index)


@pytest.mark.parametrize("name, nodes", [("bat", 131), ("eat", 399), ("uat", 1190)])
def test_air_traffic_graphs_load(data_root, name, nodes):
    graph = load_quietly(name, data_root)
    assert graph.num_nodes == nodes and int(graph.y.max()) + 1 == 4
    assert not bool((graph.edge_index[0] == graph.edge_index[1]).any())


def test_published_table_matches_every_present_file(data_root):
    rows = [row for row in datasets(data_root)
            if row["available"] and row["layout"] in ("sdcn", "adgc", "planetoid")]
    assert {(row["name"], row["layout"]) for row in rows} >= {
        ("dblp", "sdcn"), ("dblp", "adgc"), ("cora", "planetoid"), ("bat", "adgc"),
        ("eat", "adgc"), ("uat", "adgc")}
    for row in rows:
        graph = load_quietly(row["name"], data_root, layout=row["layout"])
        found = (graph.num_nodes, graph.x.shape[1], int(graph.y.max()) + 1)
        assert found == (row["nodes"], row["features"], row["classes"]), row


def test_datasets_reports_missing_files_with_the_path(data_root):
    rows = {(row["name"], row["layout"]): row for row in datasets(data_root)}
    pubmed = rows[("pubmed", "planetoid")]
    assert not pubmed["available"]
    assert "planetoid/PubMed/raw/ind.pubmed.x" in pubmed["reason"]
    assert rows[("karate", "embedded")]["available"]


def test_datasets_lists_the_others_when_a_reader_package_is_missing(tmp_path, monkeypatch):
    def no_ogb(name):
        raise ImportError("the 'ogb' package is needed for OGB data sets: pip install ogb")

    # The module, not the function graphclust.data.datasets that shares its name.
    monkeypatch.setattr(sys.modules["graphclust.data.datasets"], "ogb_metadata", no_ogb)
    rows = {(row["name"], row["layout"]): row for row in datasets(tmp_path)}
    arxiv = rows[("ogbn-arxiv", "ogb")]
    assert not arxiv["available"] and "pip install ogb" in arxiv["reason"]
    assert rows[("karate", "embedded")]["available"]


# --- embedded sets ------------------------------------------------------------------------

def test_digits_is_scaled_with_a_symmetric_cosine_knn_graph(tmp_path):
    graph = load_quietly("digits", tmp_path)
    assert graph.x.shape == (1797, 64) and int(graph.y.max()) + 1 == 10
    assert float(graph.x.min()) == 0.0 and float(graph.x.max()) == 1.0
    edges = edge_set(graph)
    assert all((j, i) in edges for i, j in edges)
    degree = torch.bincount(graph.edge_index[0], minlength=1797)
    assert int(degree.min()) >= 10
    sparser = load_quietly("digits", tmp_path, k=3)
    assert sparser.edge_index.shape[1] < graph.edge_index.shape[1]


def test_karate_has_two_clubs_and_78_edges(tmp_path):
    graph = load_quietly("karate", tmp_path)
    assert graph.num_nodes == 34 and graph.edge_index.shape == (2, 156)
    assert torch.equal(graph.x, torch.eye(34))
    assert graph.y.bincount().tolist() == [17, 17]


# --- names and arguments ------------------------------------------------------------------

def test_root_defaults_to_the_environment_variable(tmp_path, monkeypatch):
    (tmp_path / "adgc").mkdir()
    write_adgc(tmp_path / "adgc" / "toy.zip", "toy")
    monkeypatch.setenv("GRAPHCLUST_DATA", str(tmp_path))
    assert load_quietly("toy", None).num_nodes == 3


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
    with pytest.raises(TypeError, match="layout must be a layout name"):
        load_dataset("cora", root=tmp_path, layout=1)
    # dblp has an SDCN and an A-DGC copy: k takes the SDCN one (missing here) instead of
    # refusing the name.
    with pytest.raises(FileNotFoundError, match="sdcn"):
        load_dataset("dblp", root=tmp_path, k=3)


def test_download_must_be_a_flag(tmp_path):
    # Any string is truthy: download="False" had fetched the missing files.
    with pytest.raises(TypeError, match="download must be True or False"):
        load_dataset("cora", root=tmp_path, download="False")


@pytest.mark.parametrize("k", [3.0, True, "3"])
def test_k_must_be_an_integer(tmp_path, k):
    # It named a file: k=3.0 had looked for dblp3.0_graph.txt (and then suggested "k in
    # [3]"), k="3" had read dblp3_graph.txt.
    with pytest.raises(TypeError, match="k must be None or an integer"):
        load_dataset("dblp", root=tmp_path, k=k)


def test_sdcn_and_adgc_are_not_downloadable(tmp_path):
    missing_hint = r"Pass root= \(--root on the command line\) or set \$GRAPHCLUST_DATA"
    with pytest.raises(FileNotFoundError, match=missing_hint) as missing:
        load_dataset("acm", root=tmp_path, download=True)
    assert "download=True" not in str(missing.value)
