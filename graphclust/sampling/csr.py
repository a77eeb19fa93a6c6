"""Compressed sparse row (CSR) adjacency held on the training device.

The samplers of :mod:`graphclust.sampling` read a graph only through two tensors:

* ``rowptr`` (``int64``, length ``N + 1``): the neighbours of node ``i`` are
  ``col[rowptr[i]:rowptr[i + 1]]``, so ``degree[i] = rowptr[i + 1] - rowptr[i]``;
* ``col`` (``int64``, length ``E``): neighbour ids, sorted within each row.

Both live on one device (CPU or CUDA) so that sampling never leaves it. The CSR is
built with plain torch operations (sort, bincount, cumsum): no torch-sparse or
pyg-lib is needed.
"""

from __future__ import annotations

import math

import psutil
import torch

from graphclust._cgroup import cgroup_room
from graphclust._checks import check_edge_index

__all__ = ["CSRGraph", "available_memory_bytes", "csr_build_bytes", "memory_to_check"]

_INDEX_BYTES = torch.empty((), dtype=torch.int64).element_size()
# Rows are sorted by the key i * N + j, which must fit in int64.
_MAX_NUM_NODES = 3_037_000_499


def available_memory_bytes(device: torch.device | str) -> int:
    """Bytes that can still be allocated on ``device``.

    Parameters
    ----------
    device : torch.device or str
        ``"cpu"`` or a CUDA device.

    Returns
    -------
    int
        On CPU, the operating system's available memory
        (``psutil.virtual_memory().available``), or less under a cgroup memory limit (a
        container's, a batch job's): the room left under the tightest one over the
        process (:func:`graphclust._cgroup.cgroup_room`). On CUDA, the driver's free
        memory plus the memory PyTorch's caching allocator holds but does not use, since
        the allocator hands that out first.
    """
    device = torch.device(device)
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        cached_unused = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
        return int(free + cached_unused)
    if device.type == "cpu":
        available = int(psutil.virtual_memory().available)
        room = cgroup_room()
        return available if room is None else min(available, room)
    raise ValueError(f"Unsupported device type {device.type!r}: no memory probe for it "
                     "(expected 'cpu' or 'cuda').")


def memory_to_check(device: torch.device | str) -> float:
    """:func:`available_memory_bytes`, or ``math.inf`` on a device type it has no probe for
    (mps, xpu...): such a device trains unchecked rather than not at all."""
    try:
        return available_memory_bytes(device)
    except ValueError:
        return math.inf


def csr_build_bytes(num_nodes: int, num_edges: int) -> int:
    """Peak bytes :meth:`CSRGraph.from_edge_index` plans for: ``8 * (3 E + 2 (N + 1))``.

    The three ``E``-entry ``int64`` arrays of its sort (keys, sorted keys, order) and the
    row pointer and degrees, counted together though the build frees the sort order before
    the latter exist: a bound, not the exact peak. The build's own check and
    :func:`graphclust.memory.estimate_peak_memory` both read it, so they cannot drift.
    """
    return _INDEX_BYTES * (3 * int(num_edges) + 2 * (int(num_nodes) + 1))


def _format_bytes(num_bytes: int) -> str:
    return f"{num_bytes / 2**30:.2f} GiB ({num_bytes:,} bytes)"


