"""The ``graphclust`` command: fit, benchmark, list data sets, predict with a saved model.

::

    graphclust fit        [--dataset digits [--k K] | --features PATH [--edges PATH]
                          [--labels PATH]] [--model scgc-star] [--root DIR] [--seed 0]
                          [--device auto] [--threads N] [--knn-method M] [--save PATH]
                          [--out graphclust-runs] [--set key=value ...] [--overwrite]
                          [--no-baselines] [--quiet]
    graphclust bench      [--datasets a,b] [--features PATH [--edges PATH] [--labels PATH]]
                          --models m1,m2 [--seeds 3] [--root DIR]
                          [--out graphclust-bench] [--protocol final|paper|both]
                          [--device D] [--threads N] [--knn-method M]
                          [--embedding pca|tsne]
                          [--set key=value ...] [--no-baselines] [--quiet]
    graphclust datasets   [--root DIR]
    graphclust predict    --model PATH (--dataset NAME [--k K] | --features PATH
                          [--edges PATH] [--labels PATH]) [--root DIR] [--threads N]
                          [--knn-method M] [--out graphclust-runs] [--overwrite]

``--features`` reads a user's own files in place of a named data set (``bench``: beside
or in place of them; :mod:`graphclust.data.formats.plain`). With labels, ``fit`` prints the
best scores of the no-training baselines fitted on the same input beside the model's, and
``bench`` runs them beside the models (:mod:`graphclust.benchmark.baselines`;
``--no-baselines`` leaves them out). ``fit`` writes
``<out>/<input>-<model>-seed<seed>/labels.csv`` (``node,cluster``; the input is the data
set, with ``-k<K>``, or the features file's name) and ``run.json`` (the input, parameters,
scores, the baselines' scores, time, the batch size trained with: ``batch_size``,
``null`` for full batch; the start's length: ``start_length``, ``null`` where its held-out
edges taught the encoder nothing); ``predict`` writes
``<out>/<input>-predict-<model file stem>/labels.csv`` and ``run.json`` (the input, the
model file and its SHA-256, scores). Both refuse a folder whose ``run.json`` names another
input, another model file (``predict``) or other parameters (``fit``) unless
``--overwrite``. ``--set`` values are Python-like
literals: ``max_epochs=50``, ``lr=1e-4``, ``hidden_dims=256,64`` or ``[256,64]``,
``batch_size=None``, ``features=tfidf`` (a bare word is a string; ``none`` is the option
of that name where a parameter has one, ``features=none``, else ``None``).

``--knn-method`` (``auto``, ``exact``, ``approximate``) searches the kNN graphs built from
features: the digits data set's and the models' ``knn_method``; ``predict`` searches as
the model was fitted unless it is given.

``--threads N`` is the estimators' ``n_jobs``, one thread by default as theirs: on a 2-core
machine a second thread changed a fit's time by -5% to +17% with no other job started and
took 1.7-3x as long beside two CPU-bound jobs, on digits and on DBLP
(``benchmarks/results/threads.md``, ``threads_dblp.md``). The command sets
``OMP_WAIT_POLICY=PASSIVE`` (unless it is set already) before torch starts, so that with
``--threads -1`` (every core) idle OpenMP threads sleep instead of spinning on cores other
jobs need.

Exit codes: 0 success; 1 a benchmark run failed (the others completed) or an unexpected
error; 2 bad usage or input (unknown name, missing file, bad ``--set``); 130 interrupted.
Errors are one line on stderr; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence

from graphclust.cli.assignments import parse_assignment, split_names
from graphclust.cli.parser import build_parser
from graphclust.cli.sources import dataset_name

__all__ = ["main", "parse_assignment"]

# Errors whose message says what to change (bad input, a missing optional library, a
# graph too large for the memory: TrainingMemoryError is a MemoryError), not a bug.
_USER_ERRORS = (ValueError, TypeError, FileNotFoundError, NotADirectoryError,
                IsADirectoryError, PermissionError, FloatingPointError, ImportError,
                MemoryError)


def _end_on_next_interrupt() -> None:
    """After a first Ctrl-C the command only reports and exits: a second one meanwhile (or
    during interpreter shutdown) ends the process at once, instead of a traceback."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_DFL)


def _searches_knn(args) -> bool:
    """Whether ``fit`` or ``bench`` will build a kNN graph of features: for the digits
    data set (``fit``'s default where no data is named) or ``--features`` without
    ``--edges``. (``predict`` searches only for a model fitted on such a graph, which
    is known once the model file is read.)"""
    if args.command not in ("fit", "bench"):
        return False
    if args.features is not None and args.edges is None:
        return True
    if args.command == "fit":
        return args.features is None and dataset_name(args).lower() == "digits"
    return args.datasets is not None and "digits" in \
        [name.lower() for name in split_names(args.datasets, "--datasets")]


def _check_extras(args) -> None:
    """Refuse an option whose optional extra is missing before any data loads (the
    search would fail only once the features are read)."""
    if getattr(args, "knn_method", None) == "approximate" and _searches_knn(args):
        from graphclust.data.knn_approximate import ANN_EXTRA_HINT, has_ann

        if not has_ann():
            raise ImportError(f"--knn-method approximate needs faiss: {ANN_EXTRA_HINT}, "
                              "or search exactly (--knn-method exact)")


def _warning_line(command: str):
    """``warnings.showwarning`` for the command: one line on stderr under the command's
    name, as its errors are. Python's default names the frame that called ``fit``, here
    the console script's ``sys.exit(main())`` or ``<frozen runpy>`` under ``python -m``,
    and repeats that line of code beneath."""
    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        print(f"graphclust {command}: {category.__name__}: {text}",
              file=sys.stderr if file is None else file)
    return show


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``graphclust`` command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # Read once when the OpenMP runtime starts (torch's import, below in the handlers):
    # idle threads then sleep instead of spinning on cores other processes need. Where
    # torch has started, setting it would change nothing but the next call's default.
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        _check_extras(args)
        with warnings.catch_warnings():  # restores the caller's showwarning afterwards
            if not args.debug:
                warnings.showwarning = _warning_line(args.command)
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

