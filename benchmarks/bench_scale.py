"""Cost of mini-batch SCGC* from 10k to 2.4M nodes, and its quality against full batch.

Scale mode (default): for each ``make_sbm`` graph size, in a fresh subprocess (so that the
peak resident memory is that size's own), time

* graph generation;
* ``fit`` with pre-training and training epochs, and two shorter fits of the same model:
  without epochs (the set-up, the k-means start and the final encoding) and with the
  pre-training epochs only; the differences are the pre-training and the training epochs;
* the k-means start alone (:func:`graphclust.kmeans.kmeans` with the fit's ``n_init=20``
  on the fitted embedding);
* ``predict`` on the feature matrix;
* ACC/NMI/ARI of the full run against the planted clusters.

Labels are removed from the graph before ``fit`` so that no per-epoch metrics are computed
inside the timed runs.

Quality mode (``--quality``): DBLP, SCGC* with its defaults, full batch against
``batch_size=1024``, several seeds.

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.bench_scale
    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.bench_scale --quality

Each mode writes its own section of benchmarks/results/scale.md (the other is kept).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import time
from pathlib import Path

import torch

from benchmarks._machine import (
    TINY_DATASET,
    TINY_FIT,
    library_state,
    load_average,
    machine_info,
    parse,
    peak_rss_gib,
    run_module,
    script_parser,
)
from graphclust.sampling import RandomWalkSampler

SIZES = (10_000, 100_000, 1_000_000, 2_400_000)
TINY_SIZES = (500,)
GRAPH = {"n_clusters": 10, "n_features": 64, "avg_degree": 25, "homophily": 0.6,
         "feature_signal": 0.2}
# Batches of 1,024, the size the DBLP quality goal names; an epoch costs
# O(batch_size * N) in the contrastive denominator, so larger batches cost more per node.
# Every node an epoch (max_batches=None): this table measures the cost of a pass over N
# nodes, which the default sampler's epochs of at most 32 batches would cap.
# The start is timed as 2 steps of the MLP's own contrastive start, as when scale.md was
# measured; the linear start's steps cost the same loss plus a smaller encoder.
ESTIMATOR = {"sampler": RandomWalkSampler(1024, max_batches=None), "hidden_dims": (128,),
             "pretrain": "contrastive", "pretrain_epochs": 2, "max_epochs": 3, "tol": 0.0,
             "random_state": 0}
THREADS = 2
SECTION = {"scale": "## Scaling on make_sbm graphs", "quality": "## Quality on DBLP"}


def _timed(function):
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


def run_size(n_nodes: int, tiny: bool) -> dict:
    """Generate one graph and time SCGC* on it, in this process."""
    from graphclust import SCGCStar, evaluate
    from graphclust.data import make_sbm
    from graphclust.kmeans import kmeans
    from graphclust.threads import limit_threads

    result = {"n_nodes": n_nodes, "library": library_state(), "import_rss_gib": peak_rss_gib()}
    data, result["generate_s"] = _timed(lambda: make_sbm(n_nodes, random_state=0, **GRAPH))
    labels = data.y.numpy()
    data.y = None  # no per-epoch metrics inside the timed fits
    result["edge_entries"] = int(data.edge_index.shape[1])
    result["graph_rss_gib"] = peak_rss_gib()
    settings = {**ESTIMATOR, **(TINY_FIT if tiny else {})}
    pretrain_epochs, max_epochs = settings["pretrain_epochs"], settings["max_epochs"]

    def fit(pretrain: int, train: int):
        estimator = SCGCStar(GRAPH["n_clusters"], **{**settings, "pretrain_epochs": pretrain,
                                                     "max_epochs": train})
        return _timed(lambda: estimator.fit(data))

    def kmeans_start(estimator) -> float:
        """The fit's k-means start (n_init=20, the fit's threads) on the estimator's
        embedding, timed apart."""
        embedding = torch.as_tensor(estimator.embedding_)
        generator = torch.Generator().manual_seed(0)
        with limit_threads(estimator.n_jobs):
            return _timed(lambda: kmeans(embedding, GRAPH["n_clusters"], n_init=20,
                                         generator=generator))[1]

    bare, bare_s = fit(0, 0)  # set-up, k-means start, final encoding
    _, pretrained_s = fit(pretrain_epochs, 0)
    estimator, full_s = fit(pretrain_epochs, max_epochs)
    result.update(
        fit_s=full_s, n_iter=estimator.n_iter_, kmeans_s=kmeans_start(estimator),
        kmeans_random_encoder_s=kmeans_start(bare),
        pretrain_epoch_s=(pretrained_s - bare_s) / pretrain_epochs,
        train_epoch_s=(full_s - pretrained_s) / max_epochs,
    )
    result["setup_s"] = bare_s - result["kmeans_random_encoder_s"]
    predicted, result["predict_s"] = _timed(lambda: estimator.predict(data.x))
    result["predict_matches_fit"] = bool((predicted == estimator.labels_).all())
    scores, result["metrics_s"] = _timed(lambda: evaluate(labels, estimator.labels_))
    result.update({name: scores[name] for name in ("acc", "nmi", "ari")})
    result["peak_rss_gib"] = peak_rss_gib()
    return result


def run_quality(root: str, seeds: int, tiny: bool) -> list[dict]:
    """DBLP with SCGC*'s defaults: full batch and batch_size=1024, ``seeds`` seeds each."""
    from graphclust import SCGCStar, evaluate, load_dataset

    graph = load_dataset(TINY_DATASET if tiny else "dblp", root=root)
    labels = graph.y.numpy()
    n_clusters = int(labels.max()) + 1
    rows = []
    for batch_size in (None, 1024):
        for seed in range(seeds):
            estimator = SCGCStar(n_clusters, batch_size=batch_size, random_state=seed,
                                 **(TINY_FIT if tiny else {}))
            _, seconds = _timed(lambda: estimator.fit(graph))  # noqa: B023
            scores = evaluate(labels, estimator.labels_)
            rows.append({"batch_size": batch_size, "seed": seed, "seconds": seconds,
                         "epochs": estimator.n_iter_, **scores})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def _header(command: str) -> list[str]:
    environment = os.environ.get("OMP_WAIT_POLICY", "unset (spin-waiting default)")
    return [
        f"Command: `{command}`",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in machine_info().items()),
        f"| OMP_WAIT_POLICY | {environment} |",
        "",
    ]


