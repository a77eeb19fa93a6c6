"""What ``graphclust fit`` and ``predict`` cluster: a named data set, or a user's own files
(:mod:`graphclust.data.formats.plain`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Source", "describe", "input_record", "read_source", "source_name"]


@dataclass
class Source:
    """The input of one command."""

    name: str  # in run folders and records
    fit_args: tuple  # what fit takes: (graph,) or (features, labels)
    y: np.ndarray | None  # class codes 0..K-1, for the scores
    description: str

    @property
    def predict_args(self) -> tuple:
        return self.fit_args[:1]


def describe(graph) -> str:
    classes = "" if graph.y is None else f", {int(graph.y.max()) + 1} classes"
    return (f"{graph.num_nodes} nodes, {graph.edge_index.shape[1] // 2} edges, "
            f"{graph.x.shape[1]} features{classes}")


def source_name(args) -> str:
    """The input's name in run folders: the data set's, with ``-k<K>`` for a chosen kNN
    graph (runs on two graphs of one data set keep separate folders), or the features
    file's stem."""
    if args.features is not None:
        return Path(args.features).stem.lower()
    return (args.dataset or "digits").lower() + ("" if args.k is None else f"-k{args.k}")


def input_record(args) -> dict:
    """What run.json says was read: the data set (and its kNN graph), or the files. A run
    folder holding a run of another input is not replaced (``--overwrite`` aside)."""
    if args.features is None:
        return {"dataset": args.dataset or "digits", "k": args.k}
    return {name: None if path is None else str(Path(path).resolve())
            for name, path in (("features", args.features), ("edges", args.edges),
                               ("labels", args.labels))}


def _graph_source(name: str, graph) -> Source:
    return Source(name, (graph,), None if graph.y is None else graph.y.numpy(),
                  describe(graph))


def read_source(args) -> Source:
    """``--dataset`` (digits where neither it nor ``--features`` is given), or the files of
    ``--features``, ``--edges`` and ``--labels``."""
    from graphclust.data import load_dataset, to_graph
    from graphclust.data.formats.plain import read_plain_files
    from graphclust.data.inputs import label_codes

    if args.features is None:
        if args.edges is not None or args.labels is not None:
            raise ValueError("--edges and --labels name files of your own graph: give its "
                             "features with --features too")
        return _graph_source(source_name(args), load_dataset(
            args.dataset or "digits", args.root, k=args.k, knn_method=args.knn_method))
    if args.dataset is not None or args.k is not None:
        raise ValueError("--features reads your own files: leave out --dataset and --k")
    x, edges, y = read_plain_files(args.features, args.edges, args.labels)
    name = source_name(args)
    if edges is not None:
        return _graph_source(name, to_graph(x, edges, y))
    codes = None if y is None else label_codes(y, x.shape[0]).numpy()
    classes = "" if codes is None else f", {int(codes.max()) + 1} classes"
    return Source(name, (x, codes), codes,
                  f"{x.shape[0]} rows, {x.shape[1]} features{classes}; no edge file: the "
                  "model builds a kNN graph of the rows")
