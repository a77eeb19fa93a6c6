"""Reader for homogeneous OGB node property data sets through the ``ogb`` package.

Files live in ``<root>/ogb/<dir>/`` where ``<dir>`` is the name with ``-`` replaced by
``_`` (``ogbn_arxiv``; ogb's ``ogbn_arxiv_pyg`` spelling is accepted too), as the official
archives unpack: ``RELEASE_v<version>.txt``, ``raw/*.csv.gz`` and ``split/``.

Three behaviours of ``ogb`` are unfit for a library and are avoided here:

* it asks on stdin whether to replace a folder without the release marker, and before
  downloads over 1 GB: graphclust checks the folder itself and downloads with ogb's
  non-interactive helpers, so ``input()`` is never reached;
* it writes ``processed/`` inside the data folder: processing happens in a cache mirror;
* it calls ``torch.load`` on its processed file, which under ``weights_only=True`` (the
  default since torch 2.6) needs PyG's storage classes allow-listed: exactly those are
  added with :func:`torch.serialization.add_safe_globals`.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import shutil
import warnings
from pathlib import Path

import torch
from torch_geometric.data import Data
from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
from torch_geometric.data.storage import GlobalStorage

from graphclust.data.formats._cache import load_processed
from graphclust.data.inputs import GraphInputWarning, to_graph

__all__ = ["OGB_NAMES", "ogb_folder", "ogb_metadata", "ogb_missing_files", "read_ogb"]

#: Single-label node classification sets with node features that fit the clustering task.
#: ogbn-proteins (112 binary tasks, no node features), ogbn-mag (heterogeneous) and
#: ogbn-papers100M (labels for 1.4% of nodes only) are left out on purpose.
OGB_NAMES = ("ogbn-arxiv", "ogbn-products")

# What PyG's pickled Data needs beyond the classes PyG allow-lists itself on import.
_SAFE_GLOBALS = [DataEdgeAttr, DataTensorAttr, GlobalStorage]


def ogb_metadata(name: str) -> dict[str, str]:
    """One column of ogb's ``nodeproppred/master.csv`` (version, url, file flags, ...)."""
    # Located without importing ogb: its import starts a thread that asks PyPI for a
    # newer version, which only a caller that actually reads OGB data should pay for.
    spec = importlib.util.find_spec("ogb")
    if spec is None or spec.origin is None:
        raise ImportError("the 'ogb' package is needed for OGB data sets: pip install ogb")
    master = Path(spec.origin).parent / "nodeproppred" / "master.csv"
    with master.open(newline="") as stream:
        rows = list(csv.reader(stream))
    column = rows[0].index(name)
    return {row[0]: row[column] for row in rows[1:]}


def ogb_folder(folder: Path, name: str) -> Path:
    """The data set's folder inside ``folder`` = ``<root>/ogb`` (ogb's ``_pyg`` first)."""
    plain = folder / name.replace("-", "_")
    pyg = plain.with_name(plain.name + "_pyg")
    return pyg if pyg.is_dir() else plain


def ogb_missing_files(dataset_dir: Path, meta: dict[str, str]) -> list[Path]:
    """Files the OGB reader needs, absent from ``dataset_dir``."""
    raw = dataset_dir / "raw"
    needed = [dataset_dir / f"RELEASE_v{meta['version']}.txt"]
    needed += [raw / f"{stem}.csv.gz" for stem in
               ("edge", "num-node-list", "num-edge-list", "node-label")]
    if meta["has_node_attr"] == "True":
        needed.append(raw / "node-feat.csv.gz")
    if meta["additional node files"] != "None":
        needed += [raw / f"{stem}.csv.gz" for stem in meta["additional node files"].split(",")]
    return [path for path in needed if not path.is_file()]


def _download(folder: Path, name: str, meta: dict[str, str]) -> None:
    """Fetch and unpack the official archive into ``folder/<dir>`` (no prompts)."""
    from ogb.utils.url import download_url, extract_zip

    target = folder / name.replace("-", "_")
    if target.exists():
        shutil.rmtree(target)
    folder.mkdir(parents=True, exist_ok=True)
    archive = download_url(meta["url"], str(folder))
    extract_zip(archive, str(folder))
    os.unlink(archive)
    shutil.move(str(folder / meta["download_name"]), str(target))


def read_ogb(folder: str | Path, name: str, *, cache_dir: Path, download: bool = False) -> Data:
    """Read one OGB node property data set.

    Parameters
    ----------
    folder : str or Path
        ``<root>/ogb``.
    name : str
        One of :data:`OGB_NAMES`, e.g. ``"ogbn-arxiv"``.
    cache_dir : Path
        graphclust's cache folder; ogb's processed file is written below it.
    download : bool, default=False
        Fetch the official archive into ``folder`` when files are missing (network
        needed; ogbn-products is 1.4 GB).

    Returns
    -------
    torch_geometric.data.Data
        Canonical graph: directed citation edges (ogbn-arxiv) are symmetrised, labels of
        shape ``(N, 1)`` flattened; splits and node years are not kept.

    Raises
    ------
    FileNotFoundError
        Files are missing and ``download`` is false, or the download failed; the message
        names the folder searched and the remedy.
    """
    from ogb.nodeproppred import PygNodePropPredDataset

    folder = Path(folder)
    meta = ogb_metadata(name)
    dataset_dir = ogb_folder(folder, name)
    missing = ogb_missing_files(dataset_dir, meta)
    if missing and download:
        try:
            _download(folder, name, meta)
        except OSError as err:
            raise FileNotFoundError(
                f"{name}: download of {meta['url']} into {folder} failed ({err}); "
                f"unpack the archive by hand so that {dataset_dir}/raw exists"
            ) from err
        dataset_dir = ogb_folder(folder, name)
        missing = ogb_missing_files(dataset_dir, meta)
    if missing:
        raise FileNotFoundError(
            f"{name}: searched {dataset_dir}, missing {[str(p) for p in missing[:3]]}; "
            f"pass download=True when online, or unpack {meta['url']} into {folder} "
            f"(its folder '{meta['download_name']}' renamed to '{dataset_dir.name}')"
        )
    entries = ["raw", f"RELEASE_v{meta['version']}.txt"]
    if (dataset_dir / "split").is_dir():
        entries.append("split")
    torch.serialization.add_safe_globals(_SAFE_GLOBALS)
    data = load_processed(dataset_dir, entries, cache_dir, "ogb",
                          process=lambda private: PygNodePropPredDataset(
                              name, root=str(private.parent)),
                          read=lambda folder: PygNodePropPredDataset(
                              name, root=str(folder.parent))[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GraphInputWarning)
        return to_graph(data.x, data.edge_index, data.y)
