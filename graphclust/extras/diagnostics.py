r"""Diagnostics of a fitted encoder: which layer clusters best, what each layer keeps, and
how degenerate its weights are. Nothing here changes training.

* **Layer-wise probing** (after "Concept Depth", Jin et al. 2024, who probe each layer of
  a network to find the depth at which a concept becomes separable): k-means on every
  layer's L2-normalised output, scored against labels with
  :func:`graphclust.metrics.evaluate`. The last layer's probe is k-means on the
  (normalised) embedding itself.
* **Information plane** (Shwartz-Ziv & Tishby, "Opening the Black Box of Deep Neural
  Networks via Information", 2017): each layer's output :math:`T` is discretised into
  ``bins`` equal-width bins per unit over the layer's range, and every row becomes one
  symbol. For a deterministic network :math:`T` is a function of :math:`X`, so
  :math:`I(X;T) = H(T)`, and :math:`I(T;Y) = H(T) + H(Y) - H(T,Y)` with the labels
  :math:`Y`; both from the empirical distribution over the :math:`N` rows, in bits (at most
  :math:`\log_2 N`). Wide layers saturate this estimator (every row becomes its own
  symbol, :math:`H(T) = \log_2 N`) unless the bins are coarse: the estimate depends on
  ``bins`` and is a description of the binned layer, not the mutual information of the
  continuous one.
* **Weight degeneracy** (after CNN Filter DB, Gavrikov & Keuper, CVPR 2022, who flag
  layers whose filters are mostly near zero or show no structure): for every
  ``nn.Linear`` the rows of :math:`W` (one weight vector per output unit) are scored by
  sparsity, redundancy, and two normalised spectral entropies (definitions in
  :func:`weight_statistics`).

Representations are captured with forward hooks, so any ``nn.Module`` works; by default
a "layer" is an ``nn.Linear`` call, taken after the activation applied directly to its
output (the MLP's :math:`h_l = \sigma(W_l h_{l-1} + b_l)`); a module called several times
(a recursive block) gives one representation per call.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from graphclust._checks import check_integer
from graphclust.extras.activations import ACTIVATION_TYPES, watched_forward
from graphclust.kmeans import kmeans
from graphclust.metrics import evaluate

__all__ = [
    "binned_entropy",
    "binned_mutual_information",
    "estimator_representations",
    "information_plane",
    "layer_representations",
    "probe_layers",
    "weight_statistics",
]

# Non-linearities applied to a layer's output, the package's own among them (SquaredReLU,
# TopK): their output is the layer's output when they follow a Linear.
_ACTIVATION_TYPES = (*ACTIVATION_TYPES, nn.Softplus, nn.Mish, nn.SELU, nn.CELU)


@torch.no_grad()
def layer_representations(module: nn.Module, *inputs: torch.Tensor,
                          layers: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
    """Outputs of a module's layers during one forward pass, in call order.

    Parameters
    ----------
    module : nn.Module
        Run once on ``inputs`` in evaluation mode without gradients (its mode is restored).
    *inputs : torch.Tensor
        Arguments of ``module``'s forward (e.g. ``x``, or ``x, edge_index``).
    layers : sequence of str, optional
        Names of submodules (as in ``module.named_modules()``) whose tensor outputs to
        record. Default: every ``nn.Linear`` call, replaced by the output of an
        activation module applied directly to it.

    Returns
    -------
    dict
        ``{name: (N, width) tensor}``; a module called :math:`k > 1` times contributes
        ``name@1 .. name@k``. Outputs with more than two dimensions are flattened per row.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    named = dict(module.named_modules())
    if layers is not None:
        layers = list(layers)
        unknown = [name for name in layers if name not in named]
        if unknown or not layers:
            raise ValueError(f"layers {unknown or layers} are not submodules of "
                             f"{type(module).__name__} (see named_modules())")
        watched = {name: named[name] for name in layers}
    else:
        watched = {name: m for name, m in named.items()
                   if isinstance(m, (nn.Linear, *_ACTIVATION_TYPES))}
        if not any(isinstance(m, nn.Linear) for m in watched.values()):
            raise ValueError(f"{type(module).__name__} has no nn.Linear layer; name the "
                             "layers to record with layers=")

    events: list[tuple[str, torch.Tensor]] = []

    def record(name: str):
        def hook(submodule, args, output):
            if not isinstance(output, torch.Tensor):
                raise TypeError(f"layer {name!r} returned {type(output).__name__}, not a "
                                "tensor; name a submodule that returns one")
            is_activation = isinstance(submodule, _ACTIVATION_TYPES) and layers is None
            if is_activation:
                # An activation of the previous Linear's output is that layer's output.
                if events and args and args[0] is events[-1][1]:
                    events[-1] = (events[-1][0], output)
                return
            events.append((name, output))
        return hook

    watched_forward(module, inputs, [(m, record(name)) for name, m in watched.items()])
    calls: dict[str, int] = {}
    for name, _ in events:
        calls[name] = calls.get(name, 0) + 1
    seen: dict[str, int] = {}
    representations = {}
    for name, output in events:
        seen[name] = seen.get(name, 0) + 1
        key = name if calls[name] == 1 else f"{name}@{seen[name]}"
        representations[key] = output.reshape(output.shape[0], -1)
    return representations


