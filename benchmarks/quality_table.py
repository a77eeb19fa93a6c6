"""Combine the outputs of bench_quality.sh into one table (benchmarks/results/quality.md).

    python benchmarks/quality_table.py [benchmarks/results/quality]
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

METRICS = ("acc", "nmi", "ari", "f1")


def read(folder: Path) -> dict[tuple[str, str], list[dict]]:
    runs = defaultdict(list)
    with open(folder / "results.csv") as handle:
        for row in csv.DictReader(handle):
            if row["status"] == "ok":
                runs[row["dataset"], row["model"]].append(row)
    return runs


def cell(rows: list[dict], key: str, digits: int = 3) -> str:
    values = np.array([float(row[key]) for row in rows])
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"


def main() -> None:
    base = Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/results/quality")
    deep = read(base / "deep")
    svd = {t: read(base / f"svd_t{t}") for t in range(4)}
    datasets = list(dict.fromkeys(name for name, _ in deep))
    header = "| data set | model | ACC | NMI | ARI | F1 | train s |"
    lines = [
        "# Clustering quality, 10 seeds (issue 3)",
        "",
        f"Made by `bash benchmarks/bench_quality.sh` then `python {' '.join(sys.argv)}`; the raw",
        "runs (one row per seed, parameters, command, machine, date, plots) are in",
        f"`{base}/*/results.{{csv,md}}`. Default parameters for every model and data set;",
        "`n_clusters` = number of classes. Mean ± std over seeds 0-9.",
        "",
        "**Final model** = the model at the end of training (label-free stopping rule).",
        "**Paper protocol (optimistic)** = for each metric separately the best epoch chosen",
        "with the labels, as in the SCGC/SDCN code; shown only to compare with published tables.",
        "`svd-kmeans t` = k-means on the 32-d truncated SVD of TF-IDF features after t",
        "propagation steps (no training); the best t per data set is shown and all four are in",
        "the raw files.",
        "",
        "Times are wall seconds on a 2-core machine shared with other jobs (one torch thread"
        " per run); `speed.md` has timings on a quiet machine.",
        "",
    ]
    for dataset in datasets:
        lines += [f"## {dataset}", "", header, "|---|---|---:|---:|---:|---:|---:|"]
        for model in ("scgc-star", "scgc"):
            rows = deep[dataset, model]
            lines.append(f"| {dataset} | {model} (final) | "
                         + " | ".join(cell(rows, m) for m in METRICS)
                         + f" | {cell(rows, 'train_seconds', 1)} |")
        for model in ("scgc-star", "scgc"):
            rows = deep[dataset, model]
            lines.append(f"| {dataset} | {model} (paper protocol, optimistic) | "
                         + " | ".join(cell(rows, f"paper_{m}") for m in METRICS) + " | |")
        best = max(range(4), key=lambda t: np.mean(
            [float(r["acc"]) for r in svd[t][dataset, "svd-kmeans"]]))
        for t in sorted({0, best}):
            rows = svd[t][dataset, "svd-kmeans"]
            lines.append(f"| {dataset} | svd-kmeans t={t} | "
                         + " | ".join(cell(rows, m) for m in METRICS)
                         + f" | {cell(rows, 'train_seconds', 1)} |")
        lines.append("")
    out = base.parent / "quality.md"
    out.write_text("\n".join(lines))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
