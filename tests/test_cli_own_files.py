"""The `graphclust` command on a user's own files: features, edges and labels."""

from __future__ import annotations

import json

import pytest
from cli_helpers import TINY as _TINY
from cli_helpers import run as _run


def _own_files(folder):
    """Karate's features, edges ('i j' lines, one direction) and labels as a user's files."""
    import numpy as np

    from graphclust.data import load_dataset

    graph = load_dataset("karate")
    np.save(folder / "club.npy", graph.x.numpy())
    np.savetxt(folder / "club.csv", graph.x.numpy(), delimiter=",")
    pairs = graph.edge_index.T.numpy()
    np.savetxt(folder / "edges.txt", pairs[pairs[:, 0] < pairs[:, 1]], fmt="%d")
    np.savetxt(folder / "labels.txt", np.array(["hi", "officer"])[graph.y.numpy()], fmt="%s")
    return graph


def test_fit_and_predict_read_a_users_own_files(tmp_path, capsys):
    """--features/--edges/--labels: the same graph as the registry's, so the same labels;
    without --edges the model builds a kNN graph of the rows, as fit(X) does."""
    _own_files(tmp_path)
    out, model = tmp_path / "runs", tmp_path / "m.gc"
    code, printed, err = _run(["fit", "--features", str(tmp_path / "club.npy"), "--edges",
                               str(tmp_path / "edges.txt"), "--labels",
                               str(tmp_path / "labels.txt"), "--out", str(out), "--quiet",
                               "--save", str(model), *_TINY], capsys)
    assert code == 0, err
    assert "club: 34 nodes, 78 edges, 34 features, 2 classes" in printed
    run = json.loads((out / "club-scgc-star-seed0" / "run.json").read_text())
    assert run["edges"] == str((tmp_path / "edges.txt").resolve()) and "dataset" not in run
    code, _, err = _run(["fit", "--dataset", "karate", "--out", str(out), "--quiet", *_TINY],
                        capsys)
    assert code == 0, err
    registry = (out / "karate-scgc-star-seed0" / "labels.csv").read_text()
    assert (out / "club-scgc-star-seed0" / "labels.csv").read_text() == registry
    code, _, err = _run(["predict", "--model", str(model), "--features",
                         str(tmp_path / "club.csv"), "--edges", str(tmp_path / "edges.txt"),
                         "--out", str(out)], capsys)
    assert code == 0, err
    assert (out / "club-predict-m" / "labels.csv").read_text() == registry
    code, printed, err = _run(["fit", "--features", str(tmp_path / "club.npy"), "--model",
                               "svd-kmeans", "--set", "n_clusters=2", "--out", str(out),
                               "--quiet"], capsys)
    assert code == 0, err
    assert "no edge file: the model builds a kNN graph of the rows" in printed


def test_bench_reads_a_users_own_files_beside_named_data_sets(tmp_path, capsys):
    """The user's graph is one more data set of the grid, named after its features file,
    with the baselines beside it; its scores equal the registry's copy's."""
    import csv

    _own_files(tmp_path)
    out = tmp_path / "bench"
    code, printed, err = _run(["bench", "--features", str(tmp_path / "club.npy"), "--edges",
                               str(tmp_path / "edges.txt"), "--labels",
                               str(tmp_path / "labels.txt"), "--datasets", "karate",
                               "--models", "scgc-star", "--seeds", "1", "--out", str(out),
                               "--quiet", *_TINY], capsys)
    assert code == 0, err
    with open(out / "results.csv") as handle:
        rows = {(row["dataset"], row["model"]): row for row in csv.DictReader(handle)}
    assert {dataset for dataset, _ in rows} == {"karate", "club"}
    assert ("club", "svd-kmeans t=2") in rows and ("club", "degree-kmeans") in rows
    for model in ("scgc-star", "svd-kmeans t=1"):
        assert rows["club", model]["acc"] == rows["karate", model]["acc"]
    assert rows["club", "scgc-star"]["edges"] == "78"
    code, printed, err = _run(["bench", "--features", str(tmp_path / "club.npy"), "--labels",
                               str(tmp_path / "labels.txt"), "--models", "svd-kmeans",
                               "--seeds", "1", "--out", str(out), "--quiet"], capsys)
    assert code == 0, err  # no edge file: each model builds the kNN graph of the rows
    assert "club" in printed and "degree-kmeans" in printed


