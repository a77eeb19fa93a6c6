"""The benchmark's summaries of its runs: the threads the fits used, the machine."""

from __future__ import annotations

import math
import os

from graphclust.benchmark import fit_threads, machine_info, run_benchmark


def test_fit_threads_reads_each_runs_n_jobs():
    rows = [{"params": '{"n_jobs": 2}'}, {"params": '{"n_jobs": null}'},
            {"params": '{"n_jobs": 2, "lr": 0.1}'}, {"params": "{}"}, {"status": "failed"}]
    assert fit_threads([{**row, "status": "ok"} for row in rows[:4]] + rows[4:]) == "1, 2"
    assert fit_threads([{"params": "{}", "status": "ok"}]) is None
    # A failed run's n_jobs is a value its fit refused, not a thread count.
    assert fit_threads([{"params": '{"n_jobs": 0}', "status": "failed"}]) is None


def test_a_grid_whose_every_fit_refuses_its_n_jobs_still_writes_its_tables(tmp_path):
    # Writing results.md had raised on n_jobs=0 after every run was recorded as failed.
    results = run_benchmark(["karate"], ["scgc"], seeds=1, out=tmp_path, progress=False,
                            baselines=False, params={"n_jobs": 0, "max_epochs": 2,
                                                     "pretrain_epochs": 2})
    assert [row["status"] for row in results.rows] == ["failed"]
    assert "n_jobs=0" in (tmp_path / "results.md").read_text()


def test_machine_info_fields():
    info = machine_info("cpu")
    assert set(info) >= {"CPU", "cores", "RAM", "torch", "device", "date"}
    assert info["device"] == "cpu" and not math.isnan(float(info["RAM"].split()[0]))


def test_machine_info_counts_the_cores_this_process_may_run_on(monkeypatch):
    # It had counted the machine's cores, whatever the process's CPU affinity.
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert machine_info("cpu")["cores"] == "1"


def _run(model, seed, acc, status="ok"):
    return {"dataset": "g", "model": model, "seed": seed, "status": status,
            "acc": acc, "nmi": acc, "ari": acc, "f1": acc}


def test_comparisons_meet_the_baselines_on_the_seeds_both_ran():
    from graphclust.benchmark import BenchmarkResults, summarize

    # The model failed on seed 1, where the baseline scored low: its mean over seed 0 had
    # met the baseline's over seeds 0 and 1 and won by 0.125, though on seed 0 it loses.
    rows = [_run("scgc", 0, 0.80), _run("scgc", 1, float("nan"), "failed"),
            _run("svd-kmeans t=0", 0, 0.85), _run("svd-kmeans t=0", 1, 0.50),
            _run("svd-kmeans t=3", 0, 0.10), _run("svd-kmeans t=3", 1, 0.95, "failed")]
    results = BenchmarkResults(rows, summarize(rows), baselines=["svd-kmeans t=0",
                                                                 "svd-kmeans t=3"])
    acc = next(item for item in results.comparisons if item["metric"] == "acc")
    assert (acc["baseline"], acc["baseline_value"]) == ("svd-kmeans t=0", 0.85)
    assert round(acc["margin"], 6) == -0.05


def test_quality_table_meets_a_baseline_with_a_failed_seed_on_the_seeds_it_ran():
    from collections import defaultdict

    from benchmarks.quality_table import against_baselines_table

    def run(seed, acc):
        return {"seed": str(seed), "status": "ok", "acc": acc, "nmi": acc}

    # svd-kmeans t=3 failed on seed 1: its 0.70 on seed 0 had met the model's mean 0.75
    # over seeds 0 and 1 (a win), though on seed 0 the model scored 0.60.
    svd = {t: defaultdict(list) for t in range(4)}
    svd[0]["cora", "svd-kmeans"] = [run(0, 0.50), run(1, 0.50)]
    svd[3]["cora", "svd-kmeans"] = [run(0, 0.70)]
    table = against_baselines_table({("cora", "scgc"): [run(0, 0.60), run(1, 0.90)]}, svd, {})
    assert table[2] == ("| Cora | scgc | **below**, -0.1000 (svd-kmeans t=3: 0.7000) | "
                        "**below**, -0.1000 (svd-kmeans t=3: 0.7000) |")