@torch.no_grad()
def estimator_representations(estimator, X, adjacency=None, layers: Sequence[str] | None = None,
                              include_input: bool = True) -> dict[str, torch.Tensor]:
    """:func:`layer_representations` of a fitted estimator's encoder on a graph.

    Parameters
    ----------
    estimator : fitted contrastive estimator
        E.g. :class:`graphclust.SCGCStar`; its ``transform_`` prepares the features and its
        ``encoder_`` is probed.
    X, adjacency :
        As in the estimator's ``predict`` (a ``Data``, or features with optional edges;
        the edges are read only by message-passing encoders).
    layers : sequence of str, optional
        See :func:`layer_representations`.
    include_input : bool
        Start with ``"input"``: the transformed features the encoder reads.
    """
    encoder = getattr(estimator, "encoder_", None)
    if encoder is None or not hasattr(estimator, "transform_"):
        raise ValueError(f"{type(estimator).__name__} is not a fitted estimator with an "
                         "encoder (fit it first)")
    x, edge_index = estimator._inference_graph(X, adjacency)
    device = next(encoder.parameters()).device
    x = estimator.transform_.transform(x.to(device))
    inputs = (x,) if edge_index is None else (x, edge_index.to(device))
    representations = layer_representations(encoder, *inputs, layers=layers)
    if include_input and "input" in representations:
        # The layer's output would replace the features under one key, without a word.
        raise ValueError("the encoder has a layer named 'input', which would hide the "
                         "features under the same key: pass include_input=False and read "
                         "the features apart")
    return {"input": x, **representations} if include_input else representations


def probe_layers(representations: dict[str, torch.Tensor], labels, n_clusters: int | None = None,
                 random_state: int = 0, n_init: int = 10) -> list[dict]:
    """k-means on each L2-normalised representation, scored against ``labels``.

    Parameters
    ----------
    representations : dict
        ``{layer: (N, width) tensor}`` (e.g. from :func:`layer_representations`).
    labels : array-like of shape (N,)
        True classes.
    n_clusters : int, optional
        Defaults to the number of distinct labels.
    random_state, n_init :
        Seed and restarts of :func:`graphclust.kmeans.kmeans` (the same for every layer).

    Returns
    -------
    list of dict
        One row per layer, in order: ``layer``, ``width`` and the scores of
        :func:`graphclust.metrics.evaluate` (``acc``, ``nmi``, ``ari``, ``f1``).
    """
    labels = _labels(labels, representations)
    if n_clusters is None:
        n_clusters = len(np.unique(labels))
    n_clusters = check_integer("n_clusters", n_clusters, 1)
    seed = check_integer("random_state", random_state)  # int() had read 1.7 as 1
    rows = []
    for name, t in representations.items():
        t = t.detach().float()
        generator = torch.Generator(device=t.device).manual_seed(seed)
        result = kmeans(F.normalize(t, dim=1), int(n_clusters), n_init=n_init,
                        generator=generator)
        rows.append({"layer": name, "width": int(t.shape[1]),
                     **evaluate(labels, result.labels.cpu().numpy())})
    return rows


