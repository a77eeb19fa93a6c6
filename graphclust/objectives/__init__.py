"""Training objectives: neighbour-contrastive / IAC and DEC clustering."""

from graphclust.objectives.clustering import kl_clustering_loss, target_distribution
from graphclust.objectives.contrastive import (
    neighbor_contrastive_loss,
    normalized_adjacency,
    positive_weights,
)

__all__ = [
    "kl_clustering_loss",
    "neighbor_contrastive_loss",
    "normalized_adjacency",
    "positive_weights",
    "target_distribution",
]
