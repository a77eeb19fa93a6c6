"""Named benchmark data sets: a registry over the published layouts and two embedded sets.

Where the files are
    ``root`` (argument), else ``$GRAPHCLUST_DATA``, else ``~/.graphclust/data``; below it
    ``sdcn/``, ``adgc/``, ``planetoid/``, ``amazon/``, ``coauthor/`` and ``ogb/`` as described in
    :mod:`graphclust.data.formats`. graphclust only reads the data root, except that
    ``download=True`` writes the fetched files there. Libraries that write processed
    files (PyG's Planetoid, ogb) do so in ``$GRAPHCLUST_CACHE``, else
    ``~/.graphclust/cache``.

Which copy wins
    A name may exist in several layouts (DBLP is in SDCN and A-DGC; "citeseer" is SDCN's
    ``cite`` and Planetoid's CiteSeer). The first layout whose files are present wins, in
    the order SDCN, Planetoid, OGB, A-DGC: the original authors' files before the A-DGC
    collection, which repackages them. ``layout=`` forces one copy.

What comes back
    The canonical graph of :func:`graphclust.data.to_graph`: float32 features, an
    undirected ``edge_index`` without duplicates or self-loops (layouts that list both
    directions or store self-loops are normalised without a warning, as that is their
    convention), labels mapped to ``0..K-1``, and ``.name``. Sizes are checked against the
    published numbers in :data:`DATASETS`; a difference is reported with a warning.
"""

from __future__ import annotations

import difflib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data

from graphclust._checks import check_flag, check_integer
from graphclust._warnings import user_stacklevel
from graphclust.data.formats import read_adgc, read_npz, read_ogb, read_planetoid, read_sdcn
from graphclust.data.formats.npz import npz_file
from graphclust.data.formats.ogb import ogb_folder, ogb_metadata, ogb_missing_files
from graphclust.data.formats.planetoid import PLANETOID_NAMES, planetoid_raw_files
from graphclust.data.formats.sdcn import sdcn_files, sdcn_knn_sizes
from graphclust.data.inputs import to_graph
from graphclust.data.knn import METHODS as KNN_METHODS

__all__ = ["DATASETS", "DatasetSpec", "datasets", "load_dataset"]

#: Order in which layouts are tried when a name exists in several.
LAYOUT_PRIORITY = ("sdcn", "planetoid", "npz", "ogb", "adgc", "embedded")


@dataclass(frozen=True)
class DatasetSpec:
    """One registry entry: a data set in one layout, with its published sizes.

    Attributes
    ----------
    name : str
        Registry name (lower case).
    layout : str
        ``"sdcn"``, ``"adgc"``, ``"planetoid"``, ``"npz"``, ``"ogb"`` or ``"embedded"``.
    nodes, features, classes : int or None
        Published sizes; ``None`` for A-DGC archives found on disk but not in the table.
    aliases : tuple of str
        Other names that resolve to this entry.
    default_k : int or None
        For SDCN sets published with kNN graphs only: the ``k`` SDCN used (3). For
        ``digits``: the neighbours of its cosine kNN graph.
    """

    name: str
    layout: str
    nodes: int | None
    features: int | None
    classes: int | None
    aliases: tuple[str, ...] = ()
    default_k: int | None = None


#: Published sizes (SDCN, A-DGC, Planetoid and OGB papers; scikit-learn; networkx).
DATASETS: tuple[DatasetSpec, ...] = (
    DatasetSpec("dblp", "sdcn", 4057, 334, 4),
    DatasetSpec("acm", "sdcn", 3025, 1870, 3),
    DatasetSpec("cite", "sdcn", 3327, 3703, 6, aliases=("citeseer",)),
    DatasetSpec("usps", "sdcn", 9298, 256, 10, default_k=3),
    DatasetSpec("hhar", "sdcn", 10299, 561, 6, default_k=3),
    DatasetSpec("reut", "sdcn", 10000, 2000, 4, default_k=3),
    DatasetSpec("dblp", "adgc", 4057, 334, 4),
    DatasetSpec("bat", "adgc", 131, 81, 4),
    DatasetSpec("eat", "adgc", 399, 203, 4),
    DatasetSpec("uat", "adgc", 1190, 239, 4),
    DatasetSpec("cora", "planetoid", 2708, 1433, 7),
    DatasetSpec("citeseer", "planetoid", 3327, 3703, 6),
    DatasetSpec("pubmed", "planetoid", 19717, 500, 3),
    DatasetSpec("photo", "npz", 7650, 745, 8, aliases=("amazon-photo",)),
    DatasetSpec("computers", "npz", 13752, 767, 10, aliases=("amazon-computers",)),
    DatasetSpec("cs", "npz", 18333, 6805, 15, aliases=("coauthor-cs",)),
    DatasetSpec("physics", "npz", 34493, 8415, 5, aliases=("coauthor-physics",)),
    DatasetSpec("ogbn-arxiv", "ogb", 169343, 128, 40),
    DatasetSpec("ogbn-products", "ogb", 2449029, 100, 47),
    DatasetSpec("digits", "embedded", 1797, 64, 10, default_k=10),
    DatasetSpec("karate", "embedded", 34, 34, 2),
)