def scale_section(rows: list[dict], command: str) -> list[str]:
    goal_ratio = None
    by_size = {row["n_nodes"]: row for row in rows}
    if 100_000 in by_size and 1_000_000 in by_size:
        per_node = {n: by_size[n]["train_epoch_s"] / n for n in (100_000, 1_000_000)}
        goal_ratio = per_node[1_000_000] / per_node[100_000]
    lines = [
        SECTION["scale"],
        "",
        *_header(command),
        f"Graphs: `make_sbm(n_nodes, random_state=0, "
        f"{', '.join(f'{k}={v}' for k, v in GRAPH.items())})`.",
        f"Model: `SCGCStar({GRAPH['n_clusters']}, "
        f"{', '.join(f'{k}={v!r}' for k, v in ESTIMATOR.items())})`, "
        "one subprocess per size.",
        "",
        "| nodes | edge entries | load before | load after | generate (s) | fit (s) "
        "| set-up (s) | pretrain epoch (s) | k-means start (s) | train epoch (s) "
        "| µs / node / train epoch | predict (s) | peak RSS (GiB) | ACC | NMI | ARI "
        "| library |",
        "|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['n_nodes']:,} | {row['edge_entries']:,} | {row['load_before']} "
            f"| {row['load_after']} | {row['generate_s']:.1f} | {row['fit_s']:.1f} "
            f"| {row['setup_s']:.1f} | {row['pretrain_epoch_s']:.1f} | {row['kmeans_s']:.1f} "
            f"| {row['train_epoch_s']:.1f} | {row['train_epoch_s'] * 1e6 / row['n_nodes']:.0f} "
            f"| {row['predict_s']:.2f} | {row['peak_rss_gib']:.2f} | {row['acc']:.3f} "
            f"| {row['nmi']:.3f} | {row['ari']:.3f} | {row.get('library', 'not recorded')} |"
        )
    lines += [
        "",
        "How the columns are measured: *fit* is the whole `fit` with pre-training and "
        "training epochs. Two more fits of the same model split it: one with no epochs at "
        "all and one with the pre-training epochs only. *pretrain epoch* = (pre-training "
        "fit − fit without epochs) / pretrain_epochs; *train epoch* = (full fit − "
        "pre-training fit) / max_epochs, so it includes the whole-graph target P of each "
        "epoch. *k-means start* = `graphclust.kmeans.kmeans` with the fit's `n_init=20` on "
        "the full fit's embedding, timed apart (centres fitted on at most 100,000 sampled "
        "rows, then every row assigned); *set-up* = the fit without epochs minus the same "
        "k-means on its embedding (transform, CSR, batch plan and the final encoding). "
        "Rows measured before this split (by time stamps inside one fit, which excluded the "
        "final encoding from the set-up) keep their values. *library*: commit the size ran "
        "against (the package changes while benchmarks run; rows taken from an earlier run with "
        "`--previous` keep theirs). *predict* is `predict(x)` on all nodes from "
        "the feature matrix. Scores compare the full fit's `labels_` with the planted "
        "clusters.",
        "",
        "Load average (1/5/15 min) is read just before and after each size's subprocess; "
        "above 2 (the core count) other jobs shared the CPU and the times are pessimistic.",
        "",
    ]
    if goal_ratio is not None:
        lines += [f"Per-node training-epoch time, 1M / 100k: {goal_ratio:.2f} (goal ≤ 1.3).", ""]
    return lines


