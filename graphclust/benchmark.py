"""Benchmark runner: every (data set, model, seed), scored, timed and written to disk.

:func:`run_benchmark` fits each registered model (any name in :data:`graphclust.MODELS`)
on each data set with each seed, with ``n_clusters`` set to the number of classes, and
records per run:

* ``acc``, ``nmi``, ``ari``, ``f1``: scores of the **final model**
  (``predict`` on the training graph). Labels are never used for training or stopping,
  so these are honest unsupervised scores.
* ``paper_acc`` ... ``paper_f1`` (``protocol="paper"`` or ``"both"``): the **paper
  protocol** of the SCGC/SDCN code, for comparison with published tables only: for each
  metric separately, the best value over the training epochs in ``history_``. Choosing the
  epoch with the labels is **optimistic** (an oracle no user has) and mixes epochs across
  metrics.
* ``train_seconds`` (wall time of ``fit``: feature transform, pre-training, k-means start,
  training), ``predict_seconds`` (wall time of ``predict`` on all nodes).
* memory: ``peak_rss_mib``, the peak resident set size of this process while the run fit
  and predicted, sampled every 10 ms in a background thread (short spikes between samples
  can be missed; it includes the Python interpreter, torch and the loaded data set), and
  ``peak_rss_increase_mib``, that peak minus the resident size when the run started
  (the memory the run itself added). On CUDA, ``peak_cuda_mib`` is
  ``torch.cuda.max_memory_allocated`` during the run (tensors only, exact).
* ``parameters`` (learned numbers: :func:`count_parameters`), ``n_iter`` (training
  epochs run), graph sizes, the device and the estimator's
  parameters as JSON.

A run that raises is recorded (``status="failed"``, the error in ``error``, the
traceback in ``errors.log``) and the grid goes on. With ``out`` the runner writes
``results.csv`` (one row per run, rewritten after each run so partial results survive an
interruption), ``results.md`` (mean ± std per data set x model, the command, machine
and date) and PNG plots in ``plots/`` (:mod:`graphclust.plotting`).
"""

from __future__ import annotations

import csv
import datetime
import inspect
import json
import math
import os
import platform
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from graphclust.data.datasets import datasets as dataset_table
from graphclust.data.datasets import load_dataset
from graphclust.estimators import MODELS
from graphclust.metrics import evaluate
from graphclust.names import PROTOCOLS

__all__ = [
    "METRICS",
    "PROTOCOLS",
    "BenchmarkResults",
    "build_estimator",
    "count_parameters",
    "machine_info",
    "model_params",
    "run_benchmark",
    "summarize",
]

METRICS = ("acc", "nmi", "ari", "f1")
_METRIC_NAMES = {"acc": "ACC", "nmi": "NMI", "ari": "ARI", "f1": "F1"}
_COLUMNS = (
    "dataset", "model", "seed", "status", *METRICS, *(f"paper_{m}" for m in METRICS),
    "train_seconds", "predict_seconds", "peak_rss_mib", "peak_rss_increase_mib",
    "peak_cuda_mib", "parameters", "n_iter", "nodes", "edges", "n_clusters", "device",
    "params", "error",
)


# ---------------------------------------------------------------------------- estimators
def _check_value(model: str, key: str, value, default, none_allowed: bool = False) -> None:
    """Reject a value whose type cannot be what the parameter's default is.

    Ranges are the estimator's to check (at ``fit``); this catches ``--set lr=fast`` or
    ``max_epochs=2.5`` before any work starts. A ``None`` default accepts anything;
    ``None`` is accepted where the signature allows it (``none_allowed``, e.g.
    ``start_whitening=None`` turns it off); an ``"auto"`` default also accepts a number
    (``pretrain_lr``, ``pretrain_weight_decay``).
    """
    if default is None or (value is None and none_allowed):
        return
    is_number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, bool)
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = is_number
    elif isinstance(default, str):
        ok = isinstance(value, str) or (default == "auto" and is_number)
    elif isinstance(default, (tuple, list)):
        ok = isinstance(value, (tuple, list, int)) and not isinstance(value, bool)
    else:
        ok = True
    if not ok:
        raise ValueError(
            f"{model}: {key}={value!r} has type {type(value).__name__}, expected a value "
            f"like the default {key}={default!r}"
        )