def data_root(root: str | os.PathLike | None = None) -> Path:
    """``root``, else ``$GRAPHCLUST_DATA``, else ``~/.graphclust/data``."""
    if root is None:
        root = os.environ.get("GRAPHCLUST_DATA") or Path.home() / ".graphclust" / "data"
    return Path(root).expanduser()


def cache_root() -> Path:
    """``$GRAPHCLUST_CACHE``, else ``~/.graphclust/cache``."""
    return Path(os.environ.get("GRAPHCLUST_CACHE") or Path.home() / ".graphclust" / "cache")


def _registry(root: Path) -> list[DatasetSpec]:
    """The static table plus any A-DGC archive in ``root/adgc`` that it does not name."""
    known = {spec.name for spec in DATASETS if spec.layout == "adgc"}
    adgc_dir = root / "adgc"
    found = sorted(path.stem.lower() for path in adgc_dir.glob("*.zip")) if (
        adgc_dir.is_dir()) else []
    extra = [DatasetSpec(stem, "adgc", None, None, None) for stem in found if stem not in known]
    return [*DATASETS, *extra]


def _adgc_archive(root: Path, name: str) -> Path:
    """``root/adgc/<name>.zip``, matching the archive's stem case-insensitively."""
    adgc_dir = root / "adgc"
    if adgc_dir.is_dir():
        for path in adgc_dir.glob("*.zip"):
            if path.stem.lower() == name:
                return path
    return adgc_dir / f"{name}.zip"


def _location(spec: DatasetSpec, root: Path, k: int | None) -> tuple[Path | None, list[Path]]:
    """Where ``spec``'s files are expected, and which of them are missing."""
    if spec.layout == "sdcn":
        folder = root / "sdcn" / spec.name
        files = sdcn_files(folder, spec.name, k)
        return folder, [path for path in files.values() if not path.is_file()]
    if spec.layout == "adgc":
        archive = _adgc_archive(root, spec.name)
        return archive, [] if archive.is_file() else [archive]
    if spec.layout == "planetoid":
        pyg_name = PLANETOID_NAMES[spec.name]
        files = planetoid_raw_files(root / "planetoid", pyg_name)
        return files[0].parent, [path for path in files if not path.is_file()]
    if spec.layout == "npz":
        archive = npz_file(root, spec.name)
        return archive, [] if archive.is_file() else [archive]
    if spec.layout == "ogb":
        folder = ogb_folder(root / "ogb", spec.name)
        return folder, ogb_missing_files(folder, ogb_metadata(spec.name))
    return None, []


def _other_graphs(spec: DatasetSpec, folder: Path | None, missing: list[Path]) -> str:
    """Where an SDCN copy lacks only the kNN graph asked for, the ones it has."""
    if spec.layout != "sdcn" or len(missing) != 1 or "graph" not in missing[0].name:
        return ""
    sizes = sdcn_knn_sizes(folder, spec.name)
    return f"; its other files are there, and kNN graphs for k in {sizes}: pass one as k" \
        if sizes else ""


def datasets(root: str | os.PathLike | None = None) -> list[dict]:
    """List every registry entry and whether its files are present.

    Parameters
    ----------
    root : str or path-like, optional
        Data root; see :func:`load_dataset`.

    Returns
    -------
    list of dict
        One dict per (name, layout) with keys ``name``, ``layout``, ``aliases``,
        ``nodes``, ``features``, ``classes`` (published sizes; ``None`` when unknown),
        ``available`` (bool), ``path`` (where the files are or are expected; ``None`` for
        embedded sets) and ``reason`` (why it is unavailable, else ``None``).

    Examples
    --------
    >>> [row["name"] for row in datasets() if row["layout"] == "embedded"]
    ['digits', 'karate']
    """
    root = data_root(root)
    rows = []
    for spec in _registry(root):
        try:
            path, missing = _location(spec, root, spec.default_k)
            reason = f"missing {missing[0]}" + (
                f" and {len(missing) - 1} more files" if len(missing) > 1 else ""
            ) if missing else None
        except ImportError as error:  # a layout's reader is not installed: list it, go on
            path, reason = None, str(error)
        rows.append({
            "name": spec.name,
            "layout": spec.layout,
            "aliases": list(spec.aliases),
            "nodes": spec.nodes,
            "features": spec.features,
            "classes": spec.classes,
            "available": reason is None,
            "path": None if path is None else str(path),
            "reason": reason,
        })
    return rows