def quality_section(rows: list[dict], command: str, loads: tuple[str, str]) -> list[str]:
    lines = [
        SECTION["quality"],
        "",
        *_header(command),
        f"Load average (1/5/15 min) before: {loads[0]}, after: {loads[1]}. "
        f"Library: {library_state()} (the estimator defaults are that commit's).",
        "",
        "Model: `SCGCStar(4, random_state=seed)` with its defaults, full batch "
        "(`batch_size=None`) and `batch_size=1024`, on `load_dataset('dblp')` (SDCN layout).",
        "",
        "| batch_size | seed | epochs | fit (s) | ACC | NMI | ARI | F1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['batch_size'] or 'full'} | {row['seed']} | {row['epochs']} "
            f"| {row['seconds']:.1f} | {row['acc']:.4f} | {row['nmi']:.4f} "
            f"| {row['ari']:.4f} | {row['f1']:.4f} |"
        )
    lines.append("")
    means = {}
    for batch_size in (None, 1024):
        accs = [row["acc"] for row in rows if row["batch_size"] == batch_size]
        means[batch_size] = statistics.mean(accs)
        spread = statistics.stdev(accs) if len(accs) > 1 else 0.0
        lines.append(f"- {batch_size or 'full batch'}: ACC {means[batch_size]:.4f} "
                     f"± {spread:.4f} over {len(accs)} seeds")
    gap = 100 * (means[None] - means[1024])
    lines += [f"- full batch − batch_size=1024: {gap:+.2f} ACC points (goal ≤ 2).", ""]
    return lines


def write_section(path: Path, mode: str, lines: list[str]) -> None:
    """Replace this mode's section of the results file, keeping the other one."""
    text = path.read_text() if path.exists() else "# Scale benchmark (SCGC*)\n\n"
    pattern = re.compile(re.escape(SECTION[mode]) + r"\n.*?(?=\n## |\Z)", re.S)
    section = "\n".join(lines)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else \
        text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n")
    print(f"wrote {path}")


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/scale.md", seeds=3,
                           threads=THREADS)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--quality", action="store_true", help="run the DBLP comparison")
    parser.add_argument("--previous", type=Path, metavar="LOG",
                        help="also tabulate rows (JSON lines as this script prints them) of an "
                        "earlier run for sizes not measured now")
    parser.add_argument("--one", type=int, help="internal: one size, print JSON")
    args = parse(parser, argv, "benchmarks.bench_scale")
    sizes = list(TINY_SIZES) if args.tiny else args.sizes
    if any(n < 2 * GRAPH["n_clusters"] for n in sizes):
        parser.error(f"--sizes must be at least {2 * GRAPH['n_clusters']} nodes")
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    if args.one is not None:
        print(json.dumps(run_size(args.one, args.tiny)))
        return
    if args.quality:
        load_before = load_average()
        rows = run_quality(args.root, args.seeds, args.tiny)
        loads = (load_before, load_average())
        write_section(args.out, "quality", quality_section(rows, args.command, loads))
        return

    rows = []
    for n_nodes in sizes:
        load_before = load_average()
        row = json.loads(run_module("benchmarks.bench_scale", "--one", str(n_nodes),
                                    "--threads", str(args.threads),
                                    *(["--tiny"] if args.tiny else []), fresh=not args.tiny))
        row.update(load_before=load_before, load_after=load_average())
        print(json.dumps(row), flush=True)
        rows.append(row)
    if args.previous is not None:
        measured = {row["n_nodes"] for row in rows}
        for line in args.previous.read_text().splitlines():
            if line.startswith("{") and '"n_nodes"' in line:
                row = json.loads(line)
                if row["n_nodes"] not in measured:
                    measured.add(row["n_nodes"])
                    rows.append(row)
        rows.sort(key=lambda row: row["n_nodes"])
    write_section(args.out, "scale", scale_section(rows, args.command))


if __name__ == "__main__":
    main()
