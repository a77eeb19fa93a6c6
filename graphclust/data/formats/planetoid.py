"""Reader for the Planetoid citation graphs (Cora, CiteSeer, PubMed), without pickle.

Raw files live in ``<root>/planetoid/<Name>/raw`` exactly as
:class:`torch_geometric.datasets.Planetoid` reads them (``ind.cora.x``, ...). PyG's reader
unpickles them, which runs any code a planted file names; here they are read with
:func:`graphclust.data.formats.safe_pickle.load_pickle` (numpy arrays, CSR matrices and
adjacency lists only) and assembled as PyG assembles them (test rows moved to their
indices; CiteSeer's isolated test nodes get zero features and label 0). Nothing is
processed into a cache, so there is no processed file to go stale or be damaged.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from torch_geometric.data import Data

from graphclust.data.formats._npy import MAX_FEATURE_BYTES
from graphclust.data.formats.safe_pickle import load_pickle
from graphclust.data.inputs import GraphInputWarning, to_graph

__all__ = ["PLANETOID_NAMES", "planetoid_raw_files", "read_planetoid"]

#: Lower-case name -> PyG's spelling (also the folder name).
PLANETOID_NAMES = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}

_RAW_SUFFIXES = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


def planetoid_raw_files(folder: Path, name: str) -> list[Path]:
    """The eight raw files of ``name`` (PyG spelling) in ``folder`` = ``<root>/planetoid``."""
    raw = folder / name / "raw"
    return [raw / f"ind.{name.lower()}.{suffix}" for suffix in _RAW_SUFFIXES]


def _matrix(path: Path, sparse: bool) -> np.ndarray:
    """A 2-D float matrix from a features (CSR or dense) or one-hot labels file."""
    value = load_pickle(path)
    if sp.issparse(value) and sparse:
        if value.shape[0] * value.shape[1] * 4 > MAX_FEATURE_BYTES:
            raise ValueError(f"{path}: a {value.shape[0]} x {value.shape[1]} feature matrix "
                             f"is larger than {MAX_FEATURE_BYTES} bytes dense")
        # float32 before densifying: a float64 file had briefly held twice the cap dense.
        value = value.astype(np.float32).toarray()
    if not isinstance(value, np.ndarray) or value.ndim != 2:
        kind = "a CSR or dense matrix" if sparse else "a 2-D array"
        raise ValueError(f"{path} does not hold {kind} (found {type(value).__name__}); "
                         "replace it with the original ind.* file")
    return value.astype(np.float32)


def _test_index(path: Path) -> np.ndarray:
    text = path.read_bytes()
    try:
        index = np.array([int(line) for line in text.decode("ascii").split()], dtype=np.int64)
    except (UnicodeDecodeError, ValueError, OverflowError) as error:
        raise ValueError(f"{path}: expected one node index a line ({error}); replace it "
                         "with the original ind.*.test.index file") from None
    if len(np.unique(index)) != len(index):  # two test rows would land on one node
        raise ValueError(f"{path} lists a node index twice; replace it with the original "
                         "ind.*.test.index file")
    return index


def _edges(path: Path) -> np.ndarray:
    graph = load_pickle(path)
    if not isinstance(graph, dict) or not all(
            isinstance(key, int) and isinstance(value, list)
            and all(isinstance(item, int) for item in value) for key, value in graph.items()):
        raise ValueError(f"{path} does not hold adjacency lists of node indices; replace "
                         "it with the original ind.*.graph file")
    try:
        rows = np.repeat(np.fromiter(graph, dtype=np.int64, count=len(graph)),
                         [len(value) for value in graph.values()])
        cols = np.fromiter((item for value in graph.values() for item in value),
                           dtype=np.int64, count=len(rows))
    except OverflowError:
        raise ValueError(f"{path} holds a node index beyond 64 bits; replace it with the "
                         "original ind.*.graph file") from None
    return np.stack([rows, cols])


def _assemble(files: dict[str, Path], name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels and edges laid out as PyG's ``read_planetoid_data`` lays them."""
    tx, allx = _matrix(files["tx"], True), _matrix(files["allx"], True)
    ty, ally = _matrix(files["ty"], False), _matrix(files["ally"], False)
    test_index = _test_index(files["test.index"])
    if len(test_index) != len(tx) and name != "citeseer" or len(ty) != len(tx) \
            or len(ally) != len(allx) or tx.shape[1] != allx.shape[1] \
            or ty.shape[1] != ally.shape[1] or len(test_index) == 0:
        raise ValueError(f"Planetoid {name}: the raw files disagree in size (tx {tx.shape}, "
                         f"ty {ty.shape}, allx {allx.shape}, ally {ally.shape}, "
                         f"{len(test_index)} test indices); replace them with the originals")
    ordered = np.sort(test_index)
    if name == "citeseer":
        # Isolated test nodes have no rows in tx/ty: zero rows keep the indices aligned.
        # Python ints: int64 had wrapped the span of -2**63 and 2**63 - 1 to 0. Both the
        # feature and the label rows are capped: zero-wide features had let 10**7 test
        # rows of 1,000 labels ask for 37 GiB.
        low, span = int(ordered[0]), int(ordered[-1]) - int(ordered[0]) + 1
        if low < 0 or span * max(tx.shape[1] + ty.shape[1], 1) * 4 > MAX_FEATURE_BYTES \
                or len(ordered) != len(tx):
            raise ValueError(f"Planetoid {name}: test indices {low}..{low + span - 1} do not "
                             f"fit {len(tx)} test rows")
        tx_full, ty_full = np.zeros((span, tx.shape[1]), np.float32), \
            np.zeros((span, ty.shape[1]), np.float32)
        tx_full[ordered - low], ty_full[ordered - low] = tx, ty
        tx, ty = tx_full, ty_full
    x, labels = np.concatenate([allx, tx]), np.concatenate([ally, ty]).argmax(1)
    if ordered[0] < 0 or ordered[-1] >= len(x):
        raise ValueError(f"{files['test.index']}: indices outside 0..{len(x) - 1}")
    x[test_index], labels[test_index] = x[ordered], labels[ordered]
    return x, labels, _edges(files["graph"])


