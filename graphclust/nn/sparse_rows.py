r"""Feature matrices kept as sparse CSR rows, for encoders whose first layer is linear.

A first linear layer :math:`x W^\top + b` (``d`` inputs, ``h`` outputs) over ``N`` rows costs
:math:`N d h` multiply-adds forward and as many for the weight's gradient on dense rows,
but only :math:`\mathrm{nnz}(x)\, h` on sparse CSR rows (``torch.nn.functional.linear``
takes them, gradients included). TF-IDF bags of words are mostly zeros (Coauthor CS:
6,805 columns, 0.88% of the entries set), so an MLP's first layer there is many times
cheaper on CSR rows. Converting costs up to about one dense forward and backward pass
(benchmarks/results/sparse_input.md), so it is done once per fit (and once per
``predict``), on the transformed features.

* :func:`sparse_rows_if_faster`: the features as CSR rows when the encoder declares that
  it takes them (``accepts_sparse_rows``, e.g. :class:`graphclust.nn.MLP`) and
  :func:`faster_as_sparse_rows` says they are sparse enough; otherwise unchanged;
* :func:`select_rows`, :func:`row_chunks`, :func:`dense_rows`: ``x[index]``,
  ``x.split(size)`` and dense rows for dense and CSR features alike (torch has no
  ``index_select`` for CSR on the CPU);
* :func:`sparse_rows_linear`: :math:`x W^\top + b` on CSR rows with a cheaper weight
  gradient :math:`g^\top x` than torch's own: torch transposes the CSR rows on every
  backward, while SciPy multiplies the same arrays read as the CSC matrix
  :math:`x^\top`. A forward and backward of 5,150 rows of 6,805 columns, 60 non-zeros a
  row (a Coauthor CS mini-batch), one thread: 59 ms against 41 ms into 256 outputs,
  28 ms against 4.6 ms into 32 (`benchmarks/results/sparse_backward.md`). SciPy's
  product runs on one thread and lets go of the GIL, so with torch set to more threads
  the outputs are split between that many when the product is large enough to gain
  (:data:`MIN_PRODUCTS_PER_THREAD`; a CS step on 2 threads 1.34 times torch's, where one
  SciPy thread gave 1.05: `benchmarks/results/sparse_backward_2threads.md`).
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp
import torch

__all__ = ["MIN_PRODUCTS_PER_THREAD", "SPARSE_ROWS_DENSITY", "dense_rows", "faster_as_sparse_rows",
           "is_sparse_rows", "row_chunks", "select_rows", "sparse_rows_if_faster",
           "sparse_rows_linear"]

#: Features with less than this share of non-zero entries go to the encoder as CSR rows.
#: A linear layer's forward and backward (512 to 8,192 columns, 256 outputs, one thread)
#: broke even on CSR and dense rows at about 10% non-zeros (dense / CSR time 0.58-1.31
#: there), was 1.6-1.7 times faster on CSR at 5% and 3.4-13 times at 0.5-2%
#: (benchmarks/results/sparse_input.md). Half the break-even leaves a margin for what the
#: layer timing leaves out (the mini-batches' row gathers, other widths, the load's noise).
SPARSE_ROWS_DENSITY = 0.05


@contextmanager
def _quiet_csr():
    """Silence torch's "sparse CSR tensor support is in beta" warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta", UserWarning)
        yield


def is_sparse_rows(x: torch.Tensor) -> bool:
    """Whether ``x`` is a sparse CSR matrix."""
    return x.layout == torch.sparse_csr


def faster_as_sparse_rows(x: torch.Tensor) -> bool:
    """Whether a linear layer reads the dense matrix ``x`` faster as CSR rows: fewer than
    :data:`SPARSE_ROWS_DENSITY` of its entries are non-zero, and it is on the CPU (where the
    crossover was measured; accelerators keep dense rows)."""
    if x.layout != torch.strided or x.dim() != 2 or x.numel() == 0 or x.device.type != "cpu":
        return False
    return int(torch.count_nonzero(x)) < SPARSE_ROWS_DENSITY * x.numel()


