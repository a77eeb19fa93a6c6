"""What ``graphclust fit`` and ``predict`` cluster: a named data set, or a user's own files
(:mod:`graphclust.data.formats.plain`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # graphclust.data imports torch, which --help must not
    from graphclust.data.source import Source

__all__ = ["DEFAULT_DATASET", "dataset_name", "input_record", "own_files", "read_source",
           "source_name"]

DEFAULT_DATASET = "digits"  # embedded in scikit-learn: a first fit needs no download


def dataset_name(args) -> str:
    """``--dataset``, or the default data set where it is not given."""
    return args.dataset or DEFAULT_DATASET


def source_name(args) -> str:
    """The input's name in run folders: the data set's, with ``-k<K>`` for a chosen kNN
    graph (runs on two graphs of one data set keep separate folders), or the features
    file's stem."""
    if args.features is not None:
        return Path(args.features).stem.lower()
    return dataset_name(args).lower() + ("" if args.k is None else f"-k{args.k}")


def input_record(args) -> dict:
    """What run.json says was read: the data set (and its kNN graph), or the files. A run
    folder holding a run of another input is not replaced (``--overwrite`` aside). The
    data set's name is lowercased, as in the folder's name: Karate is karate."""
    if args.features is None:
        return {"dataset": dataset_name(args).lower(), "k": args.k}
    return {name: None if path is None else str(Path(path).resolve())
            for name, path in (("features", args.features), ("edges", args.edges),
                               ("labels", args.labels))}


def read_source(args) -> Source:
    """``--dataset`` (digits where neither it nor ``--features`` is given), or the files of
    ``--features``, ``--edges`` and ``--labels``."""
    from graphclust.data import load_dataset
    from graphclust.data.source import graph_source

    if args.features is not None and (args.dataset is not None or args.k is not None):
        raise ValueError("--features reads your own files: leave out --dataset and --k")
    own = own_files(args)
    if own is not None:
        return own
    return graph_source(source_name(args), load_dataset(
        dataset_name(args), args.root, k=args.k, knn_method=args.knn_method))


def own_files(args) -> Source | None:
    """The user's graph in the files of ``--features``, ``--edges`` and ``--labels``,
    named after the features file (without ``--edges``, a feature matrix whose kNN graph
    each model builds); ``None`` without ``--features``, where the other two are refused."""
    from graphclust.data import to_graph
    from graphclust.data.formats.plain import read_plain_files
    from graphclust.data.inputs import label_codes
    from graphclust.data.source import graph_source, matrix_source

    if args.features is None:
        if args.edges is not None or args.labels is not None:
            raise ValueError("--edges and --labels name files of your own graph: give its "
                             "features with --features too")
        return None
    x, edges, y = read_plain_files(args.features, args.edges, args.labels)
    name = source_name(args)
    if edges is not None:
        return graph_source(name, to_graph(x, edges, y))
    return matrix_source(name, x, None if y is None else label_codes(y, x.shape[0]).numpy())
