r"""Graph-free feature transforms fitted on the training nodes and reused at predict time.

The input transform matters as much as the model: on bag-of-words graphs (DBLP, Cora,
Citeseer) k-means on TF-IDF weighted, L2-normalised features is far stronger than on the
raw binary features. All transforms here need no graph, so an MLP encoder trained on them
still predicts for new nodes without a graph.

* ``"tfidf"``: :math:`x_{ik} \cdot \mathrm{idf}_k`, with the smooth inverse document
  frequency :math:`\mathrm{idf}_k = \log\frac{1 + N}{1 + \mathrm{df}_k} + 1`
  (:math:`\mathrm{df}_k` = number of rows with :math:`x_{ik} > 0`), then each row scaled to
  unit L2 norm. Requires non-negative features.
* ``"l2"``: each row scaled to unit L2 norm.
* ``"standardize"``: each column to zero mean and unit variance (constant columns kept at 0).
* ``"none"``: unchanged.
* ``"auto"``: ``"tfidf"`` when every feature is non-negative (counts, binary bags of words,
  intensities), else ``"standardize"``. A data-independent rule, not a per-data-set choice.

Rows that are all zero stay zero under the row normalisations.
"""

from __future__ import annotations

import torch

__all__ = ["FeatureTransform", "FEATURE_TRANSFORMS"]

FEATURE_TRANSFORMS = ("auto", "tfidf", "l2", "standardize", "none")


class FeatureTransform:
    """Fit on training features, then apply the same map to any feature matrix.

    Parameters
    ----------
    kind : {"auto", "tfidf", "l2", "standardize", "none"}
        See the module docstring.

    Attributes
    ----------
    kind_ : str
        The resolved kind (``"auto"`` resolved on the training features).
    scale_, shift_ : torch.Tensor or None
        Column scale (idf or 1/std) and shift (mean) learnt in :meth:`fit`.
    """

    def __init__(self, kind: str = "auto") -> None:
        if kind not in FEATURE_TRANSFORMS:
            raise ValueError(
                f"unknown feature transform {kind!r}; choose one of {FEATURE_TRANSFORMS}"
            )
        self.kind = kind

    def fit(self, x: torch.Tensor) -> FeatureTransform:
        kind = self.kind
        if kind == "auto":
            kind = "tfidf" if bool((x >= 0).all()) else "standardize"
        if kind == "tfidf" and bool((x < 0).any()):
            raise ValueError(
                "features='tfidf' needs non-negative features (counts or indicators); "
                "use 'standardize' or 'l2' for signed features"
            )
        self.kind_ = kind
        self.shift_ = None
        self.scale_ = None
        if kind == "tfidf":
            document_frequency = (x > 0).sum(0).to(torch.float64)
            n = float(x.shape[0])
            idf = torch.log((1.0 + n) / (1.0 + document_frequency)) + 1.0
            self.scale_ = idf.to(torch.float32)
        elif kind == "standardize":
            self.shift_ = x.mean(0)
            std = x.std(0, unbiased=False)
            self.scale_ = torch.where(std > 0, std.reciprocal(), torch.zeros_like(std))
        return self

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        kind = self.kind_
        if kind == "none":
            return x
        if kind == "tfidf":
            if bool((x < 0).any()):
                raise ValueError("features were TF-IDF transformed at fit time; got negatives")
            x = x * self.scale_.to(x.device)
        elif kind == "standardize":
            return (x - self.shift_.to(x.device)) * self.scale_.to(x.device)
        return torch.nn.functional.normalize(x, dim=1)

    def state_dict(self) -> dict:
        """Tensors and the resolved kind, for saving with the estimator."""
        return {"kind": self.kind_, "shift": self.shift_, "scale": self.scale_}

    @classmethod
    def from_state_dict(cls, state: dict) -> FeatureTransform:
        transform = cls(state["kind"])
        transform.kind_ = state["kind"]
        transform.shift_ = state["shift"]
        transform.scale_ = state["scale"]
        return transform