def test_a_model_with_no_baseline_on_its_seeds_keeps_a_row_that_says_so():
    from graphclust.benchmark import BenchmarkResults, summarize
    from graphclust.benchmark.writers import _baseline_section

    # Every baseline failed on g2: scgc's row of g2 had left the section without a word.
    rows = [{**_run("scgc", 0, 0.9), "dataset": "g1"},
            {**_run("degree-kmeans", 0, 0.5), "dataset": "g1"},
            {**_run("scgc", 0, 0.1), "dataset": "g2"},
            {**_run("degree-kmeans", 0, float("nan"), "failed"), "dataset": "g2"}]
    results = BenchmarkResults(rows, summarize(rows), baselines=["degree-kmeans"])
    assert ("| g2 | scgc | not compared: no seed where it and the baselines all have a "
            "score |  |") in _baseline_section(results)


def test_quality_table_keeps_a_model_whose_data_set_has_no_baseline():
    from benchmarks.quality_table import against_baselines_table

    deep = {("cora", "scgc"): [{"seed": "0", "status": "ok", "acc": 0.6, "nmi": 0.4}]}
    table = against_baselines_table(deep, {t: {} for t in range(4)}, {})
    assert table[0].startswith("| data set | model | ACC against")
    assert table[2] == ("| Cora | scgc | not compared: no seed where it and the baselines "
                        "all have a score |  |")


