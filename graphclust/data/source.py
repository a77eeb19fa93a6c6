"""What one data set gives a fit: a graph, or a feature matrix whose kNN graph each model
builds for itself (as ``fit(X)`` does). ``graphclust fit``, ``predict`` and ``bench`` and
:func:`graphclust.benchmark.run_benchmark` cluster these alike."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Source", "graph_source", "matrix_source"]


@dataclass(frozen=True)
class Source:
    """The input of a fit, under a ``name`` (run folders, benchmark rows).

    ``fit_args`` is what ``fit`` takes: ``(graph,)`` or ``(features, labels)``; ``y`` the
    class codes ``0..K-1`` for the scores (or ``None``); ``num_edges`` the graph's
    undirected edges, ``None`` where each model builds its own kNN graph."""

    name: str
    fit_args: tuple
    y: np.ndarray | None
    num_nodes: int
    num_edges: int | None
    description: str

    @property
    def predict_args(self) -> tuple:
        return self.fit_args[:1]


def graph_source(name: str, graph) -> Source:
    """A canonical PyG graph (:func:`graphclust.data.to_graph`) as a source."""
    y = getattr(graph, "y", None)
    y = None if y is None else y.cpu().numpy()
    edges = graph.edge_index.shape[1] // 2
    return Source(name, (graph,), y, graph.num_nodes, edges,
                  f"{graph.num_nodes} nodes, {edges} edges, {graph.x.shape[1]} features"
                  f"{_classes(y)}")


def matrix_source(name: str, features, labels: np.ndarray | None) -> Source:
    """A feature matrix (rows are nodes) with optional class codes: every model fitted on
    it builds the kNN graph of the rows it reads."""
    return Source(name, (features, labels), labels, features.shape[0], None,
                  f"{features.shape[0]} rows, {features.shape[1]} features{_classes(labels)}"
                  "; no edge file: the model builds a kNN graph of the rows")


def _classes(labels: np.ndarray | None) -> str:
    return "" if labels is None else f", {int(labels.max()) + 1} classes"