def sparse_rows_if_faster(encoder: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``x`` as CSR rows when ``encoder.accepts_sparse_rows`` is true and
    :func:`faster_as_sparse_rows` holds; otherwise ``x`` itself."""
    if not (getattr(encoder, "accepts_sparse_rows", False) and faster_as_sparse_rows(x)):
        return x
    with _quiet_csr():
        return x.to_sparse_csr()


def select_rows(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``x[index]`` for a dense or CSR ``x`` (``index``: a 1-D integer tensor)."""
    if not is_sparse_rows(x):
        return x[index]
    crow, columns, values = x.crow_indices(), x.col_indices(), x.values()
    index = index.to(crow.device)
    starts = crow[index]
    counts = crow[index + 1] - starts
    new_crow = torch.zeros(len(index) + 1, dtype=crow.dtype, device=crow.device)
    torch.cumsum(counts, 0, out=new_crow[1:])
    total = int(new_crow[-1])
    # Entry k of the new matrix, in selected row r, is entry starts[r] + (k - new_crow[r])
    # of x.
    positions = torch.repeat_interleave(starts - new_crow[:-1], counts, output_size=total) \
        + torch.arange(total, dtype=crow.dtype, device=crow.device)
    with _quiet_csr():
        # Valid by construction: the rows and their column order are x's.
        return torch.sparse_csr_tensor(new_crow, columns[positions], values[positions],
                                       size=(len(index), x.shape[1]), check_invariants=False)


def row_chunks(x: torch.Tensor, size: int) -> list[torch.Tensor] | tuple[torch.Tensor, ...]:
    """``x.split(size)`` (consecutive blocks of ``size`` rows) for a dense or CSR ``x``."""
    if not is_sparse_rows(x):
        return x.split(size)
    return [select_rows(x, rows) for rows in torch.arange(x.shape[0]).split(size)]


def dense_rows(x: torch.Tensor, index: torch.Tensor | None = None) -> torch.Tensor:
    """``x[index]`` (``None``: every row) as a dense matrix, for a dense or CSR ``x``."""
    rows = x if index is None else select_rows(x, index)
    return rows.to_dense() if is_sparse_rows(rows) else rows


#: The fewest multiply-adds (non-zeros times outputs) one thread takes when the weight's
#: gradient is split between ``torch.get_num_threads()`` threads: a DBLP or Cora step's
#: product (12-16 million) on 2 threads was slower than on one, a CS step's (79 million)
#: faster.
MIN_PRODUCTS_PER_THREAD = 2**24


def _as_scipy(x: torch.Tensor) -> sp.csr_matrix:
    """The CSR tensor ``x`` (on the CPU) as a SciPy matrix sharing its arrays."""
    return sp.csr_matrix((x.values().numpy(), x.col_indices().numpy(),
                          x.crow_indices().numpy()), shape=tuple(x.shape))


class _SparseRowsLinear(torch.autograd.Function):
    """:math:`x W^\top + b` for CSR rows ``x``, which get no gradient (they are data)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.rows = x
        with _quiet_csr():
            return torch.nn.functional.linear(x, weight, bias)

    @staticmethod
    def backward(ctx, grad):
        # (g^T x)^T = x^T g: SciPy reads x's CSR arrays as x^T in CSC, so nothing is
        # transposed or copied before the product.
        grad_weight = _weight_gradient(ctx.rows, grad) if ctx.needs_input_grad[1] else None
        grad_bias = grad.sum(0) if ctx.needs_input_grad[2] else None
        return None, grad_weight, grad_bias


def _weight_gradient(rows: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """:math:`g^\top x`, its outputs split between torch's threads."""
    transposed = _as_scipy(rows).T
    g = grad.detach().contiguous().numpy()
    outputs = g.shape[1]
    threads = min(torch.get_num_threads(), outputs,
                  rows.values().numel() * outputs // MIN_PRODUCTS_PER_THREAD)
    if threads <= 1:
        return torch.from_numpy(transposed @ g).t().contiguous()
    gradient = torch.empty(outputs, rows.shape[1], dtype=grad.dtype)
    bounds = np.linspace(0, outputs, threads + 1).astype(int).tolist()

    def block(start: int, stop: int) -> None:
        product = transposed @ np.ascontiguousarray(g[:, start:stop])
        gradient[start:stop] = torch.from_numpy(product).t()

    # A pool per call, not one kept: a kept pool's threads would not survive a fork.
    with ThreadPoolExecutor(threads, thread_name_prefix="graphclust-sparse-grad") as pool:
        list(pool.map(block, bounds[:-1], bounds[1:]))
    return gradient


def sparse_rows_linear(x: torch.Tensor, weight: torch.Tensor,
                       bias: torch.Tensor | None) -> torch.Tensor:
    """``torch.nn.functional.linear(x, weight, bias)`` for CSR rows ``x`` on the CPU that
    need no gradient themselves, with the weight's gradient computed by SciPy (module
    docstring); anything else goes to ``torch.nn.functional.linear`` unchanged."""
    if not (is_sparse_rows(x) and x.device.type == "cpu" and not x.requires_grad
            and weight.dtype == x.dtype):
        return torch.nn.functional.linear(x, weight, bias)
    return _SparseRowsLinear.apply(x, weight, bias)
