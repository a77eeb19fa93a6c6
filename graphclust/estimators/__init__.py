"""scikit-learn estimators (their names are in :mod:`graphclust.registry`)."""

from graphclust.estimators.degree_kmeans import DegreeKMeans
from graphclust.estimators.graph_models import GraphTransformerClusterer, MPNNVNClusterer
from graphclust.estimators.scgc import SCGC, SCGCStar
from graphclust.estimators.svd_kmeans import SVDKMeans

__all__ = ["SCGC", "DegreeKMeans", "GraphTransformerClusterer", "MPNNVNClusterer",
           "SCGCStar", "SVDKMeans"]