@pytest.mark.parametrize(("argv", "message"), [
    (["--models", "svd-kmeans", "--datasets", "karate", "--labels", "{tmp}/labels.txt"],
     "give its features with --features too"),
    (["--models", "svd-kmeans", "--features", "{tmp}/absent.npy"], "no file"),
    (["--models", "svd-kmeans", "--features", "{tmp}/club.npy"],
     "club has no labels to take n_clusters from: give it (--set n_clusters=K)"),
    (["--models", "svd-kmeans", "--datasets", "karate,Club", "--features", "{tmp}/club.npy"],
     "data set 'club' is listed twice (your own files take their features file's name"),
])
def test_bench_refuses_data_it_cannot_read(tmp_path, capsys, argv, message):
    _own_files(tmp_path)
    code, _, err = _run(["bench", *[part.format(tmp=tmp_path) for part in argv], "--out",
                         str(tmp_path / "bench")], capsys)
    assert code == 2 and message in err, err


@pytest.mark.parametrize(("argv", "message"), [
    (["--features", "{tmp}/club.npy", "--dataset", "karate"], "leave out --dataset and --k"),
    (["--edges", "{tmp}/edges.txt"], "give its features with --features too"),
    (["--features", "{tmp}/absent.npy"], "no file"),
    (["--features", "{tmp}/objects.npy"], "not a readable .npy array of numbers"),
    (["--features", "{tmp}/claims_more.npy"], "mmap length is greater than file size"),
    (["--features", "{tmp}/header.csv"], "without a header line"),
    (["--features", "{tmp}/huge.csv", "--set", "n_clusters=2"],
     "values beyond float32's range"),  # a float32 parse made it inf: "NaN or inf"
    (["--features", "{tmp}/club.npy", "--edges", "{tmp}/three.txt"],
     "two integer node rows a line, got shape (2, 3)"),
    (["--features", "{tmp}/club.npy", "--edges", "{tmp}/floats.npy"],
     "floats.npy: an edge list must hold integer node rows, got dtype float64"),
    (["--features", "{tmp}/club.npy", "--labels", "{tmp}/labels.txt", "--edges",
      "{tmp}/far.txt"], "far.txt: node row 99 is not a row of the features (34 rows, "
                        "counted from 0)"),
    (["--features", "{tmp}/club.npy", "--edges", "{tmp}/one_based.txt"],
     "one_based.txt: node row 34 is not a row of the features (34 rows, counted from 0); "
     "this file's nodes run from 1 to N: subtract 1 from every entry"),
])
def test_a_users_files_that_cannot_be_read_are_refused_naming_them(tmp_path, capsys, argv,
                                                                   message):
    import numpy as np

    _own_files(tmp_path)
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with open(tmp_path / "claims_more.npy", "wb") as handle:  # a header, no data
        np.lib.format.write_array_header_1_0(
            handle, {"descr": "<f8", "fortran_order": False, "shape": (10**9, 10**3)})
    (tmp_path / "header.csv").write_text("a,b\n1,2\n")
    (tmp_path / "huge.csv").write_text("1e39,2\n1,2\n3,1\n")
    (tmp_path / "three.txt").write_text("0 1 2\n3 4 5\n")
    np.save(tmp_path / "floats.npy", np.array([[0.0, 1.0], [1.0, 2.0]]))
    (tmp_path / "far.txt").write_text("0 1\n2 99\n")
    (tmp_path / "one_based.txt").write_text("1 2\n34 1\n")
    code, _, err = _run(["fit", *[part.format(tmp=tmp_path) for part in argv], "--out",
                         str(tmp_path / "runs")], capsys)
    assert code == 2 and message in err, err


def test_predict_needs_nodes_to_cluster(tmp_path, capsys):
    code, _, err = _run(["predict", "--model", str(tmp_path / "m.gc")], capsys)
    assert code == 2 and "--dataset NAME or --features PATH" in err