def count_parameters(estimator) -> int:
    """Learned numbers of a fitted estimator: its torch modules' parameters plus fitted
    tensors stored directly on it (e.g. :class:`SVDKMeans`' ``components_``)."""
    total = 0
    for name, value in vars(estimator).items():
        if isinstance(value, torch.nn.Module):
            total += sum(p.numel() for p in value.parameters())
        elif isinstance(value, torch.Tensor) and name.endswith("_"):
            total += value.numel()
    return total


def build_estimator(model: str, params: Mapping | None = None, **fixed):
    """A registered estimator by name with validated parameter overrides.

    Parameters
    ----------
    model : str
        A key of :data:`graphclust.MODELS` (``"scgc"``, ``"scgc-star"``, ...).
    params : mapping, optional
        Parameter overrides; keys must be among the estimator's ``get_params()`` and
        values of the type of the default (ranges are checked by ``fit``).
    **fixed
        Further parameters set by the caller (e.g. ``n_clusters``, ``random_state``);
        ``params`` wins over them.

    Raises
    ------
    ValueError
        Unknown model name, unknown parameter or a value of the wrong type.
    """
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; registered: {', '.join(MODELS)}")
    defaults = MODELS[model]().get_params(deep=False)
    merged = {**fixed, **(params or {})}
    for key, value in merged.items():
        if key not in defaults:
            raise ValueError(
                f"{model} has no parameter {key!r}; parameters: {', '.join(sorted(defaults))}"
            )
        _check_value(model, key, value, defaults[key], _allows_none(MODELS[model], key))
    return MODELS[model](**merged)


def model_params(models: Sequence[str], params: Mapping) -> dict[str, dict]:
    """Each model's share of ``params``: the keys it takes, type-checked.

    ``max_epochs`` then reaches the contrastive models of a grid and not ``svd-kmeans``,
    which has no such parameter. A key that no model takes is an error, so a misspelt
    parameter never goes unused silently.

    Raises
    ------
    ValueError
        Unknown model, a key no model takes, or a value of the wrong type.
    """
    shares = {}
    for model in models:
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}; registered: {', '.join(MODELS)}")
        accepted = MODELS[model]().get_params(deep=False)
        shares[model] = {key: value for key, value in params.items() if key in accepted}
        build_estimator(model, shares[model])
    unused = sorted(set(params) - {key for share in shares.values() for key in share})
    if unused:
        raise ValueError(f"no model of the grid takes it: {' / '.join(models)} has no "
                         f"parameter {', '.join(map(repr, unused))}")
    return shares


def _allows_none(estimator: type, key: str) -> bool:
    """Whether ``key``'s annotation in the estimator's ``__init__`` names ``None``."""
    annotation = inspect.signature(estimator).parameters[key].annotation
    return "None" in (annotation if isinstance(annotation, str) else repr(annotation))


# ---------------------------------------------------------------------------- measuring
class _PeakMemory:
    """Peak resident memory (and CUDA memory) of this process while the block runs."""

    def __init__(self, device: torch.device, interval: float = 0.01) -> None:
        import psutil

        self._process = psutil.Process()
        self._device = device
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> _PeakMemory:
        self.start = self.peak = self._process.memory_info().rss
        if self._device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self._device)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)
        self.cuda_peak = (torch.cuda.max_memory_allocated(self._device)
                          if self._device.type == "cuda" else None)


def _paper_scores(history: Sequence[Mapping]) -> dict[str, float]:
    """Per-metric best over training epochs (the optimistic paper protocol)."""
    epochs = [entry for entry in history if entry.get("phase") == "train" and "acc" in entry]
    if not epochs:
        return {f"paper_{m}": math.nan for m in METRICS}
    return {f"paper_{m}": max(entry[m] for entry in epochs) for m in METRICS}


