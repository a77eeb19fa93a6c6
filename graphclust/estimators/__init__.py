"""scikit-learn estimators and the registry of models by name."""

from graphclust.estimators.degree_kmeans import DegreeKMeans
from graphclust.estimators.graph_models import GraphTransformerClusterer, MPNNVNClusterer
from graphclust.estimators.scgc import SCGC, SCGCStar
from graphclust.estimators.svd_kmeans import SVDKMeans

MODELS = {
    "scgc": SCGC,
    "scgc-star": SCGCStar,
    "mpnn-vn": MPNNVNClusterer,
    "graph-transformer": GraphTransformerClusterer,
    "svd-kmeans": SVDKMeans,
    "degree-kmeans": DegreeKMeans,
}

__all__ = ["MODELS", "SCGC", "DegreeKMeans", "GraphTransformerClusterer", "MPNNVNClusterer",
           "SCGCStar", "SVDKMeans"]
