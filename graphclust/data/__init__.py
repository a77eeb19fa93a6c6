"""Graphs in, :class:`torch_geometric.data.Data` out.

* :func:`to_graph` validates user graphs (numpy, scipy, torch, networkx, PyG);
* :func:`load_dataset` and :func:`datasets` give named benchmark data sets;
* :func:`knn_graph` builds a kNN graph from features;
* :func:`feature_homophily` says how much more alike linked nodes' features are than
  random pairs' (label-free);
* :func:`make_sbm` generates attributed stochastic block models.
"""

from graphclust.data.datasets import datasets, load_dataset
from graphclust.data.homophily import feature_homophily
from graphclust.data.inputs import GraphInputWarning, to_graph
from graphclust.data.knn import knn_graph
from graphclust.data.synthetic import make_sbm

__all__ = [
    "GraphInputWarning",
    "datasets",
    "feature_homophily",
    "knn_graph",
    "load_dataset",
    "make_sbm",
    "to_graph",
]
