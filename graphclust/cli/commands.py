"""The subcommands: ``fit``, ``bench``, ``datasets``, ``predict``.

Each takes the parsed arguments and returns the exit code. Heavy modules (torch, the
estimators) are imported inside the handlers, so that ``graphclust --help`` stays fast.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shlex
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from graphclust.cli.assignments import parse_sets, split_names
from graphclust.cli.sources import input_record, own_files, read_source, source_name

if TYPE_CHECKING:
    from graphclust.data.source import Source

__all__ = ["bench", "datasets", "fit", "predict"]


def _write_labels(run_dir: Path, labels) -> None:
    """``run_dir/labels.csv``, after removing the folder's ``run.json``: until this run
    writes its own record, the folder must not pair new labels with an earlier run's
    record (a later run would take them as one run)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "run.json").unlink(missing_ok=True)
    with open(run_dir / "labels.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["node", "cluster"])
        writer.writerows(enumerate(labels.tolist()))


def _plural(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _print_scores(scores: dict) -> None:
    print("  ".join(f"{key.upper()} {scores[key]:.4f}" for key in ("acc", "nmi", "ari", "f1")))


def _training_details(estimator, iterations: str) -> list[str]:
    """How a model trained: the start it kept (``start_length_``), ``iterations`` and how
    it saw the graph (``batch_size_``); ``iterations`` alone for the baselines."""
    if not hasattr(estimator, "batch_size_"):
        return [iterations]
    start = ("a start that the edges taught nothing" if estimator.start_length_ is None
             else f"a start of {estimator.start_length_} steps" if estimator.start_length_
             else "no start")
    batches = ("full batch" if estimator.batch_size_ is None
               else f"batches of {estimator.batch_size_} seeds")
    return [start, iterations, batches]


def _writable_folder(run_dir: Path) -> list[Path]:
    """Create ``run_dir`` (``--out``'s run folder), or fail saying why it cannot be
    written; the folders this call created, ``run_dir`` and its new parents, deepest
    first."""
    created = [folder for folder in (run_dir, *run_dir.absolute().parents)
               if not folder.exists()]
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"--out: cannot create {run_dir} ({error.strerror})") from None
    if not os.access(run_dir, os.W_OK):
        raise ValueError(f"--out: cannot write into {run_dir}")
    return created


@contextmanager
def _removed_if_left_empty(created: list[Path]):
    """The folders this command created (deepest first) go again when the command fails
    before writing into them: a failed fit or predict leaves no empty folder behind."""
    try:
        yield
    except BaseException:
        for folder in created:
            if not folder.is_dir() or any(folder.iterdir()):
                break
            folder.rmdir()
        raise


def _run_record(run_dir: Path) -> dict | None:
    """The folder's ``run.json``, or ``None`` where it is missing or unreadable (nothing
    then says whose results the folder holds)."""
    try:
        record = json.loads((run_dir / "run.json").read_text())
    except (OSError, ValueError, RecursionError):  # RecursionError: nested too deep
        return None
    return record if isinstance(record, dict) else None


def _other_input(recorded: dict, current: dict) -> bool:
    """Whether a run record read another input than ``current`` (:func:`input_record`);
    a record that names no input of either kind says nothing."""
    if not any(key in recorded for key in ("dataset", "features")):
        return False
    recorded = {key: recorded.get(key) for key in current}
    if isinstance(recorded.get("dataset"), str):  # records before 2026-12-07 kept the case
        recorded["dataset"] = recorded["dataset"].lower()
    return recorded != current


def _check_outputs(run_dir: Path, save: str | None, params: dict, overwrite: bool,
                   source: dict) -> list[Path]:
    """Fail before fitting, not after, when a result could not be written or would
    overwrite another run's (another input ``source``, other parameters) unless
    ``overwrite``; the folders created for the run (:func:`_writable_folder`)."""
    if save is not None:
        folder = Path(save).resolve().parent
        if Path(save).is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK):
            raise ValueError(f"--save {save}: not a writable file path (its folder must "
                             "exist and be writable)")
    created = _writable_folder(run_dir)
    record = None if overwrite else _run_record(run_dir)
    if record is not None:
        recorded = record.get("params")
        if _other_input(record, source):
            raise ValueError(f"{run_dir} holds a run of another input; pass another --out, "
                             "or --overwrite to replace it")
        # --quiet (verbose) and --threads (n_jobs) are no model parameter: another run is
        # one with other parameters (a fit on other threads may move a few nodes, as a
        # float32 sum in another order does).
        current = json.loads(json.dumps(params, default=str))
        free = ("verbose", "n_jobs")
        if isinstance(recorded, dict) and {key: value for key, value in recorded.items()
                                           if key not in free} != \
                {key: value for key, value in current.items() if key not in free}:
            raise ValueError(
                f"{run_dir} holds a run with other parameters; pass another --out, or "
                "--overwrite to replace it"
            )
    return created


