"""Shared helpers of the benchmark scripts: machine description, peak memory, load."""

from __future__ import annotations

import os
import resource
from pathlib import Path

from graphclust.benchmark import machine_info

__all__ = ["LOAD_NOTE", "load_average", "machine_info", "peak_rss_gib", "write_results"]

LOAD_NOTE = (
    "A load average above the number of cores means other jobs shared the CPU during the run; "
    "the timings are then pessimistic and vary between runs."
)


def peak_rss_gib() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def load_average() -> str:
    """1/5/15-minute load averages: other work on the machine slows the timings."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def write_results(path: Path, lines: list[str]) -> None:
    """Write a results file (creating its folder) and say where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    print(f"wrote {path}")
