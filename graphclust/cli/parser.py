"""The ``graphclust`` command's argument parser.

Built from names that import nothing heavy (:mod:`graphclust.registry`'s names,
:mod:`graphclust.benchmark.protocols`): ``--help`` must not import torch.
"""

from __future__ import annotations

import argparse

from graphclust.cli import commands
from graphclust.threads import MAX_THREADS

__all__ = ["build_parser"]


_KNN_METHODS = ("auto", "exact", "approximate")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not argparse's usage block
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _thread_count(text: str) -> int:
    """``--threads``: n_jobs' values, a count or -1 (every core); 0 threads cannot run."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value == 0:
        raise argparse.ArgumentTypeError("0 threads cannot run a fit; give a count, or -1 "
                                         "for every core")
    if value > MAX_THREADS:
        raise argparse.ArgumentTypeError(f"{value} is more than {MAX_THREADS} threads; give "
                                         f"a count up to the cores, or -1 for every core")
    return value


def build_parser() -> argparse.ArgumentParser:
    from graphclust import __version__
    from graphclust.benchmark.protocols import PROTOCOLS
    from graphclust.registry import MODEL_NAMES

    models = ", ".join(MODEL_NAMES)
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true",
                        help="show the full traceback on errors")
    data = _Parser(add_help=False)
    data.add_argument("--root", metavar="DIR",
                      help="data root (default: $GRAPHCLUST_DATA, else ~/.graphclust/data)")
    knn = _Parser(add_help=False)
    knn.add_argument("--knn-method", choices=_KNN_METHODS, default="auto",
                     help="search of kNN graphs built from features (digits' graph; the "
                          "models' knn_method): auto (exact up to 100,000 rows), exact or "
                          "approximate (needs the ann extra) (default: auto)")
    graph_k = _Parser(add_help=False)
    graph_k.add_argument("--k", type=int, metavar="K",
                         help="the K-nearest-neighbour graph to read: SDCN's "
                              "graph/<name><K>_graph.txt (usps, hhar, reut: 1, 3, 5 or 10 "
                              "as published) or digits' graph (default: the data set's own "
                              "graph)")
    own = _Parser(add_help=False)
    own.add_argument("--features", metavar="PATH",
                     help="your own graph (fit, predict: instead of --dataset; bench: "
                          "beside or instead of --datasets): a features file, .npy or text "
                          "(one row a line; .csv commas, .tsv tabs, else whitespace)")
    own.add_argument("--edges", metavar="PATH",
                     help="with --features: one edge a row, two 0-based node rows (.npy of "
                          "shape (E, 2), or 'i j' a line, '#' starting a comment); without "
                          "it the model builds a kNN graph of the rows")
    own.add_argument("--labels", metavar="PATH",
                     help="with --features: one label a row (.npy, or text), for the scores "
                          "and n_clusters")
    threads = _Parser(add_help=False)
    threads.add_argument("--threads", type=_thread_count, metavar="N", default=1,
                         help="CPU threads per fit, the estimators' n_jobs; -1: every core "
                              "(default: 1: on a 2-core machine two threads took 1.7-3x as "
                              "long beside other jobs and gained at most 5%% alone: "
                              "benchmarks/results/threads.md, threads_dblp.md)")

    parser = _Parser(prog="graphclust",
                     description="Self-supervised contrastive graph clustering.")
    parser.add_argument("--version", action="version", version=f"graphclust {__version__}")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fit = subcommands.add_parser(
        "fit", parents=[common, data, knn, graph_k, own, threads],
        help="cluster one data set and score it",
        description="Cluster one data set or your own files (n_clusters = the number of "
                    "classes, or --set n_clusters=K without labels), print ACC/NMI/ARI/F1 "
                    "and time, write the labels.")
    fit.add_argument("--dataset", help="data set name (default: digits, where --features "
                                       "does not name your own files)")
    fit.add_argument("--model", default="scgc-star", help=f"one of {models} (default: scgc-star)")
    fit.add_argument("--seed", type=int, default=0, help="random_state (default: 0)")
    fit.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ... (default: auto)")
    fit.add_argument("--save", metavar="PATH", help="save the fitted model to PATH")
    fit.add_argument("--out", default="graphclust-runs", metavar="DIR",
                     help="folder for labels.csv and run.json (default: ./graphclust-runs)")
    fit.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="estimator parameter, repeatable (e.g. --set max_epochs=50)")
    fit.add_argument("--overwrite", action="store_true",
                     help="replace a run folder that holds a run with other parameters")
    fit.add_argument("--no-baselines", action="store_true",
                     help="with labels, skip fitting the no-training baselines "
                          "(svd-kmeans at 0-3 propagation steps, degree-kmeans) whose best "
                          "scores are printed beside the model's")
    fit.add_argument("--quiet", action="store_true", help="no progress bar")
    fit.set_defaults(handler=commands.fit)

    bench = subcommands.add_parser(
        "bench", parents=[common, data, knn, own, threads],
        help="run a data set x model x seed grid",
        description="Fit every model on every data set with every seed, and the no-training "
                    "baselines beside them; write results.csv, results.md and plots, and say "
                    "where a trained model scores below the best baseline. A failing run is "
                    "recorded and the rest go on; the exit code is then 1.")
    bench.add_argument("--datasets", help="comma-separated data set names (with --features "
                                          "or instead of it)")
    bench.add_argument("--models", required=True, help=f"comma-separated, from {models}")
    bench.add_argument("--seeds", type=int, default=3, help="number of seeds 0..N-1 (default 3)")
    bench.add_argument("--out", default="graphclust-bench", metavar="DIR",
                       help="output folder; an earlier run's results and plots there are "
                            "replaced (default: ./graphclust-bench)")
    bench.add_argument("--protocol", choices=PROTOCOLS, default="final",
                       help="scores that results.md and the plots report: final (the "
                            "final model's, labels never used; the default), paper (each "
                            "metric's best epoch chosen with the labels, as the SCGC code "
                            "does: optimistic, only to compare with published tables) or both")
    bench.add_argument("--device", help="device for every model (default: the models' auto)")
    bench.add_argument("--embedding", choices=("pca", "tsne"), default="pca",
                       help="projection of the embedding plots (default: pca)")
    bench.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="parameter for the models that take it (one that no model "
                            "takes is an error), repeatable")
    bench.add_argument("--no-baselines", action="store_true",
                       help="leave out the no-training baselines that every table otherwise "
                            "carries (svd-kmeans at 0-3 propagation steps, degree-kmeans), "
                            "e.g. where another grid of the same table runs them")
    bench.add_argument("--quiet", action="store_true", help="no progress bar")
    bench.set_defaults(handler=commands.bench)

    listing = subcommands.add_parser(
        "datasets", parents=[common, data], help="list data sets and where they were found",
        description="Every known data set: published sizes, and where its files were found "
                    "or why it is unavailable.")
    listing.set_defaults(handler=commands.datasets)

    predict = subcommands.add_parser(
        "predict", parents=[common, data, graph_k, own, threads],
        help="cluster a data set with a saved model",
        description="Load a model saved by `graphclust fit --save` and predict the clusters "
                    "of a data set's nodes. A model reads the data set's graph where it read "
                    "one at fit: mpnn-vn and graph-transformer pass messages over it, "
                    "degree-kmeans reads the degrees, and svd-kmeans with propagation_steps "
                    "or scgc and scgc-star with propagation_steps or input_hops propagate "
                    "the features over it (with --features, give it with --edges, unless "
                    "the model built its own kNN graph of the features at fit, which it "
                    "builds again: it then takes --features alone, refusing --edges and a "
                    "data set's graph); the others read only the node features.")
    predict.add_argument("--model", required=True, metavar="PATH", help="saved model file")
    predict.add_argument("--dataset", help="data set name (or --features)")
    predict.add_argument("--knn-method", choices=_KNN_METHODS,
                         help="search of the kNN graph that a model fitted on one of the "
                              "features builds again (the model's knn_method), and of "
                              "digits' graph: auto, exact or approximate (needs the ann "
                              "extra) (default: the model's, as fitted)")
    predict.add_argument("--out", default="graphclust-runs", metavar="DIR",
                         help="folder for labels.csv and run.json (default: "
                              "./graphclust-runs)")
    predict.add_argument("--overwrite", action="store_true",
                         help="replace labels that another model file wrote there")
    predict.set_defaults(handler=commands.predict)
    return parser
