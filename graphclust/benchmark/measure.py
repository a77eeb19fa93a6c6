"""What a run costs: peak memory while it runs and the learned numbers it ends with."""

from __future__ import annotations

import threading

import torch

__all__ = ["PeakMemory", "count_parameters", "resolved_device"]


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
