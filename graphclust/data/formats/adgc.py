"""Reader for the A-DGC zip layout (Awesome-Deep-Graph-Clustering collection).

``<root>/adgc/<name>.zip`` holds ``<name>_feat.npy`` (N x d), ``<name>_label.npy`` (N,) and
``<name>_adj.npy`` (dense N x N), at the top of the archive or inside one folder (the USA
air-traffic archive keeps them in ``uat/``). The arrays are read straight from the archive,
without extracting, and without pickle.
"""

from __future__ import annotations

import math
import tokenize
import warnings
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np
from numpy.lib import format as npy_format
from torch_geometric.data import Data

from graphclust.data.inputs import GraphInputWarning, to_graph

__all__ = ["read_adgc"]

_PARTS = ("feat", "label", "adj")


# Deflate cannot inflate more than about 1032:1; a member declaring more is not trusted.
_MAX_RATIO = 1100


def _read_npy(archive: zipfile.ZipFile, member: str, path: Path) -> np.ndarray:
    """One ``.npy`` member, without pickle and without trusting its header to size
    memory: the declared shape must fit in the member's bytes before anything is
    allocated (``np.load`` would allocate the declared size first)."""
    info = archive.getinfo(member)
    where = f"{path}: member {member}"
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
        needed = math.prod(shape) * dtype.itemsize
        if needed > info.file_size:
            raise ValueError(f"{where} declares shape {shape} ({needed} bytes), more than "
                             f"the member's {info.file_size} bytes: it is damaged")
        data = stream.read(needed)
    if len(data) != needed:
        raise ValueError(f"{where} is truncated ({len(data)} of {needed} bytes)")
    array = np.frombuffer(bytearray(data), dtype=dtype)  # writable, like np.load's
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)


def read_adgc(path: str | Path, name: str | None = None) -> Data:
    """Read one A-DGC archive.

    Parameters
    ----------
    path : str or Path
        The archive, ``<root>/adgc/<name>.zip``.
    name : str, optional
        Array name prefix; defaults to the archive's stem.

    Returns
    -------
    torch_geometric.data.Data
        Canonical graph (see :func:`graphclust.data.to_graph`): every nonzero entry of
        the dense adjacency is an edge; self-loops that some archives store on the
        diagonal (e.g. 71 in ``bat``) are dropped.

    Raises
    ------
    FileNotFoundError
        The archive is missing.
    ValueError
        The archive is damaged, lacks one of the three arrays, holds one twice, or holds
        one that is not a plain numeric numpy array (pickled objects are refused) or whose
        declared shape its bytes do not fill; the message names the archive and member.
    """
    path = Path(path)
    name = path.stem if name is None else name
    if not path.is_file():
        raise FileNotFoundError(f"A-DGC layout: missing archive {path}")
    try:
        return _read_archive(path, name)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as error:
        if isinstance(error, PermissionError):
            raise
        # NotImplementedError and OSError (a seek to a damaged offset) mean damage here.
        raise ValueError(f"{path} is damaged ({type(error).__name__}: {error}); replace it "
                         "with the original archive") from None


def _read_archive(path: Path, name: str) -> Data:
    with zipfile.ZipFile(path) as archive:
        members = {}
        for part in _PARTS:
            wanted = f"{name}_{part}.npy"
            found = [member for member in archive.namelist()
                     if PurePosixPath(member).name == wanted]
            if len(found) != 1:
                raise ValueError(
                    f"{path}: expected one {wanted} in the archive, found {len(found)} "
                    f"(members: {archive.namelist()})"
                )
            members[part] = found[0]
        arrays = {part: _read_npy(archive, member, path) for part, member in members.items()}
    with warnings.catch_warnings():
        # Diagonal entries and a symmetric matrix are the layout's convention.
        warnings.simplefilter("ignore", GraphInputWarning)
        return to_graph(arrays["feat"], arrays["adj"], arrays["label"])
