"""Numeric ``.npy`` members read from a zip archive (an A-DGC archive, an ``.npz``)
without pickle and without trusting their headers to size memory, what damage to such an
archive raises, and the largest dense feature matrix a reader builds from a file's
declared sizes."""

from __future__ import annotations

import math
import tokenize
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from graphclust._zip import check_member

__all__ = ["MAX_FEATURE_BYTES", "damage_as_value_error", "read_npy_member"]

#: Largest dense feature matrix built from sparse files (PubMed's is 39 MB, Coauthor
#: Physics' 1.2 GB): the files' declared shapes are not trusted to size memory.
MAX_FEATURE_BYTES = 1 << 31

# Deflate cannot inflate more than about 1032:1; a member declaring more is not trusted.
_MAX_RATIO = 1100


def read_npy_member(archive: zipfile.ZipFile, member: str, path: Path) -> np.ndarray:
    """One ``.npy`` member, without pickle and without trusting its header to size
    memory: the declared shape must fit in the member's bytes before anything is
    allocated (``np.load`` would allocate the declared size first)."""
    info = archive.getinfo(member)
    where = f"{path}: member {member}"
    check_member(archive, info, where)
    if info.file_size > _MAX_RATIO * info.compress_size + (1 << 20):
        raise ValueError(f"{where} declares {info.file_size} bytes from "
                         f"{info.compress_size} compressed: the archive is damaged")
    with archive.open(info) as stream:
        try:
            version = npy_format.read_magic(stream)
            reader = npy_format.read_array_header_1_0 if version == (1, 0) \
                else npy_format.read_array_header_2_0
            shape, fortran, dtype = reader(stream)
        except (ValueError, SyntaxError, tokenize.TokenError) as error:  # a damaged header
            raise ValueError(f"{where} is not a numpy array ({error}); replace the archive "
                             "with the original") from None
        if dtype.kind not in "biuf" or dtype.fields is not None:
            raise ValueError(f"{where} is not a numpy array readable without pickle "
                             f"(dtype {dtype}; only plain numbers are read)")
        if any(dim < 0 for dim in shape):  # numpy's header reader lets them through
            raise ValueError(f"{where} declares shape {shape}, a negative dimension: it is "
                             "damaged; replace the archive with the original")
        needed = math.prod(shape) * dtype.itemsize
        if needed > info.file_size:
            raise ValueError(f"{where} declares shape {shape} ({needed} bytes), more than "
                             f"the member's {info.file_size} bytes: it is damaged")
        data = stream.read(needed)
    if len(data) != needed:
        raise ValueError(f"{where} is truncated ({len(data)} of {needed} bytes)")
    array = np.frombuffer(bytearray(data), dtype=dtype)  # writable, like np.load's
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)


@contextmanager
def damage_as_value_error(message: Callable[[Exception], str]) -> Iterator[None]:
    """Damage met while reading a zip archive (a bad zip, bad deflate data, a truncated
    member, a seek to a damaged offset: ``NotImplementedError`` and ``OSError``) raised
    as a ``ValueError`` whose text ``message(error)`` gives; a ``PermissionError`` is
    not damage and passes as it is."""
    try:
        yield
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as error:
        if isinstance(error, PermissionError):
            raise
        raise ValueError(message(error)) from None
