"""What a run costs: peak memory while it runs and the learned numbers it ends with."""

from __future__ import annotations

import resource
import sys
import threading

import torch

__all__ = ["PeakMemory", "count_parameters", "peak_resident_bytes", "reset_peak_resident",
           "resolved_device"]


def peak_resident_bytes() -> int:
    """This process's own peak resident memory: ``VmHWM`` of ``/proc/self/status`` (Linux).

    Not ``getrusage``'s ``ru_maxrss``: Linux carries that across ``fork`` and ``exec``, so a
    subprocess started by a process that once held 1.5 GiB reads at least 1.5 GiB (the
    measured peaks of small fits started by a benchmark that had built a large graph, or
    by a long test session). Where there is no ``/proc``, ``ru_maxrss`` is the fallback.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    kib = 1 if sys.platform == "darwin" else 1024  # macOS counts bytes, Linux KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * kib


def reset_peak_resident() -> bool:
    """Reset :func:`peak_resident_bytes` to the current resident size (Linux's
    ``clear_refs``), so that it reads the peak of what runs next; ``False`` where the
    system does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


class PeakMemory:
    """Peak resident memory (and CUDA memory) of this process while the block runs.

    The resident size is sampled every ``interval`` seconds in a background thread, so
    short spikes between samples can be missed; on CUDA ``cuda_peak`` is
    ``torch.cuda.max_memory_allocated`` (tensors only, exact).
    """

    def __init__(self, device: torch.device, interval: float = 0.01) -> None:
        import psutil

        self._process = psutil.Process()
        self._device = device
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> PeakMemory:
        self.start = self.peak = self._process.memory_info().rss
        if self._device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self._device)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)
        self.cuda_peak = (torch.cuda.max_memory_allocated(self._device)
                          if self._device.type == "cuda" else None)


def count_parameters(estimator) -> int:
    """Learned numbers of a fitted estimator: its torch modules' parameters plus fitted
    tensors stored directly on it (e.g. :class:`SVDKMeans`' ``components_``)."""
    total = 0
    for name, value in vars(estimator).items():
        if isinstance(value, torch.nn.Module):
            total += sum(p.numel() for p in value.parameters())
        elif isinstance(value, torch.Tensor) and name.endswith("_"):
            total += value.numel()
    return total


def resolved_device(estimator) -> torch.device:
    """The device an estimator's ``device`` parameter (``"auto"``, ``"cuda:1"``...) picks."""
    from graphclust.estimators.base import resolve_device

    return resolve_device(estimator.get_params()["device"])
