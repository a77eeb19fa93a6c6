"""Combine the outputs of bench_quality.sh into one table (benchmarks/results/quality.md).

    python -m benchmarks.quality_table [benchmarks/results/quality]

Every data set of the development set gets its rows: the deep models where they were run
(SCGC and SCGC* from bench_quality.sh's folders, MPNN + VN and the graph transformer from
bench_graph_models.sh's), and always both no-training baselines (svd-kmeans at t = 0 and
its best t, degree-kmeans), so that no row can hide a loss to them. A data set whose deep
runs are missing says so.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

import numpy as np

from benchmarks._machine import parse, script_parser, write_results
from graphclust.benchmark.baselines import paired_comparisons
from graphclust.benchmark.writers import comparison_table

METRICS = ("acc", "nmi", "ari", "f1")
DEVELOPMENT_SET = ("dblp", "cora", "photo", "cs", "uat", "eat", "bat", "digits")
GRAPH_MODELS = ("mpnn-vn", "graph-transformer")
DEEP_MODELS = ("scgc-star", "scgc", *GRAPH_MODELS)
#: bench_quality.sh's groups: the suffixes of their deep{suffix} and svd_t<t>{suffix} folders.
GROUP_SUFFIXES = ("", "_air", "_large", "_cs")
#: The summary table's names of the data sets and of the models' columns.
DISPLAY_NAMES = {"dblp": "DBLP", "cora": "Cora", "photo": "Amazon Photo", "cs": "Coauthor CS",
                 "uat": "UAT (air traffic, USA)", "eat": "EAT (Europe)", "bat": "BAT (Brazil)",
                 "digits": "digits"}
SUMMARY_COLUMNS = ("SCGC*", "SCGC", "MPNN + VN", "graph transformer", "svd-kmeans (best t)",
                   "degree-kmeans")
#: The seed count a summary cell does not state (it states any other).
USUAL_SEEDS = 10
#: bench_graph_models.sh's folders under its base, one per group, each with a folder a model.
GRAPH_MODEL_GROUPS = ("quality", "quality_air", "quality_large", "quality_cs")


def read(folder: Path) -> dict[tuple[str, str], list[dict]]:
    runs = defaultdict(list)
    if not (folder / "results.csv").is_file():
        return runs
    with open(folder / "results.csv") as handle:
        for row in csv.DictReader(handle):
            # Every (data set, model) the folder ran is a key, its successful runs the
            # value: a later group whose every run failed replaces an earlier group's rows
            # with none, instead of leaving them to stand for the rerun.
            ok = runs[row["dataset"], row["model"]]
            if row["status"] == "ok":
                ok.append(row)
    return runs


def read_graph_models(folder: Path) -> dict[tuple[str, str], list[dict]]:
    """The runs of bench_graph_models.sh's folders under ``folder``, a later group's runs of
    a (data set, model) replacing an earlier one's."""
    runs = {}
    for group in GRAPH_MODEL_GROUPS:
        for model in GRAPH_MODELS:
            runs.update(read(folder / group / model))
    return runs


class Runs(NamedTuple):
    """Every run of the quality table, by (data set, model)."""

    deep: dict  # SCGC*, SCGC (bench_quality.sh) and the graph models (bench_graph_models.sh)
    svd: dict  # t -> svd-kmeans' runs with t propagation steps
    degree: dict
    deep_device: dict  # data set -> (device, folder) of its deep rows, where not the CPU


def read_runs(base: Path, graph_models: Path) -> Runs:
    """The runs under bench_quality.sh's folder ``base`` and bench_graph_models.sh's
    ``graph_models``. Groups are read in order (small, air, large, cs); a later folder's
    runs of a (data set, model) replace an earlier one's, so that a group rerun alone
    replaces its rows, and the graph models' groups likewise among themselves."""
    deep, svd = defaultdict(list), {t: defaultdict(list) for t in range(4)}
    deep_device = {}
    for suffix in GROUP_SUFFIXES:
        runs = read(base / f"deep{suffix}")
        deep.update(runs)
        device = device_of(base / f"deep{suffix}")
        for dataset, _ in runs:
            deep_device.pop(dataset, None)
        # After every pop: a model that failed throughout must not drop the note that the
        # group's other models' rows of the data set have.
        if device != "cpu":
            deep_device.update({dataset: (device, f"deep{suffix}")
                                for (dataset, _), found in runs.items() if found})
        for t in range(4):
            svd[t].update(read(base / f"svd_t{t}{suffix}"))
    deep.update(read_graph_models(graph_models))
    return Runs(deep, svd, read(base / "degree"), deep_device)


def device_of(folder: Path) -> str:
    """The device row of a runner's results.md (``cpu`` when it has none)."""
    path = folder / "results.md"
    lines = path.read_text().splitlines() if path.is_file() else []
    return next((line.split("|")[2].strip() for line in lines
                 if line.startswith("| device |")), "cpu")


def cell(rows: list[dict], key: str, digits: int = 3) -> str:
    values = np.array([float(row[key]) for row in rows])
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"


