"""scikit-learn estimators and the registry of models by name."""

from graphclust.estimators.scgc import SCGC, SCGCStar

MODELS = {"scgc": SCGC, "scgc-star": SCGCStar}

__all__ = ["MODELS", "SCGC", "SCGCStar"]
