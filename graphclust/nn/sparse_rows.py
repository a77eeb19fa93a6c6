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
  25 ms against 4.6 ms into 32 (`benchmarks/results/sparse_backward.md`). SciPy's
  product runs on one thread; on 2 torch threads it still beats torch's backward
  (`benchmarks/results/sparse_backward_2threads.md`).
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import scipy.sparse as sp
import torch

__all__ = ["SPARSE_ROWS_DENSITY", "as_scipy", "dense_rows", "faster_as_sparse_rows",
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
    """``x[index]`` for a dense or CSR ``x`` (``index``: a 1-D integer tensor, negative
    entries counting from the end, or a boolean mask)."""
    if not is_sparse_rows(x):
        return x[index]
    crow, columns, values = x.crow_indices(), x.col_indices(), x.values()
    index = index.to(crow.device)
    if index.dtype == torch.bool:
        index = index.nonzero().squeeze(1)
    index = torch.where(index < 0, index + x.shape[0], index)  # -2 had read the last row
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


def as_scipy(x: torch.Tensor) -> sp.csr_matrix:
    """The CSR tensor ``x`` (on the CPU) as a SciPy matrix sharing its values (SciPy keeps
    its own int32 copy of the indices where they fit)."""
    return sp.csr_matrix((x.values().numpy(), x.col_indices().numpy(),
                          x.crow_indices().numpy()), shape=tuple(x.shape))


class _SparseRowsLinear(torch.autograd.Function):
    r""":math:`x W^\top + b` for CSR rows ``x``, which get no gradient (they are data)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x)
        with _quiet_csr():
            return torch.nn.functional.linear(x, weight, bias)

    @staticmethod
    def backward(ctx, grad):
        (rows,) = ctx.saved_tensors
        grad_weight = None
        if ctx.needs_input_grad[1]:
            # Grad mode is on here only under create_graph=True (a gradient penalty, a
            # Hessian-vector product): then torch's own product, which records its graph.
            grad_weight = (torch.mm(grad.t(), rows) if torch.is_grad_enabled()
                           else _weight_gradient(rows, grad))
        grad_bias = grad.sum(0) if ctx.needs_input_grad[2] else None
        return None, grad_weight, grad_bias


def _weight_gradient(rows: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    r""":math:`g^\top x = (x^\top g)^\top` by SciPy, which reads ``rows``' CSR arrays as
    :math:`x^\top` in CSC: the rows are not transposed before the product (torch
    transposes them on every backward)."""
    product = as_scipy(rows).T @ grad.detach().contiguous().numpy()
    return torch.from_numpy(product).t().contiguous()


def sparse_rows_linear(x: torch.Tensor, weight: torch.Tensor,
                       bias: torch.Tensor | None) -> torch.Tensor:
    """``torch.nn.functional.linear(x, weight, bias)`` for CSR rows ``x`` on the CPU that
    need no gradient themselves, with the weight's gradient computed by SciPy (module
    docstring); anything else goes to ``torch.nn.functional.linear`` unchanged."""
    if not (is_sparse_rows(x) and x.device.type == "cpu" and not x.requires_grad
            and weight.dtype == x.dtype):
        return torch.nn.functional.linear(x, weight, bias)
    return _SparseRowsLinear.apply(x, weight, bias)
