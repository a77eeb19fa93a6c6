"""Shared fixtures: the real data folder, a non-interactive matplotlib backend,
hypothesis settings that hold on a busy machine, the small graph of the sampling tests
and the built documentation site."""

from __future__ import annotations

import builtins
import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest
from hypothesis import HealthCheck, settings
from sampling_graphs import SMALL_EDGES, SMALL_NUM_NODES, dense_adjacency, symmetric_edge_index

# Plots in tests must never need a display.
matplotlib.use("Agg")

# No test may depend on the wall clock: on a 2-core machine shared with other jobs a
# generated example can take seconds, so hypothesis neither times examples out nor
# fails its health check for slow data generation.
settings.register_profile("shared-machine", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("shared-machine")

_SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real benchmark data folder (``$GRAPHCLUST_DATA`` or ``../shared/data``).

    Tests that use it are skipped, with the reason, when the folder is absent.
    """
    root = Path(os.environ.get("GRAPHCLUST_DATA") or _SHARED_DATA)
    if not root.is_dir():
        pytest.skip(f"real data folder {root} is absent (set GRAPHCLUST_DATA to use one)")
    return root


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The documentation site, built once per session as ``make docs`` builds it (strict:
    any MkDocs warning fails). Building runs every example for the gallery, so the tests of
    the docs and of the examples share this one build."""
    root = Path(__file__).resolve().parents[1]
    site = tmp_path_factory.mktemp("site")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                             str(root / "mkdocs.yml"), "--site-dir", str(site)],
                            cwd=root, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"the documentation site does not build (make docs):\n{result.stderr[-5000:]}",
                    pytrace=False)
    return site


@pytest.fixture
def cache_in_tmp(tmp_path, monkeypatch):
    """The data set tests' setting: processed files go to a per-test cache, and nothing
    may read stdin."""
    monkeypatch.setenv("GRAPHCLUST_CACHE", str(tmp_path / "cache"))

    def _no_prompt(*args):
        raise AssertionError(f"a loader asked on stdin: {args}")

    monkeypatch.setattr(builtins, "input", _no_prompt)


@pytest.fixture
def small_csr():
    """The CSR of the 10-node graph of ``sampling_graphs.SMALL_EDGES``."""
    from graphclust.sampling import CSRGraph

    return CSRGraph.from_edge_index(symmetric_edge_index(SMALL_EDGES), SMALL_NUM_NODES)


@pytest.fixture
def small_adjacency():
    """The dense adjacency matrix of the same graph."""
    return dense_adjacency(symmetric_edge_index(SMALL_EDGES), SMALL_NUM_NODES)
