"""Device-resident graph sampling for mini-batch training.

* :class:`CSRGraph`: the adjacency in CSR form on the training device (CPU or CUDA).
* :func:`sample_neighbors`: uniform multi-hop neighbour sampling with per-layer
  fan-outs, returning a :class:`SampledSubgraph` with local indices.
* :func:`random_walks` and :func:`sample_positives`: walks on
  :math:`\\hat A = \\tilde D^{-1}(A + I)` and unbiased sampled positives for SCGC's
  :math:`\\hat A^r` and SCGC*'s :math:`\\sum_{l \\le r} \\hat A^l`.
* :class:`NodeBatchPlan`: reproducible, optionally per-process, seed batches.
* the sampler part of the estimators (:mod:`graphclust.sampling.contrastive`):
  :class:`FullGraphSampler` and :class:`RandomWalkSampler` give the contrastive batches.

All of it is plain vectorised torch: no torch-sparse, torch-scatter or pyg-lib.
Random draws take an optional ``torch.Generator`` on the graph's device type.
"""

from .batches import NodeBatchPlan
from .contrastive import FullGraphSampler, RandomWalkSampler
from .csr import CSRGraph, available_memory_bytes
from .neighbor import SampledSubgraph, sample_neighbors
from .walks import Positives, random_walks, sample_positives

__all__ = [
    "CSRGraph",
    "FullGraphSampler",
    "NodeBatchPlan",
    "Positives",
    "RandomWalkSampler",
    "SampledSubgraph",
    "available_memory_bytes",
    "random_walks",
    "sample_neighbors",
    "sample_positives",
]