def read_planetoid(folder: str | Path, name: str, *, download: bool = False) -> Data:
    """Read one Planetoid data set.

    Parameters
    ----------
    folder : str or Path
        ``<root>/planetoid``, holding ``<Name>/raw``.
    name : str
        ``"cora"``, ``"citeseer"`` or ``"pubmed"`` (any case).
    download : bool, default=False
        Fetch missing raw files from the Planetoid repository into ``folder/<Name>/raw``
        (needs network access).

    Returns
    -------
    torch_geometric.data.Data
        Canonical graph with the raw (unnormalised) bag-of-words features; the public
        train/val/test masks are not kept (clustering uses no labels to train).

    Raises
    ------
    FileNotFoundError
        Raw files are missing and ``download`` is false, or the download failed.
    ValueError
        A raw file is damaged or holds anything but the data types of the layout (a
        planted pickle naming a function is refused, never run); the message names the
        file and the remedy.
    """
    folder = Path(folder)
    pyg_name = PLANETOID_NAMES[name.lower()]
    paths = planetoid_raw_files(folder, pyg_name)
    missing = [path for path in paths if not path.is_file()]
    if missing and not download:
        raise FileNotFoundError(
            f"Planetoid {pyg_name}: missing {len(missing)} raw files in "
            f"{missing[0].parent} (e.g. {missing[0].name}); pass download=True when online, "
            f"or place the files ind.{pyg_name.lower()}.* there"
        )
    if missing:
        from torch_geometric.data import download_url
        from torch_geometric.datasets import Planetoid

        try:  # only the raw files: reading them stays with the safe reader below
            for path in missing:
                download_url(f"{Planetoid.url}/{path.name}", str(path.parent), log=False)
        except OSError as err:
            raise FileNotFoundError(
                f"Planetoid {pyg_name}: download into {missing[0].parent} failed ({err}); "
                "place the raw files there by hand"
            ) from err
    files = dict(zip(_RAW_SUFFIXES, paths, strict=True))
    x, labels, edges = _assemble(files, name.lower())
    with warnings.catch_warnings():
        # Duplicate edges, one-way lists and self-loops are this layout's convention.
        warnings.simplefilter("ignore", GraphInputWarning)
        return to_graph(x, edges, labels)
