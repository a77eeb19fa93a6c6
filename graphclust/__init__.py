"""graphclust: self-supervised contrastive graph clustering.

>>> from graphclust import SCGCStar, load_dataset
>>> labels = SCGCStar(n_clusters=2, random_state=0).fit_predict(load_dataset("karate"))
>>> labels.shape
(34,)

The names below are imported on first use (PEP 562), not by ``import graphclust``: torch,
torch_geometric and scikit-learn take seconds to import, and the ``graphclust`` command
must answer ``--help`` without them.
"""

from __future__ import annotations

from graphclust._lazy import lazy_attributes

__version__ = "0.1.0"

# Public name -> module that defines it.
_LAZY = {
    "MODELS": "graphclust.registry",
    "SCGC": "graphclust.estimators",
    "DegreeKMeans": "graphclust.estimators",
    "GraphTransformerClusterer": "graphclust.estimators",
    "MPNNVNClusterer": "graphclust.estimators",
    "SCGCStar": "graphclust.estimators",
    "SVDKMeans": "graphclust.estimators",
    "datasets": "graphclust.data",
    "load_dataset": "graphclust.data",
    "to_graph": "graphclust.data",
    "load": "graphclust.io",
    "evaluate": "graphclust.metrics",
    "compare_with_baselines": "graphclust.benchmark.comparison",
}

__all__ = sorted([*_LAZY, "__version__"])

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
