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

import importlib

__version__ = "0.1.0"

# Public name -> module that defines it.
_LAZY = {
    "MODELS": "graphclust.estimators",
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
}

__all__ = sorted([*_LAZY, "__version__"])


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'graphclust' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