def fit(args) -> int:
    from graphclust.registry import build_estimator

    params = parse_sets(args.set)
    build_estimator(args.model, params)  # unknown model or parameter: fail before loading
    source = read_source(args)
    fixed = {"random_state": args.seed, "device": args.device, "verbose": not args.quiet,
             "n_jobs": args.threads, "knn_method": args.knn_method}
    if source.y is not None:
        fixed["n_clusters"] = int(source.y.max()) + 1
    elif "n_clusters" not in params:
        raise ValueError(f"{source.name} has no labels: give --set n_clusters=K")
    estimator = build_estimator(args.model, params, **fixed)
    run_dir = Path(args.out) / f"{source.name}-{args.model}-seed{args.seed}"
    record = input_record(args)
    created = _check_outputs(run_dir, args.save, estimator.get_params(deep=False),
                             args.overwrite, record)  # before the fit
    with _removed_if_left_empty(created):
        return _fit_and_write(args, source, record, estimator, run_dir)


def _fit_and_write(args, source: Source, record: dict, estimator, run_dir: Path) -> int:
    """Fit, print the scores, write the labels (and the model), then, with labels, fit
    the no-training baselines and print theirs; ``run.json`` last (a run that stops
    before it leaves its labels with no record, not beside an earlier run's)."""
    from graphclust.metrics import evaluate

    print(f"{source.name}: {source.description}")
    print(f"fitting {args.model} ({type(estimator).__name__}, "
          f"n_clusters={estimator.n_clusters}, seed {args.seed}) ...", flush=True)
    start = time.perf_counter()
    estimator.fit(*source.fit_args)
    seconds = time.perf_counter() - start
    labels = estimator.labels_
    scores = evaluate(source.y, labels) if source.y is not None else None
    if scores is not None:
        _print_scores(scores)
    epochs = getattr(estimator, "max_epochs", None)  # svd-kmeans has no training epochs
    iterations = (f"{estimator.n_iter_} k-means iterations" if epochs is None
                  else f"{estimator.n_iter_} of max_epochs={epochs} training epochs")
    print(f"time: {seconds:.1f} s on {estimator.device_} "
          f"({', '.join(_training_details(estimator, iterations))})")
    _write_labels(run_dir, labels)  # before the baselines: kept if they fail
    if args.save:
        estimator.save(args.save)
    baseline_scores = None
    if scores is not None and not args.no_baselines:
        baseline_scores = _against_baselines(source, args.model, estimator)
    summary = {**record, "model": args.model, "seed": args.seed,
               "scores": scores, "baselines": baseline_scores, "fit_seconds": seconds,
               "n_iter": estimator.n_iter_,
               "params": estimator.get_params(deep=False)}
    if hasattr(estimator, "batch_size_"):  # the batch trained with; null: full batch
        summary["batch_size"] = estimator.batch_size_
    if hasattr(estimator, "start_length_"):  # null: the edges taught the start nothing
        summary["start_length"] = estimator.start_length_
    (run_dir / "run.json").write_text(json.dumps(summary, indent=1, default=str))
    print(f"labels: {run_dir / 'labels.csv'}")
    if args.save:
        print(f"model saved: {args.save}")
    return 0


def _against_baselines(source: Source, model: str, estimator) -> dict | None:
    """Fit the no-training baselines on the graph the fitted ``estimator`` read, with its
    parameters that they take, and print the best of them beside its scores (and a line
    per score it loses); their scores, or ``None`` where ``model`` is itself one."""
    from graphclust.benchmark.baselines import BASELINE_MODELS
    from graphclust.benchmark.comparison import compare_with_baselines

    if model in BASELINE_MODELS:
        return None
    print("fitting the no-training baselines ...", flush=True)
    report = compare_with_baselines(estimator, *source.fit_args, name=source.name)
    for line in report.lines():
        print(line)
    return report.baselines


def bench(args) -> int:
    from graphclust.benchmark import run_benchmark
    from graphclust.benchmark.baselines import loss_lines

    params = parse_sets(args.set)
    if args.device is not None:
        params["device"] = args.device
    params["n_jobs"] = args.threads
    params["knn_method"] = args.knn_method
    results = run_benchmark(
        _bench_datasets(args), split_names(args.models, "--models"),
        args.seeds, root=args.root, out=args.out, protocol=args.protocol, params=params,
        progress=not args.quiet, embedding=args.embedding,
        command="graphclust " + shlex.join(args.argv), baselines=not args.no_baselines,
    )
    for entry in results.summary:
        cells = "  ".join(f"{m.upper()} {entry[f'{m}_mean']:.4f}±{entry[f'{m}_std']:.4f}"
                          for m in ("acc", "nmi", "ari", "f1"))
        print(f"{entry['dataset']:>12} {entry['model']:>18}  {cells}  "
              f"({_plural(entry['runs'], 'run')}, {entry['train_seconds_mean']:.1f} s/fit)")
    for line in loss_lines(results.comparisons):
        print(line)
    print(f"results: {results.out / 'results.md'}, {results.out / 'results.csv'}")
    for row in results.failures:
        print(f"graphclust bench: run failed: {row['dataset']} / {row['model']} / seed "
              f"{row['seed']}: {row['error']}", file=sys.stderr)
    if results.failures:
        print(f"graphclust bench: {len(results.failures)} of {len(results.rows)} runs failed "
              f"(tracebacks in {results.out / 'errors.log'})", file=sys.stderr)
        return 1
    return 0


