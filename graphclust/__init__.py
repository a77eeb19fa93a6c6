"""graphclust: self-supervised contrastive graph clustering.

>>> from graphclust import SCGCStar, load_dataset  # doctest: +SKIP
>>> labels = SCGCStar(n_clusters=10).fit_predict(load_dataset("digits"))  # doctest: +SKIP
"""

from graphclust.data import datasets, load_dataset, to_graph
from graphclust.estimators import (
    MODELS,
    SCGC,
    DegreeKMeans,
    GraphTransformerClusterer,
    MPNNVNClusterer,
    SCGCStar,
    SVDKMeans,
)
from graphclust.io import load
from graphclust.metrics import evaluate

__version__ = "0.1.0"

__all__ = [
    "MODELS",
    "SCGC",
    "DegreeKMeans",
    "GraphTransformerClusterer",
    "MPNNVNClusterer",
    "SCGCStar",
    "SVDKMeans",
    "__version__",
    "datasets",
    "evaluate",
    "load",
    "load_dataset",
    "to_graph",
]
