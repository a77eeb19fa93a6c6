"""Shared helpers of the benchmark scripts: machine description and peak memory."""

from __future__ import annotations

import datetime
import os
import platform
import resource

import torch


def machine_info() -> dict[str, str]:
    """CPU model, core count, RAM, torch version and date, for the results header."""
    cpu_model = platform.processor() or "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as meminfo:
        total_kib = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    return {
        "CPU": cpu_model,
        "cores": str(os.cpu_count()),
        "RAM": f"{total_kib / 2**20:.1f} GiB",
        "torch": torch.__version__,
        "torch threads": str(torch.get_num_threads()),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def peak_rss_gib() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def load_average() -> str:
    """1/5/15-minute load averages: other work on the machine slows the timings."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())
