"""Quality at scale: SCGC* with its defaults on make_sbm graphs of one known difficulty.

All graphs come from one generator setting (``GRAPH``, the setting of scale.md, whose
difficulty was measured there: k-means reaches ACC 0.49 on the raw features and 0.97 on
features summed over each closed neighbourhood). At the reference size the script reports
what the graph allows without training:

* ``planted``: modularity and conductance of the planted partition itself;
* ``svd-kmeans``: the training-free baseline :class:`graphclust.SVDKMeans` with its defaults
  (the features alone), and ``svd-kmeans-t2`` with two propagation steps (features and graph);
* ``scgcstar-full``: SCGC* with its defaults and full batch (``batch_size=None``);

then SCGC* with its defaults and the real stopping rule at every size of ``--sizes`` (and,
with ``--input-hops 2``, SCGC* reading propagated features, ``input_hops=2``): its
default ``batch_size="auto"`` picks full batch or seed batches for the graph and this
machine's available memory (:func:`graphclust.memory.choose_batch_size`), and the choice
(``batch_size_``) is recorded. Each row runs in a fresh subprocess, so its peak resident
memory is its own.

    nice -n 5 python -m benchmarks.bench_scale_quality --sizes 20000 200000
    python -m benchmarks.bench_scale_quality --tiny --out /tmp/scale_quality.md

writes benchmarks/results/scale_quality.md (``--out`` elsewhere).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from benchmarks._machine import (
    TINY_FIT,
    library_state,
    load_average,
    parse,
    peak_rss_gib,
    results_header,
    run_module,
    script_parser,
    write_results,
)

GRAPH = {"n_clusters": 10, "n_features": 64, "avg_degree": 25, "homophily": 0.6,
         "feature_signal": 0.2}
#: Nodes of the probes' graph of this setting (notes_part3.md's "weak-feature SBM").
PROBE_NODES = 5000
SIZES = (20_000, 200_000, 1_000_000, 2_400_000)
TINY_SIZES = (600,)
METHODS_AT_REFERENCE = ("planted", "svd-kmeans", "svd-kmeans-t2", "scgcstar-full")
#: Rows of SCGC* with ``input_hops=h`` are named HOPS_METHOD + str(h).
HOPS_METHOD = "scgcstar-hops"
MODULE = "benchmarks.bench_scale_quality"
CHILD_TIMEOUT_S = 3 * 3600


def run_one(method: str, n_nodes: int, device: str, tiny: bool, threads: int = 1) -> dict:
    """One row, in this process: generate the graph, fit or score, measure. ``threads``
    reaches the estimators as ``n_jobs``: they run one thread by default, whatever
    OMP_NUM_THREADS says."""
    import torch

    from graphclust import SCGCStar, SVDKMeans, evaluate
    from graphclust.data.synthetic import make_sbm
    from graphclust.metrics import conductance, modularity

    graph = make_sbm(n_nodes, random_state=0, **GRAPH)
    labels = graph.y.numpy()
    row = {"method": method, "nodes": n_nodes, "edge_entries": int(graph.edge_index.shape[1])}
    if method == "planted":
        row["modularity"] = modularity(graph.edge_index, labels, n_nodes)
        row["conductance"] = conductance(graph.edge_index, labels)
        row["rss"] = peak_rss_gib()
        return row
    del graph.y  # no per-epoch metrics inside the timed fit
    extra = dict(TINY_FIT) if tiny else {}
    if method.startswith("svd-kmeans"):
        estimator = SVDKMeans(GRAPH["n_clusters"], device=device, random_state=0, n_jobs=threads,
                              propagation_steps=2 if method == "svd-kmeans-t2" else 0)
    else:
        if method == "scgcstar-full":
            extra["batch_size"] = None
        elif method.startswith(HOPS_METHOD):
            extra["input_hops"] = int(method[len(HOPS_METHOD):])
        estimator = SCGCStar(GRAPH["n_clusters"], device=device, random_state=0, n_jobs=threads,
                             **extra)
    start = time.perf_counter()
    estimator.fit(graph.to(device))
    row["fit_seconds"] = time.perf_counter() - start
    batch = getattr(estimator, "batch_size_", "-")
    row["batch_size"] = "full" if batch is None else batch
    row["epochs"] = getattr(estimator, "n_iter_", "-")
    row.update({key: value for key, value in evaluate(labels, estimator.labels_).items()
                if key in ("acc", "nmi", "ari")})
    row["rss"] = peak_rss_gib()
    if device.startswith("cuda"):
        row["cuda_peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
    return row


def _child(method: str, n_nodes: int, args) -> dict:
    """One row in a fresh interpreter (in this one with ``--tiny``), with the load around it."""
    before = load_average()
    row = json.loads(run_module(
        MODULE, "--one", method, str(n_nodes), "--device", args.device,
        "--threads", str(args.threads), *(["--tiny"] if args.tiny else []),
        fresh=not args.tiny, timeout_s=CHILD_TIMEOUT_S))
    row["load"] = f"{before} → {load_average()}"
    print(json.dumps(row), flush=True)
    return row


def _cell(row: dict, key: str, spec: str = ".3f") -> str:
    value = row.get(key)
    return "-" if value is None or isinstance(value, str) else format(value, spec)


def report(rows: list[dict], args, not_run: list[int]) -> list[str]:
    lines = [
        *results_header("Quality at scale (SCGC* on make_sbm graphs)", args.command,
                        args.device),
        f"Each row: `--threads {args.threads}`, passed to the estimators as `n_jobs`. "
        f"Library: {library_state()} (the estimator defaults are that commit's).",
        "",
        "Graphs: `make_sbm(n_nodes, random_state=0, "
        + ", ".join(f"{key}={value}" for key, value in GRAPH.items()) + ")`.",
        "Models: `SVDKMeans(10, random_state=0)` (`propagation_steps=2` for svd-kmeans-t2); "
        "`SCGCStar(10, random_state=0)` "
        "(`batch_size=None` for scgcstar-full, `input_hops=h` for scgcstar-hops*h*), "
        "every other parameter at its default "
        "(stopping rule included)"
        + (f", except {TINY_FIT} (--tiny)" if args.tiny else "") + ".",
        "*batch_size* of the `scgcstar` rows is what the default `batch_size=\"auto\"` "
        "resolved to (`batch_size_`) for the graph and this machine's available memory.",
        "",
        "| method | nodes | edge entries | batch_size | epochs | fit (s) | ACC | NMI | ARI "
        "| modularity | conductance | peak RSS (GiB) | load before → after | run |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['method']} | {row['nodes']:,} | {row['edge_entries']:,} "
            f"| {row.get('batch_size', '-')} | {row.get('epochs', '-')} "
            f"| {_cell(row, 'fit_seconds', '.1f')} | {_cell(row, 'acc')} | {_cell(row, 'nmi')} "
            f"| {_cell(row, 'ari')} | {_cell(row, 'modularity')} | {_cell(row, 'conductance')} "
            f"| {row['rss']:.2f} | {row['load']} |"
            + (f" from `{row['from_log']}` |" if "from_log" in row else " this run |"))
    if args.unfinished:
        lines += ["", "**Started but not finished here** (the machine's time ran out): "
                  + "; ".join(args.unfinished) + "."]
    if not_run:
        sizes = " ".join(str(n) for n in not_run)
        lines += ["", f"**Not run here**: {', '.join(f'{n:,}' for n in not_run)} nodes. "
                  "Command for those rows (each costs 30-60 min of both cores here):",
                  "", f"    nice -n 5 python -m {MODULE} --sizes {sizes} "
                  "--threads 2 --skip-reference --out benchmarks/results/scale_quality_large.md"]
    lines += ["", "Scores compare `labels_` with the planted clusters. *peak RSS* is the "
              "row's subprocess's maximum resident memory (graph generation included).", ""]
    return lines


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/scale_quality.md", root=False)
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help=f"graph sizes (default {' '.join(map(str, SIZES))}; "
                        f"--tiny: {' '.join(map(str, TINY_SIZES))})")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--input-hops", type=int, nargs="+", default=[0], metavar="H",
                        help="SCGC* rows at every size, one per H: the defaults for 0 "
                             "(scgcstar), input_hops=H otherwise (scgcstar-hopsH); "
                             "default: 0")
    parser.add_argument("--skip-reference", action="store_true",
                        help="only the scgcstar rows (no planted / svd-kmeans / full batch)")
    parser.add_argument("--not-run", type=int, nargs="*", default=[],
                        help="sizes to list as not run, with their command")
    parser.add_argument("--previous", type=Path, metavar="LOG",
                        help="take the rows an earlier run printed to LOG instead of rerunning")
    parser.add_argument("--only-previous", action="store_true",
                        help="run nothing: report the rows of --previous, name the others")
    parser.add_argument("--one", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS)
    args = parse(parser, argv, MODULE)
    args.unfinished = []
    if args.one is not None:
        print(json.dumps(run_one(args.one[0], int(args.one[1]), args.device, args.tiny,
                                 args.threads)))
        return
    if not args.tiny:  # the rows' fresh interpreters take their OpenMP threads from here
        os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    sizes = args.sizes or (TINY_SIZES if args.tiny else SIZES)
    jobs = [] if args.skip_reference else [(method, sizes[0]) for method in METHODS_AT_REFERENCE]
    jobs += [("scgcstar" if hops == 0 else f"{HOPS_METHOD}{hops}", n_nodes)
             for n_nodes in sizes for hops in args.input_hops]
    previous = _previous_rows(args.previous) if args.previous else {}
    rows = []
    for method, n_nodes in jobs:
        if (method, n_nodes) not in previous and args.only_previous:
            args.unfinished.append(f"{method} at {n_nodes:,} nodes")
            continue
        rows.append(previous.get((method, n_nodes)) or _child(method, n_nodes, args))
        # Rewritten after every row, so that a long run keeps what it measured.
        write_results(args.out, report(rows, args, args.not_run))
    write_results(args.out, report(rows, args, args.not_run))


def _previous_rows(log: Path) -> dict:
    """Rows an earlier run printed (one JSON object per line), by (method, nodes)."""
    rows = {}
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            row["from_log"] = log.name
            rows[(row["method"], row["nodes"])] = row
    return rows


if __name__ == "__main__":
    main()
