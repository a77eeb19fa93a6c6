"""The files of a benchmark: ``results.csv``, ``results.md`` and the PNG plots."""

from __future__ import annotations

import csv
import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from graphclust.benchmark.baselines import margin_text
from graphclust.benchmark.protocols import METRICS
from graphclust.benchmark.summaries import BenchmarkResults

__all__ = ["COLUMNS", "comparison_table", "remove_earlier_results", "write_csv",
           "write_markdown", "write_plots"]

#: The columns of ``results.csv``, one row per run.
COLUMNS = (
    "dataset", "model", "seed", "status", *METRICS, *(f"paper_{m}" for m in METRICS),
    "train_seconds", "predict_seconds", "peak_rss_mib", "peak_rss_increase_mib",
    "peak_cuda_mib", "parameters", "n_iter", "batch_size", "start_length", "nodes", "edges",
    "n_clusters", "device",
    "params", "error",
)
_METRIC_NAMES = {"acc": "ACC", "nmi": "NMI", "ari": "ARI", "f1": "F1"}
_COST_KEYS = ["train_seconds", "predict_seconds", "peak_rss_increase_mib", "parameters",
              "n_iter"]
_COST_HEADERS = ["train s", "predict s", "peak RSS increase MiB", "parameters", "epochs"]


#: The plots :func:`write_plots` names, under ``plots/``.
_PLOT_PATTERNS = ("scores-*.png", "curves-*.png", "embedding-*.png")


def remove_earlier_results(out: Path) -> None:
    """Remove the files an earlier run wrote into ``out`` (``results.csv``, ``results.md``,
    ``errors.log``, the plots), and nothing else: a rerun that stops, or writes fewer
    plots or no error log, would otherwise leave them beside its own."""
    stale = [out / name for name in ("results.csv", "results.md", "errors.log")]
    stale += [path for pattern in _PLOT_PATTERNS for path in (out / "plots").glob(pattern)]
    for path in stale:
        if path.is_file():
            path.unlink()


def _format_cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def write_csv(rows: Sequence[Mapping], path: Path) -> None:
    """One line per run under :data:`COLUMNS`; a missing or NaN value is an empty cell."""
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: _format_cell(row.get(key)) for key in COLUMNS})


def _cell(name: str) -> str:
    """A name as a markdown table cell (a user's file may be named with a ``|``)."""
    return name.replace("|", "\\|")


def _table(summary: Sequence[Mapping], keys: Sequence[str], headers: Sequence[str],
           digits: Sequence[int]) -> list[str]:
    lines = ["| data set | model | runs | " + " | ".join(headers) + " |",
             "|---|---|---:|" + "---:|" * len(keys)]
    for entry in summary:
        cells = [f"{entry[f'{key}_mean']:.{d}f} ± {entry[f'{key}_std']:.{d}f}"
                 for key, d in zip(keys, digits, strict=True)]
        lines.append(f"| {_cell(entry['dataset'])} | {_cell(entry['model'])} | "
                     f"{entry['runs']} | " + " | ".join(cells) + " |")
    return lines


def _header(command: str, machine: Mapping[str, str], seeds: Sequence[int],
            n_clusters: int | None) -> list[str]:
    clusters = "number of classes" if n_clusters is None else f"{n_clusters} (given)"
    return ["# graphclust benchmark results", "",
            "Command:", "", "```", command, "```", "",
            "| machine | |", "|---|---|",
            *(f"| {key} | {value} |" for key, value in machine.items()), "",
            f"Seeds: {', '.join(map(str, seeds))}. `n_clusters` = {clusters}. "
            "Mean ± standard deviation (ddof=0) over successful runs; one row per run in "
            "`results.csv`.", ""]


def _score_sections(results: BenchmarkResults, protocol: str) -> list[str]:
    summary = results.summary
    headers = [_METRIC_NAMES[m] for m in METRICS]
    lines = []
    if protocol in ("final", "both"):
        lines += ["## Final model", "",
                  "Scores of the model at the end of training (`predict` on all nodes); "
                  "labels are used for scoring only.", "",
                  *_table(summary, [*METRICS, *_COST_KEYS], headers + _COST_HEADERS,
                          [4, 4, 4, 4, 2, 3, 0, 0, 1]), ""]
    if protocol in ("paper", "both"):
        trained = results.trained_summary
        lines += ["## Paper protocol (optimistic)", "",
                  "For comparison with published tables only: for each metric separately, "
                  "the best training epoch chosen with the labels, as in the SCGC/SDCN code. "
                  "No user can pick epochs this way; these numbers overstate what the method "
                  "delivers. The no-training baselines have no epochs to choose from.", "",
                  *(_table(trained, [f"paper_{m}" for m in METRICS], headers, [4] * 4)
                    if trained else ["No trained model ran: there is no epoch to choose."]),
                  ""]
    return lines + _baseline_section(results)


