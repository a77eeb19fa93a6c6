"""One table for issue 6: SCGC, SCGC*, MPNN + VN and the graph transformer.

    python -m benchmarks.graph_models_table [--results benchmarks/results]

reads <results>/quality/deep{,_air,_large,_cs} (SCGC, SCGC*: bench_quality.sh) and
<results>/graph_models/quality{,_air,_large,_cs}/<model> (MPNN + VN, GT:
bench_graph_models.sh) and writes
<results>/graph_models.md, with the scaling table of bench_graph_models_scaling.py
appended when present.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks._machine import parse, script_parser, write_results
from benchmarks.quality_table import (
    DEEP_MODELS,
    GRAPH_MODEL_GROUPS,
    GROUP_SUFFIXES,
    cell,
    model_label,
    read_runs,
)


def main(argv=None) -> None:
    parser = script_parser(__doc__, out=None, root=False)
    parser.add_argument("--results", type=Path, default=Path("benchmarks/results"),
                        help="folder of the runs; the table goes there (default: %(default)s)")
    args = parse(parser, argv, "benchmarks.graph_models_table")
    results = args.results
    # As quality_table reads them: a later group's runs of a data set replace an earlier's.
    runs = read_runs(results / "quality", results / "graph_models").deep
    datasets = list(dict.fromkeys(name for (name, _), found in runs.items() if found))
    lines = [
        "# SCGC, SCGC*, MPNN + virtual node and graph transformer (issue 6)",
        "",
        "Made by `bash benchmarks/bench_quality.sh` (SCGC, SCGC*), `bash "
        "benchmarks/bench_graph_models.sh` (MPNN + VN, GT, scaling) and "
        f"`{args.command}`. Raw runs with command, machine and date: "
        f"`quality/deep{{{','.join(GROUP_SUFFIXES)}}}/` and "
        f"`graph_models/{{{','.join(GRAPH_MODEL_GROUPS)}}}/<model>/` "
        "(`results.{csv,md}`). SCGC*, "
        "MPNN + VN and the graph transformer share the objective (IAC loss + Student-t/KL, "
        "same weights), samplers, stopping rule and start (a linear map trained with the "
        "contrastive loss on the features, its length chosen on held-out edges, then grown "
        "into the encoder: `pretrain=\"linear\"`; rows marked \"fixed-length start\" were run "
        "before that rule, with 200 steps); only the encoder differs. SCGC differs from "
        "SCGC* also in its positives (Â^r) and a reconstruction term. Final model, mean ± "
        "std over seeds 0-9 (fewer on Photo and CS: the runs column); times are wall seconds "
        "on the shared 2-core CPU machine, each fit on both cores (`graphclust bench`'s "
        "`--threads` default; other jobs ran at the same time: compare within a table, not "
        "with speed.md).",
        "",
    ]
    for dataset in datasets:
        lines += [f"## {dataset}", "",
                  "| model | runs | ACC | NMI | ARI | F1 | train s | predict s "
                  "| peak RSS increase MiB | parameters |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for model in DEEP_MODELS:
            rows = runs.get((dataset, model))
            if not rows:
                continue
            parameters = int(np.mean([float(r["parameters"]) for r in rows]))
            lines.append(
                f"| {model_label(model, rows)} | {len(rows)} | " + " | ".join(cell(rows, m) for m in
                                                         ("acc", "nmi", "ari", "f1"))
                + f" | {cell(rows, 'train_seconds', 1)} | {cell(rows, 'predict_seconds', 3)} "
                f"| {cell(rows, 'peak_rss_increase_mib', 0)} | {parameters} |")
        lines.append("")
    scaling = results / "graph_models" / "scaling.md"
    if scaling.exists():
        text = scaling.read_text().split("\n", 1)[1]
        lines += ["## Cost and quality as the graph grows", "", text.strip(), ""]
    write_results(results / "graph_models.md", lines)


if __name__ == "__main__":
    main()
