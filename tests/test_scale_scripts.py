"""The scale benchmarks' rehearsal modes: gpu_check.sh --device cpu --tiny and
``python -m benchmarks.bench_scale_quality --tiny`` run end to end on the CPU, in processes
of their own, and write their reports."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _environment():
    environment = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS="1")
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return environment


@pytest.mark.slow
def test_scale_quality_tiny_writes_its_table(tmp_path):
    out = tmp_path / "scale_quality.md"
    subprocess.run([sys.executable, "-m", "benchmarks.bench_scale_quality", "--tiny", "--out",
                    str(out), "--not-run", "1000000"], cwd=ROOT, env=_environment(),
                   check=True, capture_output=True, text=True)
    text = out.read_text()
    for method in ("planted", "svd-kmeans", "svd-kmeans-t2", "scgcstar-full", "scgcstar"):
        assert f"| {method} | 600 |" in text
    assert "**Not run here**: 1,000,000 nodes" in text
    assert "--sizes 1000000" in text


@pytest.mark.slow
def test_gpu_check_rehearses_on_the_cpu(tmp_path):
    completed = subprocess.run(
        ["bash", "benchmarks/gpu_check.sh", "--device", "cpu", "--tiny", "--out", str(tmp_path)],
        cwd=ROOT, env=_environment(), capture_output=True, text=True)
    report = (tmp_path / "gpu.md").read_text()
    assert completed.returncode == 0, report + completed.stdout + completed.stderr
    for step in ("cuda-tests", "speed-karate", "scale-quality"):
        assert f"| {step} | 900 | 0 |" in report
    # The CUDA tests were selected (skipped without a GPU), the others deselected.
    assert re.search(r"\d+ (skipped|passed), \d+ deselected", report)
    assert "## speed_karate.md" in report and "| scgcstar-hops2 | 600 |" in report


def test_gpu_check_refuses_unknown_options(tmp_path):
    completed = subprocess.run(["bash", "benchmarks/gpu_check.sh", "--fast"], cwd=ROOT,
                               capture_output=True, text=True)
    assert completed.returncode == 2 and "unknown option --fast" in completed.stderr