def _candidates(name: str, registry: list[DatasetSpec]) -> list[DatasetSpec]:
    matches = [spec for spec in registry if name == spec.name or name in spec.aliases]
    return sorted(matches, key=lambda spec: LAYOUT_PRIORITY.index(spec.layout))


def _load_embedded(name: str, k: int | None, knn_method: str) -> Data:
    if name == "digits":
        from sklearn.datasets import load_digits

        from graphclust.data.knn import knn_graph

        digits = load_digits()
        # Pixel intensities are 0..16; scaling to [0, 1] keeps the autoencoder's
        # reconstruction targets on the same scale as the other data sets.
        features = (digits.data / 16.0).astype(np.float32)
        edge_index = knn_graph(torch.from_numpy(features), k=k, metric="cosine",
                               method=knn_method)
        return to_graph(features, edge_index, digits.target)
    import networkx as nx  # only for karate: its import costs every other user a second

    graph = nx.karate_club_graph()
    clubs = nx.get_node_attributes(graph, "club")
    # Identity features: the graph is the only signal, as in the classic karate setups.
    features = np.eye(graph.number_of_nodes(), dtype=np.float32)
    # The edges alone: networkx's copy weights them by interaction counts, which
    # to_graph would ignore with a warning.
    structure = nx.Graph(list(graph.edges))
    return to_graph(features, structure, [clubs[node] for node in sorted(clubs)])


