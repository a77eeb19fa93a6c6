"""What the no-training baselines share: k-means on a fixed embedding of the nodes."""

from __future__ import annotations

import numpy as np
import torch

from graphclust.estimators.base import BaseGraphClusterer
from graphclust.estimators.params import Param, at_least
from graphclust.kmeans import kmeans

__all__ = ["KMeansBaseline"]


class KMeansBaseline(BaseGraphClusterer):
    """Base of :class:`~graphclust.SVDKMeans` and :class:`~graphclust.DegreeKMeans`:
    ``_fit_graph`` computes an embedding ``z`` and hands it to :meth:`_cluster`."""

    _parameters = {**BaseGraphClusterer._parameters, "n_init": Param(10, [at_least(1)])}
    _few_clusters_cause = ("the embedding k-means read has fewer distinct groups than "
                           "clusters: the features do (constant, all-zero or repeated rows; "
                           "propagation can make rows alike, too)")

    def _cluster(self, z: torch.Tensor, seed: int, labels: np.ndarray | None) -> None:
        """Seeded k-means (``n_init`` restarts) on ``z``; sets the fitted attributes."""
        generator = torch.Generator(device=z.device).manual_seed(seed)
        result = kmeans(z, self.n_clusters, n_init=self.n_init, generator=generator)
        self.cluster_centers_ = result.centers.cpu().numpy()
        self.labels_ = result.labels.cpu().numpy()
        self.embedding_ = z.cpu().numpy()
        self.n_iter_ = result.n_iter
        self.history_ = []
        self._record({"epoch": 0, "phase": "train", "loss": result.inertia}, result.labels,
                     labels)
