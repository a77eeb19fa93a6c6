"""Start-up: heavy modules are imported where they are used, not by ``import graphclust``."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _modules_after(code: str) -> set[str]:
    """Top-level modules loaded in a fresh interpreter after running ``code``."""
    script = code + "\nimport sys\nprint(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=600, check=True)  # the time-out catches a hang only
    return set(result.stdout.split())


def test_import_graphclust_loads_no_heavy_module():
    loaded = _modules_after("import graphclust\nassert graphclust.__version__")
    assert not loaded & {"torch", "torch_geometric", "sklearn", "scipy", "numpy",
                         "networkx", "matplotlib", "ogb"}


def test_the_plotting_module_loads_no_torch():
    # It reads a fit's history, which needs no torch until a start's checks are plotted.
    assert not _modules_after("import graphclust.plotting") & {"torch", "torch_geometric"}


def test_an_estimator_loads_neither_plotting_nor_networkx_nor_ogb():
    loaded = _modules_after("from graphclust import SCGCStar, load_dataset, evaluate")
    assert "torch" in loaded  # sanity: the estimator itself did load
    assert not loaded & {"networkx", "matplotlib", "ogb"}


def test_lazy_names_are_the_real_objects():
    import graphclust
    from graphclust.estimators import SCGCStar
    from graphclust.registry import MODELS

    assert graphclust.SCGCStar is SCGCStar and graphclust.MODELS is MODELS
    assert set(graphclust.__all__) <= set(dir(graphclust))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        graphclust.nope  # noqa: B018
