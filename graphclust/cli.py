"""The ``graphclust`` command: fit, benchmark, list data sets, predict with a saved model.

::

    graphclust fit        [--dataset digits] [--model scgc-star] [--root DIR] [--seed 0]
                          [--device auto] [--threads N] [--save PATH]
                          [--out graphclust-runs] [--set key=value ...] [--overwrite] [--quiet]
    graphclust bench      --datasets a,b --models m1,m2 [--seeds 3] [--root DIR]
                          [--out graphclust-bench] [--protocol final|paper|both]
                          [--device D] [--threads N] [--embedding pca|tsne]
                          [--set key=value ...] [--quiet]
    graphclust datasets   [--root DIR]
    graphclust predict    --model PATH --dataset NAME [--root DIR] [--threads N]
                          [--out graphclust-runs]

``fit`` writes ``<out>/<dataset>-<model>-seed<seed>/labels.csv`` (``node,cluster``) and
``run.json`` (parameters, scores, time); ``predict`` writes
``<out>/<dataset>-predict-<model file stem>/labels.csv``. ``--set`` values are Python-like
literals: ``max_epochs=50``, ``lr=1e-4``, ``hidden_dims=256,64`` or ``[256,64]``,
``batch_size=None``, ``features=tfidf`` (a bare word is a string).

``--threads N`` is the estimators' ``n_jobs``. The command sets ``OMP_WAIT_POLICY=PASSIVE``
(unless it is set already) before torch starts, so idle OpenMP threads sleep instead of
spinning; with that, every core (``--threads -1``, the command's default) was the fastest
on a quiet and on a busy machine (``benchmarks/results/threads.md``). The library's own
default is one thread, which holds whatever the wait policy.

Exit codes: 0 success; 1 a benchmark run failed (the others completed) or an unexpected
error; 2 bad usage or input (unknown name, missing file, bad ``--set``); 130 interrupted.
Errors are one line on stderr; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main", "parse_assignment"]

# Options that have their own flag: setting them through --set too would be ambiguous.
_FLAG_PARAMS = {"random_state": "--seed", "device": "--device", "verbose": "--quiet",
                "n_jobs": "--threads"}
_USER_ERRORS = (ValueError, TypeError, FileNotFoundError, NotADirectoryError,
                IsADirectoryError, PermissionError)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not argparse's usage block
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# ---------------------------------------------------------------------------- --set
def _literal(text: str):
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered in ("none", "null"):
            return None
        return text  # a bare word: a string such as features=tfidf
    if isinstance(value, list):
        value = tuple(value)  # the command line's spelling of a sequence
    return value


def _plain(value) -> bool:
    if isinstance(value, tuple):
        return all(_plain(item) for item in value)
    return value is None or isinstance(value, (bool, int, float, str))


def parse_assignment(text: str) -> tuple[str, object]:
    """Parse one ``--set key=value``.

    The value is read as a Python literal (``ast.literal_eval``): integers, floats,
    ``True``/``False``/``None`` (also ``true``/``false``/``none``/``null``), quoted strings,
    tuples and lists (returned as tuples, so ``hidden_dims=256,64`` and
    ``hidden_dims=[256,64]`` are the same); anything that is not a literal is a string.

    Raises
    ------
    ValueError
        No ``=``, an empty key or value, or a literal of another type (dict, set, ...).
    """
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key.isidentifier():
        raise ValueError(f"--set expects key=value with a parameter name as key, got {text!r}")
    if not raw:
        raise ValueError(f"--set {key}= has no value")
    value = _literal(raw)
    if not _plain(value):
        raise ValueError(
            f"--set {key}={raw}: expected a number, bool, None, string or a tuple of them, "
            f"got {type(value).__name__}"
        )
    return key, value


def _parse_sets(assignments: Sequence[str] | None) -> dict:
    params: dict = {}
    for text in assignments or ():
        key, value = parse_assignment(text)
        if key in params:
            raise ValueError(f"--set {key} given twice")
        if key in _FLAG_PARAMS:
            raise ValueError(f"--set {key}: use {_FLAG_PARAMS[key]} instead")
        params[key] = value
    return params


def _split_names(text: str, option: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ValueError(f"{option} needs at least one name, got {text!r}")
    return names


# ---------------------------------------------------------------------------- commands
def _write_labels(path: Path, labels) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["node", "cluster"])
        writer.writerows(enumerate(labels.tolist()))


def _plural(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _print_scores(scores: dict) -> None:
    print("  ".join(f"{key.upper()} {scores[key]:.4f}" for key in ("acc", "nmi", "ari", "f1")))


def _describe(graph) -> str:
    classes = "" if graph.y is None else f", {int(graph.y.max()) + 1} classes"
    return (f"{graph.num_nodes} nodes, {graph.edge_index.shape[1] // 2} edges, "
            f"{graph.x.shape[1]} features{classes}")


def _check_outputs(run_dir: Path, save: str | None, params: dict, overwrite: bool) -> None:
    """Fail before fitting, not after, when a result could not be written or would
    overwrite another run's (unless ``overwrite``)."""
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"--out: cannot create {run_dir} ({error.strerror})") from None
    if not os.access(run_dir, os.W_OK):
        raise ValueError(f"--out: cannot write into {run_dir}")
    previous = run_dir / "run.json"
    if previous.is_file() and not overwrite:
        try:
            recorded = json.loads(previous.read_text()).get("params")
        except (OSError, ValueError, AttributeError):
            recorded = None  # unreadable: nothing worth keeping
        # --quiet (verbose) changes no result; any other parameter makes another run.
        current = json.loads(json.dumps(params, default=str))
        if isinstance(recorded, dict) and {key: value for key, value in recorded.items()
                                           if key != "verbose"} != \
                {key: value for key, value in current.items() if key != "verbose"}:
            raise ValueError(
                f"{run_dir} holds a run with other parameters; pass another --out, or "
                "--overwrite to replace it"
            )
    if save is not None:
        folder = Path(save).resolve().parent
        if Path(save).is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK):
            raise ValueError(f"--save {save}: not a writable file path (its folder must "
                             "exist and be writable)")


