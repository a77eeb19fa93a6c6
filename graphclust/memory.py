r"""Peak memory and cost of contrastive training, and the batch-size rule built on them.

Pure functions of the problem's sizes: nothing here trains or allocates. They serve
``batch_size="auto"`` (full batch while the quadratic loss is cheap and fits, seed batches
otherwise) and the check that refuses, before training, a graph that cannot fit.

Memory model of one fit (bytes; :math:`s` the float size, indices int64; :math:`N` nodes,
:math:`E` directed edge entries, :math:`F` features, widths :math:`h_1 \dots h_L` then the
embedding :math:`D`, :math:`K` clusters, :math:`P` positive pairs, chunk :math:`c`):

* inputs: the raw and the transformed features and one temporary of the transform,
  :math:`3NFs`, and the edge list, the caller's and the fit's canonical copy, :math:`32E`;
* runtime: :data:`RUNTIME_BYTES` for what torch loads and caches on first use (kernels,
  allocator pools), calibrated on CPU fits in ``benchmarks/results/memory_estimate.md``;
* labels: the stopping rule keeps ``check_interval + 1`` label vectors, :math:`8N` each;
* the start's held-out run: up to one copy a check of the map it trains and its two Adam
  moments, :math:`3(F + 1)Ds` each for the linear start, to resume from;
  and each check's scores, the logits of :math:`A` held-out pairs against :math:`C'`
  candidates and their exponentials, :math:`2AC's` (:math:`A \le 2048`,
  :math:`C' \le \min(N, 8192 + A)`: ``objectives.held_out``'s samples); and the edges it
  trains on, the other :math:`(1 - h)E` entries (:math:`h` the share held out),
  :math:`16(1 - h)E`;
* full batch: the exact positives :math:`W` (:math:`P \le \mathbf 1^\top (A+I)^r \mathbf 1`
  pairs of two indices and a weight, built through one uncoalesced sparse product, so twice
  that at the peak); activations and their gradients,
  :math:`2N(2\sum_l h_l + D)s`; the loss keeps five :math:`N \times D` tensors and one
  :math:`c \times N` block of logits; the clustering term (Student-t assignments, their
  target and the gradients) eight :math:`N \times K`, :math:`8NKs` (measured);
* mini-batch (:math:`B` seeds): the CSR graph and the id buffers, :math:`8(3N + E)`, or
  while the CSR is built its sort (keys, sorted keys, order) and row pointers,
  :math:`8(3E + 2N + 2)` (:func:`graphclust.sampling.csr.csr_build_bytes`); the
  whole-graph pass of each epoch (embedding, the Student-t assignments and their target,
  three :math:`N \times K` at once while it is computed: :math:`N(D + 3K)s`); per batch at
  most :math:`C = \min(N, B(1 + wr))` candidates (:math:`w` walks of :math:`r` steps), their
  activations, a :math:`c \times C` block and the clustering term, :math:`8BKs`.

Cost model of one epoch (multiply-adds times two, forward plus backward = 3 forwards): the
full batch costs :math:`6N^2D` in the loss plus :math:`6N\sum_l h_{l-1}h_l` in the encoder;
a mini-batch epoch of :math:`S` seeds (every node, or at most ``max_batches`` batches of
:math:`B`) costs :math:`6SCD` in the loss, the encoder on :math:`SC/B` rows, and one
forward pass over all nodes for the target.

The rule (:func:`choose_batch_size`) for feature-only encoders (SCGC, SCGC*): full batch
only for graphs smaller than two seed batches (fewer than 2,048 nodes: digits and the
air-traffic graphs), where a batch would hold most of the graph; seed batches of 1,024 for
every larger graph (DBLP, Cora, Amazon Photo, Coauthor CS and up), halved until they fit.
Measured (``benchmarks/results/notes.md``, "Mini-batch by default"): with the joint stage's
rate shared among an epoch's steps (:mod:`graphclust.training.loop`), batches of 1,024 reach
full batch's ACC within the seeds' spread on DBLP, Cora, digits and Photo. Median fit time
against full batch in one alternating run (``benchmarks/results/batch_modes.md``, a loaded
machine): Photo 0.21, DBLP 0.52, Cora 1.26 (more epochs there). A mini-batch step of the
start, most of a fit, costs :math:`B/N` of a full-batch step, the :math:`N^2` element-wise
work of the loss included, which the flop model below undercounts.
Message-passing encoders, whose mini-batches encode sampled neighbourhoods, keep the cost
rule: full batch while its epoch costs no more than a mini-batch epoch, its loss stays
within :data:`FULL_BATCH_LOSS_FLOPS` and it fits (with 8 GiB: every development graph).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import torch

from graphclust._checks import check_integer, check_real
from graphclust.memory_messages import MessagePassing, message_passing_parts
from graphclust.objectives.held_out import MAX_CANDIDATES, MAX_PAIRS
from graphclust.sampling.csr import csr_build_bytes

__all__ = [
    "DEFAULT_MINI_BATCH",
    "FULL_BATCH_LOSS_FLOPS",
    "MEMORY_HEADROOM",
    "RUNTIME_BYTES",
    "MemoryEstimate",
    "TrainingMemoryError",
    "check_fits",
    "choose_batch_size",
    "epoch_flops",
    "estimate_peak_memory",
    "positive_pair_bound",
]

DEFAULT_MINI_BATCH = 1024
"""Seed batch chosen when full batch is not: the size DBLP's quality check was run with."""

