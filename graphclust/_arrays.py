"""NumPy arrays as torch tensors, whatever their memory layout."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["tensor_of"]


def tensor_of(array: np.ndarray) -> torch.Tensor:
    """``array`` as a tensor, sharing its memory where torch can read it as it is.

    ``torch.from_numpy`` refuses negative strides (``X[::-1]``), strides that are not a
    multiple of the item size (a field of a structured array) and a byte order other than
    the machine's (``'>f8'``), and warns on a read-only array (a memory map): those are
    copied, in native byte order, first.
    """
    readable = array.dtype.isnative and array.flags.writeable and \
        all(stride >= 0 and stride % array.itemsize == 0 for stride in array.strides)
    if not readable:
        array = np.array(array, dtype=array.dtype.newbyteorder("="), order="C")
    return torch.from_numpy(array)
