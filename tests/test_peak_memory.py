"""The peak resident memory that benchmarks and memory tests read (benchmark.measure)."""

from __future__ import annotations

import subprocess
import sys

import psutil
import pytest

from graphclust.benchmark.measure import peak_resident_bytes, reset_peak_resident

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc (Linux)")

_CHILD = """
import resource
from graphclust.benchmark.measure import peak_resident_bytes
print(peak_resident_bytes(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def test_a_subprocess_reads_its_own_peak_not_its_parent_s():
    # Linux carries ru_maxrss across fork and exec: a child of a process that held 1 GiB
    # read at least 1 GiB, whatever it held itself (the memory benchmark's and tests'
    # children had read the peak of the script or of pytest that started them).
    held = b"\x01" * (1 << 30)
    own, inherited = map(int, subprocess.run([sys.executable, "-c", _CHILD],
                                             capture_output=True, text=True,
                                             check=True).stdout.split())
    del held
    assert inherited >= 1 << 30  # what ru_maxrss would have read
    assert own < 1 << 30  # importing torch and graphclust holds far less


def test_the_peak_can_be_reset_to_read_what_runs_next():
    if not reset_peak_resident():
        pytest.skip("clear_refs cannot be written here")
    before = psutil.Process().memory_info().rss
    block = b"\x01" * (200 << 20)
    del block
    assert peak_resident_bytes() - before >= 190 << 20
    assert reset_peak_resident()
    assert peak_resident_bytes() - psutil.Process().memory_info().rss < 50 << 20