FULL_BATCH_LOSS_FLOPS = 6 * 50_000**2 * 32
"""Most floating-point operations one full-batch epoch may spend in its loss, :math:`6N^2D`:
that of a 50,000-node graph with 32 embedding columns (4.8e11).

The cost ratio alone keeps full batch for wide features far beyond that (a mini-batch epoch
encodes its seeds' rows about :math:`1 + wr` times: with 6,805 features a 100,000-node
full-batch epoch costs 0.85 of a mini-batch epoch of 32 batches,
``benchmarks/results/auto_batch.md``), but it compares single epochs, while mini-batch runs
take up to :math:`N/B` optimizer steps an epoch and stop in fewer epochs (DBLP: 61-64 epochs with
``batch_size=1024`` against 115-126 full batch, ``benchmarks/results/scale.md``), and past
this size every doubling of the graph quadruples a full-batch epoch's loss and its memory
estimate is unvalidated (``benchmarks/results/memory_estimate.md`` stops at 50,000 nodes, in
mini-batches). The development graphs stay far below it (Coauthor CS, 18,333 nodes: 0.13 of
it)."""

MEMORY_HEADROOM = 0.8
"""Share of the available memory a fit may plan to use (allocator slack, other tensors)."""

SMALLEST_BATCH = 64
"""Below this a seed batch has too few in-batch negatives to train the contrastive loss."""

RUNTIME_BYTES = 40 * 2**20
"""Fixed cost of a fit beyond its tensors (measured peaks exceeded the tensors by 27-68 MB)."""

_ENCODE_CHUNK = 65536  # rows per chunk of the estimators' whole-graph encoding
# Rows x clusters tensors a training step's clustering term holds at its peak (forward
# and backward through the Student-t assignments and the KL loss): 7.9-8.0 measured.
_CLUSTERING_COPIES = 8


class TrainingMemoryError(MemoryError):
    """Training would not fit in the device's memory; the message says what to change."""


@dataclass(frozen=True)
class MemoryEstimate:
    """Estimated peak bytes of one fit, with the parts that make it up (all in bytes)."""

    total: int
    parts: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        """``total (part a, part b, ...)`` in GiB, largest parts first."""
        ordered = sorted(self.parts.items(), key=lambda item: -item[1])
        inner = ", ".join(f"{name} {_gib(size)}" for name, size in ordered)
        return f"{_gib(self.total)} ({inner})"


def positive_pair_bound(edge_index: torch.Tensor, num_nodes: int, order: int) -> int:
    r"""Upper bound on the non-zeros of the exact positives, :math:`\mathbf 1^\top(A+I)^r\mathbf 1`.

    Both :math:`\hat A^r` and :math:`\sum_{l\le r}\hat A^l` have the sparsity pattern of
    :math:`(A+I)^r`, whose non-zeros are at most its number of walks. ``order`` sparse
    products with a vector: :math:`O(rE)` time, :math:`O(N)` memory. Capped at :math:`N^2`.
    """
    walks = torch.ones(num_nodes, dtype=torch.float64)
    source, target = edge_index[0].cpu(), edge_index[1].cpu()
    for _ in range(int(order)):
        walks = walks + torch.zeros_like(walks).index_add_(0, source, walks[target])
    return int(min(float(walks.sum()), float(num_nodes) ** 2))