def _fit(args) -> int:
    from graphclust.benchmark import build_estimator
    from graphclust.data import load_dataset
    from graphclust.metrics import evaluate

    params = _parse_sets(args.set)
    build_estimator(args.model, params)  # unknown model or parameter: fail before loading
    graph = load_dataset(args.dataset, args.root)
    fixed = {"random_state": args.seed, "device": args.device, "verbose": not args.quiet,
             "n_jobs": args.threads}
    if graph.y is not None:
        fixed["n_clusters"] = int(graph.y.max()) + 1
    elif "n_clusters" not in params:
        raise ValueError(f"{args.dataset} has no labels: give --set n_clusters=K")
    estimator = build_estimator(args.model, params, **fixed)
    run_dir = Path(args.out) / f"{args.dataset.lower()}-{args.model}-seed{args.seed}"
    _check_outputs(run_dir, args.save, estimator.get_params(deep=False),  # before the fit
                   args.overwrite)
    print(f"{args.dataset}: {_describe(graph)}")
    print(f"fitting {args.model} ({type(estimator).__name__}, "
          f"n_clusters={estimator.n_clusters}, seed {args.seed}) ...", flush=True)
    start = time.perf_counter()
    estimator.fit(graph)
    seconds = time.perf_counter() - start
    labels = estimator.labels_
    scores = evaluate(graph.y.numpy(), labels) if graph.y is not None else None
    if scores is not None:
        _print_scores(scores)
    epochs = getattr(estimator, "max_epochs", None)  # svd-kmeans has no training epochs
    iterations = (f"{estimator.n_iter_} k-means iterations" if epochs is None
                  else f"{estimator.n_iter_} of max_epochs={epochs} training epochs")
    print(f"time: {seconds:.1f} s on {estimator.device_} ({iterations})")

    _write_labels(run_dir / "labels.csv", labels)
    summary = {"dataset": args.dataset, "model": args.model, "seed": args.seed,
               "scores": scores, "fit_seconds": seconds, "n_iter": estimator.n_iter_,
               "params": estimator.get_params(deep=False)}
    (run_dir / "run.json").write_text(json.dumps(summary, indent=1, default=str))
    print(f"labels: {run_dir / 'labels.csv'}")
    if args.save:
        estimator.save(args.save)
        print(f"model saved: {args.save}")
    return 0


