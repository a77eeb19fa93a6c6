"""Combine the outputs of bench_quality.sh into one table (benchmarks/results/quality.md).

    python benchmarks/quality_table.py [benchmarks/results/quality]

Every data set of the development set gets its rows: the deep models where they were run,
and always both no-training baselines (svd-kmeans at t = 0 and its best t, degree-kmeans),
so that no row can hide a loss to them. A data set whose deep runs are missing says so.
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

METRICS = ("acc", "nmi", "ari", "f1")
DEVELOPMENT_SET = ("dblp", "cora", "photo", "cs", "uat", "eat", "bat", "digits")
DEEP_MODELS = ("scgc-star", "scgc")


def read(folder: Path) -> dict[tuple[str, str], list[dict]]:
    runs = defaultdict(list)
    if not (folder / "results.csv").is_file():
        return runs
    with open(folder / "results.csv") as handle:
        for row in csv.DictReader(handle):
            if row["status"] == "ok":
                runs[row["dataset"], row["model"]].append(row)
    return runs


def cell(rows: list[dict], key: str, digits: int = 3) -> str:
    values = np.array([float(row[key]) for row in rows])
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"


def row(dataset: str, label: str, rows: list[dict], prefix: str = "",
        seconds: bool = True) -> str:
    scores = " | ".join(cell(rows, prefix + m) for m in METRICS)
    time = cell(rows, "train_seconds", 1) if seconds else ""
    return f"| {dataset} | {label} | {len(rows)} | {scores} | {time} |"


def main() -> None:
    base = Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/results/quality")
    deep = read(base / "deep")
    deep.update(read(base / "deep_large"))
    svd = {t: read(base / f"svd_t{t}") for t in range(4)}
    for t in range(4):
        svd[t].update(read(base / f"svd_t{t}_large"))
    degree = read(base / "degree")
    header = "| data set | model | seeds | ACC | NMI | ARI | F1 | train s |"
    lines = [
        "# Clustering quality on the development set",
        "",
        f"Made by `bash benchmarks/bench_quality.sh` then `python {' '.join(sys.argv)}`; the raw",
        "runs (one row per seed, parameters, command, machine, load, date, plots) are in",
        f"`{base}/*/results.{{csv,md}}`. Default parameters for every model and data set;",
        "`n_clusters` = number of classes. Mean ± std over the seeds counted in each row.",
        "",
        "**Final model** = the model at the end of training (label-free stopping rule).",
        "**Paper protocol (optimistic)** = for each metric separately the best epoch chosen",
        "with the labels, as in the SCGC/SDCN code; shown only to compare with published tables.",
        "No-training baselines, in every section: `svd-kmeans t` = k-means on the 32-d",
        "truncated SVD of TF-IDF features after t propagation steps (t = 0 and the best t per",
        "data set; all four are in the raw files); `degree-kmeans` = k-means on log(1 + degree).",
        "",
        "Times are wall seconds on a 2-core machine shared with other jobs (one torch thread"
        " per run); `speed.md` has timings on a quiet machine.",
        "",
    ]
    missing = []
    for dataset in DEVELOPMENT_SET:
        lines += [f"## {dataset}", "", header, "|---|---|---:|---:|---:|---:|---:|---:|"]
        present = [m for m in DEEP_MODELS if deep.get((dataset, m))]
        if not present:
            missing.append(dataset)
        for model in present:
            lines.append(row(dataset, f"{model} (final)", deep[dataset, model]))
        for model in present:
            lines.append(row(dataset, f"{model} (paper protocol, optimistic)",
                             deep[dataset, model], prefix="paper_", seconds=False))
        ran = [t for t in range(4) if svd[t].get((dataset, "svd-kmeans"))]
        if ran:
            best = max(ran, key=lambda t: np.mean(
                [float(r["acc"]) for r in svd[t][dataset, "svd-kmeans"]]))
            for t in sorted({ran[0], best}):
                lines.append(row(dataset, f"svd-kmeans t={t}", svd[t][dataset, "svd-kmeans"]))
        if degree.get((dataset, "degree-kmeans")):
            lines.append(row(dataset, "degree-kmeans", degree[dataset, "degree-kmeans"]))
        lines.append("")
    if missing:
        lines += [f"Deep models not yet run on: {', '.join(missing)} (only the baselines; "
                  "`bash benchmarks/bench_quality.sh` runs them).", ""]
    out = base.parent / "quality.md"
    out.write_text("\n".join(lines))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
