"""The ``graphclust`` command: outputs, files, exit codes and one-line errors."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
from cli_helpers import TINY as _TINY
from cli_helpers import run as _run
from model_helpers import OneCluster

from graphclust.cli import main, parse_assignment
from graphclust.registry import MODELS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("max_epochs=3", ("max_epochs", 3)),
        ("lr=1e-4", ("lr", 1e-4)),
        (" tau = 0.5 ", ("tau", 0.5)),
        ("hidden_dims=256,64", ("hidden_dims", (256, 64))),
        ("hidden_dims=[256, 64]", ("hidden_dims", (256, 64))),
        ("hidden_dims=(128,)", ("hidden_dims", (128,))),
        ("batch_size=None", ("batch_size", None)),
        ("batch_size=null", ("batch_size", None)),
        ("batch_size=NONE", ("batch_size", None)),
        ("features=none", ("features", "none")),  # a word; build_estimator resolves it
        ("verbose=true", ("verbose", True)),
        ("verbose=False", ("verbose", False)),
        ("features=tfidf", ("features", "tfidf")),
        ("features='l2'", ("features", "l2")),
        ("device=cuda:0", ("device", "cuda:0")),
    ],
)
def test_parse_assignment(text, expected):
    key, value = parse_assignment(text)
    assert (key, value) == expected
    assert type(value) is type(expected[1])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("max_epochs", "expects key=value"),
        ("=3", "expects key=value"),
        ("max-epochs=3", "expects key=value"),
        ("max_epochs=", "has no value"),
        ("alpha={1: 2}", "got dict"),
        ("alpha=[1, {2}]", "got tuple"),
    ],
)
def test_parse_assignment_refuses(text, message):
    with pytest.raises(ValueError, match=message):
        parse_assignment(text)


def test_fit_save_and_predict(tmp_path, capsys):
    model = tmp_path / "karate.graphclust"
    code, out, err = _run(["fit", "--dataset", "karate", "--seed", "1", "--out", str(tmp_path),
                           "--save", str(model), *_TINY], capsys)
    assert code == 0, err
    assert "karate: 34 nodes, 78 edges, 34 features, 2 classes" in out
    assert "ACC " in out and "NMI " in out and "ARI " in out and "F1 " in out
    assert "time: " in out
    run_dir = tmp_path / "karate-scgc-star-seed1"
    assert f"labels: {run_dir / 'labels.csv'}" in out
    with open(run_dir / "labels.csv") as handle:
        fitted = list(csv.reader(handle))
    assert fitted[0] == ["node", "cluster"] and len(fitted) == 35
    summary = json.loads((run_dir / "run.json").read_text())
    assert summary["params"]["max_epochs"] == 3 and summary["params"]["random_state"] == 1
    assert summary["params"]["n_clusters"] == 2
    assert set(summary["scores"]) == {"acc", "nmi", "ari", "f1"}
    assert summary["params"]["batch_size"] == "auto" and summary["batch_size"] is None
    assert summary["start_length"] == 2  # pretrain_epochs: too few edges to hold any out
    assert "(a start of 2 steps, " in out and "training epochs, full batch)" in out

    code, out, err = _run(["predict", "--model", str(model), "--dataset", "karate",
                           "--out", str(tmp_path)], capsys)
    assert code == 0, err
    with open(tmp_path / "karate-predict-karate" / "labels.csv") as handle:
        assert list(csv.reader(handle)) == fitted  # the saved model predicts the same labels


def test_a_failed_command_leaves_no_empty_run_folder(tmp_path, capsys):
    """The run folder is made before the work, to fail early when it cannot be written;
    a fit or predict that then fails removes the folders it made (and only those)."""
    model = tmp_path / "karate.gc"
    code, _, err = _run(["fit", "--dataset", "karate", "--model", "svd-kmeans", "--out",
                         str(tmp_path / "fits"), "--save", str(model), "--quiet"], capsys)
    assert code == 0, err
    out = tmp_path / "labels"
    code, _, err = _run(["predict", "--model", str(model), "--dataset", "digits", "--out",
                         str(out)], capsys)
    assert code == 2 and "digits has 64 features a node, but" in err and "fitted on 34" in err
    assert not out.exists()  # nor the --out folders the command made for it
    deeper = out / "a" / "b"
    code, _, err = _run(["fit", "--dataset", "karate", "--out", str(deeper), "--quiet",
                         "--set", "n_clusters=40"], capsys)  # more clusters than nodes
    assert code == 2 and "n_clusters" in err
    assert not out.exists()
    kept = out / "karate-predict-karate"
    kept.mkdir(parents=True)  # the user's folder: a failure does not remove it
    code, _, err = _run(["predict", "--model", str(model), "--dataset", "karate", "--out",
                         str(out), "--k", "3"], capsys)
    assert code == 2 and kept.is_dir()


def test_predict_keeps_another_model_files_labels_unless_told(tmp_path, capsys):
    """Two model files of one name share predict's folder: the second refuses to replace
    the first one's labels (run.json names the model by its SHA-256) unless --overwrite;
    the same model predicts again freely."""
    models = [tmp_path / name / "model.gc" for name in ("a", "b")]
    for model, name in zip(models, ("svd-kmeans", "degree-kmeans"), strict=True):
        model.parent.mkdir()
        code, _, err = _run(["fit", "--dataset", "karate", "--model", name, "--out",
                             str(tmp_path / "fits"), "--save", str(model), "--quiet"], capsys)
        assert code == 0, err
    predict = ["predict", "--dataset", "karate", "--out", str(tmp_path / "labels")]
    folder = tmp_path / "labels" / "karate-predict-model"
    assert _run([*predict, "--model", str(models[0])], capsys)[0] == 0
    first = (folder / "labels.csv").read_text()
    assert json.loads((folder / "run.json").read_text())["model"] == str(models[0].resolve())
    assert _run([*predict, "--model", str(models[0])], capsys)[0] == 0  # the same model
    code, _, err = _run([*predict, "--model", str(models[1])], capsys)
    assert code == 2 and "holds labels of another model file" in err
    assert (folder / "labels.csv").read_text() == first
    assert _run([*predict, "--model", str(models[1]), "--overwrite"], capsys)[0] == 0
    assert json.loads((folder / "run.json").read_text())["model"] == str(models[1].resolve())
    # Labels with no readable record (written before predict kept one) are replaced.
    (folder / "run.json").unlink()
    assert _run([*predict, "--model", str(models[0])], capsys)[0] == 0


def test_a_data_set_name_in_other_case_is_the_same_input(tmp_path, capsys):
    # run.json had kept the name as typed: Karate after karate was "another input".
    fit = ["fit", "--model", "svd-kmeans", "--out", str(tmp_path), "--quiet"]
    assert _run([*fit, "--dataset", "karate"], capsys)[0] == 0
    code, _, err = _run([*fit, "--dataset", "Karate"], capsys)
    assert code == 0, err
    record = tmp_path / "karate-svd-kmeans-seed0" / "run.json"
    run = json.loads(record.read_text())
    assert run["dataset"] == "karate"
    # A record written before names were lowercased is the same input too.
    record.write_text(json.dumps({**run, "dataset": "Karate"}))
    assert _run([*fit, "--dataset", "Karate"], capsys)[0] == 0


def test_fit_says_when_there_was_no_start(tmp_path, capsys):
    code, out, err = _run(["fit", "--dataset", "karate", "--out", str(tmp_path), *_TINY,
                           "--set", "pretrain=none"], capsys)
    assert code == 0, err
    assert "(no start, " in out
    summary = json.loads((tmp_path / "karate-scgc-star-seed0" / "run.json").read_text())
    assert summary["start_length"] == 0


def test_fit_progress_bar_goes_to_stderr(tmp_path, capsys):
    code, _, err = _run(["fit", "--dataset", "karate", "--out", str(tmp_path), *_TINY], capsys)
    assert code == 0
    assert "SCGCStar" in err and "loss=" in err
    code, _, err = _run(["fit", "--dataset", "karate", "--out", str(tmp_path), "--quiet",
                         *_TINY], capsys)
    assert code == 0 and err == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fit", "--dataset", "nope"], "unknown data set 'nope'"),
        (["fit", "--model", "nope"], "unknown model 'nope'; registered: " + ", ".join(MODELS)),
        (["fit", "--set", "nope=1"], "scgc-star has no parameter 'nope'"),
        (["fit", "--set", "max_epochs=abc"], "max_epochs='abc' has type str"),
        (["fit", "--set", "max_epochs"], "expects key=value"),
        (["fit", "--set", "lr=1", "--set", "lr=2"], "--set lr given twice"),
        (["fit", "--set", "random_state=3"], "use --seed instead"),
        (["fit", "--dataset", "karate", "--quiet", "--set", "max_epochs=-1"],
         "'max_epochs' parameter of SCGCStar must be an int in the range [0, inf)"),
        (["fit", "--dataset", "acm", "--root", "{tmp}"], "data set 'acm' not found"),
        (["fit", "--dataset", "karate", "--model", "scgc", "--quiet", "--out", "{tmp}",
          "--set", "lr=1e4", "--set", "max_epochs=20"], "training diverged"),
        (["predict", "--model", "{tmp}/absent", "--dataset", "karate"], "does not exist"),
        (["predict", "--model", "{tmp}", "--dataset", "karate"], "is a folder"),
        (["predict", "--model", "{tmp}/junk.txt", "--dataset", "karate"],
         "not a graphclust model file"),
        (["bench", "--datasets", "karate", "--models", "nope"], "unknown model 'nope'"),
        (["bench", "--datasets", "karate", "--models", "scgc", "--seeds", "0"],
         "seeds must be >= 1"),
        (["bench", "--datasets", ",", "--models", "scgc"], "--datasets needs at least one"),
        (["fit", "--bogus"], "unrecognized arguments: --bogus"),
        (["bench", "--models", "scgc"], "bench needs data: --datasets NAMES, --features"),
        (["bench", "--datasets", "karate", "--models", "scgc", "--protocol", "best"],
         "invalid choice: 'best'"),
        ([], "required: COMMAND"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(tmp_path, capsys, argv, message):
    (tmp_path / "junk.txt").write_text("not a model")
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in argv]
    code, _, err = _run(argv, capsys)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


def test_debug_shows_the_traceback():
    with pytest.raises(ValueError, match="unknown data set"):
        main(["fit", "--dataset", "nope", "--debug"])


def test_datasets_lists_names_and_why_missing(tmp_path, capsys):
    code, out, _ = _run(["datasets", "--root", str(tmp_path)], capsys)
    assert code == 0
    assert f"data root: {tmp_path}" in out
    lines = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert "available (embedded)" in lines["digits"] and "1797" in lines["digits"]
    assert "absent: missing" in lines["acm"] and str(tmp_path) in lines["acm"]
    assert "cite (citeseer)" in out


def test_datasets_finds_the_shared_data(data_root, capsys):
    code, out, _ = _run(["datasets", "--root", str(data_root)], capsys)
    assert code == 0
    assert f"available: {data_root / 'sdcn' / 'dblp'}" in out


def test_bench_survives_a_missing_data_set(tmp_path, capsys):
    out_dir = tmp_path / "bench"
    code, out, err = _run(["bench", "--datasets", "karate,acm", "--models", "scgc-star",
                           "--seeds", "1", "--root", str(tmp_path), "--out", str(out_dir),
                           "--quiet", *_TINY], capsys)
    assert code == 1
    assert "karate" in out and "scgc-star" in out
    assert "run failed: acm / scgc-star / seed 0: FileNotFoundError" in err
    assert "run failed: acm / svd-kmeans t=2 / seed 0: FileNotFoundError" in err
    assert "6 of 12 runs failed" in err  # scgc-star and the five no-training baselines
    assert (out_dir / "results.csv").is_file() and (out_dir / "results.md").is_file()
    command = (out_dir / "results.md").read_text()
    assert "graphclust bench --datasets karate,acm --models scgc-star" in command
    assert any(path.suffix == ".png" for path in (out_dir / "plots").iterdir())


def test_console_entry_point_runs_as_a_process():
    result = subprocess.run([sys.executable, "-m", "graphclust.cli", "fit", "--dataset", "nope"],
                            capture_output=True, text=True, timeout=600)  # a hang only
    assert result.returncode == 2
    assert result.stderr.startswith("graphclust fit: error: unknown data set 'nope'")
    assert len(result.stderr.strip().splitlines()) == 1


def test_python_dash_m_graphclust_runs_the_command():
    # `python -m graphclust` (a checkout on PYTHONPATH, no console script) had failed with
    # "No module named graphclust.__main__".
    result = subprocess.run([sys.executable, "-m", "graphclust", "fit", "--dataset", "nope"],
                            capture_output=True, text=True, timeout=600)  # a hang only
    assert result.returncode == 2
    assert result.stderr.startswith("graphclust fit: error: unknown data set 'nope'")


def test_help_does_not_import_torch():
    # Start-up: --help and the subcommands' help answer without torch (seconds to import).
    code = ("import sys\nfrom graphclust.cli import main\n"
            "for argv in (['--help'], ['fit', '--help'], ['bench', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "heavy = sorted(m for m in ('torch', 'torch_geometric', 'sklearn', 'matplotlib')"
            " if m in sys.modules)\nprint('heavy:', heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=600)  # a hang only
    assert result.returncode == 0, result.stderr
    assert "--threads N" in result.stdout and "scgc-star" in result.stdout
    assert result.stdout.strip().endswith("heavy: []")


def test_cli_names_match_the_registry():
    from graphclust.benchmark import PROTOCOLS
    from graphclust.registry import MODEL_NAMES

    assert MODEL_NAMES == tuple(MODELS) and PROTOCOLS == ("final", "paper", "both")


def test_bench_names_a_loss_to_no_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(MODELS, "one-cluster", OneCluster)
    code, out, err = _run(["bench", "--datasets", "karate", "--models", "one-cluster",
                           "--seeds", "1", "--out", str(tmp_path), "--quiet", *_TINY], capsys)
    assert code == 0, err
    assert "svd-kmeans t=3" in out and "degree-kmeans" in out
    assert "below no training: one-cluster on karate, ACC 0.5000 against svd-kmeans t=" in out
    code, out, err = _run(["bench", "--datasets", "karate", "--models", "one-cluster",
                           "--seeds", "1", "--out", str(tmp_path), "--quiet", "--no-baselines",
                           *_TINY], capsys)
    assert code == 0, err
    assert "svd-kmeans" not in out and "below no training" not in out


def test_fit_prints_the_no_training_baselines_beside_the_model(tmp_path, capsys,
                                                              monkeypatch):
    from graphclust import SVDKMeans, load_dataset
    from graphclust.metrics import evaluate

    club = load_dataset("karate")
    monkeypatch.setitem(MODELS, "one-cluster", OneCluster)
    code, out, err = _run(["fit", "--dataset", "karate", "--model", "one-cluster", "--out",
                           str(tmp_path), "--seed", "1", "--quiet", "--set", "n_clusters=3",
                           "--set", "features=tfidf", *_TINY], capsys)
    assert code == 0, err  # --set max_epochs=3 goes to the model, not to the baselines
    run = json.loads((tmp_path / "karate-one-cluster-seed1" / "run.json").read_text())
    assert list(run["baselines"]) == ["svd-kmeans t=0", "svd-kmeans t=1", "svd-kmeans t=2",
                                      "svd-kmeans t=3", "degree-kmeans"]
    # The fit's seed, n_clusters and feature transform reach the baselines.
    expected = SVDKMeans(n_clusters=3, propagation_steps=2, random_state=1,
                         features="tfidf").fit(club).labels_
    assert run["baselines"]["svd-kmeans t=2"] == evaluate(club.y, expected)
    best_acc = max(scores["acc"] for scores in run["baselines"].values())
    assert f"no training (best of svd-kmeans t=0..3, degree-kmeans): ACC {best_acc:.4f}" in out
    assert "below no training: one-cluster on karate, ACC 0.5000 against" in out
    assert "below no training: one-cluster on karate, NMI 0.0000 against" in out

    class Failing(MODELS["degree-kmeans"]):  # a baseline that raises: the fit's results stay
        def fit(self, X, y=None, adjacency=None):
            raise RuntimeError("deliberate")

    monkeypatch.setitem(MODELS, "degree-kmeans", Failing)
    model = tmp_path / "m.gc"
    code, out, err = _run(["fit", "--dataset", "karate", "--out", str(tmp_path), "--quiet",
                           "--save", str(model), *_TINY], capsys)
    assert code == 0, err
    assert "no-training baseline degree-kmeans failed: RuntimeError: deliberate" in out
    assert "no training (best of svd-kmeans t=0..3): ACC" in out
    run = json.loads((tmp_path / "karate-scgc-star-seed0" / "run.json").read_text())
    assert run["baselines"]["degree-kmeans"] == {"error": "RuntimeError: deliberate"}
    assert (tmp_path / "karate-scgc-star-seed0" / "labels.csv").is_file() and model.is_file()
    for argv in (["--no-baselines", *_TINY], ["--model", "svd-kmeans"]):
        code, out, err = _run(["fit", "--dataset", "karate", "--out", str(tmp_path / "other"),
                               "--quiet", "--overwrite", *argv], capsys)
        assert code == 0, err
        assert "no training" not in out
        folder = "karate-" + ("svd-kmeans" if "svd-kmeans" in argv else "scgc-star") + "-seed0"
        assert json.loads((tmp_path / "other" / folder / "run.json").read_text())[
            "baselines"] is None


def test_bench_counts_runs_in_words(tmp_path, capsys):
    code, out, err = _run(["bench", "--datasets", "karate", "--models", "scgc-star",
                           "--seeds", "1", "--out", str(tmp_path), "--quiet", *_TINY], capsys)
    assert code == 0, err
    assert "(1 run, " in out


def test_knn_method_reaches_the_loader_and_the_model(tmp_path, capsys, monkeypatch):
    import graphclust.data

    loaded = []
    real = graphclust.data.load_dataset
    monkeypatch.setattr(graphclust.data, "load_dataset",
                        lambda *args, **kwargs: loaded.append(kwargs) or real(*args, **kwargs))
    code, _, err = _run(["fit", "--dataset", "karate", "--out", str(tmp_path), "--quiet",
                         "--knn-method", "exact", *_TINY], capsys)
    assert code == 0, err
    assert loaded == [{"k": None, "knn_method": "exact"}]
    summary = json.loads((tmp_path / "karate-scgc-star-seed0" / "run.json").read_text())
    assert summary["params"]["knn_method"] == "exact"
    code, _, err = _run(["fit", "--set", "knn_method=exact"], capsys)
    assert code == 2 and "use --knn-method instead" in err
    code, _, err = _run(["fit", "--knn-method", "nearest"], capsys)
    assert code == 2 and "invalid choice: 'nearest'" in err


def test_k_chooses_the_knn_graph_and_names_the_run(tmp_path, capsys, monkeypatch):
    """``--k`` reaches the loader in fit and predict; the run folders and records say which
    graph was read, so runs on two graphs of one data set do not share a folder."""
    import graphclust.data

    loaded = []
    real = graphclust.data.load_dataset
    monkeypatch.setattr(graphclust.data, "load_dataset",
                        lambda *args, **kwargs: loaded.append(kwargs["k"]) or real(*args, **kwargs))
    model = tmp_path / "digits.graphclust"
    code, out, err = _run(["fit", "--dataset", "digits", "--k", "5", "--out", str(tmp_path),
                           "--quiet", "--model", "svd-kmeans", "--save", str(model)], capsys)
    assert code == 0, err
    five = real("digits", k=5)
    assert f"{five.edge_index.shape[1] // 2} edges" in out
    assert json.loads((tmp_path / "digits-k5-svd-kmeans-seed0" / "run.json").read_text())["k"] == 5
    code, _, err = _run(["predict", "--model", str(model), "--dataset", "digits", "--k", "5",
                         "--out", str(tmp_path)], capsys)
    assert code == 0, err
    assert json.loads((tmp_path / "digits-k5-predict-digits" / "run.json").read_text())["k"] == 5
    assert loaded == [5, 5]
    code, _, err = _run(["fit", "--dataset", "karate", "--k", "3", "--out", str(tmp_path)],
                        capsys)
    assert code == 2 and "k applies to SDCN kNN graphs and to digits, not to 'karate'" in err
    code, _, err = _run(["fit", "--k", "three"], capsys)
    assert code == 2 and "invalid int value: 'three'" in err
