r"""The structural no-training baseline: k-means on each node's log-degree.

.. math::

    z_i = \log(1 + \deg_i), \qquad \text{labels} = \text{k-means}(z),

with :math:`\deg_i` the number of neighbours in the undirected graph. It ignores the
features. It is in every quality table beside :class:`~graphclust.estimators.SVDKMeans`
because on some graphs the classes are levels of activity, not communities: on the
air-traffic graphs (airports grouped by passenger volume, one-hot degree features) it
beats every published deep method that reports on them. A model that loses to it has
learned less than the degree already says.
"""

from __future__ import annotations

import torch

from graphclust.data.transforms import FeatureTransform
from graphclust.estimators.kmeans_baseline import KMeansBaseline

__all__ = ["DegreeKMeans", "log_degree"]


def log_degree(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    r""":math:`\log(1 + \deg_i)` of every node as a column, from an undirected
    ``edge_index`` listing both directions."""
    degree = torch.bincount(edge_index[0], minlength=num_nodes)
    return torch.log1p(degree.to(torch.float32)).unsqueeze(1)


class DegreeKMeans(KMeansBaseline):
    """k-means on the log-degree of every node (no training, no features).

    Parameters
    ----------
    n_clusters : int
        Number of clusters.
    n_init : int
        k-means restarts.
    n_neighbors : int
        kNN graph size when ``fit`` gets a plain matrix (the degrees are then those of
        that kNN graph).
    knn_method : {"auto", "exact", "approximate"}
        Search of that kNN graph, as in :class:`graphclust.SCGCStar`.
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ...
    random_state : int, RandomState or None
        Seeds k-means.
    verbose : bool
        Unused; kept for the runner's common interface.
    n_jobs : int or None
        Threads for fit and predict, as in :class:`~graphclust.SVDKMeans`.

    Notes
    -----
    ``predict`` needs the graph (a node's degree is read from its edges).
    """

    def _uses_graph(self) -> bool:
        return True

    _graph_at_inference = "each node's degree, counted on its edges"
    _few_clusters_cause = ("the nodes' degrees take fewer distinct values than clusters "
                           "(degree-kmeans reads nothing else)")

    def _fit_graph(self, graph, seed, labels) -> None:
        # The features are not read; the transform is kept only for the shared save format.
        self.transform_ = FeatureTransform("none").fit(graph.x)
        z = log_degree(graph.edge_index, graph.num_nodes)
        self._cluster(z, seed, labels)

    def _model_tensors(self) -> dict[str, torch.Tensor]:
        return {}

    def _restore_model(self, tensors: dict[str, torch.Tensor]) -> None:
        """Nothing beyond the centres, which every estimator saves."""

    def _embed(self, x: torch.Tensor, edge_index: torch.Tensor | None) -> torch.Tensor:
        return log_degree(edge_index, x.shape[0]).to(x.device)
