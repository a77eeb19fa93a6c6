"""A restricted unpickler for the Planetoid raw files: data only, never code.

The files ``ind.<name>.{x,tx,allx,y,ty,ally,graph}`` are Python 2 pickles of three kinds of
object: numpy arrays, ``scipy.sparse.csr_matrix`` and a ``collections.defaultdict(list)``
of adjacency lists. A plain :func:`pickle.load` (what PyG's reader calls) runs whatever a
planted file names, e.g. ``os.system``. :func:`load_pickle` instead resolves the few
global names those objects need to inert stand-ins that only record what the file says
(no numpy or scipy code runs on file data during unpickling); :func:`_array` and
:func:`_csr` then build real arrays from the recorded values after checking that every
declared shape matches the bytes actually in the file, so a file cannot size memory
beyond its own length (times a small factor). Any other global name is refused.
"""

from __future__ import annotations

import io
import math
import pickle
import pickletools
import struct
from pathlib import Path

import numpy as np
import scipy.sparse as sp

__all__ = ["load_pickle"]


class _Recorded:
    """Base of the stand-ins: any call or state is only recorded."""

    args: tuple = ()  # NEWOBJ creates instances without calling __init__
    state = None

    def __init__(self, *args):
        self.args = args
        self.state = None

    def __setstate__(self, state):
        self.state = state


class _ArrayType(_Recorded):
    """Stands for ``numpy.ndarray`` (only passed to ``_reconstruct``, never called)."""

    def __new__(cls, *args):
        raise pickle.UnpicklingError("numpy.ndarray may only appear as _reconstruct's type")


class _Array(_Recorded):
    """``numpy.core.multiarray._reconstruct(ndarray, shape, code)``; the state is
    ``(version, shape, dtype, fortran_order, raw_bytes)``."""


class _DType(_Recorded):
    """``numpy.dtype(spec, align, copy)``; the state holds the byte order."""


class _CSR(_Recorded):
    """``scipy.sparse.csr_matrix`` created empty; the state is its attribute dict."""


def _defaultdict(factory):
    if factory is not list:
        raise pickle.UnpicklingError("only defaultdict(list) is allowed")
    return {}


