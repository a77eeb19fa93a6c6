"""Every script in examples/ runs to completion (each is meant to take seconds on a CPU).

Nothing here measures speed: the scripts run with one thread (the estimators' default
``n_jobs`` and ``OMP_NUM_THREADS=1`` for anything else), each bounded by its own work
(default ``max_epochs`` and a stopping rule), and the time-out only catches a hang. It
is generous because the suite must also pass on a 2-core machine shared with other
CPU-bound jobs, where a 10 s script can take several times longer.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
_HANG_S = 900  # a hang, not a slow machine: the longest example takes ~10 s on one idle core

# Script -> (extra arguments, text its output must contain). "{tmp}" is a scratch folder.
CASES = {
    "quick_start_digits.py": ([], "ACC "),
    "networkx_graph.py": ([], "with the graph:"),
    "tabular_pipeline.py": ([], "iris:"),
    "pyg_data.py": ([], "SCGCStar: ACC"),
    "compare_models.py": (["{tmp}/compare"], "failed runs: 0"),
    # Swapping one part each (a start, an objective term, a sampler) on the digits.
    "custom_start.py": ([], "PCA start: ACC"),
    "custom_objective.py": ([], "with uniformity: ACC"),
    "custom_sampler.py": ([], "drop-edge positives: ACC"),
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
    env = {**os.environ, "MPLBACKEND": "Agg", "GRAPHCLUST_DATA": str(tmp_path),
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, str(EXAMPLES / script), *arguments], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=_HANG_S)
    assert result.returncode == 0, result.stderr[-3000:]
    assert expected in result.stdout, result.stdout[-3000:]
