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