def _latin1_bytes(text, encoding):
    """``_codecs.encode``: how protocol 2 spells a Python 3 ``bytes`` object."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode is allowed only for latin-1 text")
    return text.encode("latin-1")


def _empty_bytes(*args):
    """``bytes()``: how protocol 2 spells an empty ``bytes`` (a size argument would
    allocate that much, so none is accepted)."""
    if args:
        raise pickle.UnpicklingError("bytes is allowed only without arguments")
    return b""


_ALLOWED = {
    ("__builtin__", "bytes"): _empty_bytes,
    ("builtins", "bytes"): _empty_bytes,
    ("_codecs", "encode"): _latin1_bytes,
    ("numpy", "ndarray"): _ArrayType,
    ("numpy", "dtype"): _DType,
    ("numpy.core.multiarray", "_reconstruct"): _Array,
    ("numpy._core.multiarray", "_reconstruct"): _Array,
    ("scipy.sparse.csr", "csr_matrix"): _CSR,
    ("scipy.sparse._csr", "csr_matrix"): _CSR,
    ("collections", "defaultdict"): _defaultdict,
    ("__builtin__", "list"): list,
    ("builtins", "list"): list,
}


# The pure-Python unpickler, not the C one: the C unpickler grows its memo array to any
# index a file names (LONG_BINPUT 2**31 asks for 16 GiB), while this one keeps a dict.
class _Unpickler(pickle._Unpickler):
    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing {module}.{name}: a Planetoid file holds only numpy arrays, "
                "scipy.sparse.csr_matrix and defaultdict(list)"
            ) from None


def _dtype(recorded) -> np.dtype:
    if not isinstance(recorded, _DType) or len(recorded.args) < 1 \
            or not isinstance(recorded.args[0], str):
        raise ValueError("an array's dtype is not a numpy dtype")
    dtype = np.dtype(recorded.args[0])
    if dtype.kind not in "biuf":  # numbers and booleans: no objects, no records
        raise ValueError(f"dtype {dtype} is not a plain numeric dtype")
    order = recorded.state[1] if isinstance(recorded.state, tuple) and len(
        recorded.state) > 1 else "|"
    if order not in ("<", ">", "|", "="):
        raise ValueError(f"dtype byte order {order!r} is not valid")
    return dtype.newbyteorder(order) if order in "<>" else dtype


def _array(recorded) -> np.ndarray:
    """A real array from a recorded ``_reconstruct`` + state, checked against its bytes."""
    if not isinstance(recorded, _Array) or not isinstance(recorded.state, tuple) \
            or len(recorded.state) != 5:
        raise ValueError(f"expected a numpy array, found {type(recorded).__name__}")
    _, shape, dtype, fortran, raw = recorded.state
    dtype = _dtype(dtype)
    if not isinstance(shape, tuple) or not all(
            isinstance(dim, int) and not isinstance(dim, bool) and dim >= 0 for dim in shape):
        raise ValueError(f"array shape {shape!r} is not a tuple of sizes")
    if isinstance(raw, str):  # Python 2 str, decoded as latin-1 by the unpickler
        raw = raw.encode("latin-1")
    if not isinstance(raw, bytes):
        raise ValueError("array data is not raw bytes")
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise ValueError(f"array of shape {shape} and dtype {dtype} needs "
                         f"{math.prod(shape) * dtype.itemsize} bytes, the file holds {len(raw)}")
    array = np.frombuffer(raw, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    return array.astype(dtype.newbyteorder("="), copy=True)


def _csr(recorded) -> sp.csr_matrix:
    """A validated CSR matrix from a recorded ``csr_matrix`` attribute dict."""
    state = recorded.state
    if not isinstance(state, dict) or not {"data", "indices", "indptr", "_shape"} <= set(state):
        raise ValueError("a csr_matrix lacks data, indices, indptr or _shape")
    shape = state["_shape"]
    if not (isinstance(shape, tuple) and len(shape) == 2
            and all(isinstance(dim, int) and dim >= 0 for dim in shape)):
        raise ValueError(f"csr_matrix shape {shape!r} is not two sizes")
    data, indices, indptr = (_array(state[key]) for key in ("data", "indices", "indptr"))
    if indptr.shape != (shape[0] + 1,):
        raise ValueError(f"csr_matrix indptr has {indptr.size} entries for {shape[0]} rows")
    matrix = sp.csr_matrix((data, indices, indptr), shape=shape)
    matrix.check_format(full_check=True)  # indices inside the shape, indptr monotone
    return matrix


def _plain(value, seen: set[int] | None = None):
    """The unpickled object with every stand-in replaced by a checked real one.

    Each list, dict and stand-in is read once (``seen``): a file may share one object by
    reference (the pickle memo), and 22 levels of ``[L, L]`` in 169 bytes had expanded
    to 2**22 copies. Planetoid files share none."""
    seen = set() if seen is None else seen
    if isinstance(value, (dict, list, _Recorded)):
        if id(value) in seen:
            raise ValueError(f"a {type(value).__name__.lstrip('_')} appears twice by "
                             "reference; Planetoid files share no object")
        seen.add(id(value))
    if isinstance(value, _CSR):
        return _csr(value)
    if isinstance(value, _Array):
        return _array(value)
    if isinstance(value, dict):
        return {key: _plain(item, seen) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item, seen) for item in value]
    if isinstance(value, _Recorded):
        raise ValueError(f"a {type(value).__name__[1:]} appears outside an array")
    return value


def _check_opcodes(raw: bytes) -> None:
    """Every opcode of protocol 2 or older (the files' own) with its argument inside the
    file: pickletools checks each declared length against the bytes left, and refusing
    newer opcodes refuses BYTEARRAY8, which allocates its declared length before reading."""
    for opcode, _, position in pickletools.genops(raw):
        if opcode.proto > 2:
            raise pickle.UnpicklingError(f"opcode {opcode.name} at byte {position} is from "
                                         f"pickle protocol {opcode.proto}, not 2")


def load_pickle(path: Path):
    """Unpickle a Planetoid raw file with only the allowed data types (module docstring).

    Returns
    -------
    numpy.ndarray, scipy.sparse.csr_matrix or dict
        Arrays are copies in native byte order; ``defaultdict(list)`` comes back as dict.

    Raises
    ------
    ValueError
        The file names any other type or function, is truncated or damaged, or declares
        shapes its bytes do not fill; the message names the file.
    """
    try:
        with open(path, "rb") as stream:
            raw = stream.read()
        _check_opcodes(raw)
        return _plain(_Unpickler(io.BytesIO(raw), encoding="latin1").load())
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, struct.error, UnicodeError, OverflowError,
            RecursionError) as error:
        raise ValueError(
            f"{path} is damaged or not a Planetoid data file ({type(error).__name__}: "
            f"{error}); replace it with the original ind.* file"
        ) from None
