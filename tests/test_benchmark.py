"""Benchmark runner: grid, failure survival, written files, validation, summaries."""

from __future__ import annotations

import csv
import json
import math
import re
import sys
import warnings

import pytest
from model_helpers import OneCluster

from graphclust import SCGCStar
from graphclust.benchmark import (
    METRICS,
    build_estimator,
    run_benchmark,
    summarize,
)
from graphclust.registry import MODELS

_TINY = {"hidden_dims": (32,), "embedding_dim": 4, "max_epochs": 4, "pretrain_epochs": 2}
_BASELINE_LABELS = ("svd-kmeans t=0", "svd-kmeans t=1", "svd-kmeans t=2", "svd-kmeans t=3",
                    "degree-kmeans")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _FailsOnSeedOne(SCGCStar):
    """SCGC* that raises for random_state=1: one deliberately failing run in a grid."""

    def fit(self, X, y=None, adjacency=None):
        if self.random_state == 1:
            raise RuntimeError("deliberate failure for seed 1")
        return super().fit(X, y, adjacency=adjacency)


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """karate x {scgc, flaky} x seeds {0, 1}, both protocols; the flaky seed-1 run fails."""
    out = tmp_path_factory.mktemp("bench")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(MODELS, "flaky", _FailsOnSeedOne)
        results = run_benchmark(["karate"], ["scgc", "flaky"], seeds=2, out=out,
                                protocol="both", params=_TINY, progress=False,
                                command="graphclust bench test")
    return results, out


def test_one_failing_run_is_recorded_and_the_rest_kept(grid):
    results, _ = grid
    statuses = {(row["model"], row["seed"]): row["status"] for row in results.rows}
    baselines = dict.fromkeys(_BASELINE_LABELS, "ok")
    assert statuses == {("scgc", 0): "ok", ("scgc", 1): "ok", ("flaky", 0): "ok",
                        ("flaky", 1): "failed",
                        **{(label, seed): "ok" for label in baselines for seed in (0, 1)}}
    (failure,) = results.failures
    assert failure["error"] == "RuntimeError: deliberate failure for seed 1"
    assert {entry["model"]: entry["runs"] for entry in results.summary} == {
        "scgc": 2, "flaky": 1, **dict.fromkeys(_BASELINE_LABELS, 2)}


def test_rows_hold_scores_timings_memory_and_parameters(grid):
    results, _ = grid
    for row in results.rows:
        if row["status"] != "ok":
            continue
        trained = row["model"] not in _BASELINE_LABELS  # baselines have no epochs to pick
        # ARI is chance-corrected and can be negative; the others lie in [0, 1].
        for prefix in ("", "paper_") if trained else ("",):
            assert all(0.0 <= row[f"{prefix}{m}"] <= 1.0 for m in ("acc", "nmi", "f1"))
            assert -1.0 <= row[f"{prefix}ari"] <= 1.0
        assert row["train_seconds"] > 0 and row["predict_seconds"] > 0
        assert row["peak_rss_mib"] > 0 and row["peak_rss_increase_mib"] >= 0
        assert row["peak_cuda_mib"] is None  # CPU run
        if not trained:
            continue
        assert 1 <= row["n_iter"] <= _TINY["max_epochs"]
        assert (row["nodes"], row["n_clusters"]) == (34, 2)
        assert '"max_epochs": 4' in row["params"] and f'"random_state": {row["seed"]}' in (
            row["params"])


def test_csv_has_one_row_per_run(grid):
    results, out = grid
    with open(out / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["model"], r["seed"], r["status"]) for r in rows] == [
        ("scgc", "0", "ok"), ("scgc", "1", "ok"), ("flaky", "0", "ok"), ("flaky", "1", "failed"),
        *((label, seed, "ok") for label in _BASELINE_LABELS for seed in ("0", "1"))]
    assert '"propagation_steps": 2' in rows[8]["params"]  # svd-kmeans t=2, seed 0
    assert rows[-1]["batch_size"] == "" and rows[-1]["start_length"] == ""  # degree-kmeans
    assert float(rows[0]["acc"]) == pytest.approx(results.rows[0]["acc"], rel=1e-5)
    assert rows[3]["error"].startswith("RuntimeError") and rows[3]["acc"] == ""
    assert rows[0]["batch_size"] == "full"  # karate is far too small for batches
    assert rows[0]["start_length"] == "2"  # pretrain_epochs: too few edges to hold any out