def _bench(args) -> int:
    from graphclust.benchmark import run_benchmark

    params = _parse_sets(args.set)
    if args.device is not None:
        params["device"] = args.device
    params["n_jobs"] = args.threads
    results = run_benchmark(
        _split_names(args.datasets, "--datasets"), _split_names(args.models, "--models"),
        args.seeds, root=args.root, out=args.out, protocol=args.protocol, params=params,
        progress=not args.quiet, embedding=args.embedding,
        command="graphclust " + shlex.join(args.argv),
    )
    for entry in results.summary:
        cells = "  ".join(f"{m.upper()} {entry[f'{m}_mean']:.4f}±{entry[f'{m}_std']:.4f}"
                          for m in ("acc", "nmi", "ari", "f1"))
        print(f"{entry['dataset']:>12} {entry['model']:>18}  {cells}  "
              f"({_plural(entry['runs'], 'run')}, {entry['train_seconds_mean']:.1f} s/fit)")
    print(f"results: {results.out / 'results.md'}, {results.out / 'results.csv'}")
    for row in results.failures:
        print(f"graphclust bench: run failed: {row['dataset']} / {row['model']} / seed "
              f"{row['seed']}: {row['error']}", file=sys.stderr)
    if results.failures:
        print(f"graphclust bench: {len(results.failures)} of {len(results.rows)} runs failed "
              f"(tracebacks in {results.out / 'errors.log'})", file=sys.stderr)
        return 1
    return 0


def _datasets(args) -> int:
    from graphclust.data import datasets
    from graphclust.data.datasets import data_root

    rows = datasets(args.root)
    print(f"data root: {data_root(args.root)}")
    header = ("name", "layout", "nodes", "features", "classes", "status")
    table = [header]
    for row in rows:
        name = row["name"] + (f" ({', '.join(row['aliases'])})" if row["aliases"] else "")
        if row["layout"] == "embedded":
            status = "available (embedded)"
        elif row["available"]:
            status = f"available: {row['path']}"
        else:
            status = f"absent: {row['reason']}"
        table.append((name, row["layout"], *(("?" if row[key] is None else str(row[key]))
                                             for key in ("nodes", "features", "classes")),
                      status))
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    widths[-1] = 0  # the status is last: no padding after it
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
    return 0


def _predict(args) -> int:
    from graphclust.data import load_dataset
    from graphclust.io import load
    from graphclust.metrics import evaluate

    estimator = load(args.model)
    estimator.set_params(n_jobs=args.threads)
    graph = load_dataset(args.dataset, args.root)
    labels = estimator.predict(graph)
    print(f"{args.dataset}: {_describe(graph)}; model {args.model} "
          f"({type(estimator).__name__}, {estimator.n_clusters} clusters)")
    if graph.y is not None:
        _print_scores(evaluate(graph.y.numpy(), labels))
    path = (Path(args.out) / f"{args.dataset.lower()}-predict-{Path(args.model).stem}"
            / "labels.csv")
    _write_labels(path, labels)
    print(f"labels: {path}")
    return 0


