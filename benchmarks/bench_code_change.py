"""SCGC*'s partitions with the package of an earlier revision and with this checkout's.

A change that alters only rounding (k-means' centred distances, 2026-12-07) leaves the
rows of the quality tables standing when the fits it touches give the same partitions.
For each data set and seed, SCGC* with its defaults is fitted twice, in two fresh
interpreters: one importing ``graphclust`` as it was at ``--before`` (extracted with ``git
archive``), one importing this checkout's. The table gives both ACC values and whether
the partitions are the same (ARI 1: the same clusters, whatever their numbering).

    OMP_NUM_THREADS=1 python -m benchmarks.bench_code_change --before 2fca0a1 \\
        --datasets cora,dblp,digits,uat --seeds 3

writes benchmarks/results/code_change.md (``--out`` elsewhere).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from benchmarks._machine import (
    fit_params,
    parse,
    results_header,
    script_parser,
    write_results,
)

MODULE = "benchmarks.bench_code_change"
REPO = Path(__file__).resolve().parents[1]

# Run in a fresh interpreter with the package tree first on sys.path: one line of JSON,
# the labels of every (data set, seed) and their ACC.
_FITS = """
import json, sys
sys.path.insert(0, sys.argv[1])
import torch
torch.set_num_threads(int(sys.argv[2]))
import graphclust
assert graphclust.__file__.startswith(sys.argv[1]), graphclust.__file__
from graphclust import SCGCStar, load_dataset
from graphclust.metrics import accuracy
request = json.loads(sys.argv[3])
fits = {}
for name in request["datasets"]:
    graph = load_dataset(name, request["root"])
    for seed in range(request["seeds"]):
        labels = SCGCStar(int(graph.y.max()) + 1, random_state=seed,
                          **request["params"]).fit_predict(graph)
        fits[f"{name} {seed}"] = [labels.tolist(), accuracy(graph.y.numpy(), labels)]
print(json.dumps(fits))
"""


def _tree_at(revision: str, folder: Path) -> Path:
    """The ``graphclust`` package as it was at ``revision``, extracted below ``folder``."""
    archive = folder / "before.tar"
    subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", "-o", str(archive),
                    revision, "graphclust"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder


def _fits(tree: Path, args, params: dict) -> dict:
    request = json.dumps({"datasets": args.datasets, "seeds": args.seeds,
                          "root": str(args.root), "params": params})
    done = subprocess.run([sys.executable, "-c", _FITS, str(tree), str(args.threads),
                           request], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    from sklearn.metrics import adjusted_rand_score

    parser = script_parser(__doc__, out="benchmarks/results/code_change.md",
                           datasets="cora,dblp,digits,uat", seeds=3)
    parser.add_argument("--before", default="HEAD",
                        help="git revision of the earlier package (default: %(default)s)")
    args = parse(parser, argv, MODULE)
    with tempfile.TemporaryDirectory() as folder:
        before = _fits(_tree_at(args.before, Path(folder)), args, fit_params(args))
    after = _fits(REPO, args, fit_params(args))
    lines = results_header(f"SCGC*'s partitions at {args.before} and in this checkout",
                           args.command)
    lines += ["| data set | seed | ACC before | ACC now | same partition (ARI) |",
              "|---|---:|---:|---:|---|"]
    for key, (labels, acc) in before.items():
        now_labels, now_acc = after[key]
        agreement = adjusted_rand_score(labels, now_labels)
        same = "same labels" if labels == now_labels else \
            ("yes, renumbered" if agreement == 1.0 else f"no ({agreement:.4f})")
        name, seed = key.split()
        lines.append(f"| {name} | {seed} | {acc:.4f} | {now_acc:.4f} | {same} |")
    write_results(args.out, lines)


if __name__ == "__main__":
    main()
