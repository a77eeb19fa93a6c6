r"""Starbucks 2-D matryoshka training: every (sub-layer, sub-dimension) pair is an embedding.

Matryoshka representation learning trains one encoder so that the first :math:`d`
coordinates of its embedding are an embedding on their own, for a list of sizes
:math:`d`; 2-D matryoshka also asks the same of sub-networks made of the first :math:`l`
layers. Starbucks (Zhuang et al., "Starbucks: Improved Training for 2D Matryoshka
Embeddings", 2024) found that sampling a random (layer, dimension) pair per step trains
poorly, and that computing the loss on a *fixed list* of pairs, from small to large, and
averaging it, makes every listed sub-model about as good as one trained alone.

Adapted to the MLP encoder :math:`h_0 = x`, :math:`h_l = \sigma(W_l h_{l-1} + b_l)`
(:math:`l = 1..L` hidden layers), :math:`z = W_{out} h_L + b_{out}`:

* the sub-layer model with :math:`l` hidden layers maps :math:`h_l` with the **shared
  output projection**, :math:`z^{(l)} = W_{out} h_l + b_{out}` (as a Starbucks sub-layer
  reads the hidden state of layer :math:`l` with the model's own pooling, no extra
  weights); this needs the hidden widths from layer :math:`l` on to be equal;
* the sub-dimension :math:`d` keeps the first :math:`d` columns, :math:`z^{(l)}_{:, :d}`;
* the neighbour-contrastive loss is averaged over the views :math:`z^{(l_k)}_{:, :d_k}`
  of the fixed pairs :math:`(l_k, d_k)` (the training loop's ``contrastive_views`` hook;
  the loss compares cosine similarities, so each prefix is normalised on its own).

Left out: Starbucks' KL term aligning each sub-model's similarity distribution with the
full model's (the hook returns views, the loss stays the package's) and its masked
autoencoder pre-training (there is no language model here).

:func:`truncate_embedding` and :func:`prefix_kmeans` use the trained prefixes: a clustering
of the first :math:`d` columns costs :math:`O(N d K)` per k-means iteration instead of
:math:`O(N D K)`.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from graphclust._checks import check_integer
from graphclust.kmeans import kmeans
from graphclust.nn.config import check_positive_ints
from graphclust.nn.mlp import MLP

__all__ = ["MatryoshkaMLP", "MatryoshkaMLPConfig", "prefix_kmeans", "truncate_embedding"]


class MatryoshkaMLP(MLP):
    """An :class:`graphclust.nn.MLP` whose contrastive views are (sub-layer, prefix) pairs.

    Parameters
    ----------
    dims : sequence of int
        Layer widths ``in, hidden..., out`` as for :class:`graphclust.nn.MLP`.
    pairs : sequence of (int, int)
        ``(layers, dims)``: the number of hidden layers :math:`l` (1 to the number of
        hidden layers) feeding the shared output projection, and the prefix length
        :math:`d` (1 to ``out``) of that view.
    activation : str
        Non-linearity between layers.

    Notes
    -----
    A view with fewer hidden layers than the full model needs the hidden states of the
    forward pass that produced ``z``: ``forward`` keeps them (only while gradients are
    recorded, and only when such a pair exists) for :meth:`contrastive_views`.
    """

    def __init__(self, dims: Sequence[int], pairs: Sequence[tuple[int, int]],
                 activation: str = "relu") -> None:
        super().__init__(dims, activation)
        num_hidden = len(self.dims) - 2
        if num_hidden < 1:
            raise ValueError("a matryoshka MLP needs at least one hidden layer")
        pairs = [tuple(pair) for pair in pairs]
        if not pairs:
            raise ValueError("pairs must list at least one (layers, dims) pair")
        if any(len(pair) != 2 for pair in pairs):
            raise ValueError(f"every pair must be (layers, dims), got {pairs!r}")
        # Integers before the ranges: (2, 1.5) and (True, 2) had been taken.
        pairs = [tuple(check_integer(f"pair {pair!r}: layers and dims", value)
                       for value in pair) for pair in pairs]
        for layers, width in pairs:
            if not 1 <= layers <= num_hidden:
                raise ValueError(f"pair ({layers}, {width}): layers must be between 1 and "
                                 f"the {num_hidden} hidden layers")
            if not 1 <= width <= self.out_channels:
                raise ValueError(f"pair ({layers}, {width}): dims must be between 1 and the "
                                 f"embedding width {self.out_channels}")
            if self.dims[layers] != self.dims[-2]:
                raise ValueError(
                    f"pair ({layers}, {width}): hidden layer {layers} has width "
                    f"{self.dims[layers]}, but the shared output projection reads "
                    f"{self.dims[-2]} features (sub-layers need equal hidden widths)"
                )
        self.pairs = tuple(pairs)
        self._needs_hidden = any(layers < num_hidden for layers, _ in self.pairs)
        self._hidden: list[torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = []
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
            hidden.append(x)
        if self._needs_hidden and torch.is_grad_enabled():
            self._hidden = hidden
        return self.layers[-1](x)

    def sub_embedding(self, layers: int, width: int,
                      hidden: Sequence[torch.Tensor]) -> torch.Tensor:
        """:math:`(W_{out} h_l + b_{out})_{:, :d}` from the hidden states ``hidden``."""
        return self.layers[-1](hidden[layers - 1])[:, :width]

    def contrastive_views(self, z: torch.Tensor) -> list[torch.Tensor]:
        """One view per pair: prefixes of ``z`` or of a sub-layer model's output.

        Rows are aligned with ``z``, the (leading rows of the) output of the last
        ``forward`` call.
        """
        num_hidden = len(self.layers) - 1
        if self._needs_hidden and (self._hidden is None or self._hidden[0].shape[0] < len(z)):
            raise RuntimeError("sub-layer views need the hidden states of the forward pass "
                               "that produced z: call forward with gradients enabled first")
        views = []
        for layers, width in self.pairs:
            if layers == num_hidden:
                views.append(z[:, :width])
            else:
                hidden = [h[:len(z)] for h in self._hidden]
                views.append(self.sub_embedding(layers, width, hidden))
        return views


@dataclass(frozen=True)
class MatryoshkaMLPConfig:
    """A :class:`MatryoshkaMLP` ``in - hidden_dims - out`` trained on fixed pairs.

    Parameters
    ----------
    hidden_dims : tuple of int
        Hidden widths.
    dims : tuple of int
        Prefix lengths :math:`d_k`, each at most the embedding width.
    layers : tuple of int or None
        Hidden layers :math:`l_k` of each pair, as long as ``dims`` (Starbucks' list grows
        both together, e.g. ``layers=(1, 1, 2, 2, 2)`` with two hidden layers). ``None``:
        every pair uses all hidden layers (1-D matryoshka on the embedding prefixes).
    activation : str
        Non-linearity between layers.
    """

    hidden_dims: tuple[int, ...] = (256,)
    dims: tuple[int, ...] = (2, 4, 8, 16, 32)
    layers: tuple[int, ...] | None = None
    activation: str = "relu"
    uses_graph: ClassVar[bool] = False

    def build(self, in_channels: int, out_channels: int) -> MatryoshkaMLP:
        hidden = check_positive_ints("hidden_dims", self.hidden_dims)
        dims = check_positive_ints("dims", self.dims)
        if self.layers is None:
            layers = (len(hidden),) * len(dims)
        else:
            layers = check_positive_ints("layers", self.layers)
            if len(layers) != len(dims):
                raise ValueError(f"layers {layers} and dims {dims} must have the same length "
                                 "(one (layers, dims) pair each)")
        pairs = list(zip(layers, dims, strict=True))
        return MatryoshkaMLP([in_channels, *hidden, out_channels], pairs, self.activation)


def truncate_embedding(estimator_or_array, dims: int) -> np.ndarray:
    """The first ``dims`` columns of an embedding, each row scaled to unit length.

    Parameters
    ----------
    estimator_or_array : fitted estimator or array-like of shape (n, D)
        An estimator with ``embedding_`` (e.g. :class:`graphclust.SCGCStar` fitted with
        :class:`MatryoshkaMLPConfig`), or the embedding itself (numpy or torch).
    dims : int
        Prefix length, 1 to ``D``.

    Returns
    -------
    ndarray of shape (n, dims)
        :math:`z_{:, :d} / \\lVert z_{:, :d} \\rVert` (rows of zeros stay zero), the
        quantity the matryoshka loss trained.
    """
    embedding = _embedding_matrix(estimator_or_array)
    if isinstance(dims, bool) or not isinstance(dims, numbers.Integral) \
            or not 1 <= dims <= embedding.shape[1]:
        raise ValueError(f"dims must be an integer between 1 and the embedding width "
                         f"{embedding.shape[1]}, got {dims!r}")
    return F.normalize(embedding[:, :int(dims)], dim=1).numpy()


def prefix_kmeans(estimator_or_array, dims: int, n_clusters: int | None = None,
                  random_state: int = 0, n_init: int = 20) -> np.ndarray:
    """Cluster the L2-normalised first ``dims`` columns with :func:`graphclust.kmeans.kmeans`.

    Parameters
    ----------
    estimator_or_array, dims :
        As in :func:`truncate_embedding`.
    n_clusters : int, optional
        Number of clusters; defaults to the estimator's ``n_clusters`` (required for an
        array).
    random_state : int
        Seeds the k-means++ starts.
    n_init : int
        k-means restarts (the best inertia wins).

    Returns
    -------
    ndarray of shape (n,)
        Cluster labels.
    """
    if n_clusters is None:
        n_clusters = getattr(estimator_or_array, "n_clusters", None)
        if n_clusters is None:
            raise ValueError("n_clusters is required when clustering an array")
    n_clusters = check_integer("n_clusters", n_clusters, 1)
    prefix = torch.from_numpy(truncate_embedding(estimator_or_array, dims))
    seed = check_integer("random_state", random_state)  # 1.7 had been read as 1
    generator = torch.Generator().manual_seed(seed)
    return kmeans(prefix, int(n_clusters), n_init=n_init, generator=generator).labels.numpy()


def _embedding_matrix(estimator_or_array) -> torch.Tensor:
    """A float CPU tensor of shape (n, D) from an estimator's ``embedding_`` or an array."""
    value = getattr(estimator_or_array, "embedding_", estimator_or_array)
    if hasattr(estimator_or_array, "get_params") and value is estimator_or_array:
        raise ValueError(f"{type(estimator_or_array).__name__} is not fitted (no embedding_)")
    if isinstance(value, torch.Tensor):
        embedding = value.detach().cpu().float()
    else:
        try:
            embedding = torch.as_tensor(np.asarray(value, dtype=np.float32))
        except (TypeError, ValueError) as error:
            raise TypeError("expected a fitted estimator or a numeric (n, D) array, got "
                            f"{type(value).__name__}") from error
    if embedding.ndim != 2 or embedding.shape[0] == 0:
        raise ValueError(f"the embedding must be a non-empty (n, D) matrix, got shape "
                         f"{tuple(embedding.shape)}")
    if not torch.isfinite(embedding).all():
        raise ValueError("the embedding contains NaN or infinite values")
    return embedding