def test_markdown_has_command_machine_tables_and_failures(grid):
    _, out = grid
    text = (out / "results.md").read_text()
    assert "graphclust bench test" in text
    assert "| cores |" in text and "| torch |" in text and "| date |" in text
    assert "| torch threads | 1 a fit (the models' n_jobs) |" in text  # n_jobs=None
    assert re.search(r"\| load average \(1/5/15 min\), start → end \| [\d.]+ / [\d.]+ / [\d.]+ → "
                     r"[\d.]+ / [\d.]+ / [\d.]+ \|", text)
    assert "## Final model" in text and "## Paper protocol (optimistic)" in text
    assert "| karate | scgc | 2 |" in text and "| karate | flaky | 1 |" in text
    assert "| karate | svd-kmeans t=3 | 2 |" in text and "| karate | degree-kmeans | 2 |" in text
    assert "## Against the no-training baselines" in text
    assert re.search(r"\| karate \| scgc \| (\*\*below\*\*, )?[+-]\d\.\d{4} "
                     r"\(svd-kmeans t=\d: ", text)
    paper = text.split("## Paper protocol")[1].split("##")[0]
    assert "svd-kmeans" not in paper and "nan" not in paper  # baselines have no epochs
    assert "karate / flaky / seed 1: RuntimeError: deliberate failure" in text
    assert "deliberate failure" in (out / "errors.log").read_text()
    assert "Traceback" in (out / "errors.log").read_text()


def test_plots_are_written(grid):
    results, out = grid
    names = {path.name for path in (out / "plots").iterdir()}
    assert {"scores-final.png", "scores-paper.png", "curves-karate-scgc.png",
            "embedding-karate-scgc.png", "curves-karate-flaky.png"} <= names
    for path in (out / "plots").iterdir():
        assert path.read_bytes()[:8] == _PNG_MAGIC
    assert set(results.files) >= {out / "results.csv", out / "results.md"}


def test_paper_protocol_is_the_per_metric_best_epoch(karate_tiny_run):
    row, history = karate_tiny_run
    epochs = [entry for entry in history if entry["phase"] == "train"]
    for metric in METRICS:
        assert row[f"paper_{metric}"] == max(row[metric], *(entry[metric] for entry in epochs))



@pytest.fixture(scope="module")
def karate_tiny_run():
    """One run through the runner, and the history of the same fit done directly."""
    from graphclust import load_dataset

    results = run_benchmark("karate", "scgc-star", seeds=[3], protocol="paper",
                            params=_TINY, progress=False)
    model = SCGCStar(n_clusters=2, random_state=3, **_TINY).fit(load_dataset("karate"))
    return results.rows[0], model.history_


def test_final_protocol_leaves_paper_columns_out():
    results = run_benchmark("karate", "scgc-star", seeds=1, protocol="final", params=_TINY,
                            progress=False)
    assert "paper_acc" not in results.rows[0]
    assert results.out is None and results.files == []


def test_missing_data_fails_its_runs_only(tmp_path):
    results = run_benchmark(["acm", "karate"], ["scgc-star"], seeds=1, root=tmp_path,
                            params=_TINY, progress=False, baselines=False)
    assert [row["status"] for row in results.rows] == ["failed", "ok"]
    assert results.rows[0]["error"].startswith("FileNotFoundError: data set 'acm' not found")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"models": ["nope"]}, "unknown model 'nope'"),
        ({"datasets": ["nope"]}, "unknown data set"),
        ({"params": {"nope": 1}}, "has no parameter 'nope'"),
        ({"params": {"max_epochs": 2.5}}, "max_epochs=2.5 has type float"),
        ({"params": {"lr": "fast"}}, "lr='fast' has type str"),
        ({"protocol": "best"}, "protocol must be one of"),
        ({"seeds": 0}, "seeds must be >= 1"),
        ({"seeds": []}, "non-empty sequence of ints"),
        # A seed or model twice would average one fit as several runs.
        ({"seeds": [0, 0]}, r"seeds lists a seed twice: \[0, 0\]"),
        ({"models": ["scgc", "scgc"]}, "models lists a model twice"),
        ({"params": {"random_state": 7}}, "params sets random_state, which seeds give"),
        ({"embedding": "umap"}, "embedding must be"),
        # It had failed every run, and results.md had said device cpu.
        ({"params": {"device": "gpu"}}, "device='gpu' is not a torch device"),
    ],
)
def test_bad_configuration_raises_before_running(tmp_path, kwargs, message):
    arguments = {"datasets": ["karate"], "models": ["scgc"], "seeds": 1,
                 "out": tmp_path / "out", "progress": False, **kwargs}
    with pytest.raises(ValueError, match=message):
        run_benchmark(**arguments)
    assert not (tmp_path / "out").exists()