def model_label(model: str, rows: list[dict]) -> str:
    """``model``, marked when its runs predate the held-out start length: they record
    ``start_holdout`` as null or not at all, and are not mixed silently with today's."""
    fixed = any(json.loads(run["params"]).get("start_holdout") is None for run in rows)
    return f"{model} (fixed-length start)" if fixed else model


def row(dataset: str, label: str, rows: list[dict], prefix: str = "",
        seconds: bool = True) -> str:
    """A table row; ``seconds``: with the fit's cost, its seconds and the largest peak
    resident memory of its runs (blank where a run did not record it)."""
    scores = " | ".join(cell(rows, prefix + m) for m in METRICS)
    time = cell(rows, "train_seconds", 1) if seconds else ""
    peaks = [run.get("peak_rss_mib") for run in rows]
    peak = f"{max(map(float, peaks)):.0f}" if seconds and all(peaks) else ""
    return f"| {dataset} | {label} | {len(rows)} | {scores} | {time} | {peak} |"


def best_svd(svd: dict, dataset: str) -> tuple[int, list[dict]] | None:
    """The propagation steps t whose svd-kmeans runs have the best mean ACC, and the runs."""
    ran = [t for t in range(4) if svd[t].get((dataset, "svd-kmeans"))]
    if not ran:
        return None
    best = max(ran, key=lambda t: np.mean([float(r["acc"]) for r in svd[t][dataset, "svd-kmeans"]]))
    return best, svd[best][dataset, "svd-kmeans"]


def summary(deep: dict, svd: dict, degree: dict) -> list[str]:
    """One row a data set, ACC / NMI / ARI means a model, the best of each metric bold (the
    README's results table)."""
    lines = ["| data set | " + " | ".join(SUMMARY_COLUMNS) + " |",
             "|---|" + "---|" * len(SUMMARY_COLUMNS)]
    for dataset in DEVELOPMENT_SET:
        svd_best = best_svd(svd, dataset)
        runs = [deep.get((dataset, model)) for model in DEEP_MODELS]
        runs += [svd_best and svd_best[1], degree.get((dataset, "degree-kmeans"))]
        means = [None if not rows else [round(float(np.mean([float(r[m]) for r in rows])), 3)
                                        for m in METRICS[:3]] for rows in runs]
        best = [max((m[i] for m in means if m), default=None) for i in range(3)]
        cells = []
        for column, (rows, values) in enumerate(zip(runs, means, strict=True)):
            if not values:
                cells.append("not run")
                continue
            text = " / ".join(f"**{v:.3f}**" if v == best[i] else f"{v:.3f}"
                              for i, v in enumerate(values))
            notes = [f"t={svd_best[0]}"] if column == len(DEEP_MODELS) else []
            if len(rows) != USUAL_SEEDS:
                notes.append(f"{len(rows)} seeds")
            cells.append(text + (f" ({', '.join(notes)})" if notes else ""))
        lines.append(f"| {DISPLAY_NAMES[dataset]} | " + " | ".join(cells) + " |")
    return lines


def against_baselines_table(deep: dict, svd: dict, degree: dict) -> list[str]:
    """Each deep model's mean ACC and NMI minus the best no-training mean of its data set
    (``svd-kmeans`` at any t, ``degree-kmeans``), as ``graphclust bench`` writes it, on
    the same seeds: those the model and every baseline of its data set ran (the graph
    models ran fewer seeds on CS than the baselines)."""
    labels = {f"svd-kmeans t={t}": (svd[t], "svd-kmeans") for t in range(4)}
    labels["degree-kmeans"] = (degree, "degree-kmeans")
    comparisons = []
    trained = [(DISPLAY_NAMES[dataset], model) for dataset in DEVELOPMENT_SET
               for model in DEEP_MODELS if deep.get((dataset, model))]
    for dataset in DEVELOPMENT_SET:
        runs = [(model, deep.get((dataset, model), [])) for model in DEEP_MODELS]
        runs += [(label, found.get((dataset, name), [])) for label, (found, name) in
                 labels.items()]
        # One label a model and one name a data set, as the table shows them.
        rows = [{**run, "dataset": DISPLAY_NAMES[dataset], "model": label}
                for label, found in runs for run in found]
        comparisons += paired_comparisons(rows, list(labels))
    return comparison_table(comparisons, trained)


