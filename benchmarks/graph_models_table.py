"""One table for issue 6: SCGC, SCGC*, MPNN + VN and the graph transformer.

    python benchmarks/graph_models_table.py [--root ../shared/data]

reads benchmarks/results/quality/deep (SCGC, SCGC*: bench_quality.sh) and
benchmarks/results/graph_models/quality/<model> (MPNN + VN, GT: bench_graph_models.sh) and writes
benchmarks/results/graph_models.md, with the scaling table of
bench_graph_models_scaling.py appended when present. Parameter counts missing from older
result files are recomputed by building the default model for the data set's feature count.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality_table import cell, read  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
MODELS = ("scgc-star", "scgc", "mpnn-vn", "graph-transformer")


def default_parameters(model: str, dataset: str, root: str) -> int:
    """Learned numbers of the default model on this data set (built, not trained)."""
    from graphclust import MODELS as REGISTRY
    from graphclust import load_dataset

    graph = load_dataset(dataset, root=root)
    estimator = REGISTRY[model](int(graph.y.max()) + 1)
    estimator.n_features_in_ = graph.x.shape[1]
    encoder = estimator._build_encoder()
    total = sum(p.numel() for p in encoder.parameters())
    total += estimator.n_clusters * estimator.embedding_dim  # Student-t centres
    if estimator._reconstruction:
        total += sum(p.numel() for p in estimator._decoder().parameters())
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="../shared/data")
    args = parser.parse_args()
    runs = read(RESULTS / "quality" / "deep")
    for model in ("mpnn-vn", "graph-transformer"):
        runs.update(read(RESULTS / "graph_models" / "quality" / model))
    datasets = list(dict.fromkeys(name for name, _ in runs))
    lines = [
        "# SCGC, SCGC*, MPNN + virtual node and graph transformer (issue 6)",
        "",
        "Made by `bash benchmarks/bench_quality.sh` (SCGC, SCGC*), `bash "
        "benchmarks/bench_graph_models.sh` (MPNN + VN, GT, scaling) and `python "
        "benchmarks/graph_models_table.py`. Raw runs with command, machine and date: "
        "`quality/deep/` and `graph_models/quality/<model>/` (`results.{csv,md}`). SCGC*, "
        "MPNN + VN and the graph transformer share the objective (IAC loss + Student-t/KL, "
        "same weights), samplers, stopping rule and start (a linear map trained with the "
        "contrastive loss on the features for 200 steps, then grown into the encoder: "
        "`pretrain=\"linear\"`); only the encoder differs. SCGC differs from SCGC* also in "
        "its positives (Â^r) and a reconstruction term. Final model, mean ± "
        "std over seeds 0-9; times are wall seconds on the shared 2-core CPU machine, one "
        "torch thread per run (other jobs ran at the same time: compare within a table, not "
        "with speed.md).",
        "",
    ]
    for dataset in datasets:
        lines += [f"## {dataset}", "",
                  "| model | runs | ACC | NMI | ARI | F1 | train s | predict s "
                  "| peak RSS increase MiB | parameters |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for model in MODELS:
            rows = runs.get((dataset, model))
            if not rows:
                continue
            if rows[0].get("parameters"):
                parameters = int(np.mean([float(r["parameters"]) for r in rows]))
            else:
                parameters = default_parameters(model, dataset, args.root)
            lines.append(
                f"| {model} | {len(rows)} | " + " | ".join(cell(rows, m) for m in
                                                         ("acc", "nmi", "ari", "f1"))
                + f" | {cell(rows, 'train_seconds', 1)} | {cell(rows, 'predict_seconds', 3)} "
                f"| {cell(rows, 'peak_rss_increase_mib', 0)} | {parameters} |")
        lines.append("")
    scaling = RESULTS / "graph_models" / "scaling.md"
    if scaling.exists():
        text = scaling.read_text().split("\n", 1)[1]
        lines += ["## Cost and quality as the graph grows", "", text.strip(), ""]
    out = RESULTS / "graph_models.md"
    out.write_text("\n".join(lines))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
