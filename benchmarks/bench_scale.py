"""Cost of mini-batch SCGC* from 10k to 2.4M nodes, and its quality against full batch.

Scale mode (default): for each ``make_sbm`` graph size, in a fresh subprocess (so that the
peak resident memory is that size's own), time

* graph generation;
* ``fit`` with pre-training and training epochs, split into set-up plus pre-training,
  the k-means start and training plus final encoding by time stamps taken when ``fit``
  enters and leaves its k-means start; a second ``fit`` without epochs gives the set-up
  and the final encoding, so the differences are the pre-training and training epochs;
* ``predict`` on the feature matrix;
* ACC/NMI/ARI of the full run against the planted clusters.

Labels are removed from the graph before ``fit`` so that no per-epoch metrics are computed
inside the timed runs.

Quality mode (``--quality``): DBLP, SCGC* with its defaults, full batch against
``batch_size=1024``, several seeds.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/bench_scale.py
    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/bench_scale.py --quality

Each mode writes its own section of benchmarks/results/scale.md (the other is kept).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import load_average, machine_info, peak_rss_gib  # noqa: E402

SIZES = (10_000, 100_000, 1_000_000, 2_400_000)
GRAPH = {"n_clusters": 10, "n_features": 64, "avg_degree": 25, "homophily": 0.6,
         "feature_signal": 0.2}
# batch_size=1024 is the size the DBLP quality goal names; an epoch costs
# O(batch_size * N) in the contrastive denominator, so larger batches cost more per node.
# The start is timed as 2 steps of the MLP's own contrastive start, as when scale.md was
# measured; the linear start's steps cost the same loss plus a smaller encoder.
ESTIMATOR = {"batch_size": 1024, "hidden_dims": (128,), "pretrain": "contrastive",
             "pretrain_epochs": 2, "max_epochs": 3, "tol": 0.0, "random_state": 0}
THREADS = 2
RESULTS = Path(__file__).resolve().parent / "results" / "scale.md"
SECTION = {"scale": "## Scaling on make_sbm graphs", "quality": "## Quality on DBLP"}


def _timed(function):
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


@contextmanager
def timed_kmeans_start(marks: dict[str, float]):
    """Record when ``fit`` enters and leaves its k-means start.

    The estimator module's reference to :func:`graphclust.kmeans.kmeans` is wrapped for the
    duration (library code is not changed): the instants split a fit into set-up plus
    pre-training, the k-means start, and training plus the final encoding, within the same
    run, so load changes between runs cannot leak into the split.
    """
    from graphclust.estimators import scgc

    original = scgc.kmeans

    def kmeans_with_marks(*args, **kwargs):
        marks["kmeans_enter"] = time.perf_counter()
        result = original(*args, **kwargs)
        marks["kmeans_leave"] = time.perf_counter()
        return result

    scgc.kmeans = kmeans_with_marks
    try:
        yield marks
    finally:
        scgc.kmeans = original


def library_state() -> str:
    """Commit of the checkout and any uncommitted change under graphclust/ (code in flux)."""
    root = Path(__file__).resolve().parents[1]

    def git(*arguments: str) -> str:
        completed = subprocess.run(["git", "-C", str(root), *arguments], capture_output=True,
                                   text=True)
        return completed.stdout.strip() if completed.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--", "graphclust").splitlines()
    return commit + (f" + {len(changed)} uncommitted file(s)" if changed else "")


def run_size(n_nodes: int) -> dict:
    """Generate one graph and time SCGC* on it, in this process."""
    from graphclust import SCGCStar, evaluate
    from graphclust.data import make_sbm

    torch.set_num_threads(THREADS)
    result = {"n_nodes": n_nodes, "library": library_state(), "import_rss_gib": peak_rss_gib()}
    data, result["generate_s"] = _timed(lambda: make_sbm(n_nodes, random_state=0, **GRAPH))
    labels = data.y.numpy()
    data.y = None  # no per-epoch metrics inside the timed fits
    result["edge_entries"] = int(data.edge_index.shape[1])
    result["graph_rss_gib"] = peak_rss_gib()

    def fit(pretrain_epochs: int, max_epochs: int):
        """Fit and split its time at the k-means start."""
        params = dict(ESTIMATOR, pretrain_epochs=pretrain_epochs, max_epochs=max_epochs)
        estimator = SCGCStar(GRAPH["n_clusters"], **params)
        with timed_kmeans_start({}) as marks:
            start = time.perf_counter()
            estimator.fit(data)
            stop = time.perf_counter()
        phases = {"before_kmeans": marks["kmeans_enter"] - start,
                  "kmeans": marks["kmeans_leave"] - marks["kmeans_enter"],
                  "after_kmeans": stop - marks["kmeans_leave"], "total": stop - start}
        return estimator, phases

    # Without epochs: what the full fit spends besides them (set-up and CSR before the
    # k-means start, the final encoding after it).
    _, bare = fit(0, 0)
    pretrain_epochs, max_epochs = ESTIMATOR["pretrain_epochs"], ESTIMATOR["max_epochs"]
    estimator, full = fit(pretrain_epochs, max_epochs)
    result.update(
        fit_s=full["total"], n_iter=estimator.n_iter_, setup_s=bare["before_kmeans"],
        kmeans_s=full["kmeans"], kmeans_random_encoder_s=bare["kmeans"],
        pretrain_epoch_s=(full["before_kmeans"] - bare["before_kmeans"]) / pretrain_epochs,
        train_epoch_s=(full["after_kmeans"] - bare["after_kmeans"]) / max_epochs,
    )
    predicted, result["predict_s"] = _timed(lambda: estimator.predict(data.x))
    result["predict_matches_fit"] = bool((predicted == estimator.labels_).all())
    scores, result["metrics_s"] = _timed(lambda: evaluate(labels, estimator.labels_))
    result.update({name: scores[name] for name in ("acc", "nmi", "ari")})
    result["peak_rss_gib"] = peak_rss_gib()
    return result


def run_quality(root: str, seeds: int) -> list[dict]:
    """DBLP with SCGC*'s defaults: full batch and batch_size=1024, ``seeds`` seeds each."""
    from graphclust import SCGCStar, evaluate, load_dataset

    torch.set_num_threads(THREADS)
    graph = load_dataset("dblp", root=root)
    labels = graph.y.numpy()
    n_clusters = int(labels.max()) + 1
    rows = []
    for batch_size in (None, 1024):
        for seed in range(seeds):
            estimator = SCGCStar(n_clusters, batch_size=batch_size, random_state=seed)
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
        f"`torch.set_num_threads({THREADS})`, one subprocess per size.",
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
        "training epochs. The k-means start's entry and exit are time-stamped inside each fit "
        "(the estimator module's `kmeans` reference is wrapped during the run), which splits "
        "a fit into before / k-means / after. A second fit with no pre-training and no "
        "training epochs gives *set-up* (transform, CSR, batch plan: its time before k-means) "
        "and the final encoding (its time after k-means). *pretrain epoch* = (full fit before "
        "k-means − set-up) / pretrain_epochs; *train epoch* = (full fit after k-means − final "
        "encoding) / max_epochs, so it includes the whole-graph target P of each epoch. "
        "*k-means start* is the full fit's own (n_init=20, centres fitted on at most 100,000 "
        "sampled rows, then every row assigned). *library*: commit the size ran against (the "
        "package changes while benchmarks run; rows taken from an earlier run with "
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