def estimate_peak_memory(
    n_nodes: int,
    n_edges: int,
    n_features: int,
    hidden_dims=(256,),
    embedding_dim: int = 32,
    n_clusters: int = 8,
    *,
    batch_size: int | None = None,
    n_positive_pairs: int | None = None,
    order: int = 2,
    num_walks: int = 4,
    chunk_size: int = 512,
    check_interval: int = 10,
    held_out: float = 0.0,
    held_out_input: bool = False,
    start_snapshots: int = 0,
    linear_start: bool = True,
    message_passing: MessagePassing | None = None,
    dtype: torch.dtype = torch.float32,
) -> MemoryEstimate:
    """Peak memory of fitting a contrastive clusterer (SCGC, SCGC*) with an MLP encoder, or
    with a message-passing one (``message_passing``: its sizes; the MLP of its widths plus
    the parts :mod:`graphclust.memory_messages` counts).

    ``n_edges`` counts directed edge entries (both directions of each edge). Without
    ``n_positive_pairs`` the full-batch positives are bounded by ``n_nodes * (1 + n_edges /
    n_nodes) ** order`` (exact for regular graphs; :func:`positive_pair_bound` gives a tighter
    bound from the edges). ``held_out``: the share of the undirected edges the start holds
    out and scores at its checks (0: none).
    ``held_out_input``: the start's held-out run reads its own copy
    of the encoder's input (features propagated over its training edges only).
    ``start_snapshots``: the copies of the start's map, with its two Adam moments, that
    its held-out run may keep to resume from (the initial one and one a check before the
    last: :meth:`graphclust.starts.ContrastiveStart.held_out_snapshots`);
    the map is ``features x embedding_dim`` with ``linear_start``, else the encoder. The
    interpreter and torch's import are not counted.
    """
    for name, value, least in (("n_nodes", n_nodes, 1), ("n_edges", n_edges, 0),
                               ("n_features", n_features, 1), ("embedding_dim", embedding_dim, 1),
                               ("n_clusters", n_clusters, 1)):
        check_integer(name, value, least)
    if batch_size is not None:
        check_integer("batch_size", batch_size, 1)
    # Checked as a real first: a str or None had failed inside the comparison, unnamed.
    if not 0 <= check_real("held_out", held_out) < 1:
        raise ValueError(f"held_out must be a share of the edges in [0, 1), got {held_out!r}")
    s = torch.empty((), dtype=dtype).element_size()
    widths = _widths(n_features, hidden_dims, embedding_dim)
    hidden = widths[1:-1]
    parameters = sum(a * b + b for a, b in pairwise(widths))
    per_row_activations = 2 * (2 * sum(hidden) + embedding_dim) * s  # values and gradients
    parts = {
        "features": (3 + held_out_input) * n_nodes * n_features * s,
        "runtime": RUNTIME_BYTES,
        "edges": 32 * n_edges + 8 * n_nodes,  # the caller's list and the canonical copy
        "labels": 8 * n_nodes * (check_interval + 1),
        "parameters": 4 * parameters * s,  # weights, gradients, two Adam moments
        "start snapshots": 3 * start_snapshots * s * (
            (n_features + 1) * embedding_dim if linear_start else parameters),
    }
    if held_out:
        # A check's logits and the exponentials inside logsumexp, at once: up to 170 MB
        # on any graph of more than 10,240 nodes (measured: the peak of a 50k-node fit).
        pairs = min(MAX_PAIRS, round(held_out * n_edges / 2))
        parts["held-out checks"] = 2 * pairs * min(n_nodes, MAX_CANDIDATES + pairs) * s
        parts["held-out edges"] = 16 * round((1 - held_out) * n_edges)
    if batch_size is None or batch_size >= n_nodes:
        candidates = None  # full batch: every node, no sampled candidates
        if n_positive_pairs is None:
            n_positive_pairs = min(n_nodes**2, round(n_nodes * (1 + n_edges / n_nodes) ** order))
        parts["positives"] = 2 * n_positive_pairs * (16 + s)
        parts["activations"] = n_nodes * per_row_activations
        parts["loss"] = (5 * n_nodes * embedding_dim + min(chunk_size, n_nodes) * n_nodes) * s
        parts["clustering"] = _CLUSTERING_COPIES * n_nodes * n_clusters * s
    else:
        candidates = _candidates(n_nodes, batch_size, order, num_walks)
        pairs = batch_size * (1 + num_walks * order)
        # The CSR and the id buffers the sampler keeps, or its build, whose sort was the
        # peak of a 1M-node fit: the build's own figure, so the two checks agree.
        parts["sampling"] = max(8 * (3 * n_nodes + n_edges), csr_build_bytes(n_nodes, n_edges))
        parts["epoch target"] = n_nodes * (embedding_dim + 3 * n_clusters) * s + min(
            n_nodes, _ENCODE_CHUNK) * sum(hidden) * s
        parts["positives"] = 2 * pairs * (16 + s)
        parts["activations"] = candidates * (per_row_activations + n_features * s)
        parts["loss"] = (5 * candidates * embedding_dim + min(chunk_size, batch_size)
                         * candidates) * s
        parts["clustering"] = _CLUSTERING_COPIES * batch_size * n_clusters * s
    if message_passing is not None:
        parts.update(message_passing_parts(
            message_passing, n_nodes, n_edges, max(hidden, default=embedding_dim),
            per_row_activations + n_features * s, candidates, s))
    return MemoryEstimate(sum(parts.values()), parts)


