"""The grid: every (data set, model, seed), scored, timed and written to disk.

:func:`run_benchmark` fits each registered model (any name in :data:`graphclust.MODELS`),
and the no-training baselines beside them (:mod:`graphclust.benchmark.baselines`), on each
data set with each seed, with ``n_clusters`` set to the number of classes (unless given in
``params``), and records per run:

* ``acc``, ``nmi``, ``ari``, ``f1``: scores of the **final model**
  (``predict`` on the training graph). Labels are never used for training or stopping,
  so these are honest unsupervised scores.
* ``paper_acc`` ... ``paper_f1`` (``protocol="paper"`` or ``"both"``): the **paper
  protocol** of the SCGC/SDCN code, for comparison with published tables only: for each
  metric separately, the best value over the training epochs in ``history_`` (each scored
  at its start) and the final model. Choosing the epoch with the labels is **optimistic**
  (an oracle no user has; never below the final model) and mixes epochs across metrics.
* ``train_seconds`` (wall time of ``fit``: feature transform, pre-training, k-means start,
  training), ``predict_seconds`` (wall time of ``predict`` on all nodes).
* memory: ``peak_rss_mib``, the peak resident set size of this process while the run fit
  and predicted, sampled every 10 ms in a background thread (short spikes between samples
  can be missed; it includes the Python interpreter, torch and the loaded data set), and
  ``peak_rss_increase_mib``, that peak minus the resident size when the run started
  (the memory the run itself added). On CUDA, ``peak_cuda_mib`` is
  ``torch.cuda.max_memory_allocated`` during the run (tensors only, exact).
* ``parameters`` (learned numbers: :func:`count_parameters`), ``n_iter`` (training
  epochs run), ``batch_size`` (the batch trained with, ``batch_size_``: ``full`` or seeds
  per batch; empty for the baselines), ``start_length`` (``start_length_``: the start's
  steps, or ``untaught`` where its held-out edges taught the encoder nothing), graph
  sizes, the device and the estimator's parameters as JSON.

A run that raises is recorded (``status="failed"``, the error in ``error``, the
traceback in ``errors.log``) and the grid goes on. With ``out`` the runner writes
``results.csv`` (one row per run, rewritten after each run so partial results survive an
interruption), ``results.md`` (mean ± std per data set x model, the command, machine
and date) and PNG plots in ``plots/`` (:mod:`graphclust.plotting`).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import traceback
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

from graphclust._progress import progress_bar
from graphclust.benchmark.baselines import (
    BASELINE_MODELS,
    BASELINES,
    GridModel,
    baseline_models,
)
from graphclust.benchmark.grid import check_datasets, model_params, name_list, seed_list
from graphclust.benchmark.measure import PeakMemory, count_parameters, resolved_device
from graphclust.benchmark.protocols import METRICS, PROTOCOLS, paper_scores
from graphclust.benchmark.summaries import (
    BenchmarkResults,
    error_text,
    fit_threads,
    load_average,
    machine_info,
    summarize,
)
from graphclust.benchmark.writers import (
    remove_earlier_results,
    write_csv,
    write_markdown,
    write_plots,
)
from graphclust.data.datasets import load_dataset
from graphclust.data.source import Source, graph_source
from graphclust.estimators.checks import resolve_device
from graphclust.metrics import evaluate
from graphclust.registry import build_estimator

__all__ = ["run_benchmark"]


def run_benchmark(
    datasets: str | Source | Sequence[str | Source],
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
    baselines: bool = True,
) -> BenchmarkResults:
    """Fit every model on every data set with every seed; score, time and write results.

    Parameters
    ----------
    datasets : str, Source or sequence of them
        Names for :func:`graphclust.load_dataset`, or inputs already read
        (:class:`graphclust.data.source.Source`: a user's graph, or a feature matrix whose
        kNN graph each model builds), listed under their ``name``. An unknown name is an
        error before anything runs; a data set whose files are missing fails its runs
        (recorded).
    models : str or sequence of str
        Keys of :data:`graphclust.MODELS`, each once.
    seeds : int or sequence of int, default=3
        A count ``N`` (seeds ``0..N-1``) or explicit distinct seeds; each is the
        estimator's ``random_state`` (so ``params`` may not set one).
    root : str or path-like, optional
        Data root (see :func:`graphclust.load_dataset`).
    out : str or path-like, optional
        Folder for ``results.csv``, ``results.md``, ``errors.log`` (when a run failed) and
        ``plots/``; created if needed, and an earlier run's files of these names removed
        before the first run (other files stay). ``None`` writes nothing.
    protocol : {"final", "paper", "both"}, default="final"
        Which scores the markdown and plots report; see the module docstring. The csv
        always has the final-model scores, and the ``paper_`` columns unless
        ``protocol="final"``.
    params : mapping, optional
        Parameter overrides (e.g. ``{"max_epochs": 50}``), each given to the models that
        take it (see :func:`model_params`; a key no model takes is an error), checked
        before anything runs. ``n_clusters`` here replaces the number of classes;
        ``knn_method`` also searches the kNN graphs of the data sets that build one from
        their features (digits).
    progress : bool, default=True
        A tqdm bar over runs (on stderr) and, when stderr is a terminal, the current
        run's own bars below it (start and training epochs; ``verbose=True``), so a long
        first fit is seen to move. Redirected to a file or pipe, only the bar over runs is
        written, so logs are not filled with the epochs.
    embedding : {"pca", "tsne"}, default="pca"
        Projection used for the embedding pictures (first seed of each data set x model).
    command : str, optional
        The command line to record in ``results.md``; defaults to this call's Python form.
    baselines : bool, default=True
        Also run the no-training baselines
        (:data:`graphclust.benchmark.baselines.BASELINES`: ``svd-kmeans`` at t = 0..3,
        labelled ``svd-kmeans t=<t>``, even beside a listed ``svd-kmeans``, and
        ``degree-kmeans`` where ``models`` does not list it), so that the table shows
        whether training beat learning nothing; ``results.md`` compares each trained model
        with the best of them. ``False`` only where the baselines run in another grid of
        the same table.

    Returns
    -------
    BenchmarkResults
        Rows (one per run, failed runs included), summary, and the files written.

    Raises
    ------
    ValueError
        Unknown data set or model name, unknown parameter or wrongly typed value, a
        ``device`` this machine lacks, bad ``protocol`` or ``seeds``. Errors *during* a
        run never raise: they are recorded.

    Examples
    --------
    >>> results = run_benchmark(["karate"], ["scgc-star"], seeds=2, out=None,
    ...                         params={"max_epochs": 5, "pretrain_epochs": 2},
    ...                         progress=False)
    >>> [row["model"] for row in results.rows if row["seed"] == 0]  # doctest: +NORMALIZE_WHITESPACE
    ['scgc-star', 'svd-kmeans t=0', 'svd-kmeans t=1', 'svd-kmeans t=2', 'svd-kmeans t=3',
     'degree-kmeans']
    >>> all(row["status"] == "ok" for row in results.rows)
    True
    >>> [item["metric"] for item in results.comparisons]  # against the best baseline's
    ['acc', 'nmi']
    >>> sorted(results.comparisons[0])  # doctest: +NORMALIZE_WHITESPACE
    ['baseline', 'baseline_value', 'dataset', 'margin', 'metric', 'model', 'value']
    """
    given = {item.name: item for item in _as_list(datasets) if isinstance(item, Source)}
    datasets = name_list("datasets", [item.name if isinstance(item, Source) else item
                                      for item in _as_list(datasets)])
    _check_distinct(datasets, given)
    models = name_list("models", models)
    if len(set(models)) < len(models):  # their runs would merge into one row
        raise ValueError(f"models lists a model twice: {models!r}")
    seeds = seed_list(seeds)
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    if embedding not in ("pca", "tsne"):
        raise ValueError(f"embedding must be 'pca' or 'tsne', got {embedding!r}")
    params = dict(params or {})
    if "random_state" in params:  # it would override every seed of the grid
        raise ValueError("params sets random_state, which seeds give each run: pass seeds")
    if "device" in params:  # one this machine lacks would fail every run of the grid
        resolve_device(params["device"])
    unlabelled = [source.name for source in given.values() if source.y is None]
    if unlabelled and "n_clusters" not in params:
        raise ValueError(f"{', '.join(unlabelled)} has no labels to take n_clusters from: "
                         "give it (--set n_clusters=K)")
    # The listed models first, so that a bad value is blamed on one of them.
    shares = model_params(models, params, also=[
        model for label, model, _ in BASELINES if baselines and label not in models])
    added = baseline_models(models, params) if baselines else []
    check_datasets([name for name in datasets if name not in given], root)
    if command is None:
        command = (f"run_benchmark({datasets!r}, {models!r}, seeds={seeds!r}, "
                   f"protocol={protocol!r}, params={params!r})")
    out = None if out is None else _output_folder(Path(out))

    entries = [GridModel(m, m, shares[m], baseline=m in BASELINE_MODELS) for m in models]
    entries += added
    grid = [(d, entry, s) for d in datasets for entry in entries for s in seeds]
    bar = progress_bar(iterable=grid, desc="bench", unit="run", disable=not progress)
    # The estimators' own bars nest below this one (tqdm places them); only on a terminal.
    run = _Run(root, protocol, params.get("knn_method", "auto"), given,
               inner_bars=progress and sys.stderr.isatty() and "verbose" not in params)
    for dataset, entry, seed in bar:
        bar.set_postfix_str(f"{dataset} {entry.label} seed {seed}")
        run.rows.append(run.one(dataset, entry, seed))
        if out is not None:
            write_csv(run.rows, out / "results.csv")
    bar.close()
    results = BenchmarkResults(rows=run.rows, summary=summarize(run.rows, _keys(protocol)),
                               out=out,
                               baselines=[entry.label for entry in entries if entry.baseline])
    if out is not None:
        _write_files(results, run, command=command, seeds=seeds, embedding=embedding,
                     n_clusters=params.get("n_clusters"))
    return results


def _check_distinct(names: Sequence[str], given: Mapping[str, Source]) -> None:
    """Refuse a grid listing one data set name twice: their rows would merge."""
    seen = set()
    for name in names:
        if name.lower() in seen:
            mine = any(other.lower() == name.lower() for other in given)
            raise ValueError(f"data set {name!r} is listed twice" + (
                " (your own files take their features file's name: rename the file)"
                if mine else ""))
        seen.add(name.lower())


def _as_list(items) -> list:
    """One name or source, or a sequence of them, as a list."""
    return [items] if isinstance(items, (str, Source)) else list(items)


def _keys(protocol: str) -> list[str]:
    """The columns the summary averages under ``protocol``."""
    keys = [*METRICS, "train_seconds", "predict_seconds", "peak_rss_increase_mib",
            "parameters", "n_iter"]
    return keys + ([f"paper_{m}" for m in METRICS] if protocol != "final" else [])


def _output_folder(out: Path) -> Path:
    """``out``, created before any run, so that no work is lost to an unusable folder,
    and cleared of an earlier run's files, so that it describes this run alone."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"out: cannot create {out} ({error.strerror})") from None
    remove_earlier_results(out)
    return out


