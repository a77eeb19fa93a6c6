"""Reader for the compressed-sparse ``.npz`` layout of Amazon and Coauthor graphs
(Shchur et al., "Pitfalls of Graph Neural Network Evaluation", 2018).

``<root>/amazon/<Name>/raw/amazon_electronics_<name>.npz`` and
``<root>/coauthor/<Name>/raw/ms_academic_<short>.npz``: the folders where PyG's ``Amazon``
and ``Coauthor`` look for them. Each archive holds the adjacency and the attributes as
CSR triples (``adj_data/indices/indptr/shape``, ``attr_data/indices/indptr/shape``) and
``labels``; its other members (``node_names``, ``attr_names``, ``class_names``) are object
arrays, which are never read. Nothing in the archive is trusted: members are read
without pickle and their declared shapes must fit in their bytes
(:func:`~graphclust.data.formats._npy.read_npy_member`), the sparse matrices' indices
must lie inside their declared shapes, and the dense attribute matrix must stay under
:data:`~graphclust.data.formats._npy.MAX_FEATURE_BYTES`.
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from torch_geometric.data import Data

from graphclust.data.formats._npy import (
    MAX_FEATURE_BYTES,
    damage_as_value_error,
    read_npy_member,
)
from graphclust.data.inputs import GraphInputWarning, to_graph

__all__ = ["NPZ_FILES", "npz_file", "read_npz"]

#: name -> (folder below the root, PyG's class folder, archive name).
NPZ_FILES = {
    "photo": ("amazon", "Photo", "amazon_electronics_photo.npz"),
    "computers": ("amazon", "Computers", "amazon_electronics_computers.npz"),
    "cs": ("coauthor", "CS", "ms_academic_cs.npz"),
    "physics": ("coauthor", "Physics", "ms_academic_phy.npz"),
}

_CSR_PARTS = ("data", "indices", "indptr", "shape")


def npz_file(root: str | Path, name: str) -> Path:
    """Where ``name``'s archive is expected below the data root ``root``."""
    folder, pyg_name, archive = NPZ_FILES[name]
    return Path(root) / folder / pyg_name / "raw" / archive


def _member(archive: zipfile.ZipFile, name: str, path: Path) -> np.ndarray:
    """One numeric member; a missing or pickled one is a ``ValueError`` naming the file."""
    if f"{name}.npy" not in archive.namelist():
        raise ValueError(f"{path}: missing member {name!r}")
    return read_npy_member(archive, f"{name}.npy", path)


def _csr(archive: zipfile.ZipFile, prefix: str, path: Path) -> sp.csr_matrix:
    data, indices, indptr, shape = (_member(archive, f"{prefix}_{part}", path)
                                    for part in _CSR_PARTS)
    if shape.shape != (2,) or not np.issubdtype(shape.dtype, np.integer) or (shape < 0).any():
        raise ValueError(f"{path}: '{prefix}_shape' must hold two sizes, got {shape!r}")
    try:
        matrix = sp.csr_matrix((data, indices, indptr), shape=tuple(int(s) for s in shape))
        # Indices outside the declared shape would be written out of bounds by toarray().
        matrix.check_format(full_check=True)
    except ValueError as err:
        raise ValueError(f"{path}: the sparse '{prefix}' matrix is inconsistent ({err})") \
            from err
    return matrix


def read_npz(path: str | Path) -> Data:
    """Read one Amazon / Coauthor archive.

    Parameters
    ----------
    path : str or Path
        The ``.npz`` archive (see :func:`npz_file`).

    Returns
    -------
    torch_geometric.data.Data
        Canonical graph (see :func:`graphclust.data.to_graph`): the adjacency is
        symmetrised (Amazon lists many edges in one direction only, and every published
        clustering result on these graphs uses the undirected graph), self-loops are
        dropped and edge weights ignored; features are the attribute matrix, densified.

    Raises
    ------
    FileNotFoundError
        The archive is missing.
    ValueError
        The archive is damaged, lacks a member, holds a pickled member where a number
        array is expected or a member whose declared shape its bytes do not fill, its
        matrices disagree in size or index outside their shapes, or its attributes
        would be larger than :data:`~graphclust.data.formats._npy.MAX_FEATURE_BYTES`
        dense.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"npz layout: missing archive {path}")
    with damage_as_value_error(lambda error: f"{path}: not a readable .npz archive "
                               f"({error}); restore the file from its source"), \
            zipfile.ZipFile(path) as archive:
        adjacency = _csr(archive, "adj", path)
        attributes = _csr(archive, "attr", path)
        labels = _member(archive, "labels", path)
    n = adjacency.shape[0]
    if adjacency.shape != (n, n) or attributes.shape[0] != n or labels.shape != (n,):
        raise ValueError(
            f"{path}: sizes disagree: adjacency {adjacency.shape}, attributes "
            f"{attributes.shape}, labels {labels.shape}")
    if n * attributes.shape[1] * 4 > MAX_FEATURE_BYTES:
        raise ValueError(f"{path}: a {n} x {attributes.shape[1]} attribute matrix is larger "
                         f"than {MAX_FEATURE_BYTES} bytes dense")
    # The stored entries are the edges, whatever their values (as PyG reads them): the
    # maximum of signed values had dropped an edge stored as -1 one way.
    adjacency.data = np.ones_like(adjacency.data)
    adjacency = adjacency.maximum(adjacency.T).tocoo()
    with warnings.catch_warnings():
        # Self-loops and one-way edges are this layout's convention, normalised silently.
        warnings.simplefilter("ignore", GraphInputWarning)
        # float32 before densifying: a float64 file had briefly held twice the cap dense.
        return to_graph(attributes.astype(np.float32).toarray(),
                        np.vstack([adjacency.row, adjacency.col]), labels)