def test_build_estimator_overrides_and_type_checks():
    model = build_estimator("scgc", {"lr": 1e-2, "hidden_dims": [8]}, n_clusters=3, lr=1.0)
    assert (model.lr, model.n_clusters, model.hidden_dims) == (1e-2, 3, [8])
    assert build_estimator("scgc", {"lr": 1}).lr == 1  # an int is a valid float value
    assert build_estimator("scgc", {"batch_size": 64}).batch_size == 64  # "auto" default
    assert build_estimator("scgc", {"batch_size": None}).batch_size is None
    # The command line's word "none": an option where the parameter has one, else None.
    assert build_estimator("scgc", {"features": "none"}).features == "none"
    assert build_estimator("scgc", {"pretrain": "none"}).pretrain == "none"
    assert build_estimator("scgc", {"batch_size": "none"}).batch_size is None
    assert build_estimator("scgc-star", {"start_holdout": "none"}).start_holdout is None
    # "auto" defaults take a number or a string ("auto" itself; the estimator checks others)
    assert build_estimator("scgc", {"pretrain_weight_decay": 0}).pretrain_weight_decay == 0
    assert build_estimator("scgc", {"pretrain_lr": 1e-3}).pretrain_lr == 1e-3
    with pytest.raises(ValueError, match="pretrain_lr=True has type bool"):
        build_estimator("scgc", {"pretrain_lr": True})
    # None only where the signature allows it
    assert build_estimator("scgc", {"start_whitening": None}).start_whitening is None
    with pytest.raises(ValueError, match="lr=None has type NoneType"):
        build_estimator("scgc", {"lr": None})
    with pytest.raises(ValueError, match="verbose=1 has type int"):
        build_estimator("scgc", {"verbose": 1})
    with pytest.raises(ValueError, match="max_epochs=True has type bool"):
        build_estimator("scgc", {"max_epochs": True})


def test_summarize_skips_failed_runs_and_uses_population_std():
    rows = [
        {"dataset": "d", "model": "m", "status": "ok", "acc": 0.2},
        {"dataset": "d", "model": "m", "status": "ok", "acc": 0.6},
        {"dataset": "d", "model": "m", "status": "failed"},
    ]
    (entry,) = summarize(rows, ["acc"])
    assert entry["runs"] == 2
    assert entry["acc_mean"] == pytest.approx(0.4)
    assert entry["acc_std"] == pytest.approx(0.2)
    assert summarize([rows[2]], ["acc"]) == []


@pytest.mark.parametrize("terminal", [True, False])
def test_progress_nests_the_runs_epochs_only_on_a_terminal(terminal, capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: terminal)
    results = run_benchmark(["karate"], ["scgc-star"], seeds=1, out=None, params=_TINY,
                            progress=True)
    err = capsys.readouterr().err
    assert results.rows[0]["status"] == "ok"
    assert "bench" in err  # the bar over runs, in both cases
    assert ("SCGCStar" in err) is terminal  # the run's own epoch bar