def test_quality_table_a_later_group_that_failed_replaces_the_earlier_rows(tmp_path):
    import csv

    from benchmarks.quality_table import read_runs

    for folder, status in (("deep", "ok"), ("deep_cs", "failed")):
        (tmp_path / folder).mkdir()
        with open(tmp_path / folder / "results.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["dataset", "model", "seed", "status"])
            writer.writeheader()
            writer.writerow({"dataset": "cs", "model": "scgc", "seed": 0, "status": status})
    # CS's group reran scgc and every run failed: the small group's row had stood for it.
    assert not read_runs(tmp_path, tmp_path / "none").deep.get(("cs", "scgc"))


def test_quality_table_keeps_the_device_note_beside_a_model_that_failed(tmp_path):
    import csv

    from benchmarks.quality_table import read_runs

    (tmp_path / "deep_cs").mkdir()
    with open(tmp_path / "deep_cs" / "results.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["dataset", "model", "seed", "status"])
        writer.writeheader()
        writer.writerow({"dataset": "cs", "model": "scgc-star", "seed": 0, "status": "ok"})
        writer.writerow({"dataset": "cs", "model": "scgc", "seed": 0, "status": "failed"})
    (tmp_path / "deep_cs" / "results.md").write_text("| key | value |\n|---|---|\n"
                                                     "| device | cuda |\n")
    # scgc-star's rows ran on cuda: scgc's failed runs, read after them, had dropped the note.
    assert read_runs(tmp_path, tmp_path / "none").deep_device == {"cs": ("cuda", "deep_cs")}


def test_nothing_to_compare_says_the_seeds_did_not_meet():
    from graphclust.benchmark import BenchmarkResults, summarize
    from graphclust.benchmark.writers import _baseline_section

    # Both have a score, on different seeds: the section had said they had none.
    rows = [_run("scgc", 0, 0.9), _run("scgc", 1, float("nan"), "failed"),
            _run("degree-kmeans", 0, float("nan"), "failed"), _run("degree-kmeans", 1, 0.5)]
    results = BenchmarkResults(rows, summarize(rows), baselines=["degree-kmeans"])
    text = " ".join(_baseline_section(results))
    assert "is there a seed where a trained model and every baseline that ran there" in text


def test_equal_means_in_another_seed_order_are_a_tie_not_a_loss():
    from graphclust.benchmark import BenchmarkResults, summarize
    from graphclust.benchmark.baselines import loss_lines
    from graphclust.benchmark.writers import comparison_table

    # The same three scores on other seeds: 0.3 + 0.2 + 0.1 and 0.1 + 0.2 + 0.3 differ in
    # their last bit, and the model had been marked **below** by -0.0000.
    rows = [_run("scgc", seed, acc) for seed, acc in enumerate((0.3, 0.2, 0.1))]
    rows += [_run("svd-kmeans t=0", seed, acc) for seed, acc in enumerate((0.1, 0.2, 0.3))]
    results = BenchmarkResults(rows, summarize(rows), baselines=["svd-kmeans t=0"])
    assert [item["margin"] for item in results.comparisons] == [0.0, 0.0]
    assert loss_lines(results.comparisons) == []
    assert "below" not in comparison_table(results.comparisons)[2]


def test_a_loss_below_the_fourth_decimal_shows_its_size():
    from graphclust.benchmark import BenchmarkResults, summarize
    from graphclust.benchmark.baselines import loss_lines
    from graphclust.benchmark.writers import comparison_table

    rows = [_run("scgc", 0, 0.69996), _run("svd-kmeans t=0", 0, 0.7)]
    results = BenchmarkResults(rows, summarize(rows), baselines=["svd-kmeans t=0"])
    # It had read "**below**, -0.0000" and "ACC 0.7000 against ...'s 0.7000".
    assert comparison_table(results.comparisons)[2].startswith(
        "| g | scgc | **below**, -4.0e-05 (svd-kmeans t=0: 0.7000) |")
    assert loss_lines(results.comparisons)[0] == (
        "below no training: scgc on g, ACC 0.7000 against svd-kmeans t=0's 0.7000 (-4.0e-05)")
    rows = [_run("scgc", 0, 0.6), _run("svd-kmeans t=0", 0, 0.7)]
    results = BenchmarkResults(rows, summarize(rows), baselines=["svd-kmeans t=0"])
    assert loss_lines(results.comparisons)[0].endswith("0.6000 against svd-kmeans t=0's 0.7000")


def test_the_paper_protocol_counts_the_final_model_among_its_states():
    from graphclust.benchmark.protocols import METRICS, paper_scores

    # history_ scores each epoch at its start: a model that improved in its last epoch's
    # steps had a paper_acc (the "optimistic" protocol) of 0.5 below its final 0.5294.
    history = [{"phase": "pretrain", "loss": 1.0},
               *({"phase": "train", "epoch": epoch, **dict.fromkeys(METRICS, 0.5)}
                 for epoch in (1, 2))]
    final = {"acc": 0.5294, "nmi": 0.0025, "ari": 0.4, "f1": 0.6}
    assert paper_scores(history, final) == {"paper_acc": 0.5294, "paper_nmi": 0.5,
                                            "paper_ari": 0.5, "paper_f1": 0.6}
    assert paper_scores(history) == dict.fromkeys([f"paper_{m}" for m in METRICS], 0.5)
    # No epoch trained: there is none to choose, the final model alone is no protocol.
    assert all(math.isnan(value) for value in paper_scores(history[:1], final).values())


def test_a_grid_reads_no_paper_score_below_the_final_model():
    # Seed 2 at this rate ends its last epoch's steps on its best labels (ACC 0.5294, each
    # epoch's start 0.5): the paper columns had read 0.5.
    results = run_benchmark("karate", "scgc-star", seeds=[2], protocol="paper",
                            progress=False, baselines=False,
                            params={"hidden_dims": (32,), "embedding_dim": 4, "lr": 0.05,
                                    "max_epochs": 3, "pretrain_epochs": 2, "tol": 0.0})
    row = results.rows[0]
    assert all(row[f"paper_{m}"] >= row[m] for m in ("acc", "nmi", "ari", "f1"))