def _resolved_device(estimator) -> torch.device:
    from graphclust.estimators.base import resolve_device

    return resolve_device(estimator.get_params()["device"])


# ---------------------------------------------------------------------------- summaries
def summarize(rows: Iterable[Mapping], keys: Sequence[str] = METRICS) -> list[dict]:
    """Mean and standard deviation of ``keys`` per (data set, model) over successful runs.

    The standard deviation is the population one (``numpy.std``, ``ddof=0``), as in the
    SDCN/SCGC tables. Groups keep the order in which they first appear.

    Returns
    -------
    list of dict
        ``dataset``, ``model``, ``runs`` and ``<key>_mean``, ``<key>_std`` per key.
    """
    groups: dict[tuple[str, str], list[Mapping]] = {}
    for row in rows:
        if row["status"] == "ok":
            groups.setdefault((row["dataset"], row["model"]), []).append(row)
    summary = []
    for (dataset, model), members in groups.items():
        entry = {"dataset": dataset, "model": model, "runs": len(members)}
        for key in keys:
            values = np.array([float(row[key]) for row in members], dtype=np.float64)
            entry[f"{key}_mean"] = float(values.mean())
            entry[f"{key}_std"] = float(values.std())
        summary.append(entry)
    return summary


def machine_info(device: str | torch.device = "cpu") -> dict[str, str]:
    """CPU model, cores, RAM, torch version, threads, device and date (for results headers)."""
    import psutil

    cpu = platform.processor() or platform.machine()
    if Path("/proc/cpuinfo").is_file():
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo
                        if line.startswith("model name")), cpu)
    device = torch.device(device)
    described = str(device)
    if device.type == "cuda":
        described += f" ({torch.cuda.get_device_name(device)})"
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "RAM": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "torch": torch.__version__,
        "torch threads": str(torch.get_num_threads()),
        "device": described,
        "Python": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


# ---------------------------------------------------------------------------- results
@dataclass
class BenchmarkResults:
    """What :func:`run_benchmark` did.

    Attributes
    ----------
    rows : list of dict
        One per run, keys as the columns of ``results.csv``.
    summary : list of dict
        :func:`summarize` of the final-model (and, with the paper protocol, ``paper_``)
        scores and timings.
    out : pathlib.Path or None
        Output folder, when files were written.
    files : list of pathlib.Path
        Files written (csv, markdown, error log, plots).
    """

    rows: list[dict]
    summary: list[dict]
    out: Path | None = None
    files: list[Path] = field(default_factory=list)

    @property
    def failures(self) -> list[dict]:
        """The rows of runs that raised."""
        return [row for row in self.rows if row["status"] == "failed"]


def _format_cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _write_csv(rows: Sequence[Mapping], path: Path) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: _format_cell(row.get(key)) for key in _COLUMNS})


def _table(summary: Sequence[Mapping], keys: Sequence[str], headers: Sequence[str],
           digits: Sequence[int]) -> list[str]:
    lines = ["| data set | model | runs | " + " | ".join(headers) + " |",
             "|---|---|---:|" + "---:|" * len(keys)]
    for entry in summary:
        cells = [f"{entry[f'{key}_mean']:.{d}f} ± {entry[f'{key}_std']:.{d}f}"
                 for key, d in zip(keys, digits, strict=True)]
        lines.append(f"| {entry['dataset']} | {entry['model']} | {entry['runs']} | "
                     + " | ".join(cells) + " |")
    return lines