# ---------------------------------------------------------------------------- parser
def _parser() -> argparse.ArgumentParser:
    # Names from graphclust.names, not from the registry: --help must not import torch.
    from graphclust import __version__
    from graphclust.names import MODEL_NAMES, PROTOCOLS

    models = ", ".join(MODEL_NAMES)
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true",
                        help="show the full traceback on errors")
    data = _Parser(add_help=False)
    data.add_argument("--root", metavar="DIR",
                      help="data root (default: $GRAPHCLUST_DATA, else ~/.graphclust/data)")
    threads = _Parser(add_help=False)
    threads.add_argument("--threads", type=int, metavar="N",
                         help="CPU threads per fit, the estimators' n_jobs (default: -1, "
                              "every core, as idle threads sleep: this command sets "
                              "OMP_WAIT_POLICY=PASSIVE; 1 where torch started before it)")

    parser = _Parser(prog="graphclust",
                     description="Self-supervised contrastive graph clustering.")
    parser.add_argument("--version", action="version", version=f"graphclust {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fit = commands.add_parser(
        "fit", parents=[common, data, threads], help="cluster one data set and score it",
        description="Cluster one data set (n_clusters = its number of classes), print "
                    "ACC/NMI/ARI/F1 and time, write the labels.")
    fit.add_argument("--dataset", default="digits", help="data set name (default: digits)")
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
    fit.add_argument("--quiet", action="store_true", help="no progress bar")
    fit.set_defaults(handler=_fit)

    bench = commands.add_parser(
        "bench", parents=[common, data, threads], help="run a data set x model x seed grid",
        description="Fit every model on every data set with every seed; write results.csv, "
                    "results.md and plots. A failing run is recorded and the rest go on; the "
                    "exit code is then 1.")
    bench.add_argument("--datasets", required=True, help="comma-separated data set names")
    bench.add_argument("--models", required=True, help=f"comma-separated, from {models}")
    bench.add_argument("--seeds", type=int, default=3, help="number of seeds 0..N-1 (default 3)")
    bench.add_argument("--out", default="graphclust-bench", metavar="DIR",
                       help="output folder (default: ./graphclust-bench)")
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
    bench.add_argument("--quiet", action="store_true", help="no progress bar")
    bench.set_defaults(handler=_bench)

    listing = commands.add_parser(
        "datasets", parents=[common, data], help="list data sets and where they were found",
        description="Every known data set: published sizes, and where its files were found "
                    "or why it is unavailable.")
    listing.set_defaults(handler=_datasets)

    predict = commands.add_parser(
        "predict", parents=[common, data, threads], help="cluster a data set with a saved model",
        description="Load a model saved by `graphclust fit --save` and predict the clusters "
                    "of a data set's nodes. scgc, scgc-star and svd-kmeans read only the node "
                    "features; mpnn-vn and graph-transformer pass messages over the data "
                    "set's graph.")
    predict.add_argument("--model", required=True, metavar="PATH", help="saved model file")
    predict.add_argument("--dataset", required=True, help="data set name")
    predict.add_argument("--out", default="graphclust-runs", metavar="DIR",
                         help="folder for labels.csv (default: ./graphclust-runs)")
    predict.set_defaults(handler=_predict)
    return parser


def _end_on_next_interrupt() -> None:
    """After a first Ctrl-C the command only reports and exits: a second one meanwhile (or
    during interpreter shutdown) ends the process at once, instead of a traceback."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_DFL)


def _default_threads(policy_given: bool) -> int:
    """Every core when idle threads sleep, else one (the library's default).

    With the OpenMP runtime's own wait policy, threads spin at every barrier and two of
    them took six times as long as one on a busy machine (``threads.md``). The policy
    holds only if it was in the environment before torch started: when ``main`` runs in
    a process that imported torch already (tests, notebooks), only a policy the caller
    set counts.
    """
    passive = os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE"
    started_before = "torch" in sys.modules and not policy_given
    return -1 if passive and not started_before else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``graphclust`` command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # Read once when the OpenMP runtime starts (torch's import, below in the handlers):
    # idle threads then sleep instead of spinning on cores other processes need.
    policy_given = "OMP_WAIT_POLICY" in os.environ
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    args = _parser().parse_args(argv)
    if getattr(args, "threads", 0) is None:
        args.threads = _default_threads(policy_given)
    args.argv = argv
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        _end_on_next_interrupt()
        print("graphclust: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if args.debug:
            raise
        message = " ".join(str(error).split()) or type(error).__name__
        if isinstance(error, _USER_ERRORS):
            print(f"graphclust {args.command}: error: {message}", file=sys.stderr)
            return 2
        print(f"graphclust {args.command}: unexpected {type(error).__name__}: {message} "
              "(rerun with --debug for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
