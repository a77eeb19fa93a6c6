"""scikit-learn estimators and the registry of models by name."""

from graphclust.estimators.scgc import SCGC, SCGCStar
from graphclust.estimators.svd_kmeans import SVDKMeans

MODELS = {"scgc": SCGC, "scgc-star": SCGCStar, "svd-kmeans": SVDKMeans}

__all__ = ["MODELS", "SCGC", "SCGCStar", "SVDKMeans"]
