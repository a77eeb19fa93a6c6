"""Names the command line offers, kept free of heavy imports.

``graphclust --help`` lists the models and protocols; reading them from
:data:`graphclust.MODELS` would import torch (seconds) for a help text. The registry
itself stays in :mod:`graphclust.estimators`; a test checks that both agree.
"""

MODEL_NAMES = ("scgc", "scgc-star", "mpnn-vn", "graph-transformer", "svd-kmeans",
               "degree-kmeans")
PROTOCOLS = ("final", "paper", "both")

__all__ = ["MODEL_NAMES", "PROTOCOLS"]