def write_section(mode: str, lines: list[str]) -> None:
    """Replace this mode's section of the results file, keeping the other one."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Scale benchmark (SCGC*)\n\n"
    pattern = re.compile(re.escape(SECTION[mode]) + r"\n.*?(?=\n## |\Z)", re.S)
    section = "\n".join(lines)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else \
        text.rstrip("\n") + "\n\n" + section
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text.rstrip("\n") + "\n")
    print(f"wrote {RESULTS}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--quality", action="store_true", help="run the DBLP comparison")
    parser.add_argument("--root", default=str(Path(__file__).resolve().parents[2] / "shared"
                                              / "data"))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--previous", type=Path, metavar="LOG",
                        help="also tabulate rows (JSON lines as this script prints them) of an "
                        "earlier run for sizes not measured now")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if any(n < 2 * GRAPH["n_clusters"] for n in args.sizes):
        parser.error(f"--sizes must be at least {2 * GRAPH['n_clusters']} nodes")
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    if args.one is not None:
        print(json.dumps(run_size(args.one)))
        return
    command = "python " + " ".join(sys.argv)
    if os.environ.get("OMP_WAIT_POLICY"):
        command = f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']} {command}"
    torch.set_num_threads(THREADS)
    if args.quality:
        load_before = load_average()
        rows = run_quality(args.root, args.seeds)
        loads = (load_before, load_average())
        write_section("quality", quality_section(rows, command, loads))
        return

    rows = []
    for n_nodes in args.sizes:
        load_before = load_average()
        completed = subprocess.run(
            [sys.executable, __file__, "--one", str(n_nodes)],
            check=True, capture_output=True, text=True,
        )
        row = json.loads(completed.stdout.strip().splitlines()[-1])
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
    write_section("scale", scale_section(rows, command))


if __name__ == "__main__":
    main()
