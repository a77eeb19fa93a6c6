"""n_jobs: how many threads a fit uses, and that the caller's settings come back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from cli_helpers import TINY as CLI_TINY
from cli_helpers import run as _run
from threadpoolctl import threadpool_info

from graphclust import SCGCStar, SVDKMeans
from graphclust.data import GraphInputWarning
from graphclust.threads import MAX_THREADS, effective_n_jobs, limit_threads

_TINY = {"max_epochs": 2, "pretrain_epochs": 1, "hidden_dims": (8,), "embedding_dim": 4}


def _blas_limits() -> list:
    return [pool["num_threads"] for pool in threadpool_info()]


@pytest.fixture
def two_torch_threads():
    """Run the test with torch set to 2 threads (a caller's setting), restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_effective_n_jobs_has_scikit_learns_meaning(monkeypatch):
    monkeypatch.setattr("graphclust.threads._cpu_count", lambda: 8)
    assert [effective_n_jobs(n) for n in (None, 1, 3, -1, -2, -8, -100)] == [1, 1, 3, 8, 7,
                                                                             1, 1]


@pytest.mark.parametrize(("value", "error"), [(0, ValueError), (1.5, TypeError),
                                              (True, TypeError), ("2", TypeError),
                                              (MAX_THREADS + 1, ValueError),
                                              (10**9, ValueError)])
def test_effective_n_jobs_refuses_bad_values(value, error):
    with pytest.raises(error, match="n_jobs"):
        effective_n_jobs(value)


def test_limit_threads_restores_the_callers_setting_also_on_error(two_torch_threads):
    blas_before = _blas_limits()
    with pytest.raises(RuntimeError, match="boom"), limit_threads(1) as threads:
        assert threads == 1 and torch.get_num_threads() == 1
        assert all(limit == 1 for limit in _blas_limits())
        raise RuntimeError("boom")
    assert torch.get_num_threads() == 2
    assert _blas_limits() == blas_before


@pytest.mark.parametrize("n_jobs", [None, 1, 3])
def test_fit_and_predict_run_with_n_jobs_threads(n_jobs, two_torch_threads, monkeypatch):
    seen = []
    original_fit, original_assign = SCGCStar._fit_graph, SCGCStar._assign

    def fit_graph(self, *args):
        seen.append(("fit", torch.get_num_threads()))
        return original_fit(self, *args)

    def assign(self, *args):
        seen.append(("predict", torch.get_num_threads()))
        return original_assign(self, *args)

    monkeypatch.setattr(SCGCStar, "_fit_graph", fit_graph)
    monkeypatch.setattr(SCGCStar, "_assign", assign)
    x = np.random.default_rng(0).random((30, 5))
    model = SCGCStar(n_clusters=2, random_state=0, n_jobs=n_jobs, **_TINY).fit(x)
    model.predict(x)
    expected = effective_n_jobs(n_jobs)
    assert seen == [("fit", expected), ("predict", expected)]
    assert torch.get_num_threads() == 2  # the caller's setting is back


@pytest.mark.parametrize("estimator", [SCGCStar(n_clusters=2, n_jobs=0, **_TINY),
                                       SVDKMeans(n_clusters=2, n_jobs="all")])
def test_bad_n_jobs_is_refused_at_fit(estimator):
    with pytest.raises((ValueError, TypeError), match="n_jobs"):
        estimator.fit(np.random.default_rng(0).random((20, 4)))


@pytest.mark.parametrize("method", ["fit", "fit_predict", "fit_transform"])
def test_input_warnings_point_at_the_users_line(method):
    x = np.random.default_rng(0).random((6, 3))
    edges = np.array([[0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 0]])  # one direction only
    model = SVDKMeans(n_clusters=2, n_components=2, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(model, method)(x, adjacency=edges)  # the line the warning must name
    ours = [w for w in caught if issubclass(w.category, GraphInputWarning)]
    assert len(ours) == 1 and ours[0].filename == __file__, [w.filename for w in ours]


def test_threads_sets_n_jobs_and_set_cannot(tmp_path, capsys):
    code, _, err = _run(["fit", "--dataset", "karate", "--out", str(tmp_path), "--quiet",
                         "--threads", "2", *CLI_TINY], capsys)
    assert code == 0, err
    summary = json.loads((tmp_path / "karate-scgc-star-seed0" / "run.json").read_text())
    assert summary["params"]["n_jobs"] == 2
    code, _, err = _run(["fit", "--set", "n_jobs=2"], capsys)
    assert code == 2 and "use --threads instead" in err
    code, _, err = _run(["fit", "--dataset", "karate", "--quiet", "--threads", "0", *CLI_TINY],
                        capsys)
    assert code == 2 and "argument --threads: 0 threads cannot run a fit" in err
    # A count the OpenMP runtime would die allocating for: refused as the count above.
    code, _, err = _run(["fit", "--dataset", "karate", "--quiet", "--threads", "1000000000",
                         *CLI_TINY], capsys)
    assert code == 2 and "1000000000 is more than 1024 threads" in err


def test_a_fresh_command_fits_on_one_thread_with_idle_threads_asleep(tmp_path):
    """A fresh ``graphclust`` process fits on one thread (``n_jobs=1`` in ``run.json``), the
    fastest measured quiet and busy (threads.md, threads_dblp.md), and sets the wait
    policy before torch starts, so that ``--threads -1`` does not spin."""
    env = {key: value for key, value in os.environ.items() if key != "OMP_WAIT_POLICY"}
    subprocess.run([sys.executable, "-m", "graphclust.cli", "fit", "--dataset", "karate",
                    "--quiet", "--no-baselines", "--out", str(tmp_path), *CLI_TINY],
                   env=env, capture_output=True, timeout=600, check=True)  # a hang only
    summary = json.loads((tmp_path / "karate-scgc-star-seed0" / "run.json").read_text())
    assert summary["params"]["n_jobs"] == 1
    policy = subprocess.run(
        [sys.executable, "-c", "import contextlib, io, os; from graphclust.cli import main\n"
         "with contextlib.redirect_stdout(io.StringIO()): main(['datasets'])\n"
         "print(os.environ.get('OMP_WAIT_POLICY'))"],
        env=env, capture_output=True, text=True, timeout=600, check=True).stdout
    assert policy.split() == ["PASSIVE"]


def test_a_command_run_twice_in_one_process_gets_the_same_threads(monkeypatch, tmp_path, capsys):
    """In a process that imported torch (tests, notebooks) ``main`` leaves the wait policy
    alone: the first call set it before, so the second one read it as given and ran
    every core, and refused the first call's run folder as "other parameters"."""
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    argv = ["fit", "--dataset", "karate", "--quiet", "--out", str(tmp_path), *CLI_TINY]
    assert _run(argv, capsys)[0] == 0
    assert "OMP_WAIT_POLICY" not in os.environ
    code, _, err = _run(argv, capsys)
    assert code == 0, err
    summary = json.loads((tmp_path / "karate-scgc-star-seed0" / "run.json").read_text())
    assert summary["params"]["n_jobs"] == 1
