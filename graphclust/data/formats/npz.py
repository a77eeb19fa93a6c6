"""Reader for the compressed-sparse ``.npz`` layout of Amazon and Coauthor graphs
(Shchur et al., "Pitfalls of Graph Neural Network Evaluation", 2018).

``<root>/amazon/<Name>/raw/amazon_electronics_<name>.npz`` and
``<root>/coauthor/<Name>/raw/ms_academic_<short>.npz``: the folders where PyG's ``Amazon``
and ``Coauthor`` look for them. Each archive holds the adjacency and the attributes as
CSR triples (``adj_data/indices/indptr/shape``, ``attr_data/indices/indptr/shape``) and
``labels``; its other members (``node_names``, ``attr_names``, ``class_names``) are object
arrays, which are never read: every member is loaded with ``allow_pickle=False``.
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from torch_geometric.data import Data

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


def _member(arrays: np.lib.npyio.NpzFile, name: str, path: Path) -> np.ndarray:
    """One numeric member; a missing or pickled one is a ``ValueError`` naming the file."""
    if name not in arrays.files:
        raise ValueError(f"{path}: missing member {name!r}")
    try:
        return arrays[name]
    except ValueError as err:  # numpy refuses object arrays with allow_pickle=False
        raise ValueError(f"{path}: member {name!r} cannot be read without pickle ({err})") \
            from err


def _csr(arrays: np.lib.npyio.NpzFile, prefix: str, path: Path) -> sp.csr_matrix:
    data, indices, indptr, shape = (_member(arrays, f"{prefix}_{part}", path)
                                    for part in _CSR_PARTS)
    if shape.shape != (2,) or not np.issubdtype(shape.dtype, np.integer):
        raise ValueError(f"{path}: '{prefix}_shape' must hold two integers, got {shape!r}")
    try:
        return sp.csr_matrix((data, indices, indptr), shape=tuple(int(s) for s in shape))
    except ValueError as err:
        raise ValueError(f"{path}: the sparse '{prefix}' matrix is inconsistent ({err})") \
            from err


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
        array is expected, or its matrices disagree in size.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"npz layout: missing archive {path}")
    if not zipfile.is_zipfile(path):
        # numpy would take any other file for a pickle; it is a damaged download.
        raise ValueError(f"{path}: not a readable .npz archive (not a zip file); restore "
                         "the file from its source")
    try:
        with np.load(path, allow_pickle=False) as arrays:
            adjacency = _csr(arrays, "adj", path)
            attributes = _csr(arrays, "attr", path)
            labels = _member(arrays, "labels", path)
    except (zipfile.BadZipFile, EOFError, OSError) as err:
        raise ValueError(f"{path}: not a readable .npz archive ({err}); restore the file "
                         "from its source") from err
    n = adjacency.shape[0]
    if adjacency.shape != (n, n) or attributes.shape[0] != n or labels.shape != (n,):
        raise ValueError(
            f"{path}: sizes disagree: adjacency {adjacency.shape}, attributes "
            f"{attributes.shape}, labels {labels.shape}")
    adjacency = adjacency.maximum(adjacency.T).tocoo()
    with warnings.catch_warnings():
        # Self-loops and one-way edges are this layout's convention, normalised silently.
        warnings.simplefilter("ignore", GraphInputWarning)
        return to_graph(attributes.toarray().astype(np.float32),
                        np.vstack([adjacency.row, adjacency.col]), labels)
