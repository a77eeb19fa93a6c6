"""What a benchmark did: its rows, their mean ± std per (data set, model), the machine."""

from __future__ import annotations

import datetime
import json
import os
import platform
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from graphclust.benchmark.protocols import METRICS
from graphclust.threads import effective_n_jobs

__all__ = ["BenchmarkResults", "error_text", "fit_threads", "load_average", "machine_info",
           "summarize"]


def summarize(rows: Iterable[Mapping], keys: Sequence[str] = METRICS) -> list[dict]:
    """Mean and standard deviation of ``keys`` per (data set, model) over successful runs.

    The standard deviation is the population one (``numpy.std``, ``ddof=0``), as in the
    SDCN/SCGC tables. Groups keep the order in which they first appear.

    Returns
    -------
    list of dict
        ``dataset``, ``model``, ``runs`` and ``<key>_mean``, ``<key>_std`` per key.
    """
    groups: dict[tuple[str, str], list[Mapping]] = {}
    for row in rows:
        if row["status"] == "ok":
            groups.setdefault((row["dataset"], row["model"]), []).append(row)
    summary = []
    for (dataset, model), members in groups.items():
        entry = {"dataset": dataset, "model": model, "runs": len(members)}
        for key in keys:
            values = np.array([float(row[key]) for row in members], dtype=np.float64)
            entry[f"{key}_mean"] = float(values.mean())
            entry[f"{key}_std"] = float(values.std())
        summary.append(entry)
    return summary


def error_text(error: BaseException) -> str:
    """A failed run's error on one line: ``Type: message``."""
    message = " ".join(str(error).split()) or "(no message)"
    return f"{type(error).__name__}: {message}"


def load_average() -> str:
    """1/5/15-minute load averages: other work on the machine slows the timings."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def fit_threads(rows: Iterable[Mapping]) -> str | None:
    """The CPU threads the runs' fits used, from each row's ``n_jobs`` (the models'
    setting, which :func:`graphclust.threads.limit_threads` applies during the fit), or
    None when no row records one. The process's own torch thread count, which
    :func:`machine_info` reports, is not what a fit with ``n_jobs=-1`` runs on."""
    counts = set()
    for row in rows:
        if row.get("status") != "ok":  # a value the fit refused is no thread count
            continue
        params = json.loads(row["params"]) if row.get("params") else {}
        if "n_jobs" in params:
            counts.add(effective_n_jobs(params["n_jobs"]))
    return ", ".join(map(str, sorted(counts))) if counts else None


def machine_info(device: str | torch.device = "cpu") -> dict[str, str]:
    """CPU model, cores, RAM, torch version, threads, device and date (for results headers)."""
    import psutil

    cpu = platform.processor() or platform.machine()
    if Path("/proc/cpuinfo").is_file():
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo
                        if line.startswith("model name")), cpu)
    device = torch.device(device)
    described = str(device)
    if device.type == "cuda":
        described += f" ({torch.cuda.get_device_name(device)})"
    return {
        "CPU": cpu,
        # The cores this process may run on (a taskset or container may allow fewer).
        "cores": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                     else os.cpu_count()),
        "RAM": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "torch": torch.__version__,
        "torch threads": str(torch.get_num_threads()),
        "device": described,
        "Python": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


@dataclass
class BenchmarkResults:
    """What :func:`run_benchmark` did.

    Attributes
    ----------
    rows : list of dict
        One per run, keys as the columns of ``results.csv``.
    summary : list of dict
        :func:`summarize` of the final-model (and, with the paper protocol, ``paper_``)
        scores and timings.
    out : pathlib.Path or None
        Output folder, when files were written.
    files : list of pathlib.Path
        Files written (csv, markdown, error log, plots).
    baselines : list of str
        The labels of the grid's no-training models (``svd-kmeans t=0``, ...,
        ``degree-kmeans``), which :func:`graphclust.benchmark.baselines.against_baselines`
        compares the trained models with.
    """

    rows: list[dict]
    summary: list[dict]
    out: Path | None = None
    files: list[Path] = field(default_factory=list)
    baselines: list[str] = field(default_factory=list)

    @property
    def trained_summary(self) -> list[dict]:
        """The summary's entries of the models that train (not :attr:`baselines`)."""
        return [entry for entry in self.summary if entry["model"] not in self.baselines]

    @property
    def comparisons(self) -> list[dict]:
        """Each trained model's mean ACC and NMI against the best no-training mean of its
        data set, both over the same seeds
        (:func:`~graphclust.benchmark.baselines.paired_comparisons`)."""
        from graphclust.benchmark.baselines import paired_comparisons

        return paired_comparisons(self.rows, self.baselines)

    @property
    def failures(self) -> list[dict]:
        """The rows of runs that raised."""
        return [row for row in self.rows if row["status"] == "failed"]