def _bin_codes(t: torch.Tensor, bins: int) -> torch.Tensor:
    """Row symbols of ``t`` binned into ``bins`` equal-width bins over its whole range."""
    check_integer("bins", bins, 1)
    if not isinstance(t, torch.Tensor):
        t = torch.as_tensor(np.asarray(t, dtype=np.float32))
    if t.ndim != 2 or t.shape[0] == 0:
        raise ValueError(f"expected a non-empty (N, width) matrix, got shape {tuple(t.shape)}")
    t = t.detach().float()
    if not torch.isfinite(t).all():
        raise ValueError("the representation contains NaN or infinite values")
    low, high = t.min(), t.max()
    # Interior edges; bucketize gives 0..bins-1 (the top value falls into the last bin).
    edges = low + (high - low) * torch.arange(1, bins, device=t.device) / bins
    codes = torch.bucketize(t, edges, right=True)
    return torch.unique(codes, dim=0, return_inverse=True)[1]


def _entropy_bits(symbols: torch.Tensor) -> float:
    p = torch.bincount(symbols).double()
    p = p[p > 0] / symbols.numel()
    return float(-(p * p.log2()).sum())


def binned_entropy(t, bins: int = 30) -> float:
    """:math:`H(T)` in bits of the rows of ``t`` binned into ``bins`` bins per unit.

    Every unit is cut at the same ``bins`` equal-width intervals spanning ``t``'s minimum
    to maximum; each row's tuple of bin indices is one symbol, and the entropy is that of
    the symbols' empirical distribution over the rows. For a deterministic layer this is
    also :math:`I(X;T)`.
    """
    return _entropy_bits(_bin_codes(t, bins))


def binned_mutual_information(t, labels, bins: int = 30) -> float:
    """:math:`I(T;Y) = H(T) + H(Y) - H(T,Y)` in bits, with ``t`` binned as in
    :func:`binned_entropy` and ``labels`` :math:`Y` one symbol per row."""
    symbols = _bin_codes(t, bins)
    labels = torch.as_tensor(_labels(labels, {"t": symbols}), device=symbols.device)
    classes = torch.unique(labels, return_inverse=True)[1]
    joint = symbols * (int(classes.max()) + 1) + classes
    return _entropy_bits(symbols) + _entropy_bits(classes) - _entropy_bits(joint)


def information_plane(representations: dict[str, torch.Tensor], labels,
                      bins: int = 30) -> list[dict]:
    """Per layer: ``i_xt`` (:math:`I(X;T) = H(T)`) and ``i_ty`` (:math:`I(T;Y)`), in bits.

    Rows also give ``max_bits`` (:math:`\\log_2 N`, where :math:`H(T)` saturates) and
    ``h_y`` (:math:`H(Y)`, the bound of :math:`I(T;Y)`).
    """
    labels = _labels(labels, representations)
    h_y = _entropy_bits(torch.unique(torch.as_tensor(labels), return_inverse=True)[1])
    return [{"layer": name, "bins": int(bins), "i_xt": binned_entropy(t, bins),
             "i_ty": binned_mutual_information(t, labels, bins),
             "max_bits": math.log2(len(labels)), "h_y": h_y}
            for name, t in representations.items()]


