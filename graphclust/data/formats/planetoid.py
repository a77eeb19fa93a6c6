"""Reader for the Planetoid citation graphs (Cora, CiteSeer, PubMed) through PyG.

Raw files live in ``<root>/planetoid/<Name>/raw`` exactly as
:class:`torch_geometric.datasets.Planetoid` reads them (``ind.cora.x``, ...). PyG writes
its processed file next to ``raw/``; graphclust never writes into the data root for that,
and lets PyG process inside a cache mirror of the raw folder instead (see
:func:`graphclust.data.formats._cache.mirror` for loads running at the same time).
"""

from __future__ import annotations

import warnings
from pathlib import Path

from torch_geometric.data import Data
from torch_geometric.datasets import Planetoid

from graphclust.data.formats._cache import mirror
from graphclust.data.inputs import GraphInputWarning, to_graph

__all__ = ["PLANETOID_NAMES", "planetoid_raw_files", "read_planetoid"]

#: Lower-case name -> PyG's spelling (also the folder name).
PLANETOID_NAMES = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}

_RAW_SUFFIXES = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


def planetoid_raw_files(folder: Path, name: str) -> list[Path]:
    """The eight raw files of ``name`` (PyG spelling) in ``folder`` = ``<root>/planetoid``."""
    raw = folder / name / "raw"
    return [raw / f"ind.{name.lower()}.{suffix}" for suffix in _RAW_SUFFIXES]


def read_planetoid(
    folder: str | Path, name: str, *, cache_dir: Path, download: bool = False
) -> Data:
    """Read one Planetoid data set.

    Parameters
    ----------
    folder : str or Path
        ``<root>/planetoid``, holding ``<Name>/raw``.
    name : str
        ``"cora"``, ``"citeseer"`` or ``"pubmed"`` (any case).
    cache_dir : Path
        graphclust's cache folder; PyG's processed file is written below it.
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
    """
    folder = Path(folder)
    pyg_name = PLANETOID_NAMES[name.lower()]
    missing = [path for path in planetoid_raw_files(folder, pyg_name) if not path.is_file()]
    if missing and not download:
        raise FileNotFoundError(
            f"Planetoid {pyg_name}: missing {len(missing)} raw files in "
            f"{missing[0].parent} (e.g. {missing[0].name}); pass download=True when online, "
            f"or place the files ind.{pyg_name.lower()}.* there"
        )
    if missing:
        try:
            # Downloading writes raw (and processed) files into the data root, which the
            # caller asked for with download=True.
            Planetoid(str(folder), pyg_name)
        except OSError as err:
            raise FileNotFoundError(
                f"Planetoid {pyg_name}: download into {missing[0].parent} failed ({err}); "
                "place the raw files there by hand"
            ) from err
    processing_root = mirror(folder / pyg_name, ["raw"], cache_dir, "planetoid",
                             process=lambda private: Planetoid(str(private.parent), pyg_name)
                             ).parent
    data = Planetoid(str(processing_root), pyg_name)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GraphInputWarning)
        return to_graph(data.x, data.edge_index, data.y)
