"""Helpers of the data set tests: a quiet load, views of graphs and folders, a tiny
A-DGC archive, a graph whose top principal direction splits a class."""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch

from graphclust.data import load_dataset, make_sbm


def load_quietly(name, root, **kwargs):
    # Our warnings (graph changes, size mismatches) are UserWarnings; others' deprecations
    # are not this test's business.
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        return load_dataset(name, root=root, **kwargs)


def edge_set(graph) -> set[tuple[int, int]]:
    return set(map(tuple, graph.edge_index.T.tolist()))


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(path): (path.stat().st_size, path.stat().st_mtime_ns)
            for path in folder.rglob("*")}


def write_adgc(path: Path, name: str, folder: str = "") -> None:
    """A 3-node data set ``name`` in the A-DGC layout (a zip of .npy arrays)."""
    adjacency = np.eye(3, dtype=np.int32)
    adjacency[0, 1] = adjacency[1, 0] = 1
    arrays = {"feat": np.arange(6.0).reshape(3, 2), "label": np.array([2, 0, 2]),
              "adj": adjacency}
    with zipfile.ZipFile(path, "w") as archive:
        for part, array in arrays.items():
            buffer = io.BytesIO()
            np.save(buffer, array)
            archive.writestr(f"{folder}{name}_{part}.npy", buffer.getvalue())


def sbm_with_a_split_class():
    """A 90-node SBM of 3 classes whose ten extra features split class 0 (the largest, on
    ties) in two halves, five features each: its top principal direction varies within
    that class alone."""
    graph = make_sbm(90, 3, 40, 4.0, homophily=0.8, feature_signal=0.3, random_state=0)
    halves = torch.zeros(90, 10)
    members = torch.nonzero(graph.y == 0).flatten()
    halves[members[::2], :5] = halves[members[1::2], 5:] = 1.0
    graph.x = torch.cat([graph.x, halves], dim=1)
    return graph
