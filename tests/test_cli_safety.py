"""The command line as a careless user drives it (issue 17, item 5 and its "also seen")."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from graphclust import SCGCStar
from graphclust.benchmark import model_params, run_benchmark
from graphclust.cli import main
from graphclust.memory import TrainingMemoryError

_TINY = ["--set", "max_epochs=2", "--set", "pretrain_epochs=1", "--set", "hidden_dims=16",
         "--set", "embedding_dim=4"]


def _run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_fit_svd_kmeans_writes_its_results(tmp_path, capsys):
    model = tmp_path / "svd.gc"
    code, out, err = _run(["fit", "--dataset", "karate", "--model", "svd-kmeans", "--out",
                           str(tmp_path), "--save", str(model), "--quiet"], capsys)
    assert code == 0, err
    assert "k-means iterations" in out
    assert (tmp_path / "karate-svd-kmeans-seed0" / "labels.csv").is_file()
    assert model.is_file()
    code, out, err = _run(["predict", "--model", str(model), "--dataset", "karate", "--out",
                           str(tmp_path)], capsys)
    assert code == 0, err
    assert (tmp_path / "karate-predict-svd" / "labels.csv").read_text() == (
        tmp_path / "karate-svd-kmeans-seed0" / "labels.csv").read_text()


@pytest.mark.parametrize("error", [
    TrainingMemoryError("the fit needs 9 GiB, 2 available: pass a smaller batch_size"),
    ImportError("approximate kNN search needs faiss"),
])
def test_errors_that_say_what_to_change_are_usage_errors(tmp_path, capsys, monkeypatch,
                                                         error):
    # They had read as "unexpected ..." with exit code 1, as a bug would.
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(SCGCStar, "fit", fail)
    code, _, err = _run(["fit", "--dataset", "karate", "--out", str(tmp_path / "runs")],
                        capsys)
    assert code == 2 and err.startswith(f"graphclust fit: error: {error}"), err


@pytest.mark.parametrize("command", ["fit", "bench"])
def test_approximate_knn_without_faiss_fails_before_any_data_loads(tmp_path, capsys,
                                                                     monkeypatch, command):
    import graphclust.data.knn_approximate as knn_approximate

    def never(*args, **kwargs):
        raise AssertionError("data were read")

    monkeypatch.setattr(knn_approximate, "has_ann", lambda: False)
    monkeypatch.setattr("graphclust.data.load_dataset", never)
    monkeypatch.setattr(sys.modules["graphclust.data.datasets"], "load_dataset", never)
    where = ["--dataset", "digits"] if command == "fit" else ["--datasets", "digits",
                                                              "--models", "scgc*"]
    code, out, err = _run([command, *where, "--knn-method", "approximate",
                           "--out", str(tmp_path / "runs"), "--quiet"], capsys)
    assert code == 2 and err.startswith(
        f"graphclust {command}: error: --knn-method approximate needs faiss: pip install"), err
    assert not (tmp_path / "runs").exists()


def test_approximate_knn_without_faiss_is_no_matter_where_nothing_is_searched(tmp_path,
                                                                           capsys,
                                                                           monkeypatch):
    import graphclust.data.knn_approximate as knn_approximate

    monkeypatch.setattr(knn_approximate, "has_ann", lambda: False)
    code, _, err = _run(["fit", "--dataset", "karate", "--knn-method", "approximate",
                         "--out", str(tmp_path / "runs"), "--quiet", "--no-baselines",
                         *_TINY], capsys)  # karate has its own edges: no search
    assert code == 0, err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_unwritable_out_fails_before_fitting(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, out, err = _run(["fit", "--dataset", "karate", "--out", str(locked), "--quiet",
                           *_TINY], capsys)
    assert code == 2 and "fitting" not in out


def test_out_below_a_file_fails_before_fitting(tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    code, out, err = _run(["fit", "--dataset", "karate", "--out", str(tmp_path / "file"),
                           "--quiet", *_TINY], capsys)
    assert code == 2 and "--out: cannot create" in err and "fitting" not in out


@pytest.mark.parametrize("target", ["absent/model.gc", "."], ids=["no-folder", "a-folder"])
def test_bad_save_path_fails_before_fitting(tmp_path, capsys, target):
    code, out, err = _run(["fit", "--dataset", "karate", "--out", str(tmp_path), "--save",
                           str(tmp_path / target), "--quiet", *_TINY], capsys)
    assert code == 2
    assert "not a writable file path" in err and "fitting" not in out


def test_second_run_with_other_parameters_does_not_overwrite_the_first(tmp_path, capsys):
    argv = ["fit", "--dataset", "karate", "--out", str(tmp_path), "--quiet", *_TINY]
    assert _run(argv, capsys)[0] == 0
    run = tmp_path / "karate-scgc-star-seed0" / "run.json"
    first = run.read_text()
    assert _run(argv, capsys)[0] == 0  # the same parameters: a rerun may replace it
    code, out, err = _run([*argv, "--set", "tau=0.5"], capsys)
    assert code == 2 and "holds a run with other parameters" in err
    assert json.loads(run.read_text())["params"] == json.loads(first)["params"]
    assert _run([*argv, "--set", "tau=0.5", "--overwrite"], capsys)[0] == 0
    assert json.loads(run.read_text())["params"]["tau"] == 0.5


def test_a_fit_that_stops_after_its_labels_leaves_no_earlier_record_beside_them(
        tmp_path, capsys, monkeypatch):
    # The labels are written before the baselines, run.json after them: a failure (or
    # Ctrl-C) between had left the new labels beside the earlier run's record.
    argv = ["fit", "--dataset", "karate", "--out", str(tmp_path), "--quiet", *_TINY]
    assert _run(argv, capsys)[0] == 0
    folder = tmp_path / "karate-scgc-star-seed0"

    def fail(*args, **kwargs):
        raise RuntimeError("the baselines stopped")

    monkeypatch.setattr("graphclust.benchmark.comparison.compare_with_baselines", fail)
    code, _, err = _run([*argv, "--set", "tau=0.5", "--overwrite"], capsys)
    assert code == 1 and "the baselines stopped" in err
    assert (folder / "labels.csv").is_file() and not (folder / "run.json").exists()


def test_a_rerun_on_other_threads_is_the_same_run(tmp_path, capsys):
    # n_jobs is no model parameter: a rerun with --threads 2 had been refused as a run of
    # "other parameters" (and every run folder written before the default became 1).
    argv = ["fit", "--dataset", "karate", "--out", str(tmp_path), "--quiet", "--no-baselines",
            *_TINY]
    assert _run(argv, capsys)[0] == 0
    code, _, err = _run([*argv, "--threads", "2"], capsys)
    assert code == 0, err


def test_set_goes_to_the_models_that_take_it(tmp_path):
    results = run_benchmark(["karate"], ["scgc-star", "svd-kmeans"], seeds=1, out=None,
                            params={"max_epochs": 2, "pretrain_epochs": 1,
                                    "n_components": 4},
                            progress=False)
    # svd-kmeans is listed, and runs beside every baseline row.
    assert [(row["model"], row["status"]) for row in results.rows] == [
        ("scgc-star", "ok"), ("svd-kmeans", "ok"),
        *((f"svd-kmeans t={t}", "ok") for t in range(4)), ("degree-kmeans", "ok")]
    params = {row["model"]: json.loads(row["params"]) for row in results.rows}
    assert "n_components" not in params["degree-kmeans"]
    assert params["scgc-star"]["max_epochs"] == 2
    assert params["svd-kmeans"]["n_components"] == 4 and "max_epochs" not in params[
        "svd-kmeans"]


def test_a_listed_svd_kmeans_keeps_the_propagated_baselines_in_the_comparison():
    # Listing svd-kmeans had removed the svd-kmeans t=<t> rows, and with them the best
    # baseline: the same model then read as a win over degree-kmeans alone.
    results = run_benchmark(["karate"], ["scgc-star", "svd-kmeans"], seeds=1,
                            params={"max_epochs": 2, "pretrain_epochs": 1}, progress=False)
    labels = [*(f"svd-kmeans t={t}" for t in range(4)), "degree-kmeans"]
    assert [row["model"] for row in results.rows] == ["scgc-star", "svd-kmeans", *labels]
    assert set(labels) < set(results.baselines)
    acc = next(item for item in results.comparisons if item["metric"] == "acc")
    best = max(e["acc_mean"] for e in results.summary if e["model"] in results.baselines)
    assert acc["baseline_value"] == best


def test_set_key_that_no_model_takes_is_refused():
    with pytest.raises(ValueError, match=r"scgc-star / svd-kmeans has no parameter "
                                         r"'max_epoch'"):
        model_params(["scgc-star", "svd-kmeans"], {"max_epoch": 3})
    with pytest.raises(ValueError, match="max_epochs"):  # wrong type for the model taking it
        model_params(["scgc-star", "svd-kmeans"], {"max_epochs": "many"})


def test_bench_cli_splits_set_between_models(tmp_path, capsys):
    code, out, err = _run(["bench", "--datasets", "karate", "--models", "scgc-star,svd-kmeans",
                           "--seeds", "1", "--out", str(tmp_path), "--quiet",
                           "--set", "max_epochs=2", "--set", "pretrain_epochs=1"], capsys)
    assert code == 0, err


def test_bench_out_below_a_file_fails_before_running(tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    code, out, err = _run(["bench", "--datasets", "karate", "--models", "svd-kmeans",
                           "--seeds", "1", "--out", str(tmp_path / "file" / "bench"),
                           "--quiet"], capsys)
    assert code == 2 and "out: cannot create" in err and "results:" not in out


def test_a_bench_rerun_removes_the_earlier_runs_files_and_only_those(tmp_path, capsys):
    # A rerun into one folder had kept the earlier run's errors.log and plots (and, when
    # stopped, its results.md) beside its own results.csv.
    plots = tmp_path / "plots"
    plots.mkdir()
    earlier = [tmp_path / "errors.log", plots / "scores-paper.png",
               plots / "curves-cora-scgc.png", plots / "embedding-cora-scgc.png"]
    users = [tmp_path / "notes.md", plots / "mine.png"]
    for path in earlier + users:
        path.write_text("before")
    code, _, err = _run(["bench", "--datasets", "karate", "--models", "svd-kmeans", "--seeds",
                         "1", "--out", str(tmp_path), "--no-baselines", "--quiet"], capsys)
    assert code == 0, err
    assert not [path for path in earlier if path.exists()]
    assert all(path.read_text() == "before" for path in users)
    assert (plots / "embedding-karate-svd-kmeans.png").is_file()


def test_bench_device_this_machine_lacks_fails_before_running(tmp_path, capsys):
    # Every run had failed (exit 1), and results.md had said "device | cpu".
    code, out, err = _run(["bench", "--datasets", "karate", "--models", "svd-kmeans",
                           "--seeds", "1", "--out", str(tmp_path / "bench"), "--device",
                           "gpu", "--quiet"], capsys)
    assert code == 2 and "results:" not in out
    assert err.startswith("graphclust bench: error: device='gpu' is not a torch device")
    assert not (tmp_path / "bench").exists()


_SECOND_INTERRUPT = """
import os, signal
import graphclust.cli as cli
import graphclust.cli.commands as commands

def interrupted(args):
    raise KeyboardInterrupt

commands.fit = interrupted  # the parser is built inside main, so it takes this handler
assert cli.main(["fit", "--dataset", "karate"]) == 130
os.kill(os.getpid(), signal.SIGINT)  # the second Ctrl-C, while the process winds down
"""


def test_second_ctrl_c_ends_the_process_without_a_traceback():
    done = subprocess.run([sys.executable, "-c", _SECOND_INTERRUPT], capture_output=True,
                          text=True, timeout=120)
    assert "graphclust: interrupted" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.returncode == -signal.SIGINT
