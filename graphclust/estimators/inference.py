"""What ``predict`` and ``transform`` read: the features of the nodes to cluster, checked
against the fit, and the graph for a model that reads one at inference.

The rule for the graph, where inference reads it (message passing, propagated features,
degrees):

* fitted on a given graph (a ``Data``, or ``adjacency``): the nodes' own graph, given the
  same way; a plain matrix alone is refused (there is no graph to build again);
* fitted on a kNN graph it built of a plain matrix (``knn_graph_``): that graph is built
  again of the rows given, as at fit; a graph given with them (a ``Data``, even one without
  edges, or ``adjacency``) is refused: its edges would be read in place of the kNN graph
  the model was trained on, without a word (the command line and
  :func:`graphclust.benchmark.comparison.compare_with_baselines` refuse the same).
"""

from __future__ import annotations

import torch
from torch_geometric.data import Data, HeteroData

from graphclust._checks import FeatureWidthError
from graphclust.data.edge_inputs import adjacency_edges
from graphclust.data.inputs import to_graph
from graphclust.estimators.checks import as_matrix, check_feature_names

__all__ = ["GRAPHS", "InferenceInputs"]

#: Inputs that carry their own graph (a HeteroData only to be refused by to_graph).
GRAPHS = (Data, HeteroData)


class InferenceInputs:
    """The inference half of :class:`graphclust.estimators.base.BaseGraphClusterer`'s
    input handling (the fit half, ``_graph`` and ``_with_knn_graph``, is there)."""

    #: What inference reads the edges for, where ``_uses_graph`` says it does.
    _graph_at_inference = ("message passing, or features propagated over the edges: "
                           "input_hops, propagation_steps")

    def _check_feature_width(self, width: int) -> None:
        """The one check of a fitted model's input width, which ``predict``, ``transform``,
        the graph a baseline comparison reads and the command line (through ``predict``)
        rely on: a :class:`~graphclust._checks.FeatureWidthError` in scikit-learn's words."""
        if width != self.n_features_in_:
            raise FeatureWidthError(
                f"X has {width} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input", width, self.n_features_in_)

    def _needs_given_graph(self) -> bool:
        """Whether predicting needs the caller's edges: inference reads the graph, and fit
        was given one (it did not build a kNN graph of the rows it could build again)."""
        return self._uses_graph() and not self.knn_graph_

    def _refuse_graph_beside_knn(self, X, adjacency) -> None:
        """Refuse a graph given to a model that builds its kNN graph again (the module's
        rule): its edges had been read in place of that graph, and a ``Data`` without
        edges had been read as a graph without any."""
        if not self._rebuilds_knn_graph():
            return
        given = "a Data" if isinstance(X, GRAPHS) else "adjacency" if adjacency is not None \
            else None
        if given is not None:
            raise ValueError(
                f"{type(self).__name__} was fitted on a kNN graph it built of the features "
                f"(fit got a plain matrix), and builds it again at inference "
                f"({self._graph_at_inference}): pass the feature matrix alone "
                f"({'data.x' if given == 'a Data' else 'without adjacency'}), not {given}, "
                "whose edges would be read in place of that graph; to cluster with given "
                "edges, fit on them")

    def _inference_graph(self, X, adjacency=None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Features (and edges, for a model that reads them) for ``predict``/``transform``,
        by the module's rule."""
        if isinstance(X, GRAPHS) and adjacency is not None:
            raise ValueError("pass the edges inside the Data object, not as adjacency")
        self._refuse_graph_beside_knn(X, adjacency)
        uses_graph = self._uses_graph()
        if isinstance(X, GRAPHS):
            graph = to_graph(X)
        else:
            # A kNN graph needs two rows; given edges, one row is a graph, as in a Data.
            matrix = as_matrix(X, min_samples=2 if uses_graph and adjacency is None else 1)
            if not uses_graph and adjacency is not None:
                # Not read, but checked: edges of another graph say the rows are wrong.
                adjacency_edges(adjacency, matrix.shape[0])
            graph = to_graph(matrix, adjacency if uses_graph else None)
        check_feature_names(self, X)
        self._check_feature_width(graph.x.shape[1])
        if not uses_graph:
            return graph.x, None
        if not isinstance(X, GRAPHS) and adjacency is None:
            if self._needs_given_graph():
                raise ValueError(
                    f"{type(self).__name__} reads the graph at inference "
                    f"({self._graph_at_inference}), so predict and transform need it: pass "
                    "a torch_geometric Data or X with adjacency= (it was fitted on a given "
                    "graph, not on a kNN graph of X)"
                )
            graph = self._with_knn_graph(graph, fitted=True)
        return graph.x, graph.edge_index