def _write_markdown(results: BenchmarkResults, path: Path, *, protocol: str, command: str,
                    machine: Mapping[str, str], seeds: Sequence[int],
                    plots: Sequence[Path]) -> None:
    lines = ["# graphclust benchmark results", "",
             "Command:", "", "```", command, "```", "",
             "| machine | |", "|---|---|",
             *(f"| {key} | {value} |" for key, value in machine.items()), "",
             f"Seeds: {', '.join(map(str, seeds))}. `n_clusters` = number of classes. "
             "Mean ± standard deviation (ddof=0) over successful runs; one row per run in "
             "`results.csv`.", ""]
    metric_keys = list(METRICS)
    metric_headers = [_METRIC_NAMES[m] for m in METRICS]
    cost_keys = ["train_seconds", "predict_seconds", "peak_rss_increase_mib", "parameters",
                 "n_iter"]
    cost_headers = ["train s", "predict s", "peak RSS increase MiB", "parameters", "epochs"]
    if protocol in ("final", "both"):
        lines += ["## Final model", "",
                  "Scores of the model at the end of training (`predict` on all nodes); "
                  "labels are used for scoring only.", "",
                  *_table(results.summary, metric_keys + cost_keys, metric_headers
                          + cost_headers, [4, 4, 4, 4, 2, 3, 0, 0, 1]), ""]
    if protocol in ("paper", "both"):
        paper_keys = [f"paper_{m}" for m in METRICS]
        lines += ["## Paper protocol (optimistic)", "",
                  "For comparison with published tables only: for each metric separately, "
                  "the best training epoch chosen with the labels, as in the SCGC/SDCN code. "
                  "No user can pick epochs this way; these numbers overstate what the method "
                  "delivers.", "",
                  *_table(results.summary, paper_keys, metric_headers, [4] * 4), ""]
    if results.failures:
        lines += ["## Failed runs", ""]
        lines += [f"- {row['dataset']} / {row['model']} / seed {row['seed']}: {row['error']}"
                  for row in results.failures]
        lines += ["", "Tracebacks: `errors.log`.", ""]
    if plots:
        lines += ["## Plots", ""]
        lines += [f"![{plot.stem}]({plot.relative_to(path.parent).as_posix()})"
                  for plot in plots]
        lines.append("")
    path.write_text("\n".join(lines))


def _write_plots(out: Path, results: BenchmarkResults, protocol: str,
                 first_fits: Mapping[tuple[str, str], dict], embedding: str) -> list[Path]:
    from graphclust.plotting import plot_embedding, plot_metric_bars, plot_training_curves

    folder = out / "plots"
    folder.mkdir(exist_ok=True)
    written = []

    def save(figure, name: str) -> None:
        path = folder / name
        figure.savefig(path, dpi=110)
        written.append(path)

    if results.summary:
        if protocol in ("final", "both"):
            save(plot_metric_bars(results.summary, title="Final model"), "scores-final.png")
        if protocol in ("paper", "both"):
            save(plot_metric_bars(results.summary, metrics=[f"paper_{m}" for m in METRICS],
                                  title="Paper protocol (optimistic best epochs)"),
                 "scores-paper.png")
    for (dataset, model), fit in first_fits.items():
        label = f"{dataset} / {model} / seed {fit['seed']}"
        if fit["history"]:
            save(plot_training_curves(fit["history"], title=label),
                 f"curves-{dataset}-{model}.png")
        save(plot_embedding(fit["embedding"], fit["clusters"], classes=fit["classes"],
                            method=embedding, title=label, random_state=fit["seed"]),
             f"embedding-{dataset}-{model}.png")
    return written


def _seed_list(seeds) -> list[int]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds must be >= 1 (the number of seeds), got {seeds}")
        return list(range(int(seeds)))
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise TypeError(f"seeds must be an int (count) or a sequence of ints, got {seeds!r}")
    seeds = list(seeds)
    if not seeds or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool)
                            for s in seeds):
        raise ValueError(f"seeds must be a non-empty sequence of ints, got {seeds!r}")
    return [int(s) for s in seeds]


def _name_list(kind: str, names) -> list[str]:
    if isinstance(names, str):
        names = [names]
    names = list(names)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"{kind} must be a non-empty list of names, got {names!r}")
    return names