def _bench_datasets(args) -> list:
    """``--datasets``' names, and the user's own graph where ``--features`` names it."""
    own = own_files(args)
    if own is None and args.datasets is None:
        raise ValueError("bench needs data: --datasets NAMES, --features PATH, or both")
    names = [] if args.datasets is None else split_names(args.datasets, "--datasets")
    return names + ([] if own is None else [own])


def datasets(args) -> int:
    from graphclust.data.datasets import data_root
    from graphclust.data.datasets import datasets as dataset_table

    rows = dataset_table(args.root)
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


def predict(args) -> int:
    from graphclust.io import load
    from graphclust.metrics import evaluate

    if args.dataset is None and args.features is None:
        raise ValueError("predict needs the nodes to cluster: --dataset NAME or --features "
                         "PATH")
    estimator = load(args.model)
    estimator.set_params(n_jobs=args.threads)
    if args.knn_method is not None:  # else the model's own, as fitted
        estimator.set_params(knn_method=args.knn_method)
    args.knn_method = estimator.knn_method  # digits' graph: searched as at fit, too
    if args.features is not None and args.edges is None and estimator._needs_given_graph():
        raise ValueError(f"{type(estimator).__name__} was fitted on a given graph and reads "
                         "the graph at inference: give the nodes' edges with --edges")
    run_dir = Path(args.out) / f"{source_name(args)}-predict-{Path(args.model).stem}"
    model = {"model": str(Path(args.model).resolve()), "model_sha256": _sha256(args.model)}
    record = input_record(args)
    created = _check_prediction_folder(run_dir, model, args.overwrite, record)  # before the work
    with _removed_if_left_empty(created):
        source = read_source(args)
        _check_graph_read(estimator, source, args)
        labels = _predicted(estimator, source, args)
    print(f"{source.name}: {source.description}; model {args.model} "
          f"({type(estimator).__name__}, {estimator.n_clusters} clusters)")
    scores = evaluate(source.y, labels) if source.y is not None else None
    if scores is not None:
        _print_scores(scores)
    _write_labels(run_dir, labels)
    (run_dir / "run.json").write_text(json.dumps(
        {**record, **model, "scores": scores}, indent=1))
    print(f"labels: {run_dir / 'labels.csv'}")
    return 0


def _check_graph_read(estimator, source: Source, args) -> None:
    """Refuse a graph (``--edges``, or a data set's own) for a model that reads the graph
    at inference and was fitted on a kNN graph it built of the features: it would read the
    given graph in place of the one it builds again (``compare_with_baselines`` refuses
    the same mismatch)."""
    if source.num_edges is not None and estimator._rebuilds_knn_graph():
        given = "leave out --edges" if args.edges is not None else \
            "give the data set's features with --features, without --edges"
        raise ValueError(f"{type(estimator).__name__} was fitted on a kNN graph it built of "
                         f"the features, and builds it again at inference: {given} (the "
                         "given graph would be read in place of that one)")


def _predicted(estimator, source: Source, args):
    """``estimator.predict`` on the source, whose width check (the estimator's own, before
    any kNN search or encoding) is said in the command's terms: its message ("X has 3
    features, but ... is expecting 5") names neither the model file nor the remedy."""
    from graphclust._checks import FeatureWidthError

    try:
        return estimator.predict(*source.predict_args)
    except FeatureWidthError as error:
        raise ValueError(
            f"{source.name} has {error.width} features a node, but {args.model} was fitted "
            f"on {error.expected}: give nodes with the feature columns the model was fitted "
            "on (the data set, or a --features file like the one given to fit)") from error


def _sha256(path) -> str:
    """The file's SHA-256, read in blocks (a model file can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_prediction_folder(run_dir: Path, model: dict, overwrite: bool,
                             source: dict) -> list[Path]:
    """Fail before predicting when ``run_dir`` cannot be written, or when its ``run.json``
    names another model file (two models of one file name share the folder) or another
    input ``source`` unless ``overwrite``. Labels without a readable record (written
    before predict kept one) are replaced, as ``fit`` replaces a run folder whose record
    it cannot read."""
    created = _writable_folder(run_dir)
    recorded = None if overwrite else _run_record(run_dir)
    if recorded is None:
        return created
    recorded_sha = recorded.get("model_sha256")
    if _other_input(recorded, source):
        raise ValueError(f"{run_dir} holds labels of another input; pass another --out, or "
                         "--overwrite to replace them")
    if isinstance(recorded_sha, str) and recorded_sha != model["model_sha256"]:
        raise ValueError(f"{run_dir} holds labels of another model file "
                         f"({recorded.get('model')}); pass another --out, or --overwrite to "
                         "replace them")
    return created