@pytest.mark.parametrize("edges", [False, True], ids=["knn", "edges"])
@pytest.mark.parametrize(("name", "lines", "message"), [
    ("labels.txt", "0\n" * 30 + "nan\n" * 4, "y has NaN or infinite values in 4 of 34 entries"),
    ("labels.txt", "0\n1\n", "y has 2 labels but X has 34 rows"),
    ("labels.txt", "", "the file is empty"),
    ("labels.txt", "0\n\n" + "1\n" * 32, "labels.txt: line 2 is blank; every node needs"),
    ("labels.txt", "".join(f"{i} {i % 2}\n" for i in range(34)),
     "labels.txt: line 1 holds several columns; a labels file holds one label a line"),
    ("labels.csv", "a\n" * 33 + "b,c\n", "labels.csv: line 34 holds several columns"),
])
def test_labels_that_would_change_the_classes_are_refused(tmp_path, capsys, edges, name,
                                                         lines, message):
    _own_files(tmp_path)
    (tmp_path / name).write_text(lines)
    argv = ["fit", "--features", str(tmp_path / "club.npy"), "--labels", str(tmp_path / name),
            "--out", str(tmp_path / "runs"), *_TINY]
    code, _, err = _run(argv + (["--edges", str(tmp_path / "edges.txt")] if edges else []),
                        capsys)
    assert code == 2 and message in err, err


def test_text_is_read_as_it_is(tmp_path, capsys):
    """No comment character in labels ("C#" is a class, not "C"), a byte-order mark
    dropped (as spreadsheets save CSV), a compressed name not unpacked."""
    import gzip

    import numpy as np

    from graphclust.data.formats.plain import read_plain_files

    graph = _own_files(tmp_path)
    names = np.array(["C#", "class C"])[graph.y.numpy()]  # a name may hold a space
    (tmp_path / "sharp.txt").write_text("\n".join(names) + "\n", encoding="utf-8-sig")
    _, _, labels = read_plain_files(tmp_path / "club.npy", labels=tmp_path / "sharp.txt")
    assert labels.tolist() == names.tolist()
    (tmp_path / "trailing.txt").write_text("\n".join(names) + "\n\n\n")  # blank lines at the end
    _, _, labels = read_plain_files(tmp_path / "club.npy", labels=tmp_path / "trailing.txt")
    assert labels.tolist() == names.tolist()
    text = (tmp_path / "club.csv").read_text()
    (tmp_path / "bom.csv").write_text(text, encoding="utf-8-sig")
    features, _, _ = read_plain_files(tmp_path / "bom.csv")
    np.testing.assert_array_equal(features, graph.x.numpy())
    with gzip.open(tmp_path / "club.csv.gz", "wt") as handle:
        handle.write(text)
    with pytest.raises(ValueError, match="club.csv.gz"):
        read_plain_files(tmp_path / "club.csv.gz")


def test_edge_files_take_comments_and_feature_files_do_not(tmp_path):
    """Edge files skip "#" comments (SNAP's edge lists open with them), also after the
    numbers and a delimiter; a file of comments alone is no edges. A features row that
    starts with "#" (a spreadsheet's "#N/A") is refused, not skipped: every later node
    would get the next one's features."""
    import numpy as np

    from graphclust.data.formats.plain import read_plain_files

    graph = _own_files(tmp_path)
    lines = (tmp_path / "edges.txt").read_text().splitlines()
    _, plain, _ = read_plain_files(tmp_path / "club.npy", tmp_path / "edges.txt")
    (tmp_path / "snap.txt").write_text(
        "# Undirected graph: karate\n# Nodes: 34 Edges: 78\n# FromNodeId\tToNodeId\n"
        + "\n".join(f"{line}  # edge {number}" for number, line in enumerate(lines)) + "\n")
    (tmp_path / "noted.csv").write_text(
        "# source,target\n" + "\n".join(f"{line.replace(' ', ',')},# edge"
                                        for line in lines) + "\n")
    for name in ("snap.txt", "noted.csv"):
        _, edges, _ = read_plain_files(tmp_path / "club.npy", tmp_path / name)
        np.testing.assert_array_equal(edges, plain)
    (tmp_path / "none.txt").write_text("# no edges yet\n")
    assert read_plain_files(tmp_path / "club.npy", tmp_path / "none.txt")[1].shape == (2, 0)
    rows = (tmp_path / "club.csv").read_text().splitlines()
    (tmp_path / "missing.csv").write_text("\n".join([rows[0], "#N/A", *rows[2:]]) + "\n")
    with pytest.raises(ValueError, match="missing.csv: .* at row 2"):
        read_plain_files(tmp_path / "missing.csv")
    assert graph.num_nodes == len(rows)


