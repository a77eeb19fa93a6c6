"""Every script in examples/ runs to completion (each is meant to take seconds on a CPU)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# Script -> (extra arguments, text its output must contain). "{tmp}" is a scratch folder.
CASES = {
    "quick_start_digits.py": ([], "ACC "),
    "networkx_graph.py": ([], "with the graph:"),
    "tabular_pipeline.py": ([], "iris:"),
    "pyg_data.py": ([], "SCGCStar: ACC"),
    "compare_models.py": (["{tmp}/compare"], "failed runs: 0"),
    # An empty data root: the example must explain the absence and exit 0.
    "ogb_arxiv.py": (["{tmp}"], "skipping: ogbn-arxiv is not available"),
}

# Examples not run here, with the reason; a new example must be added to one of the two.
NOT_RUN = {
    # 20,000-node SBM: about 45 s of CPU time as a plain script, too long for this file.
    "distributed_torchrun.py": "multi-process training example with its own schedule",
}


def test_every_example_is_covered():
    assert {path.name for path in EXAMPLES.glob("*.py")} == set(CASES) | set(NOT_RUN)


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(CASES))
def test_example_runs(script, tmp_path):
    arguments, expected = CASES[script]
    arguments = [argument.replace("{tmp}", str(tmp_path)) for argument in arguments]
    env = {**os.environ, "MPLBACKEND": "Agg", "GRAPHCLUST_DATA": str(tmp_path)}
    result = subprocess.run([sys.executable, str(EXAMPLES / script), *arguments], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert expected in result.stdout, result.stdout[-3000:]
