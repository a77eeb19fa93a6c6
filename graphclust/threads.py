"""How many CPU threads graphclust's estimators use, and the context that applies it.

torch, and numpy's and scikit-learn's BLAS, start one thread per core by default. With
the OpenMP runtime's default wait policy, threads that wait for each other spin, and on
a machine where other processes already use the cores (a shared server, CI, several fits
side by side) a fit gets several times slower; with ``OMP_WAIT_POLICY=PASSIVE`` they
sleep instead. ``benchmarks/results/threads.md`` has the measurements: the estimators
default to one thread (``n_jobs=None``), which holds under either policy, and the
``graphclust`` command, which sets ``PASSIVE`` before torch starts, to every core.

:func:`limit_threads` sets torch's intra-op thread count and the BLAS/OpenMP pools seen by
``threadpoolctl`` for the duration of a ``with`` block and restores the caller's settings
afterwards, so a library call never leaves the process changed.

``OMP_WAIT_POLICY`` (whether idle OpenMP threads spin) is read once, when the OpenMP
runtime starts, that is when torch is imported: only the environment can set it. The
``graphclust`` command sets it to ``PASSIVE`` before it imports torch; a Python program
that wants the same sets ``os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")`` before its
first ``import torch``.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from graphclust._checks import check_integer

__all__ = ["MAX_THREADS", "effective_n_jobs", "limit_threads"]

#: The most threads an ``n_jobs`` may ask for. More than any machine has cores; above it
#: the OpenMP runtime allocates per-thread state up front (``n_jobs=10**9`` ends the
#: process with an allocation failure, not an exception), so such a value, from a typo or
#: a model file, is refused instead.
MAX_THREADS = 1024


def _cpu_count() -> int:
    """Cores this process may run on (affinity and cgroup limits included where known)."""
    try:
        from joblib import cpu_count  # honours cgroup CPU quotas, as scikit-learn does

        return max(1, int(cpu_count()))
    except ImportError:  # joblib comes with scikit-learn; this is a fallback only
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                   else os.cpu_count() or 1)


def effective_n_jobs(n_jobs) -> int:
    """Threads for an ``n_jobs`` value, with scikit-learn's meaning.

    ``None`` is 1; a positive integer is that many threads; ``-1`` is every core the
    process may use, ``-2`` all but one, and so on (never fewer than 1).

    Raises
    ------
    TypeError
        ``n_jobs`` is not None or an integer (bools are refused too).
    ValueError
        ``n_jobs`` is 0 or above :data:`MAX_THREADS`.

    Examples
    --------
    >>> effective_n_jobs(None), effective_n_jobs(3)
    (1, 3)
    >>> effective_n_jobs(-1) >= effective_n_jobs(-2) >= 1
    True
    """
    if n_jobs is None:
        return 1
    n_jobs = check_integer("n_jobs", n_jobs, accepts="None or an integer")
    if n_jobs == 0:
        raise ValueError("n_jobs=0 means no thread at all; use None or 1 for one thread, "
                         "-1 for every core")
    if n_jobs > MAX_THREADS:
        raise ValueError(f"n_jobs={n_jobs} asks for more than {MAX_THREADS} threads; give "
                         f"a count up to the cores ({_cpu_count()} here), or -1 for every "
                         f"core")
    if n_jobs > 0:
        return int(n_jobs)
    return max(1, _cpu_count() + 1 + int(n_jobs))


@contextmanager
def limit_threads(n_jobs):
    """Run the ``with`` block with ``effective_n_jobs(n_jobs)`` CPU threads.

    Sets ``torch.set_num_threads`` and, through ``threadpoolctl``, the BLAS and OpenMP
    thread pools that numpy, scipy and scikit-learn use; both are restored on exit, also
    when the block raises. Yields the number of threads.

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with limit_threads(1) as threads:
    ...     inside = torch.get_num_threads()
    >>> threads, inside, torch.get_num_threads() == before
    (1, 1, True)
    """
    threads = effective_n_jobs(n_jobs)
    import torch
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    if previous != threads:  # setting it rebuilds torch's pool: skip when unchanged
        torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield threads
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