@torch.no_grad()
def weight_statistics(module: nn.Module, sparsity_eps: float = 0.01) -> list[dict]:
    """Degeneracy statistics of every ``nn.Linear`` weight :math:`W` (rows = units).

    * ``sparsity``: fraction of rows whose every entry satisfies
      :math:`|w| <` ``sparsity_eps`` :math:`\\cdot \\max |W|` (CNN Filter DB's sparse
      filters);
    * ``redundancy``: mean :math:`|\\cos(w_i, w_j)|` over pairs of distinct non-zero rows;
      1 when all rows are parallel (e.g. identical), near 0 for random rows in many
      dimensions;
    * ``sv_entropy``: entropy of :math:`p_k = s_k^2 / \\sum s^2` over the singular values
      of :math:`W`, divided by its maximum :math:`\\log \\min(d_{out}, d_{in})`: 1 when
      the energy is spread evenly, 0 for rank one (a degenerate layer);
    * ``variance_entropy``: the same on the rows centred at their mean (the explained
      variance ratios of a PCA of the weight vectors; CNN Filter DB's variance entropy,
      normalised by its maximum :math:`\\log \\min(d_{out} - 1, d_{in})`, since centring
      takes one rank; NaN below two): near 1 means no preferred directions
      (random-looking weights), low values mean structure.

    A statistic that is undefined (fewer than two non-zero rows, a zero matrix, no
    variance, a single singular value) is NaN. Adapted weights of a
    :class:`graphclust.extras.weight_sharing.RecursiveStack` are not seen: its shared
    base weights are.

    Returns
    -------
    list of dict
        ``layer``, ``shape`` (``out x in``) and the four statistics, one row per
        ``nn.Linear`` in ``named_modules()`` order.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    if not isinstance(sparsity_eps, numbers.Real) or not 0 <= sparsity_eps < 1:
        raise ValueError(f"sparsity_eps must be in [0, 1), got {sparsity_eps!r}")
    rows = []
    for name, linear in module.named_modules():
        if not isinstance(linear, nn.Linear):
            continue
        w = linear.weight.detach().double()
        rows.append({"layer": name, "shape": f"{w.shape[0]}x{w.shape[1]}",
                     "sparsity": _sparsity(w, sparsity_eps),
                     "redundancy": _redundancy(w),
                     "sv_entropy": _spectral_entropy(w, min(w.shape)),
                     # Centred rows span at most d_out - 1 directions.
                     "variance_entropy": _spectral_entropy(
                         w - w.mean(0), min(w.shape[0] - 1, w.shape[1]))})
    if not rows:
        raise ValueError(f"{type(module).__name__} has no nn.Linear layer")
    return rows


def _sparsity(w: torch.Tensor, eps: float) -> float:
    threshold = eps * w.abs().max()
    # Exact zeros count as near zero even in an all-zero matrix (threshold 0).
    near_zero = (w.abs() < threshold) | (w == 0)
    return float(near_zero.all(1).double().mean())


def _redundancy(w: torch.Tensor) -> float:
    norms = w.norm(dim=1)
    unit = w[norms > 0] / norms[norms > 0, None]
    n = unit.shape[0]
    if n < 2:
        return math.nan
    cosines = (unit @ unit.T).abs()
    return float((cosines.sum() - cosines.diagonal().sum()) / (n * (n - 1)))


def _spectral_entropy(w: torch.Tensor, rank: int) -> float:
    """The entropy of ``w``'s energy over its singular values, divided by its largest
    value for a matrix of at most ``rank`` directions."""
    energy = torch.linalg.svdvals(w).pow(2)
    total = energy.sum()
    if rank < 2 or total <= 0:
        return math.nan
    p = energy / total
    p = p[p > 0]
    return float(-(p * p.log()).sum() / math.log(rank))


def _labels(labels, representations: dict[str, torch.Tensor]) -> np.ndarray:
    """Labels as an integer array with one entry per representation row."""
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 1-D integer array, got dtype {labels.dtype} and "
                         f"shape {labels.shape}")
    if not representations:
        raise ValueError("no representations given")
    for name, t in representations.items():
        if t.shape[0] != len(labels):
            raise ValueError(f"layer {name!r} has {t.shape[0]} rows but there are "
                             f"{len(labels)} labels")
    return labels