def main(argv=None) -> None:
    parser = script_parser(__doc__, out=None, root=False)
    parser.add_argument("base", nargs="?", type=Path, default=Path("benchmarks/results/quality"),
                        help="output folder of bench_quality.sh; the table goes beside it "
                             "(default: %(default)s)")
    parser.add_argument("--graph-models", type=Path,
                        default=Path("benchmarks/results/graph_models"),
                        help="output folder of bench_graph_models.sh (default: %(default)s)")
    args = parse(parser, argv, "benchmarks.quality_table")
    base = args.base
    deep, svd, degree, deep_device = read_runs(base, args.graph_models)
    header = "| data set | model | seeds | ACC | NMI | ARI | F1 | train s | peak RSS MiB |"
    lines = [
        "# Clustering quality on the development set",
        "",
        f"Made by `bash benchmarks/bench_quality.sh` then `{args.command}`; the raw",
        "runs (one row per seed, parameters, command, machine, load, date, plots) are in",
        f"`{base}/*/results.{{csv,md}}`. Default parameters for every model and data set;",
        "`n_clusters` = number of classes. Mean ± std over the seeds counted in each row.",
        "",
        "**Final model** = the model at the end of training (label-free stopping rule).",
        "**Paper protocol (optimistic)** = for each metric separately the best epoch chosen",
        "with the labels, as in the SCGC/SDCN code; shown only to compare with published tables.",
        "No-training baselines, in every section: `svd-kmeans t` = k-means on the 32-d",
        "truncated SVD of the transformed features (`features=\"auto\"`: TF-IDF, or the ordinal",
        "code of a degree code) after t propagation steps (t = 0 and the best t per",
        "data set; all four are in the raw files); `degree-kmeans` = k-means on log(1 + degree).",
        "The runs come from the folders of bench_quality.sh's groups (`deep`, `svd_t<t>`; the",
        "air-traffic group's `deep_air`, `svd_t<t>_air`; Photo's `deep_large`, `svd_t<t>_large`;",
        "CS's `deep_cs`, `svd_t<t>_cs`); a model's runs of a data set found in two",
        "groups' folders come from the later group.",
        "MPNN + VN and the graph transformer: `bash benchmarks/bench_graph_models.sh`, raw runs",
        f"in `{args.graph_models}/{{{','.join(GRAPH_MODEL_GROUPS)}}}/<model>/` (final model",
        "only: the paper protocol was not recorded for them).",
        "",
        "Times are wall seconds on a 2-core machine shared with other jobs (each fit on"
        " `graphclust bench`'s `--threads` default, as each results.csv's `n_jobs` records:"
        " both cores, -1, until 2026-12-06; one thread since 2026-12-07: the graph"
        " transformer's runs and the no-training baselines'); `speed.md` has timings"
        " on a quiet"
        " machine. Peak RSS: the largest over a"
        " row's runs of the process's resident memory while the run fit and predicted"
        " (interpreter, torch and the data set included).",
        "",
        "## Summary (README's results table)",
        "",
        "Final model, ACC / NMI / ARI, means over 10 seeds unless a cell says otherwise; the",
        "best of each metric in a row in bold (after rounding); `svd-kmeans` at the t of its",
        "best mean ACC (its NMI and ARI are that t's; the next section takes each metric's",
        "best t).",
        "",
        *summary(deep, svd, degree),
        "",
        "## Against the no-training baselines",
        "",
        "Final-model mean of each deep model minus the best mean of the no-training rows of",
        "its data set (`svd-kmeans` at any of t = 0..3, `degree-kmeans`), metric by metric,",
        "both sides' means taken over the seeds that the model and every baseline ran (so a",
        "model of fewer seeds, as the graph models on CS, meets the baselines on its own seeds,",
        "and a baseline's failed seed is left out of the model's mean too; the summary above",
        "gives every row over all its seeds): the best of five baselines, picked with the",
        "labels, which flatters them; **below** marks a loss to learning nothing",
        "(`graphclust bench` writes the same section, its models and baselines on one grid",
        "of seeds).",
        "",
        *against_baselines_table(deep, svd, degree),
        "",
    ]
    missing = []
    for dataset in DEVELOPMENT_SET:
        lines += [f"## {dataset}", "", header, "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        present = [m for m in DEEP_MODELS if deep.get((dataset, m))]
        if not present:
            missing.append(dataset)
        for model in present:
            lines.append(row(dataset, f"{model_label(model, deep[dataset, model])} (final)",
                             deep[dataset, model]))
        for model in present:
            if all(run["paper_acc"] for run in deep[dataset, model]):
                lines.append(row(dataset, f"{model} (paper protocol, optimistic)",
                                 deep[dataset, model], prefix="paper_", seconds=False))
        notes = []
        if present and len(present) < len(DEEP_MODELS):
            notes.append("Not run here: " + ", ".join(m for m in DEEP_MODELS if m not in present)
                         + ".")
        if dataset in deep_device:
            device, folder = deep_device[dataset]
            notes.append(f"The deep rows ran on {device} (`{folder}/results.md`): their "
                         "seconds do not compare with the other rows'.")
        ran = [t for t in range(4) if svd[t].get((dataset, "svd-kmeans"))]
        if ran:
            for t in sorted({ran[0], best_svd(svd, dataset)[0]}):
                lines.append(row(dataset, f"svd-kmeans t={t}", svd[t][dataset, "svd-kmeans"]))
        if degree.get((dataset, "degree-kmeans")):
            lines.append(row(dataset, "degree-kmeans", degree[dataset, "degree-kmeans"]))
        lines.append("")
        if notes:
            lines += [" ".join(notes), ""]
    if missing:
        lines += [f"Deep models not yet run on: {', '.join(missing)} (only the baselines; "
                  "`bash benchmarks/bench_quality.sh` runs them).", ""]
    write_results(base.parent / "quality.md", lines)


if __name__ == "__main__":
    main()