def _check_sizes(graph: Data, spec: DatasetSpec) -> None:
    found = (graph.num_nodes, graph.x.shape[1],
             None if graph.y is None else int(graph.y.max()) + 1)
    published = (spec.nodes, spec.features, spec.classes)
    if spec.nodes is not None and found != published:
        warnings.warn(
            f"{spec.name} ({spec.layout}): the files give nodes, features, classes = "
            f"{found}, the published sizes are {published}; the files may be another "
            "version of the data set",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def load_dataset(
    name: str,
    root: str | os.PathLike | None = None,
    download: bool = False,
    *,
    layout: str | None = None,
    k: int | None = None,
    knn_method: str = "auto",
) -> Data:
    """Load a named data set as a canonical PyG ``Data``.

    Parameters
    ----------
    name : str
        Case-insensitive registry name or alias; :func:`datasets` lists them. File-backed:
        ``dblp``, ``acm``, ``cite`` (alias ``citeseer``), ``usps``, ``hhar``, ``reut``
        (SDCN); ``dblp``, ``bat``, ``eat``, ``uat`` and any ``<root>/adgc/<name>.zip``
        (A-DGC); ``cora``, ``citeseer``, ``pubmed`` (Planetoid); ``photo``, ``computers`` (Amazon),
        ``cs``, ``physics`` (Coauthor; the ``.npz`` files where PyG's ``Amazon`` and
        ``Coauthor`` look for them, symmetrised); ``ogbn-arxiv``,
        ``ogbn-products`` (OGB). Embedded: ``digits`` (scikit-learn's 1,797 8x8 digits,
        pixels scaled to [0, 1], symmetric cosine kNN graph) and ``karate`` (Zachary's
        club, identity features, the two clubs as labels).
    root : str or path-like, optional
        Data root; defaults to ``$GRAPHCLUST_DATA``, then ``~/.graphclust/data``.
    download : bool, default=False
        Fetch missing Planetoid or OGB files into ``root`` (needs network). SDCN and A-DGC
        files are not downloadable and must be placed by hand.
    layout : str, optional
        Force one copy (``"sdcn"``, ``"adgc"``, ``"planetoid"``, ``"npz"``, ``"ogb"``,
        ``"embedded"``) of a name in several; else the first present of SDCN, Planetoid,
        OGB, A-DGC (``citeseer`` is SDCN's ``cite`` where that folder exists, else
        Planetoid's CiteSeer; ``dblp`` is SDCN's; with ``k``, only SDCN's).
    k : int, optional
        SDCN: read the authors' kNN graph ``<name><k>_graph.txt`` (usps, hhar and reut
        default to ``k=3``, SDCN's choice; the others to their own graph file).
        ``digits``: neighbours of the kNN graph (default 10).
    knn_method : {"auto", "exact", "approximate"}, default="auto"
        Search of a kNN graph built from the features (``digits``; see
        :func:`graphclust.data.knn_graph`). The other data sets come with their graph.

    Returns
    -------
    torch_geometric.data.Data
        ``x`` (float32), ``edge_index`` (undirected, canonical), ``y`` (0..K-1),
        ``num_nodes`` and ``name``.

    Raises
    ------
    TypeError
        ``name`` is not a string.
    ValueError
        Unknown name (the message lists the known ones and close matches), a layout the
        name does not exist in, ``k`` for a data set without a kNN choice, or an unknown
        ``knn_method``.
    FileNotFoundError
        No copy of the data set is present (the message names each place searched and
        the remedy), or a download failed.

    Examples
    --------
    >>> graph = load_dataset("karate")
    >>> graph.num_nodes, int(graph.y.max()) + 1
    (34, 2)
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a data set name (str), got {type(name).__name__}; "
                        "graphclust.data.datasets() lists them")
    # Any string is truthy: download="False" had fetched the missing files from the network.
    download = check_flag("download", download)
    key = name.lower()
    root = data_root(root)
    registry = _registry(root)
    candidates = _candidates(key, registry)
    if not candidates:
        known = sorted({spec.name for spec in registry} |
                       {alias for spec in registry for alias in spec.aliases})
        close = difflib.get_close_matches(key, known, n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"unknown data set {name!r}{hint or '.'} Known: {', '.join(known)}")
    if layout is not None:
        if not isinstance(layout, str):
            raise TypeError(f"layout must be a layout name or None, got {layout!r}")
        forced = [spec for spec in candidates if spec.layout == layout.lower()]
        if not forced:
            raise ValueError(
                f"data set {name!r} has no {layout!r} copy; layouts: "
                f"{', '.join(spec.layout for spec in candidates)}"
            )
        candidates = forced
    if k is not None:  # only the copies that take a k: dblp's SDCN copy, not its A-DGC one
        # It names a file: 3.0 had looked for <name>3.0_graph.txt, "3" had read <name>3's.
        k = check_integer("k", k, 1, accepts="None or an integer")
        taking_k = [spec for spec in candidates if spec.layout == "sdcn" or spec.name == "digits"]
        if not taking_k:
            raise ValueError(
                f"k applies to SDCN kNN graphs and to digits, not to {name!r} "
                f"({', '.join(spec.layout for spec in candidates)})"
            )
        candidates = taking_k

    if knn_method not in KNN_METHODS:
        raise ValueError(f"knn_method must be one of {KNN_METHODS}, got {knn_method!r}")

    searched = []
    chosen = None
    for spec in candidates:
        path, missing = _location(spec, root, spec.default_k if k is None else k)
        if not missing:
            chosen = spec
            break
        searched.append(f"{spec.layout}: {path} (missing {missing[0].name}"
                        + _other_graphs(spec, path, missing) + ")")
    if chosen is None and download:
        chosen = next((s for s in candidates if s.layout in ("planetoid", "ogb")), None)
    if chosen is None:
        raise FileNotFoundError(
            f"data set {name!r} not found complete under {root}; searched "
            + "; ".join(searched)
            + ". Pass root= (--root on the command line) or set $GRAPHCLUST_DATA to the "
              "folder holding a complete copy"
            + (", or pass download=True when online" if any(
                s.layout in ("planetoid", "ogb") for s in candidates) else "")
        )

    k = chosen.default_k if k is None else k
    if chosen.layout == "sdcn":
        graph = read_sdcn(root / "sdcn" / chosen.name, chosen.name, k=k)
    elif chosen.layout == "adgc":
        graph = read_adgc(_adgc_archive(root, chosen.name))
    elif chosen.layout == "planetoid":
        graph = read_planetoid(root / "planetoid", chosen.name, download=download)
    elif chosen.layout == "npz":
        graph = read_npz(npz_file(root, chosen.name))
    elif chosen.layout == "ogb":
        graph = read_ogb(root / "ogb", chosen.name, cache_dir=cache_root(), download=download)
    else:
        graph = _load_embedded(chosen.name, k, knn_method)
    _check_sizes(graph, chosen)
    graph.name = key
    return graph