def test_a_run_folder_of_another_input_is_kept(tmp_path, capsys):
    """Two features files of one name, or a file against the data set of that name, share
    a folder name: the second run refuses to replace the first unless --overwrite."""
    import shutil

    _own_files(tmp_path)
    (tmp_path / "b").mkdir()
    shutil.copy(tmp_path / "club.npy", tmp_path / "b" / "club.npy")
    out = str(tmp_path / "runs")
    common = ["--model", "svd-kmeans", "--set", "n_clusters=2", "--out", out, "--quiet"]
    assert _run(["fit", "--features", str(tmp_path / "club.npy"), *common], capsys)[0] == 0
    code, _, err = _run(["fit", "--features", str(tmp_path / "b" / "club.npy"), *common],
                        capsys)
    assert code == 2 and "holds a run of another input" in err
    assert _run(["fit", "--features", str(tmp_path / "b" / "club.npy"), *common,
                 "--overwrite"], capsys)[0] == 0
    model = tmp_path / "m.gc"
    assert _run(["fit", "--dataset", "karate", "--model", "svd-kmeans", "--out",
                 str(tmp_path / "fits"), "--save", str(model), "--quiet"], capsys)[0] == 0
    predict = ["predict", "--model", str(model), "--out", out]
    assert _run([*predict, "--features", str(tmp_path / "club.npy")], capsys)[0] == 0
    code, _, err = _run([*predict, "--features", str(tmp_path / "b" / "club.npy")], capsys)
    assert code == 2 and "holds labels of another input" in err


def test_predict_asks_for_the_edges_a_graph_model_reads(tmp_path, capsys):
    _own_files(tmp_path)
    model = tmp_path / "degree.gc"
    assert _run(["fit", "--dataset", "karate", "--model", "degree-kmeans", "--out",
                 str(tmp_path / "fits"), "--save", str(model), "--quiet"], capsys)[0] == 0
    code, _, err = _run(["predict", "--model", str(model), "--features",
                         str(tmp_path / "club.npy"), "--out", str(tmp_path / "runs")], capsys)
    assert code == 2 and "give the nodes' edges with --edges" in err


def test_predict_refuses_edges_for_a_model_that_built_its_knn_graph(tmp_path, capsys):
    # The model read the given edges in place of the kNN graph it had been fitted on.
    _own_files(tmp_path)
    model = tmp_path / "svd.gc"
    assert _run(["fit", "--features", str(tmp_path / "club.npy"), "--model", "svd-kmeans",
                 "--set", "propagation_steps=1", "--set", "n_clusters=2", "--out",
                 str(tmp_path / "fits"), "--save", str(model), "--quiet"], capsys)[0] == 0
    code, _, err = _run(["predict", "--model", str(model), "--features",
                         str(tmp_path / "club.npy"), "--edges", str(tmp_path / "edges.txt"),
                         "--out", str(tmp_path / "runs")], capsys)
    assert code == 2 and "fitted on a kNN graph it built of the features" in err
    assert "leave out --edges" in err and not (tmp_path / "runs").exists()
    # A data set's own graph would be read in its place as well.
    code, _, err = _run(["predict", "--model", str(model), "--dataset", "karate", "--out",
                         str(tmp_path / "runs")], capsys)
    assert code == 2 and "give the data set's features with --features" in err
    assert not (tmp_path / "runs").exists()


def test_predict_of_features_of_another_width_says_what_to_give(tmp_path, capsys):
    # It had ended on the estimator's "X has 33 features, but SCGCStar is expecting 34
    # features as input", naming neither the model file nor what to pass instead.
    import numpy as np

    _own_files(tmp_path)
    model = tmp_path / "m.gc"
    assert _run(["fit", "--dataset", "karate", "--out", str(tmp_path / "fits"), "--save",
                 str(model), "--quiet", "--no-baselines", *_TINY], capsys)[0] == 0
    np.save(tmp_path / "narrow.npy", np.load(tmp_path / "club.npy")[:, :33])
    code, _, err = _run(["predict", "--model", str(model), "--features",
                         str(tmp_path / "narrow.npy"), "--out", str(tmp_path / "runs")],
                        capsys)
    assert code == 2, err
    assert f"narrow has 33 features a node, but {model} was fitted on 34" in err
    assert "give nodes with the feature columns the model was fitted on" in err
    assert not (tmp_path / "runs").exists()