class _Run:
    """The state of a grid between its runs: rows so far, loaded graphs, first fits."""

    def __init__(self, root, protocol: str, knn_method: str, given: Mapping[str, Source], *,
                 inner_bars: bool) -> None:
        self.root, self.protocol = root, protocol
        self.knn_method = knn_method
        self.inner_bars = inner_bars
        self.rows: list[dict] = []
        self.tracebacks: list[str] = []
        self.first_fits: dict[tuple[str, str], dict] = {}
        self.devices: set[str] = set()
        self.load_at_start = load_average()
        # A data set's source, or the error loading it raised; given sources as they are.
        self._sources: dict[str, Source | Exception] = dict(given)

    def source(self, dataset: str) -> Source:
        """The data set, loaded once: when loading fails, every run of it fails."""
        if dataset not in self._sources:
            try:
                self._sources[dataset] = graph_source(dataset, load_dataset(
                    dataset, self.root, knn_method=self.knn_method))
            except Exception as error:
                self._sources[dataset] = error
        source = self._sources[dataset]
        if isinstance(source, Exception):
            raise source
        return source

    def one(self, dataset: str, entry: GridModel, seed: int) -> dict:
        """One run's row; a run that raises is recorded, not raised."""
        row = {"dataset": dataset, "model": entry.label, "seed": seed, "status": "failed",
               "params": json.dumps(dict(entry.params), default=str)}
        try:
            self._fit_and_score(row, dataset, entry, seed)
        except Exception as error:  # one failing run must not stop the grid
            row["error"] = error_text(error)
            self.tracebacks.append(f"== {dataset} / {entry.label} / seed {seed}\n"
                                   + "".join(traceback.format_exception(error)))
        return row

    def _fit_and_score(self, row: dict, dataset: str, entry: GridModel, seed: int) -> None:
        source = self.source(dataset)
        row.update(nodes=source.num_nodes, edges=source.num_edges)
        labels = source.y
        fixed = {"random_state": seed}
        if self.inner_bars:
            fixed["verbose"] = True
        if labels is not None:
            fixed["n_clusters"] = int(labels.max()) + 1
        estimator = build_estimator(entry.model, entry.params, **fixed)
        device = resolved_device(estimator)
        self.devices.add(str(device))
        caught: list = []
        try:
            with PeakMemory(device) as memory, \
                    warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                start = time.perf_counter()
                estimator.fit(*source.fit_args)
                train_seconds = time.perf_counter() - start
                start = time.perf_counter()
                predicted = estimator.predict(*source.predict_args)
                predict_seconds = time.perf_counter() - start
        finally:
            # Said again naming the run (a grid's warnings otherwise read alike), also
            # for a run that failed; where, category and the text's start are kept, so
            # the caller's filters still apply.
            for warning in caught:
                warnings.warn_explicit(
                    f"{warning.message} [{dataset} / {entry.label} / seed {seed}]",
                    warning.category, warning.filename, warning.lineno)
        scores = _scores(labels, predicted)
        row.update(scores)
        if self.protocol != "final":
            row.update(paper_scores(estimator.history_, final=scores))
        row.update(
            status="ok", train_seconds=train_seconds, predict_seconds=predict_seconds,
            peak_rss_mib=memory.peak / 2**20,
            peak_rss_increase_mib=(memory.peak - memory.start) / 2**20,
            peak_cuda_mib=None if memory.cuda_peak is None else memory.cuda_peak / 2**20,
            parameters=count_parameters(estimator),
            n_iter=estimator.n_iter_, n_clusters=estimator.n_clusters, device=str(device),
            batch_size=_batch_cell(estimator), start_length=_start_cell(estimator),
            params=json.dumps(estimator.get_params(deep=False), default=str),
        )
        if entry.added:  # the pictures are of the models asked for
            return
        self.first_fits.setdefault((dataset, entry.label), {
            "seed": seed, "history": estimator.history_, "embedding": estimator.embedding_,
            "clusters": estimator.labels_, "classes": labels,
        })


