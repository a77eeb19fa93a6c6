"""Training objectives: neighbour-contrastive / IAC, DEC clustering, the objective part
that composes them (:mod:`graphclust.objectives.composed`), and the held-out edges that
tell the start when to stop."""

from graphclust.objectives.clustering import kl_clustering_loss, target_distribution
from graphclust.objectives.composed import (
    ClusteringObjective,
    NeighborContrast,
    Reconstruction,
    SelfTraining,
)
from graphclust.objectives.contrastive import (
    neighbor_contrastive_loss,
    normalized_adjacency,
    positive_weights,
)
from graphclust.objectives.held_out import HeldOutEdges, cluster_code_fall

__all__ = [
    "ClusteringObjective",
    "HeldOutEdges",
    "NeighborContrast",
    "Reconstruction",
    "SelfTraining",
    "cluster_code_fall",
    "kl_clustering_loss",
    "neighbor_contrastive_loss",
    "normalized_adjacency",
    "positive_weights",
    "target_distribution",
]
