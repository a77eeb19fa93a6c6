"""Reader for the SDCN text layout (Bo et al., "Structural Deep Clustering Network", 2020).

Layout under ``<root>/sdcn/<name>/``::

    data/<name>.txt           dense feature rows, whitespace separated
    data/<name>_label.txt     one integer label a line (some sets start at 1)
    graph/<name>_graph.txt    "i j" a line, 0-based node indices
    graph/<name><k>_graph.txt the authors' k-nearest-neighbour graphs (e.g. usps3_graph.txt)
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
from torch_geometric.data import Data

from graphclust.data.formats.plain import loadtxt_detail
from graphclust.data.inputs import GraphInputWarning, to_graph

__all__ = ["read_sdcn", "sdcn_files", "sdcn_knn_sizes"]


def sdcn_files(folder: Path, name: str, k: int | None = None) -> dict[str, Path]:
    """Paths of the three files of data set ``name`` in ``folder`` (``<root>/sdcn/<name>``).

    ``k=None`` selects the authors' graph ``<name>_graph.txt``, an integer ``k`` the kNN
    graph ``<name><k>_graph.txt``.
    """
    graph_file = f"{name}_graph.txt" if k is None else f"{name}{k}_graph.txt"
    return {
        "features": folder / "data" / f"{name}.txt",
        "labels": folder / "data" / f"{name}_label.txt",
        "graph": folder / "graph" / graph_file,
    }


def sdcn_knn_sizes(folder: Path, name: str) -> list[int]:
    """The ``k`` of every kNN graph file ``graph/<name><k>_graph.txt`` in ``folder``."""
    pattern = re.compile(rf"{re.escape(name)}(\d+)_graph\.txt")
    graph_dir = folder / "graph"
    if not graph_dir.is_dir():
        return []
    found = (pattern.fullmatch(path.name) for path in graph_dir.iterdir())
    return sorted(int(match.group(1)) for match in found if match)


def _load_text(path: Path, dtype, ndmin: int) -> np.ndarray:
    """``np.loadtxt`` with one ``ValueError`` naming the file (and numpy's row) for any
    damage: text that is not numbers, ragged rows, bytes that are not text."""
    try:
        return np.loadtxt(path, dtype=dtype, ndmin=ndmin, encoding="utf-8")
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: {loadtxt_detail(error)}; the file is damaged or not in the "
                         "SDCN layout (numbers separated by whitespace): replace it with the "
                         "original") from None


def _read_edges(path: Path) -> np.ndarray:
    """``(2, E)`` edge list from an "i j" per line file (an empty file has no edges)."""
    if path.stat().st_size == 0:
        return np.empty((2, 0), dtype=np.int64)
    edges = _load_text(path, np.int64, 2)
    if edges.shape[1] != 2:
        raise ValueError(
            f"{path}: expected two node indices a line, found {edges.shape[1]} columns"
        )
    return edges.T


def read_sdcn(folder: str | Path, name: str, k: int | None = None) -> Data:
    """Read one SDCN-layout data set.

    Parameters
    ----------
    folder : str or Path
        The data set's folder, ``<root>/sdcn/<name>``.
    name : str
        File stem, e.g. ``"dblp"``, ``"cite"``, ``"usps"``.
    k : int, optional
        Read the kNN graph ``graph/<name><k>_graph.txt`` instead of ``<name>_graph.txt``.

    Returns
    -------
    torch_geometric.data.Data
        Canonical graph (see :func:`graphclust.data.to_graph`): the files list each edge
        in one or both directions and kNN files may list self-loops; the result holds
        both directions once and no self-loops. Labels are mapped to ``0..K-1``.

    Raises
    ------
    FileNotFoundError
        A file of the layout is missing; the message names the files found instead.
    ValueError
        A file is damaged (not numbers, ragged, not text, truncated so that the files
        disagree); the message names the file, numpy's row where there is one, and the
        remedy.
    """
    folder = Path(folder)
    paths = sdcn_files(folder, name, k)
    missing = [str(path) for path in paths.values() if not path.is_file()]
    if missing:
        knn = sdcn_knn_sizes(folder, name)
        hint = f"; kNN graphs present for k in {knn}" if knn else ""
        raise FileNotFoundError(f"SDCN layout: missing {', '.join(missing)}{hint}")
    # np.loadtxt's C parser reads DBLP's 4057 x 334 rows in about 0.05 s.
    features = _load_text(paths["features"], np.float32, 2)
    labels = _load_text(paths["labels"], np.int64, 1)
    edges = _read_edges(paths["graph"])
    # Name the file that disagrees, instead of to_graph's generic size errors.
    if len(labels) != len(features):
        raise ValueError(f"{paths['features']} has {len(features)} rows but "
                         f"{paths['labels']} has {len(labels)} labels: one of them is "
                         "truncated or damaged; replace it with the original")
    if edges.size and (edges.min() < 0 or edges.max() >= len(features)):
        raise ValueError(f"{paths['graph']} names node {int(edges.max())} (or a negative "
                         f"one), but {paths['features']} has {len(features)} rows: one of "
                         "the files is truncated or damaged; replace it with the original")
    with warnings.catch_warnings():
        # Listing both directions (or self-loops in kNN files) is this layout's
        # convention, not a defect worth a warning on every load.
        warnings.simplefilter("ignore", GraphInputWarning)
        return to_graph(features, edges, labels)