def test_a_loss_to_no_training_is_written_out(tmp_path, monkeypatch):
    monkeypatch.setitem(MODELS, "one-cluster", OneCluster)
    results = run_benchmark(["karate"], ["one-cluster", "degree-kmeans"], seeds=1,
                            out=tmp_path, params=_TINY, progress=False)
    # degree-kmeans is listed, so it runs as asked and is not added again.
    assert [row["model"] for row in results.rows] == [
        "one-cluster", "degree-kmeans", "svd-kmeans t=0", "svd-kmeans t=1", "svd-kmeans t=2",
        "svd-kmeans t=3"]
    assert results.baselines == ["degree-kmeans", "svd-kmeans t=0", "svd-kmeans t=1",
                                 "svd-kmeans t=2", "svd-kmeans t=3"]
    acc, nmi = results.comparisons
    assert (acc["model"], acc["metric"], nmi["metric"]) == ("one-cluster", "acc", "nmi")
    best = max((e for e in results.summary if e["model"] in results.baselines),
               key=lambda e: e["acc_mean"])
    assert (acc["baseline"], acc["baseline_value"]) == (best["model"], best["acc_mean"])
    assert acc["margin"] == pytest.approx(acc["value"] - best["acc_mean"]) and acc["margin"] < 0
    assert nmi["value"] == pytest.approx(0.0) and nmi["margin"] < 0
    text = (tmp_path / "results.md").read_text()
    assert re.search(r"\| karate \| one-cluster \| \*\*below\*\*, -0\.\d{4} \(svd-kmeans t=\d: "
                     r"0\.\d{4}\) \| \*\*below\*\*, ", text)


class _Warns(SCGCStar):
    def fit(self, X, y=None, adjacency=None):
        warnings.warn("a fit's own warning", UserWarning, stacklevel=2)
        return super().fit(X, y, adjacency=adjacency)


class _WarnsThenFails(SCGCStar):
    def fit(self, X, y=None, adjacency=None):
        warnings.warn("a warning before the failure", UserWarning, stacklevel=2)
        raise RuntimeError("boom")


def test_a_runs_warnings_are_said_naming_the_run(monkeypatch):
    """Once each, the run named after the text (so that message filters still match),
    a failed run's too; a filter on the text still silences them."""
    monkeypatch.setitem(MODELS, "warns", _Warns)
    monkeypatch.setitem(MODELS, "fails", _WarnsThenFails)
    with pytest.warns(UserWarning) as caught:
        results = run_benchmark(["karate"], ["warns", "fails"], seeds=[1], params=_TINY,
                                progress=False, baselines=False)
    messages = [str(w.message) for w in caught]
    assert messages.count("a fit's own warning [karate / warns / seed 1]") == 1
    assert "a fit's own warning" not in messages
    assert "a warning before the failure [karate / fails / seed 1]" in messages
    assert [row["status"] for row in results.rows] == ["ok", "failed"]
    with warnings.catch_warnings(record=True) as unfiltered:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message="a fit's own warning")
        run_benchmark(["karate"], ["warns"], seeds=[1], params=_TINY, progress=False,
                      baselines=False)
    assert not [w for w in unfiltered if "a fit's own warning" in str(w.message)]


def test_without_baselines_the_table_says_so(tmp_path):
    results = run_benchmark(["karate"], ["scgc-star"], seeds=1, out=tmp_path, params=_TINY,
                            progress=False, baselines=False)
    assert [row["model"] for row in results.rows] == ["scgc-star"]
    assert results.baselines == [] and results.comparisons == []
    assert "No model that learns nothing ran in this grid" in (tmp_path / "results.md").read_text()


def test_baselines_share_the_grids_input_parameters():
    # features reaches the baselines (both sides read one input); propagation_steps is
    # each svd-kmeans baseline's own; scgc-star's max_epochs is no baseline's.
    results = run_benchmark(["karate"], ["scgc-star"], seeds=1, progress=False,
                            params={**_TINY, "features": "none", "propagation_steps": 1})
    params = {row["model"]: json.loads(row["params"]) for row in results.rows}
    assert params["scgc-star"]["propagation_steps"] == 1
    assert [params[f"svd-kmeans t={t}"]["propagation_steps"] for t in range(4)] == [0, 1, 2, 3]
    assert {params[label]["features"] for label in _BASELINE_LABELS[:4]} == {"none"}
    assert "max_epochs" not in params["svd-kmeans t=0"]


