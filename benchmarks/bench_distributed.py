"""Multi-process training (torchrun, DistributedDataParallel over gloo) against one process.

For each seed, SCGC* with its defaults is fitted on one data set (default: Coauthor CS) by
one plain process and by ``torchrun --standalone --nproc_per_node=P``, every process with
``--threads`` torch threads. Reported per run: ACC and NMI (rank 0's labels), the joint
stage's epochs, the batch size, the fit's wall seconds. DDP averages the gradients of the
processes' shares of each epoch's seed batches, so the same quality is the point; on two
cores no speed-up is expected.

The cost of a joint-stage epoch, communication included, is measured with the first seed:
two fixed-length fits without a start (``pretrain="none"``, ``tol=0``) of ``--short`` and
``--long`` epochs in each configuration; their time difference over the epochs between is
the seconds an epoch takes, free of the data loading and the k-means initialisation that
both fits share.

    OMP_NUM_THREADS=1 python -m benchmarks.bench_distributed            # CS, 3 seeds

writes benchmarks/results/distributed.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._machine import TINY_DATASET, parse, results_header, script_parser, write_results

MODULE = "benchmarks.bench_distributed"
FIXED_LENGTH = {"pretrain": "none", "tol": 0.0}


def _fit(graph, seed: int, params: dict) -> tuple[object, float]:
    import torch.distributed as dist

    from graphclust import SCGCStar

    model = SCGCStar(n_clusters=int(graph.y.max()) + 1, random_state=seed, **params)
    if dist.is_initialized():
        dist.barrier()  # every process starts the clock together
    start = time.perf_counter()
    model.fit(graph)
    if dist.is_initialized():
        dist.barrier()
    return model, time.perf_counter() - start


def worker(args) -> None:
    """One configuration's fits, in this process (one of torchrun's, or alone)."""
    import torch.distributed as dist

    from graphclust import evaluate
    from graphclust.data import load_dataset

    launched = "WORLD_SIZE" in os.environ
    if launched:
        dist.init_process_group("gloo")
    graph = load_dataset(args.dataset, root=args.root)
    params = json.loads(args.params)
    model, seconds = _fit(graph, args.seed, dict(params))
    result = {"seconds": seconds, "epochs": model.n_iter_, "batch_size": model.batch_size_,
              **evaluate(graph.y.numpy(), model.labels_)}
    if args.cost:
        for name, epochs in (("short", args.short), ("long", args.long)):
            fixed = {**params, **FIXED_LENGTH, "max_epochs": epochs}
            result[f"{name}_seconds"] = _fit(graph, args.seed, fixed)[1]
    if not launched or dist.get_rank() == 0:
        Path(args.result).write_text(json.dumps(result))
    if launched:
        dist.destroy_process_group()


def run_configuration(args, processes: int, seed: int, cost: bool) -> dict:
    """Launch one configuration (a plain process, or torchrun with ``processes``); with
    ``--tiny`` the plain process's fits run in this process, which saves a start of torch."""
    with tempfile.TemporaryDirectory() as folder:
        result = Path(folder) / "result.json"
        command = [MODULE, "--worker", "--dataset", args.dataset, "--root", str(args.root),
                   "--seed", str(seed), "--params", args.params, "--result", str(result),
                   "--threads", str(args.threads), "--short", str(args.short),
                   "--long", str(args.long)] + (["--cost"] if cost else [])
        if args.tiny and processes == 1:
            main(command[1:])
            return json.loads(result.read_text())
        launcher = [sys.executable] if processes == 1 else [
            sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc_per_node={processes}"]
        environment = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
        completed = subprocess.run([*launcher, "-m", *command], capture_output=True,
                                   text=True, env=environment)
        if completed.returncode != 0:
            raise RuntimeError(f"{' '.join(launcher)} -m {' '.join(command)} failed:\n"
                               f"{completed.stderr[-3000:]}")
        return json.loads(result.read_text())


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/distributed.md", seeds=3)
    parser.add_argument("--dataset", default="cs")
    parser.add_argument("--processes", type=int, default=2,
                        help="torchrun's processes (default: %(default)s)")
    parser.add_argument("--params", default="{}",
                        help="SCGC* parameters as JSON (default: the defaults)")
    parser.add_argument("--short", type=int, default=2, help="epochs of the short fit")
    parser.add_argument("--long", type=int, default=12, help="epochs of the long fit")
    parser.add_argument("--worker", action="store_true", help="internal: one configuration")
    parser.add_argument("--seed", type=int, help="internal: the worker's seed")
    parser.add_argument("--result", help="internal: where the worker writes its result")
    parser.add_argument("--cost", action="store_true", help="internal: also the epoch cost")
    args = parse(parser, argv, MODULE)
    if args.worker:
        worker(args)
        return
    if args.tiny:
        args.dataset, args.short, args.long = TINY_DATASET, 1, 2
        args.params = json.dumps({"pretrain_epochs": 2, "max_epochs": 3, "hidden_dims": [16],
                                  "embedding_dim": 8, "batch_size": 16})
    rows = []
    for seed in range(args.seeds):
        for processes in (1, args.processes):
            rows.append((seed, processes, run_configuration(args, processes, seed, seed == 0)))
            write_results(args.out, _report(rows, args))


def _report(rows, args) -> list[str]:
    epochs = args.long - args.short
    lines = results_header("Multi-process training (torchrun) against one process",
                           args.command) + [
        f"SCGC* on `{args.dataset}`, parameters {args.params} (`{{}}`: the defaults), "
        f"{args.threads} torch thread(s) per process. One plain process against `torchrun "
        f"--standalone --nproc_per_node={args.processes}` (DDP, gloo); ACC and NMI of rank "
        "0's labels; epochs: the joint stage's; seconds: the fit's wall time.", "",
        "| seed | processes | batch size | epochs | fit s | ACC | NMI |",
        "|---:|---:|---:|---:|---:|---:|---:|"]
    for seed, processes, result in rows:
        lines.append(f"| {seed} | {processes} | {result['batch_size'] or 'full'} | "
                     f"{result['epochs']} | {result['seconds']:.1f} | {result['acc']:.4f} | "
                     f"{result['nmi']:.4f} |")
    costs = [(processes, result) for seed, processes, result in rows if "long_seconds" in result]
    if costs:
        lines += ["", f"Seconds per joint-stage epoch (seed 0): fixed-length fits without a "
                  f"start, ({args.long} epochs - {args.short} epochs) / {epochs}.", "",
                  "| processes | short fit s | long fit s | s per epoch |",
                  "|---:|---:|---:|---:|"]
        for processes, result in costs:
            per_epoch = (result["long_seconds"] - result["short_seconds"]) / epochs
            lines.append(f"| {processes} | {result['short_seconds']:.1f} | "
                         f"{result['long_seconds']:.1f} | {per_epoch:.2f} |")
    return lines


if __name__ == "__main__":
    main()