def epoch_flops(
    n_nodes: int,
    n_features: int,
    hidden_dims=(256,),
    embedding_dim: int = 32,
    *,
    batch_size: int | None = None,
    order: int = 2,
    num_walks: int = 4,
    max_batches: int | None = None,
) -> float:
    """Floating-point operations of one training epoch (see the module docstring).

    ``max_batches``: a mini-batch epoch's batches at most (the sampler's cap,
    :data:`graphclust.sampling.contrastive.EPOCH_BATCHES` by default); ``None``: an epoch
    seeds every node once."""
    widths = _widths(n_features, hidden_dims, embedding_dim)
    encoder_per_row = 2 * sum(a * b for a, b in pairwise(widths))
    if batch_size is None or batch_size >= n_nodes:
        return 3 * (2.0 * n_nodes * n_nodes * embedding_dim + n_nodes * encoder_per_row)
    candidates = _candidates(n_nodes, batch_size, order, num_walks)
    seeds = n_nodes if max_batches is None else min(n_nodes, max_batches * batch_size)
    encoded_rows = seeds * candidates / batch_size
    return (3 * (2.0 * seeds * candidates * embedding_dim + encoded_rows * encoder_per_row)
            + n_nodes * encoder_per_row)


def choose_batch_size(
    n_nodes: int,
    n_edges: int,
    n_features: int,
    hidden_dims=(256,),
    embedding_dim: int = 32,
    n_clusters: int = 8,
    *,
    available_bytes: int,
    n_positive_pairs: int | None = None,
    order: int = 2,
    num_walks: int = 4,
    passes_messages: bool = False,
    max_cost_ratio: float = 1.0,
    max_full_batch_loss_flops: float = FULL_BATCH_LOSS_FLOPS,
    mini_batch: int = DEFAULT_MINI_BATCH,
    max_batches: int | None = None,
    check_interval: int = 10,
    held_out: float = 0.0,
    held_out_input: bool = False,
    start_snapshots: int = 0,
    linear_start: bool = True,
    message_passing: MessagePassing | None = None,
    device_name: str = "the device",
    dtype: torch.dtype = torch.float32,
) -> int | None:
    """``None`` (full batch) while it is cheap and fits, else a seed batch size.

    For a feature-only encoder full batch is kept when the graph has fewer than
    ``2 * mini_batch`` nodes (module docstring); for a message-passing one
    (``passes_messages``) when its epoch costs at most ``max_cost_ratio`` times a
    mini-batch epoch of ``mini_batch`` seeds and at most ``max_batches`` batches
    (:func:`epoch_flops`) and its loss at most
    ``max_full_batch_loss_flops`` (:math:`6N^2D`, see :data:`FULL_BATCH_LOSS_FLOPS`). Either
    way its estimated peak (:func:`estimate_peak_memory`) must be within
    :data:`MEMORY_HEADROOM` of ``available_bytes``. Otherwise the batch is ``mini_batch``
    (at most ``n_nodes // 2``),
    halved while it does not fit, down to :data:`SMALLEST_BATCH`. Graphs too small for a
    batch of :data:`SMALLEST_BATCH` (fewer than twice as many nodes) always train full batch.

    Raises
    ------
    TrainingMemoryError
        If not even the smallest mini-batch fits; the message gives the estimate, the
        available memory and what to change.
    """
    sizes = dict(hidden_dims=hidden_dims, embedding_dim=embedding_dim, order=order,
                 num_walks=num_walks)
    memory = dict(n_clusters=n_clusters, check_interval=check_interval, held_out=held_out,
                  held_out_input=held_out_input, start_snapshots=start_snapshots,
                  linear_start=linear_start, message_passing=message_passing, dtype=dtype,
                  **sizes)
    # Below the smallest batch the halving below would never start: full batch at any N.
    check_integer("mini_batch", mini_batch, SMALLEST_BATCH)
    budget = MEMORY_HEADROOM * available_bytes
    batch = min(mini_batch, n_nodes // 2)
    full = estimate_peak_memory(n_nodes, n_edges, n_features,
                                n_positive_pairs=n_positive_pairs, **memory)
    if passes_messages:
        full_loss = 6.0 * n_nodes * n_nodes * embedding_dim
        cheap = full_loss <= max_full_batch_loss_flops and \
            epoch_flops(n_nodes, n_features, **sizes) <= \
            max_cost_ratio * epoch_flops(n_nodes, n_features, batch_size=batch,
                                         max_batches=max_batches, **sizes)
    else:
        cheap = n_nodes < 2 * mini_batch
    if batch < SMALLEST_BATCH or (cheap and full.total <= budget):
        # Too few nodes for a batch of SMALLEST_BATCH: no smaller batch to advise.
        check_fits(full, available_bytes, device_name, "full batch",
                   smaller_batch=batch >= SMALLEST_BATCH)
        return None
    while True:
        estimate = estimate_peak_memory(n_nodes, n_edges, n_features, batch_size=batch,
                                        **memory)
        if estimate.total <= budget or batch // 2 < SMALLEST_BATCH:
            check_fits(estimate, available_bytes, device_name, f"batch_size={batch}",
                       smaller_batch=False)  # the smallest the choice tries
            return batch
        batch //= 2


def check_fits(estimate: MemoryEstimate, available_bytes: int, device_name: str,
               setting: str, smaller_batch: bool = True) -> None:
    """Raise :class:`TrainingMemoryError` if ``estimate`` exceeds the usable memory.

    ``smaller_batch``: whether a smaller ``batch_size`` is advice worth giving (not where
    the automatic choice already tried its smallest, or the graph is too small for one).
    """
    if estimate.total <= MEMORY_HEADROOM * available_bytes:
        return
    batch = "a smaller batch_size, " if smaller_batch else ""
    raise TrainingMemoryError(
        f"training with {setting} needs about {estimate.describe()} but {device_name} has "
        f"{_gib(available_bytes)} available (at most {MEMORY_HEADROOM:.0%} of it is planned "
        f"for): pass {batch}a smaller embedding_dim or hidden_dims, fewer feature columns, "
        "or a device with more memory (device=...)"
    )


def _widths(n_features: int, hidden_dims, embedding_dim: int) -> list[int]:
    """Layer widths of the MLP encoder, input and output included."""
    hidden = hidden_dims if hasattr(hidden_dims, "__len__") else (hidden_dims,)
    return [int(n_features), *(int(width) for width in hidden), int(embedding_dim)]


def _candidates(n_nodes: int, batch_size: int, order: int, num_walks: int) -> int:
    """Most candidates a seed batch can have: the seeds plus one node per walk step."""
    return min(n_nodes, batch_size * (1 + num_walks * order))


def _gib(size: float) -> str:
    return f"{size / 2**30:.2f} GiB"
