"""What every benchmark script shares: its common options and the header of its results.

A script is a module of this package, run from the repository root::

    python -m benchmarks.bench_speed --root ../shared/data

Common options (:func:`script_parser`): ``--root`` (data root), ``--out`` (results file),
``--datasets`` and ``--seeds`` where the script has them, ``--threads`` (torch CPU threads,
one unless the script measured with more) and ``--tiny``: the same code on a tiny graph
(karate, one seed, a few epochs) in seconds, so that ``tests/test_benchmark_scripts.py``
catches a broken script; its numbers mean nothing, and the scripts that time each size in a
fresh interpreter run it in their own process instead. Every results file starts with
:func:`results_header`: the command, the machine, the load average and the date.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import shlex
import subprocess
import sys
import tarfile
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path

from graphclust.benchmark import machine_info
from graphclust.benchmark.summaries import load_average

__all__ = ["LOAD_NOTE", "TINY_DATASET", "TINY_FIT", "export_package", "fit_params",
           "library_state",
           "load_average", "machine_info", "parse", "peak_rss_gib", "results_header",
           "run_module", "script_parser", "write_results"]

LOAD_NOTE = (
    "A load average above the number of cores means other jobs shared the CPU during the run; "
    "the timings are then pessimistic and vary between runs."
)
#: The data set of ``--tiny`` runs: 34 nodes, embedded in the package (no download).
TINY_DATASET = "karate"
#: What ``--tiny`` changes in an estimator: a few steps of start and of training.
TINY_FIT = {"max_epochs": 3, "pretrain_epochs": 2}
#: The default data root of the scripts: the shared data next to the checkout.
DATA_ROOT = "../shared/data"


def peak_rss_gib() -> float:
    """Peak resident memory of this process so far (its own: not its parent's, which
    ``ru_maxrss`` also holds)."""
    from graphclust.benchmark.measure import peak_resident_bytes

    return peak_resident_bytes() / 2**30


def library_state() -> str:
    """Commit of the checkout and any uncommitted change under graphclust/ (code in flux)."""
    root = Path(__file__).resolve().parents[1]

    def git(*arguments: str) -> str:
        completed = subprocess.run(["git", "-C", str(root), *arguments], capture_output=True,
                                   text=True)
        return completed.stdout.strip() if completed.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--", "graphclust").splitlines()
    return commit + (f" + {len(changed)} uncommitted file(s)" if changed else "")


def export_package(revision: str, folder: Path) -> None:
    """Write the ``graphclust`` package as it was at a git ``revision`` into ``folder``
    (put ``folder`` first on ``PYTHONPATH`` to import it: "before" rows of a timing)."""
    root = Path(__file__).resolve().parents[1]
    archive = subprocess.run(["git", "archive", revision, "graphclust"], cwd=root,
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def script_parser(doc: str, *, out: str | None, datasets: str | None = None,
                  seeds: int | None = None, root: bool = True,
                  threads: int = 1) -> argparse.ArgumentParser:
    """An argument parser with the options every script shares.

    Parameters
    ----------
    doc : str
        The script's docstring; its first line describes the script in ``--help``.
    out : str or None
        Default results file (relative to the working directory); ``None``: no ``--out``.
    datasets, seeds : optional
        Defaults of ``--datasets`` (comma-separated) and ``--seeds`` (a count); ``None``:
        the script has no such option.
    root : bool
        Whether the script reads data sets (``--root``).
    threads : int
        Default of ``--threads``; more than one only where results were measured so.
    """
    parser = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    if root:
        parser.add_argument("--root", default=DATA_ROOT,
                            help="data root (default: %(default)s)")
    if out is not None:
        parser.add_argument("--out", type=Path, default=Path(out),
                            help="where the results go (default: %(default)s)")
    if datasets is not None:
        parser.add_argument("--datasets", type=_names, default=_names(datasets),
                            help=f"comma-separated data set names (default: {datasets})")
    if seeds is not None:
        parser.add_argument("--seeds", type=int, default=seeds,
                            help="number of seeds 0..N-1 (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=threads,
                        help="torch CPU threads (default: %(default)s)")
    parser.add_argument("--tiny", action="store_true",
                        help=f"check the script in seconds ({TINY_DATASET}, one seed, a few "
                             "epochs); the numbers mean nothing")
    return parser


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None,
          module: str) -> argparse.Namespace:
    """Parse ``argv``, apply ``--tiny`` and ``--threads``, and record the command.

    ``args.command`` is the command line as run from the repository root (``python -m
    <module> ...``, after the thread variables the environment sets).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.tiny:
        if hasattr(args, "datasets"):
            args.datasets = [TINY_DATASET]
        if hasattr(args, "seeds"):
            args.seeds = 1
    import torch

    torch.set_num_threads(args.threads)
    environment = [f"{name}={os.environ[name]}" for name in ("OMP_NUM_THREADS",
                                                               "OMP_WAIT_POLICY")
                   if name in os.environ]
    args.command = shlex.join([*environment, "python", "-m", module, *argv])
    return args


def fit_params(args: argparse.Namespace) -> dict:
    """Estimator parameters the run's size sets: :data:`TINY_FIT` with ``--tiny``, else none."""
    return dict(TINY_FIT) if args.tiny else {}


def run_module(module: str, *arguments: str, fresh: bool = True,
               timeout_s: float | None = None) -> str:
    """Run ``python -m module arguments`` and return the last line it printed.

    ``fresh``: in a new interpreter, so that its peak memory and thread settings are its
    own; otherwise (``--tiny`` runs, which measure nothing and would spend seconds on
    torch's import) the module's ``main`` runs in this process. ``timeout_s``: a fresh
    run still going after that long is killed (``subprocess.TimeoutExpired``).
    """
    if not fresh:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            importlib.import_module(module).main(list(arguments))
        return printed.getvalue().strip().splitlines()[-1]
    completed = subprocess.run([sys.executable, "-m", module, *arguments],
                               capture_output=True, text=True, timeout=timeout_s)
    if completed.returncode != 0:
        raise RuntimeError(f"python -m {module} {shlex.join(arguments)} failed:\n"
                           f"{completed.stderr[-3000:]}")
    return completed.stdout.strip().splitlines()[-1]


def results_header(title: str, command: str, device: str = "cpu") -> list[str]:
    """Title, command, machine (with the date) and the load average, as markdown lines."""
    return [f"# {title}", "", f"Command: `{command}`", "",
            "| machine | |", "|---|---|",
            *(f"| {key} | {value} |" for key, value in machine_info(device).items()),
            f"| load average (1/5/15 min) at the end | {load_average()} |", "",
            LOAD_NOTE, ""]


def write_results(path: Path, lines: list[str]) -> None:
    """Write a results file (creating its folder) and say where."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).rstrip("\n") + "\n")
    print(f"wrote {path}")
