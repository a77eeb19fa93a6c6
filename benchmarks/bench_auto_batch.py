"""What ``batch_size="auto"`` resolves to for the development graphs and for large ones.

No training: for each graph, the sizes SCGC* with its defaults would see, the full-batch
epoch's cost against a mini-batch epoch's (:func:`graphclust.memory.epoch_flops`), its loss
against :data:`graphclust.memory.FULL_BATCH_LOSS_FLOPS` (these two decide for
message-passing encoders only), the full-batch peak-memory estimate (positives bounded by
:func:`graphclust.memory.positive_pair_bound`) and the choice of
:func:`graphclust.memory.choose_batch_size` for SCGC* with 8 GiB available and with what
this machine has available now, and for a message-passing encoder with 8 GiB. The large
graphs are sizes only (``make_sbm``'s edge counts from ``benchmarks/results/scale.md``,
positives by the estimate's own bound), not generated.

    python -m benchmarks.bench_auto_batch --root ../shared/data

writes benchmarks/results/auto_batch.md (``--out`` elsewhere; ``--tiny``: karate only).
"""

from __future__ import annotations

from benchmarks._machine import parse, results_header, script_parser, write_results

MODULE = "benchmarks.bench_auto_batch"
DATASETS = "digits,cora,dblp,uat,eat,bat,photo,cs"
# name -> (nodes, directed edge entries, features, clusters): make_sbm graphs of the scale
# benchmarks (avg_degree 25, 64 features; scale.md), and the same node count with Coauthor
# CS's width, where the epoch cost ratio alone would keep full batch.
SIZES = {"sbm-100k": (100_000, 2_498_644, 64, 10),
         "sbm-100k, 6,805 features": (100_000, 2_498_644, 6805, 10),
         "sbm-1M": (1_000_000, 24_998_664, 64, 10),
         "sbm-2.4M": (2_400_000, 59_998_572, 64, 10)}
GIB = 2**30


def resolve(name: str, n_nodes: int, n_edges: int, n_features: int, n_clusters: int,
            n_positive_pairs: int | None, available_now: int) -> dict:
    """One row: the cost and memory figures the rule reads, and its two choices."""
    from graphclust import SCGCStar
    from graphclust.memory import (
        DEFAULT_MINI_BATCH,
        FULL_BATCH_LOSS_FLOPS,
        TrainingMemoryError,
        choose_batch_size,
        epoch_flops,
        estimate_peak_memory,
    )
    from graphclust.sampling.contrastive import EPOCH_BATCHES

    model = SCGCStar(n_clusters)
    sizes = dict(hidden_dims=model.hidden_dims, embedding_dim=model.embedding_dim,
                 order=model.order, num_walks=model.num_walks)
    capped = dict(max_batches=EPOCH_BATCHES, **sizes)
    mini = min(DEFAULT_MINI_BATCH, n_nodes // 2)
    ratio = epoch_flops(n_nodes, n_features, **sizes) / epoch_flops(
        n_nodes, n_features, batch_size=mini, **capped)
    full = estimate_peak_memory(n_nodes, n_edges, n_features, n_clusters=n_clusters,
                                n_positive_pairs=n_positive_pairs, **sizes)

    def choice(available: int, passes_messages: bool = False) -> str:
        try:
            batch = choose_batch_size(n_nodes, n_edges, n_features, n_clusters=n_clusters,
                                      available_bytes=available,
                                      n_positive_pairs=n_positive_pairs,
                                      passes_messages=passes_messages, **capped)
        except TrainingMemoryError:
            return "TrainingMemoryError"
        return "full" if batch is None else str(batch)

    return {"name": name, "nodes": n_nodes, "edges": n_edges, "features": n_features,
            "ratio": ratio,
            "loss": 6.0 * n_nodes**2 * model.embedding_dim / FULL_BATCH_LOSS_FLOPS,
            "full_gib": full.total / GIB, "at_8": choice(8 * GIB),
            "now": choice(available_now), "messages_at_8": choice(8 * GIB, True)}


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/auto_batch.md", datasets=DATASETS)
    args = parse(parser, argv, MODULE)
    from graphclust import load_dataset
    from graphclust.memory import positive_pair_bound
    from graphclust.sampling import available_memory_bytes

    available_now = available_memory_bytes("cpu")
    rows = []
    for name in args.datasets:
        graph = load_dataset(name, root=args.root)
        n_nodes, n_edges = graph.num_nodes, int(graph.edge_index.shape[1])
        pairs = positive_pair_bound(graph.edge_index, n_nodes, 2)
        rows.append(resolve(name, n_nodes, n_edges, int(graph.x.shape[1]),
                            int(graph.y.max()) + 1, pairs, available_now))
    if not args.tiny:
        rows += [resolve(name, *sizes, None, available_now) for name, sizes in SIZES.items()]
    lines = [
        *results_header('What batch_size="auto" chooses (no training)', args.command),
        "Model: `SCGCStar(k)` with its defaults (hidden_dims (256,), embedding_dim 32, "
        "order 2, num_walks 4). *cost ratio*: a full-batch epoch's floating-point "
        "operations over a mini-batch epoch's (batches of 1,024, at most half the graph, "
        "at most 32 an epoch: the sampler's `EPOCH_BATCHES`); "
        "a message-passing encoder's full batch needs at most 1. *loss / budget*: the "
        "full-batch loss 6N²D over `FULL_BATCH_LOSS_FLOPS`; a message-passing encoder's "
        "full batch needs at most 1 (SCGC*'s needs fewer than 2,048 nodes). *full-batch peak*: "
        "`estimate_peak_memory` (positives: `positive_pair_bound` for the data sets, the "
        "estimate's own bound for the sizes). *choice*: `choose_batch_size` with 8 GiB "
        f"available, and with the {available_now / GIB:.1f} GiB this machine had available "
        "(`available_memory_bytes('cpu')`) when the script ran; *message passing*: the "
        "choice for a message-passing encoder with 8 GiB (`passes_messages=True`).",
        "",
        "| graph | nodes | edge entries | features | cost ratio | loss / budget "
        "| full-batch peak (GiB) | choice, 8 GiB | choice, now | message passing, 8 GiB |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|---|",
        *(f"| {row['name']} | {row['nodes']:,} | {row['edges']:,} | {row['features']:,} "
          f"| {row['ratio']:.2f} | {row['loss']:.3f} | {row['full_gib']:.2f} "
          f"| {row['at_8']} | {row['now']} | {row['messages_at_8']} |" for row in rows),
        "",
    ]
    write_results(args.out, lines)
    print("\n".join(lines[-len(rows) - 2:]))


if __name__ == "__main__":
    main()
