"""The CPU memory probe reads the cgroup limits over the process (graphclust._cgroup)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from graphclust import _cgroup as cgroup_module
from graphclust.sampling import available_memory_bytes
from graphclust.sampling import csr as csr_module

HOST_AVAILABLE = 64 * 2**30  # what psutil reports in these tests: far above any limit here


@pytest.fixture
def cgroup(tmp_path, monkeypatch):
    """A cgroup folder the probe reads instead of /sys/fs/cgroup, with a fixed host figure."""
    monkeypatch.setattr(cgroup_module, "CGROUP_ROOT", tmp_path)
    # No membership file: the process's cgroup is the root's (a container's own view).
    monkeypatch.setattr(cgroup_module, "MEMBERSHIP", tmp_path / "no-such-file")
    monkeypatch.setattr(csr_module.psutil, "virtual_memory",
                        lambda: SimpleNamespace(available=HOST_AVAILABLE))

    def write(name: str, content: str | bytes) -> None:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())

    return write


def test_v2_limit_less_usage_without_the_inactive_page_cache(cgroup):
    cgroup("memory.max", "8000000\n")
    cgroup("memory.current", "3000000\n")
    cgroup("memory.stat", "anon 2000000\nfile 1000000\ninactive_file 500000\nactive_file 1\n")
    assert available_memory_bytes("cpu") == 8_000_000 - (3_000_000 - 500_000)


def test_v2_without_memory_stat_counts_the_whole_usage(cgroup):
    cgroup("memory.max", "8000000")
    cgroup("memory.current", "3000000")
    assert available_memory_bytes("cpu") == 5_000_000


def test_v2_max_is_no_limit(cgroup):
    cgroup("memory.max", "max\n")
    cgroup("memory.current", "3000000\n")
    assert available_memory_bytes("cpu") == HOST_AVAILABLE


def test_v1_limit_less_usage(cgroup):
    cgroup("memory/memory.limit_in_bytes", "4000000\n")
    cgroup("memory/memory.usage_in_bytes", "1000000\n")
    cgroup("memory/memory.stat", "cache 600000\ntotal_inactive_file 250000\n")
    assert available_memory_bytes("cpu") == 4_000_000 - 750_000


def test_v1_unlimited_is_the_host_figure(cgroup):
    # cgroup v1 writes "no limit" as the largest page-aligned 64-bit count.
    cgroup("memory/memory.limit_in_bytes", "9223372036854771712\n")
    cgroup("memory/memory.usage_in_bytes", "1000000\n")
    assert available_memory_bytes("cpu") == HOST_AVAILABLE


def test_the_smaller_room_of_v1_and_v2_counts(cgroup):
    cgroup("memory.max", "8000000")
    cgroup("memory.current", "1000000")
    cgroup("memory/memory.limit_in_bytes", "5000000")
    cgroup("memory/memory.usage_in_bytes", "1000000")
    assert available_memory_bytes("cpu") == 4_000_000


def test_no_cgroup_files_is_the_host_figure(cgroup):
    assert available_memory_bytes("cpu") == HOST_AVAILABLE


def test_a_limit_without_its_usage_is_no_limit(cgroup):
    cgroup("memory.max", "8000000")
    assert available_memory_bytes("cpu") == HOST_AVAILABLE


def test_a_usage_over_the_limit_leaves_no_room(cgroup):
    cgroup("memory.max", "1000000")
    cgroup("memory.current", "1200000")
    assert available_memory_bytes("cpu") == 0


@pytest.mark.parametrize("garbage", ["", "12abc", "-5", "1e9", "0x100", "\u0663\u0663",
                                     "1" * 25, b"\xff\xfe\x00", "12 34"])
def test_a_garbled_limit_is_no_limit(cgroup, garbage):
    cgroup("memory.max", garbage)
    cgroup("memory.current", "1000")
    assert available_memory_bytes("cpu") == HOST_AVAILABLE


def test_a_garbled_usage_or_stat_never_widens_the_room(cgroup):
    cgroup("memory.max", "8000000")
    cgroup("memory.current", "3000000")
    # An inactive cache that is not a number is not subtracted: the usage counts whole.
    cgroup("memory.stat", "inactive_file lots\n")
    assert available_memory_bytes("cpu") == 5_000_000
    cgroup("memory.current", "three million")
    assert available_memory_bytes("cpu") == HOST_AVAILABLE


def test_the_limit_above_the_host_figure_leaves_the_host_figure(cgroup):
    cgroup("memory.max", str(4 * HOST_AVAILABLE))
    cgroup("memory.current", "0")
    assert available_memory_bytes("cpu") == HOST_AVAILABLE


def test_a_cgroup_limit_refuses_a_csr_build_that_would_not_fit(cgroup):
    import torch

    cgroup("memory.max", "1000")
    cgroup("memory.current", "0")
    edges = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(MemoryError, match="1,000 bytes"):
        csr_module.CSRGraph.from_edge_index(edges.repeat(1, 50), 2)


def _belong_to(tmp_path, monkeypatch, lines: str) -> None:
    """Make the probe read ``lines`` as the process's /proc/self/cgroup."""
    membership = tmp_path / "self-cgroup"
    membership.write_text(lines + "\n")
    monkeypatch.setattr(cgroup_module, "MEMBERSHIP", membership)


def test_a_batch_job_limit_below_the_root_is_read(cgroup, tmp_path, monkeypatch):
    # A SLURM or systemd job: /sys/fs/cgroup is the host's, the job's limit sits on the
    # cgroup /proc/self/cgroup names or on one above it; the tightest room counts.
    _belong_to(tmp_path, monkeypatch, "0::/slurm/job_7/step_0")
    cgroup("slurm/job_7/memory.max", "6000000")
    cgroup("slurm/job_7/memory.current", "1000000")
    cgroup("slurm/memory.max", "9000000")
    cgroup("slurm/memory.current", "2000000")
    assert available_memory_bytes("cpu") == 5_000_000
    cgroup("slurm/job_7/step_0/memory.max", "max")
    cgroup("slurm/job_7/step_0/memory.current", "500000")
    assert available_memory_bytes("cpu") == 5_000_000
    cgroup("slurm/memory.current", "8500000")  # the parent's own room is the smallest
    assert available_memory_bytes("cpu") == 500_000


def test_a_v1_memory_cgroup_is_read_from_its_controller_line(cgroup, tmp_path, monkeypatch):
    _belong_to(tmp_path, monkeypatch, "5:cpu,cpuacct:/other\n4:memory:/jobs/42\n0::/")
    cgroup("memory/jobs/42/memory.limit_in_bytes", "3000000")
    cgroup("memory/jobs/42/memory.usage_in_bytes", "1000000")
    assert available_memory_bytes("cpu") == 2_000_000


@pytest.mark.parametrize("line", ["0::/../../etc", "0::relative/path", "garbage", "0::"])
def test_a_membership_path_never_leads_outside_the_root(cgroup, tmp_path, monkeypatch,
                                                        line):
    _belong_to(tmp_path, monkeypatch, line)
    cgroup("memory.max", "7000000")
    cgroup("memory.current", "0")
    assert available_memory_bytes("cpu") == 7_000_000  # the root's limit, read as before
