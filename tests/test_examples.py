"""Every script in examples/ runs to completion and prints what it is for.

The examples run once per session, when the documentation site is built for its gallery
(``docs/gallery.py`` runs each with one thread; the ``built_site`` fixture): a failing
example fails the build with its stderr, and here each gallery page must show the text
its example prints when it did its job. Nothing here measures speed: each example is
bounded by its own work (default ``max_epochs`` and a stopping rule), and the gallery's
time-out only catches a hang.
"""

from __future__ import annotations

import html
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs"))
import gallery  # noqa: E402  (docs/gallery.py, the examples' runner)

# Script -> text its output must contain.
CASES = {
    "quick_start_digits.py": "ACC ",
    "networkx_graph.py": "with the graph:",
    "tabular_pipeline.py": "iris:",
    "pyg_data.py": "SCGCStar: ACC",
    "compare_models.py": "failed runs: 0",
    # Swapping one part each (a start, an objective term, a sampler) on the digits.
    "custom_start.py": "PCA start: ACC",
    "custom_objective.py": "with uniformity: ACC",
    "custom_sampler.py": "drop-edge positives: ACC",
    # An empty data root: the example must explain the absence and exit 0.
    "ogb_arxiv.py": "skipping: ogbn-arxiv is not available",
}


def test_every_example_is_covered():
    """A new example must be checked here or say in the gallery why it is not run."""
    assert set(gallery.scripts()) == set(CASES) | set(gallery.NOT_RUN)
    assert not set(CASES) & set(gallery.NOT_RUN)


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(CASES))
def test_example_runs(script, built_site):
    page = (built_site / "examples" / f"{Path(script).stem}.html").read_text()
    assert html.escape(CASES[script], quote=False) in page, page[-3000:]