def test_against_baselines_takes_each_metrics_best_and_skips_missing_scores():
    from graphclust.benchmark.baselines import against_baselines

    nan = float("nan")
    summary = [
        {"dataset": "d", "model": "deep", "acc_mean": 0.70, "nmi_mean": 0.50},
        {"dataset": "d", "model": "svd t=1", "acc_mean": 0.75, "nmi_mean": 0.40},
        {"dataset": "d", "model": "degree", "acc_mean": 0.60, "nmi_mean": 0.55},
        {"dataset": "e", "model": "deep", "acc_mean": nan, "nmi_mean": nan},  # no labels
        {"dataset": "e", "model": "degree", "acc_mean": nan, "nmi_mean": nan},
        {"dataset": "f", "model": "deep", "acc_mean": 0.9, "nmi_mean": 0.8},  # no baseline
    ]
    comparisons = against_baselines(summary, ["svd t=1", "degree"])
    assert [(c["metric"], c["baseline"], round(c["margin"], 6)) for c in comparisons] == [
        ("acc", "svd t=1", -0.05), ("nmi", "degree", -0.05)]


def test_a_paper_only_table_still_compares_with_the_baselines(tmp_path):
    run_benchmark(["karate"], ["scgc-star"], seeds=1, out=tmp_path, params=_TINY,
                  protocol="paper", progress=False)
    text = (tmp_path / "results.md").read_text()
    assert "## Final model" not in text and "## Paper protocol" in text
    assert re.search(r"\| karate \| scgc-star \| .*\(svd-kmeans t=\d: ", text)


def test_keys_only_a_baseline_takes_reach_it_and_a_listed_baseline_keeps_its_pictures(
        tmp_path):
    results = run_benchmark(["karate"], ["scgc-star", "svd-kmeans"], seeds=1, out=tmp_path,
                            params={**_TINY, "n_init": 3}, progress=False)
    params = {row["model"]: json.loads(row["params"]) for row in results.rows}
    assert params["svd-kmeans"]["n_init"] == 3 and params["degree-kmeans"]["n_init"] == 3
    assert "n_init" not in params["scgc-star"]
    names = {path.name for path in (tmp_path / "plots").iterdir()}
    assert "embedding-karate-svd-kmeans.png" in names  # asked for: pictured
    assert not any("degree" in name for name in names)  # added by the grid: not
    with pytest.raises(ValueError, match="n_init='3' has type str"):
        run_benchmark(["karate"], ["scgc-star"], seeds=1, params={"n_init": "3"},
                      progress=False)


def test_a_name_listed_twice_and_a_source_without_labels_are_refused(tmp_path):
    from graphclust import load_dataset
    from graphclust.data.source import graph_source, matrix_source

    club = load_dataset("karate")
    with pytest.raises(ValueError, match="'karate' is listed twice .* rename the file"):
        run_benchmark(["karate", graph_source("karate", club)], ["scgc-star"], seeds=1,
                      progress=False)
    rows = matrix_source("rows", club.x.numpy(), None)
    with pytest.raises(ValueError, match="rows has no labels to take n_clusters from"):
        run_benchmark([rows], ["scgc-star"], seeds=1, progress=False)
    results = run_benchmark([rows], ["scgc-star"], seeds=1, out=tmp_path,
                            params={**_TINY, "n_clusters": 3}, progress=False)
    assert {row["n_clusters"] for row in results.rows} == {3}
    assert all(math.isnan(row["acc"]) for row in results.rows)
    assert results.comparisons == []
    text = (tmp_path / "results.md").read_text()
    assert "`n_clusters` = 3 (given)" in text
    assert "Nothing to compare: on no data set is there a seed where a trained model" in text


def test_a_bad_value_is_blamed_on_a_listed_model_and_a_repeated_name_is_named():
    with pytest.raises(ValueError, match=r"^scgc-star: n_clusters='two' has type str"):
        run_benchmark(["karate"], ["scgc-star"], seeds=1, params={"n_clusters": "two"},
                      progress=False)
    with pytest.raises(ValueError, match=r"^data set 'Karate' is listed twice$"):
        run_benchmark(["karate", "Karate"], ["scgc-star"], seeds=1, progress=False)


def test_plot_file_names_are_link_safe_and_stay_distinct():
    from graphclust.benchmark.writers import _file_stem

    assert _file_stem("karate-scgc-star") == "karate-scgc-star"
    spaced, underscored = _file_stem("my data-scgc"), _file_stem("my_data-scgc")
    assert spaced != underscored and re.fullmatch(r"[A-Za-z0-9._-]+", spaced)