class CSRGraph:
    r"""Graph adjacency in CSR form, resident on one device.

    Row ``i`` lists the nodes ``j`` with an entry ``(i, j)`` in the edge index the
    graph was built from. For the symmetric edge indices used throughout graphclust
    (both directions of every edge) these are exactly the nodes that send messages to
    ``i``. Duplicate entries and self-loops are kept as given: the adjacency
    :math:`A` the samplers see counts an entry ``(i, j)`` as many times as it occurs.

    Parameters
    ----------
    rowptr : torch.Tensor
        ``int64`` tensor of shape ``(N + 1,)``, non-decreasing, ``rowptr[0] == 0``.
    col : torch.Tensor
        ``int64`` tensor of shape ``(rowptr[-1],)`` with values in ``[0, N)``, on the
        same device as ``rowptr``.

    Attributes
    ----------
    rowptr, col : torch.Tensor
        The CSR arrays.

    See Also
    --------
    CSRGraph.from_edge_index : the usual way to build one.
    """

    def __init__(self, rowptr: torch.Tensor, col: torch.Tensor) -> None:
        _check_int64_vector(rowptr, "rowptr")
        _check_int64_vector(col, "col")
        if rowptr.device != col.device:
            raise ValueError(
                f"rowptr and col must be on one device, got {rowptr.device} and {col.device}."
            )
        if rowptr.numel() == 0 or int(rowptr[0]) != 0:
            raise ValueError("rowptr must have at least one entry and start at 0.")
        if int(rowptr[-1]) != col.numel():
            raise ValueError(
                f"rowptr[-1] must equal len(col): got {int(rowptr[-1])} and {col.numel()}."
            )
        if bool((rowptr[1:] < rowptr[:-1]).any()):
            raise ValueError("rowptr must be non-decreasing.")
        num_nodes = rowptr.numel() - 1
        if col.numel() > 0 and (int(col.min()) < 0 or int(col.max()) >= num_nodes):
            raise ValueError(f"col holds node ids outside [0, {num_nodes}).")
        self.rowptr = rowptr
        self.col = col

    @classmethod
    def from_edge_index(
        cls,
        edge_index: torch.Tensor,
        num_nodes: int,
        device: torch.device | str | None = None,
    ) -> CSRGraph:
        r"""Build the CSR of an edge index on ``device``.

        Entries are sorted by the key :math:`i N + j` (``int64``, hence
        :math:`N \le 3\,037\,000\,499`), so the result does not depend on the order of the
        input columns and neighbour lists come out sorted.

        Parameters
        ----------
        edge_index : torch.Tensor
            Integer tensor of shape ``(2, E)``; column ``(i, j)`` puts ``j`` in row
            ``i``. Give both directions of an undirected edge. Need not be sorted.
        num_nodes : int
            Number of nodes ``N``; every id in ``edge_index`` must be below it.
        device : torch.device or str, optional
            Where the CSR lives. Defaults to the device of ``edge_index``.

        Returns
        -------
        CSRGraph

        Raises
        ------
        MemoryError
            When the estimated peak memory of the build, :func:`csr_build_bytes`
            (sort keys, sorted keys and sort order, row pointer and degrees), exceeds
            what ``device`` has available (unchecked where :func:`memory_to_check` has
            no probe). The message gives the size of the
            CSR itself, ``8 * (N + 1 + E)`` bytes.
        """
        check_edge_index(edge_index, num_nodes)
        num_nodes = int(num_nodes)
        if num_nodes > _MAX_NUM_NODES:
            raise ValueError(
                f"num_nodes={num_nodes:,} exceeds {_MAX_NUM_NODES:,}, the largest N for which "
                "the int64 sort key i * N + j cannot overflow."
            )
        num_edges = edge_index.shape[1]
        device = edge_index.device if device is None else torch.device(device)

        csr_bytes = _INDEX_BYTES * (num_nodes + 1 + num_edges)
        build_bytes = csr_build_bytes(num_nodes, num_edges)
        available = memory_to_check(device)
        if build_bytes > available:
            raise MemoryError(
                f"The CSR of a graph with {num_nodes:,} nodes and {num_edges:,} edge entries "
                f"takes {_format_bytes(csr_bytes)} and its build needs about "
                f"{_format_bytes(build_bytes)} on {device}, but only "
                f"{_format_bytes(available)} is available."
            )

        row = edge_index[0].to(device=device, dtype=torch.int64)
        col = edge_index[1].to(device=device, dtype=torch.int64)
        keys = row * num_nodes + col
        del col
        sorted_keys, _order = torch.sort(keys)
        del keys, _order
        # The remainder of the sorted key is the column, computed in place to spare
        # another E-sized buffer.
        col = sorted_keys.remainder_(max(num_nodes, 1))
        degree = torch.bincount(row, minlength=num_nodes)
        del row
        rowptr = torch.zeros(num_nodes + 1, dtype=torch.int64, device=device)
        torch.cumsum(degree, dim=0, out=rowptr[1:])
        return cls(rowptr, col)

    @property
    def num_nodes(self) -> int:
        """Number of nodes ``N``."""
        return self.rowptr.numel() - 1

    @property
    def num_edges(self) -> int:
        """Number of stored entries ``E`` (an undirected edge counts twice)."""
        return self.col.numel()

    @property
    def degree(self) -> torch.Tensor:
        """``int64`` tensor of shape ``(N,)``: number of entries in each row."""
        return self.rowptr[1:] - self.rowptr[:-1]

    @property
    def device(self) -> torch.device:
        """Device holding ``rowptr`` and ``col``."""
        return self.rowptr.device

    def to(self, device: torch.device | str) -> CSRGraph:
        """Return this graph on ``device`` (``self`` when already there)."""
        device = torch.device(device)
        if device == self.device:
            return self
        return CSRGraph(self.rowptr.to(device), self.col.to(device))

    def memory_bytes(self) -> int:
        """Bytes held by ``rowptr`` and ``col``: ``8 * (N + 1 + E)``."""
        return (
            self.rowptr.numel() * self.rowptr.element_size()
            + self.col.numel() * self.col.element_size()
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(num_nodes={self.num_nodes}, num_edges={self.num_edges}, "
            f"device={self.device})"
        )


# Helpers shared by the samplers of this package.

# Random integers below ``high`` are drawn as ``U mod high`` with U uniform on
# [0, 2**62): the modulo bias is below high / 2**62, far beneath any sampling noise,
# and unlike floor(rand * high) it cannot round up to ``high``.
_RANDOM_RANGE = 2**62


def _random_below(high: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Independent uniform integers in ``[0, high[k])`` for each positive ``high[k]``."""
    draws = torch.randint(
        0, _RANDOM_RANGE, high.shape, generator=generator, device=high.device, dtype=torch.int64
    )
    return draws.remainder_(high)


def _check_generator(generator: torch.Generator | None, device: torch.device) -> None:
    if generator is None:
        return
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}.")
    if generator.device.type != device.type:
        raise ValueError(
            f"generator is on {generator.device} but the graph is on {device}: create it "
            f"with torch.Generator(device={str(device)!r})."
        )


def _check_int64_vector(tensor, name: str) -> None:
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}.")
    if tensor.dtype != torch.int64 or tensor.dim() != 1:
        raise ValueError(
            f"{name} must be a 1-D int64 tensor, got dtype {tensor.dtype} and shape "
            f"{tuple(tensor.shape)}."
        )


def _check_node_ids(nodes: torch.Tensor, csr: CSRGraph, name: str) -> None:
    _check_int64_vector(nodes, name)
    if nodes.device != csr.device:
        raise ValueError(
            f"{name} is on {nodes.device} but the graph is on {csr.device}; move it with "
            f"{name}.to(csr.device)."
        )
    if nodes.numel() > 0 and (int(nodes.min()) < 0 or int(nodes.max()) >= csr.num_nodes):
        raise ValueError(f"{name} holds node ids outside [0, {csr.num_nodes}).")