def run_benchmark(
    datasets: str | Sequence[str],
    models: str | Sequence[str],
    seeds: int | Sequence[int] = 3,
    root: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    protocol: str = "final",
    params: Mapping | None = None,
    progress: bool = True,
    *,
    embedding: str = "pca",
    command: str | None = None,
) -> BenchmarkResults:
    """Fit every model on every data set with every seed; score, time and write results.

    Parameters
    ----------
    datasets : str or sequence of str
        Names for :func:`graphclust.load_dataset`. An unknown name is an error before
        anything runs; a data set whose files are missing fails its runs (recorded).
    models : str or sequence of str
        Keys of :data:`graphclust.MODELS`.
    seeds : int or sequence of int, default=3
        A count ``N`` (seeds ``0..N-1``) or explicit seeds; each is the estimator's
        ``random_state``.
    root : str or path-like, optional
        Data root (see :func:`graphclust.load_dataset`).
    out : str or path-like, optional
        Folder for ``results.csv``, ``results.md``, ``errors.log`` (when a run failed) and
        ``plots/``; created if needed. ``None`` writes nothing.
    protocol : {"final", "paper", "both"}, default="final"
        Which scores the markdown and plots report; see the module docstring. The csv
        always has the final-model scores, and the ``paper_`` columns unless
        ``protocol="final"``.
    params : mapping, optional
        Parameter overrides (e.g. ``{"max_epochs": 50}``), each given to the models that
        take it (see :func:`model_params`; a key no model takes is an error), checked
        before anything runs. ``n_clusters`` here replaces the number of classes.
    progress : bool, default=True
        A tqdm bar over runs (on stderr) and, when stderr is a terminal, the current
        run's own bars below it (start and training epochs; ``verbose=True``), so a long
        first fit is seen to move. Redirected to a file or pipe, only the bar over runs is
        written, so logs are not filled with the epochs.
    embedding : {"pca", "tsne"}, default="pca"
        Projection used for the embedding pictures (first seed of each data set x model).
    command : str, optional
        The command line to record in ``results.md``; defaults to this call's Python form.

    Returns
    -------
    BenchmarkResults
        Rows (one per run, failed runs included), summary, and the files written.

    Raises
    ------
    ValueError
        Unknown data set or model name, unknown parameter or wrongly typed value, bad
        ``protocol`` or ``seeds``. Errors *during* a run never raise: they are recorded.

    Examples
    --------
    >>> results = run_benchmark(["karate"], ["scgc-star"], seeds=2, out=None,
    ...                         params={"max_epochs": 5, "pretrain_epochs": 2},
    ...                         progress=False)
    >>> [row["status"] for row in results.rows]
    ['ok', 'ok']
    """
    datasets = _name_list("datasets", datasets)
    models = _name_list("models", models)
    seeds = _seed_list(seeds)
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    if embedding not in ("pca", "tsne"):
        raise ValueError(f"embedding must be 'pca' or 'tsne', got {embedding!r}")
    shares = model_params(models, dict(params or {}))
    known = {name for row in dataset_table(root) for name in [row["name"], *row["aliases"]]}
    unknown = [name for name in datasets if name.lower() not in known]
    if unknown:
        raise ValueError(
            f"unknown data set(s) {', '.join(map(repr, unknown))}; known: "
            f"{', '.join(sorted(known))}"
        )
    if command is None:
        command = (f"run_benchmark({datasets!r}, {models!r}, seeds={seeds!r}, "
                   f"protocol={protocol!r}, params={dict(params or {})!r})")
    out = None if out is None else Path(out)
    if out is not None:  # before any run, so that no work is lost to an unusable folder
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ValueError(f"out: cannot create {out} ({error.strerror})") from None

    results = BenchmarkResults(rows=[], summary=[], out=out)
    tracebacks: list[str] = []
    first_fits: dict[tuple[str, str], dict] = {}
    graphs: dict[str, object] = {}  # a loaded graph, or the error loading it raised
    grid = [(d, m, s) for d in datasets for m in models for s in seeds]
    from tqdm.auto import tqdm

    bar = tqdm(grid, desc="bench", unit="run", disable=not progress, dynamic_ncols=True)
    # The estimators' own bars nest below this one (tqdm places them); only on a terminal.
    inner_bars = progress and sys.stderr.isatty() and "verbose" not in params
    devices_used = set()
    for dataset, model, seed in bar:
        bar.set_postfix_str(f"{dataset} {model} seed {seed}")
        row = {"dataset": dataset, "model": model, "seed": seed, "status": "failed",
               "params": json.dumps(shares[model], default=str)}
        try:
            if dataset not in graphs:
                try:
                    graphs[dataset] = load_dataset(dataset, root)
                except Exception as error:  # load once: every run of this data set fails
                    graphs[dataset] = error
            graph = graphs[dataset]
            if isinstance(graph, Exception):
                raise graph
            row.update(nodes=graph.num_nodes, edges=graph.edge_index.shape[1] // 2)
            labels = graph.y.cpu().numpy() if getattr(graph, "y", None) is not None else None
            fixed = {"random_state": seed}
            if inner_bars:
                fixed["verbose"] = True
            if labels is not None:
                fixed["n_clusters"] = int(labels.max()) + 1
            estimator = build_estimator(model, shares[model], **fixed)
            device = _resolved_device(estimator)
            devices_used.add(str(device))
            with _PeakMemory(device) as memory:
                start = time.perf_counter()
                estimator.fit(graph)
                train_seconds = time.perf_counter() - start
                start = time.perf_counter()
                predicted = estimator.predict(graph)
                predict_seconds = time.perf_counter() - start
            scores = (evaluate(labels, predicted) if labels is not None
                      else dict.fromkeys(METRICS, math.nan))
            row.update({m: scores[m] for m in METRICS})
            if protocol != "final":
                row.update(_paper_scores(estimator.history_))
            row.update(
                status="ok", train_seconds=train_seconds, predict_seconds=predict_seconds,
                peak_rss_mib=memory.peak / 2**20,
                peak_rss_increase_mib=(memory.peak - memory.start) / 2**20,
                peak_cuda_mib=None if memory.cuda_peak is None else memory.cuda_peak / 2**20,
                parameters=count_parameters(estimator),
                n_iter=estimator.n_iter_, n_clusters=estimator.n_clusters, device=str(device),
                params=json.dumps(estimator.get_params(deep=False), default=str),
            )
            if (dataset, model) not in first_fits:
                first_fits[dataset, model] = {
                    "seed": seed, "history": estimator.history_,
                    "embedding": estimator.embedding_, "clusters": estimator.labels_,
                    "classes": labels,
                }
        except Exception as error:  # one failing run must not stop the grid
            message = " ".join(str(error).split()) or "(no message)"
            row["error"] = f"{type(error).__name__}: {message}"
            tracebacks.append(f"== {dataset} / {model} / seed {seed}\n"
                              + "".join(traceback.format_exception(error)))
        results.rows.append(row)
        if out is not None:
            _write_csv(results.rows, out / "results.csv")
    bar.close()

    keys = [*METRICS, "train_seconds", "predict_seconds", "peak_rss_increase_mib", "parameters",
            "n_iter"]
    if protocol != "final":
        keys += [f"paper_{m}" for m in METRICS]
    results.summary = summarize(results.rows, keys)
    if out is None:
        return results
    results.files.append(out / "results.csv")
    if tracebacks:
        (out / "errors.log").write_text("\n".join(tracebacks))
        results.files.append(out / "errors.log")
    plots = _write_plots(out, results, protocol, first_fits, embedding)
    device = next(iter(devices_used), "cpu")  # params give every model the same device
    _write_markdown(results, out / "results.md", protocol=protocol, command=command,
                    machine=machine_info(device), seeds=seeds, plots=plots)
    results.files += [out / "results.md", *plots]
    return results