def _batch_cell(estimator) -> str | int | None:
    """``results.csv``'s batch_size: the batch trained with, ``full``, or empty for a
    model without batches."""
    if not hasattr(estimator, "batch_size_"):
        return None
    return "full" if estimator.batch_size_ is None else estimator.batch_size_


def _start_cell(estimator) -> str | int | None:
    """``results.csv``'s start_length: the kept start's length, ``untaught`` where its
    held-out edges taught the encoder nothing, or empty for a model without a start."""
    if not hasattr(estimator, "start_length_"):
        return None
    return "untaught" if estimator.start_length_ is None else estimator.start_length_


def _scores(labels, predicted) -> dict[str, float]:
    """The final model's scores; NaN for a data set without labels."""
    if labels is None:
        return dict.fromkeys(METRICS, math.nan)
    scores = evaluate(labels, predicted)
    return {m: scores[m] for m in METRICS}


def _write_files(results: BenchmarkResults, run: _Run, *, command: str,
                 seeds: Sequence[int], embedding: str, n_clusters: int | None) -> None:
    """The error log, plots and ``results.md`` next to ``results.csv``."""
    out = results.out
    results.files.append(out / "results.csv")
    if run.tracebacks:
        (out / "errors.log").write_text("\n".join(run.tracebacks))
        results.files.append(out / "errors.log")
    plots = write_plots(out, results, run.protocol, run.first_fits, embedding)
    device = next(iter(run.devices), "cpu")  # params give every model the same device
    machine = {**machine_info(device),
               "load average (1/5/15 min), start → end": f"{run.load_at_start} → "
                                                         f"{load_average()}"}
    threads = fit_threads(results.rows)
    if threads is not None:  # the fits' own count (n_jobs), not this process's default
        machine["torch threads"] = f"{threads} a fit (the models' n_jobs)"
    write_markdown(results, out / "results.md", protocol=run.protocol, command=command,
                   machine=machine, seeds=seeds, plots=plots, n_clusters=n_clusters)
    results.files += [out / "results.md", *plots]
