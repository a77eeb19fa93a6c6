"""Reader for the A-DGC zip layout (Awesome-Deep-Graph-Clustering collection).

``<root>/adgc/<name>.zip`` holds ``<name>_feat.npy`` (N x d), ``<name>_label.npy`` (N,) and
``<name>_adj.npy`` (dense N x N), at the top of the archive or inside one folder (the USA
air-traffic archive keeps them in ``uat/``). The arrays are read straight from the archive,
without extracting, and without pickle.
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path, PurePosixPath

from torch_geometric.data import Data

from graphclust.data.formats._npy import damage_as_value_error, read_npy_member
from graphclust.data.inputs import GraphInputWarning, to_graph

__all__ = ["read_adgc"]

_PARTS = ("feat", "label", "adj")


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
    with damage_as_value_error(lambda error: f"{path} is damaged ({type(error).__name__}: "
                               f"{error}); replace it with the original archive"):
        return _read_archive(path, name)


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
        arrays = {part: read_npy_member(archive, member, path) for part, member in members.items()}
    with warnings.catch_warnings():
        # Diagonal entries and a symmetric matrix are the layout's convention.
        warnings.simplefilter("ignore", GraphInputWarning)
        return to_graph(arrays["feat"], arrays["adj"], arrays["label"])