def _baseline_section(results: BenchmarkResults) -> list[str]:
    """Each trained model's final-model margin over the best no-training mean, or why
    the table cannot show one."""
    lines = ["## Against the no-training baselines", ""]
    if not results.baselines:
        return lines + ["No model that learns nothing ran in this grid (`--no-baselines`): "
                        "this table alone cannot show whether training beat no training.", ""]
    if all(row["model"] in results.baselines for row in results.rows):
        return lines + ["Only no-training models ran: there is no trained model to compare.",
                        ""]
    comparisons = results.comparisons
    if not comparisons:
        return lines + ["Nothing to compare: on no data set is there a seed where a trained "
                        "model and every baseline that ran there have scores (their runs "
                        "failed, or the data set has no labels).", ""]
    return lines + ["Final-model mean of each trained model minus the best final-model mean "
                    "of the no-training rows that ran on its data set, metric by metric, both "
                    "over the seeds where the model and every baseline ran (the "
                    "best of several baselines is picked with the labels, which flatters "
                    "them); **below** marks a loss to learning nothing.", "",
                    *comparison_table(comparisons, [(entry["dataset"], entry["model"])
                                                    for entry in results.trained_summary]),
                    ""]


def comparison_table(comparisons: Sequence[Mapping],
                     trained: Sequence[tuple[str, str]] = ()) -> list[str]:
    """A markdown table of :func:`graphclust.benchmark.baselines.against_baselines`: one
    row a (data set, model), a cell a metric's margin and the best baseline, a loss in
    bold; each (data set, model) of ``trained`` without a comparison gets a row that says
    so, rather than no row (a table must not drop a model it cannot compare)."""
    # ACC and NMI where nothing was compared: the table still has its rows to say so.
    metrics = list(dict.fromkeys(item["metric"] for item in comparisons)) or ["acc", "nmi"]
    lines = ["| data set | model | " + " | ".join(
                 f"{_METRIC_NAMES[m]} against the best baseline" for m in metrics) + " |",
             "|---|---|" + "---|" * len(metrics)]
    cells: dict[tuple[str, str], dict[str, str]] = {}
    for item in comparisons:
        text = f"{margin_text(item['margin'])} ({item['baseline']}: {item['baseline_value']:.4f})"
        if item["margin"] < 0:
            text = f"**below**, {text}"
        cells.setdefault((item["dataset"], item["model"]), {})[item["metric"]] = text
    for key in trained:
        cells.setdefault(key, {})
    for (dataset, model), by_metric in cells.items():
        texts = [by_metric.get(m, "") for m in metrics] if by_metric else [
            "not compared: no seed where it and the baselines all have a score",
            *[""] * (len(metrics) - 1)]
        lines.append(f"| {_cell(dataset)} | {_cell(model)} | " + " | ".join(texts) + " |")
    return lines


def write_markdown(results: BenchmarkResults, path: Path, *, protocol: str, command: str,
                   machine: Mapping[str, str], seeds: Sequence[int],
                   plots: Sequence[Path], n_clusters: int | None = None) -> None:
    """``results.md``: command, machine, the score tables, the comparison with the
    no-training baselines, failed runs and the plots; ``n_clusters`` where it was given
    rather than taken from the labels."""
    lines = [*_header(command, machine, seeds, n_clusters), *_score_sections(results, protocol)]
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


def _file_stem(name: str) -> str:
    """``name`` as a file name that a markdown link can point at: other characters become
    ``_``, with a digest of the name where any did, so that two names stay two files."""
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    if clean == name:
        return name
    return f"{clean}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def write_plots(out: Path, results: BenchmarkResults, protocol: str,
                first_fits: Mapping[tuple[str, str], dict], embedding: str) -> list[Path]:
    """Score bars per protocol, and training curves and an embedding picture of the first
    seed of each (data set, model), under ``out/plots``; returns the files written."""
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
        if protocol in ("paper", "both") and results.trained_summary:
            save(plot_metric_bars(results.trained_summary,
                                  metrics=[f"paper_{m}" for m in METRICS],
                                  title="Paper protocol (optimistic best epochs)"),
                 "scores-paper.png")
    for (dataset, model), fit in first_fits.items():
        label = f"{dataset} / {model} / seed {fit['seed']}"
        stem = _file_stem(f"{dataset}-{model}")
        if fit["history"]:
            save(plot_training_curves(fit["history"], title=label), f"curves-{stem}.png")
        save(plot_embedding(fit["embedding"], fit["clusters"], classes=fit["classes"],
                            method=embedding, title=label, random_state=fit["seed"]),
             f"embedding-{stem}.png")
    return written