def test_the_commands_warnings_are_one_line_under_its_name(tmp_path, capsys):
    # They had read "<frozen runpy>:88: GraphInputWarning: ..." under `python -m`, and the
    # console script's "sys.exit(main())" beneath its own path under `graphclust`.
    _own_files(tmp_path)  # edges.txt lists each edge once: to_graph symmetrises them
    code, _, err = _run(["fit", "--features", str(tmp_path / "club.npy"), "--edges",
                         str(tmp_path / "edges.txt"), "--set", "n_clusters=2", "--out",
                         str(tmp_path / "runs"), "--quiet", *_TINY], capsys)
    assert code == 0, err
    lines = [line for line in err.splitlines() if "GraphInputWarning" in line]
    assert lines and lines[0].startswith(
        "graphclust fit: GraphInputWarning: to_graph changed the input graph: symmetrised")
    assert "sys.exit" not in err and "runpy" not in err


def test_edges_beyond_int64_are_refused(tmp_path):
    import numpy as np

    from graphclust.data.formats.plain import read_plain_files

    _own_files(tmp_path)
    np.save(tmp_path / "big.npy", np.array([[0, 2**63 + 1]], dtype=np.uint64))
    with pytest.raises(ValueError, match="node row 9223372036854775809 is not a row"):
        read_plain_files(tmp_path / "club.npy", edges=tmp_path / "big.npy")
    (tmp_path / "none.txt").write_text("")
    _, edges, _ = read_plain_files(tmp_path / "club.npy", edges=tmp_path / "none.txt")
    assert edges.shape == (2, 0)  # an empty edge file: no edges


def test_fit_of_a_feature_matrix_reads_the_baselines_on_the_models_knn_graph(tmp_path,
                                                                           capsys):
    _own_files(tmp_path)
    code, out, err = _run(["fit", "--features", str(tmp_path / "club.npy"), "--labels",
                           str(tmp_path / "labels.txt"), "--out", str(tmp_path), "--quiet",
                           *_TINY], capsys)
    assert code == 0, err
    assert "warned" not in out  # the graph is handed over whole, not rebuilt or cut
    run = json.loads((tmp_path / "club-scgc-star-seed0" / "run.json").read_text())
    assert len(run["baselines"]) == 5 and "no training (best of svd-kmeans t=0..3" in out


def test_predict_searches_the_knn_graph_with_the_knn_method_given(tmp_path, capsys,
                                                                  monkeypatch):
    # predict took --knn-method and searched as the model was fitted all the same.
    import graphclust.estimators.base as base

    _own_files(tmp_path)
    model = tmp_path / "svd.gc"
    assert _run(["fit", "--features", str(tmp_path / "club.npy"), "--model", "svd-kmeans",
                 "--set", "propagation_steps=1", "--set", "n_clusters=2", "--out",
                 str(tmp_path / "fits"), "--save", str(model), "--quiet"], capsys)[0] == 0
    searches = []
    real = base.knn_graph
    monkeypatch.setattr(base, "knn_graph", lambda *args, method, **kwargs:
                        searches.append(method) or real(*args, method=method, **kwargs))
    predict = ["predict", "--model", str(model), "--features", str(tmp_path / "club.npy"),
               "--out", str(tmp_path / "runs")]
    assert _run([*predict, "--knn-method", "exact"], capsys)[0] == 0
    assert _run(predict, capsys)[0] == 0  # the model's own: auto, as fitted
    assert searches == ["exact", "auto"]


def test_an_edge_file_of_floats_is_a_type_error_as_in_to_graph(tmp_path):
    """The reader had raised ValueError where to_graph raises TypeError for the same
    float edge list (a wrong dtype is a TypeError everywhere)."""
    import numpy as np

    from graphclust.data.formats.plain import read_plain_files

    np.save(tmp_path / "x.npy", np.eye(3))
    np.save(tmp_path / "floats.npy", np.array([[0.0, 1.0], [1.0, 2.0]]))
    with pytest.raises(TypeError, match="floats.npy: an edge list must hold integer node "
                                        "rows, got dtype float64"):
        read_plain_files(tmp_path / "x.npy", tmp_path / "floats.npy")
