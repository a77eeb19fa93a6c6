r"""Function-preserving growth of MLPs: Net2Net (Chen, Goodfellow and Shlens, "Net2Net:
Accelerating Learning via Knowledge Transfer", ICLR 2016).

A trained :class:`graphclust.nn.MLP` is turned into a wider or deeper one that computes
exactly the same function, so that a larger model starts from what a smaller one learned.

**Net2WiderNet** (:func:`widen`) grows hidden layer :math:`l` from :math:`n` to :math:`q`
units with a random mapping :math:`g: \{1..q\} \to \{1..n\}`, :math:`g(j) = j` for
:math:`j \le n` and :math:`g(j)` uniform on :math:`\{1..n\}` otherwise. With
:math:`c_i = |\{j : g(j) = i\}|` the replication count of unit :math:`i`,

.. math::

    W'^{(l)}_{j\cdot} = W^{(l)}_{g(j)\cdot}, \quad b'^{(l)}_j = b^{(l)}_{g(j)}, \qquad
    W'^{(l+1)}_{\cdot j} = W^{(l+1)}_{\cdot g(j)} / c_{g(j)}.

Each new unit copies its source's activation, and the copies' outgoing weights add up to
the source's, so the next layer sees exactly what it saw before, for any activation.
Optional symmetry-breaking noise is added to the outgoing weights of each group of copies
with zero sum within the group, which keeps the function unchanged while letting the
copies receive different gradients (the paper adds plain noise, which changes the
function slightly).

**Net2DeeperNet** (:func:`deepen`) inserts a layer :math:`h \mapsto \sigma(I h + 0)` after
a hidden layer. This preserves the function when :math:`\sigma(\sigma(x)) = \sigma(x)`,
which holds for ReLU (the paper's case) and not for tanh, GELU or ELU.

Growing in the middle of an estimator's training is not offered: the training loop's Adam
optimizer holds the old parameter tensors and their moments, so new tensors would not be
trained. :func:`grow_estimator` instead grows the encoder of a fitted SCGC / SCGC*
estimator, which predicts exactly as before; a fresh fit with the grown architecture
starts from random weights, not from the grown ones.
"""

from __future__ import annotations

import copy
import math
import numbers

import torch
from torch import nn

from graphclust._checks import check_integer
from graphclust.nn.config import MLPConfig, check_positive_ints
from graphclust.nn.mlp import MLP

__all__ = ["deepen", "grow_estimator", "widen"]


def _check_hidden_layer(mlp: MLP, layer, name: str) -> int:
    if not isinstance(mlp, MLP):
        raise TypeError(f"expected a graphclust.nn.MLP, got {type(mlp).__name__}")
    # Growing rebuilds layers as plain nn.Linear and changes only ``dims``: a subclass with
    # its own forward or submodules (auxiliary heads, matryoshka pairs) ties them to the
    # old widths and breaks, and a replaced layer (TrAct) would silently lose its rule.
    if type(mlp).forward is not MLP.forward or set(mlp._modules) != {"layers", "activation"} \
            or any(type(linear) is not nn.Linear for linear in mlp.layers):
        raise TypeError(f"Net2Net grows an MLP of plain nn.Linear layers with MLP's own "
                        f"forward and no other submodules; {type(mlp).__name__} "
                        f"({[type(linear).__name__ for linear in mlp.layers]}) has more")
    hidden = len(mlp.layers) - 1
    if hidden == 0:
        raise ValueError(f"{mlp!r} has no hidden layer to grow")
    if isinstance(layer, bool) or not isinstance(layer, numbers.Integral) \
            or not 0 <= layer < hidden:
        raise ValueError(f"{name} must be the index of a hidden layer of {mlp!r}, an "
                         f"integer in [0, {hidden - 1}], got {layer!r}")
    return int(layer)


def _linear_like(reference: nn.Linear, weight: torch.Tensor, bias: torch.Tensor) -> nn.Linear:
    # skip_init: the values are overwritten, so draw nothing from the global generator.
    linear = nn.utils.skip_init(nn.Linear, weight.shape[1], weight.shape[0],
                                device=weight.device, dtype=weight.dtype)
    with torch.no_grad():
        linear.weight.copy_(weight)
        linear.bias.copy_(bias)
    linear.train(reference.training)
    return linear


@torch.no_grad()
def widen(mlp: MLP, layer: int, new_width: int, *, generator: torch.Generator | None = None,
          noise: float = 0.0) -> MLP:
    """Net2WiderNet: a copy of ``mlp`` whose hidden layer ``layer`` has ``new_width`` units.

    Parameters
    ----------
    mlp : graphclust.nn.MLP
        The network to grow; it is not modified.
    layer : int
        Index of the hidden layer (0 is the output of ``mlp.layers[0]``).
    new_width : int
        Units after growing, at least the current width.
    generator : torch.Generator, optional
        Source of the random replication mapping and of the noise (default: torch's
        global generator). It must live on the network's device.
    noise : float
        Standard deviation of the zero-sum noise added, relative to each copied outgoing
        weight's magnitude, to the outgoing weights of replicated units (module
        docstring). ``0`` (default) copies them exactly.

    Returns
    -------
    graphclust.nn.MLP
        The wider network; it computes the same function as ``mlp`` up to rounding.
    """
    layer = _check_hidden_layer(mlp, layer, "layer")
    old_width = mlp.dims[layer + 1]
    if isinstance(new_width, bool) or not isinstance(new_width, numbers.Integral) \
            or new_width < old_width:
        raise ValueError(f"new_width must be an integer >= the current width {old_width}, "
                         f"got {new_width!r}")
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) \
            or not math.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    incoming, outgoing = mlp.layers[layer], mlp.layers[layer + 1]
    device = incoming.weight.device
    extra = torch.randint(old_width, (int(new_width) - old_width,), generator=generator,
                          device=device)
    source = torch.cat([torch.arange(old_width, device=device), extra])  # g(j)
    counts = torch.bincount(source, minlength=old_width)  # c_i
    new_outgoing = outgoing.weight[:, source] / counts[source].to(outgoing.weight.dtype)
    if noise > 0:
        # Zero-sum noise within each group of copies keeps the sum of their outgoing
        # weights, hence the function; a unit without copies (c = 1) gets none.
        perturbation = torch.randn(new_outgoing.shape, generator=generator, device=device,
                                   dtype=new_outgoing.dtype) * noise * new_outgoing.abs()
        group_sum = torch.zeros_like(outgoing.weight).index_add_(1, source, perturbation)
        perturbation -= group_sum[:, source] / counts[source].to(perturbation.dtype)
        new_outgoing = new_outgoing + perturbation
    grown = copy.deepcopy(mlp)
    grown.layers[layer] = _linear_like(incoming, incoming.weight[source], incoming.bias[source])
    grown.layers[layer + 1] = _linear_like(outgoing, new_outgoing, outgoing.bias)
    dims = list(mlp.dims)
    dims[layer + 1] = int(new_width)
    grown.dims = tuple(dims)
    return grown


@torch.no_grad()
def deepen(mlp: MLP, after_layer: int) -> MLP:
    """Net2DeeperNet: a copy of ``mlp`` with an identity layer after hidden layer
    ``after_layer``.

    Parameters
    ----------
    mlp : graphclust.nn.MLP
        The network to grow (ReLU activation); it is not modified.
    after_layer : int
        Index of the hidden layer after which the new layer (same width, identity
        weights, zero bias, followed by the activation) is inserted.

    Returns
    -------
    graphclust.nn.MLP
        The deeper network; it computes the same function as ``mlp``.

    Raises
    ------
    ValueError
        The activation is not ReLU (only an idempotent activation keeps the function), or
        ``after_layer`` is not a hidden layer.
    """
    after_layer = _check_hidden_layer(mlp, after_layer, "after_layer")
    if not isinstance(mlp.activation, nn.ReLU):
        raise ValueError("Net2DeeperNet keeps the function only for an idempotent activation "
                         f"(ReLU); this MLP uses {type(mlp.activation).__name__}")
    width = mlp.dims[after_layer + 1]
    reference = mlp.layers[after_layer]
    identity = torch.eye(width, device=reference.weight.device, dtype=reference.weight.dtype)
    grown = copy.deepcopy(mlp)
    grown.layers.insert(after_layer + 1, _linear_like(reference, identity,
                                                      torch.zeros_like(reference.bias)))
    dims = list(mlp.dims)
    dims.insert(after_layer + 1, width)
    grown.dims = tuple(dims)
    return grown


def grow_estimator(estimator, hidden_dims, *, random_state: int | None = None,
                   noise: float = 0.0):
    """A copy of a fitted SCGC / SCGC* estimator with its MLP encoder widened
    (Net2WiderNet); ``estimator`` itself is left as it was.

    Every hidden layer is widened to the matching entry of ``hidden_dims``; the copy
    predicts, transforms and scores exactly as the original. Its parameters describe its
    grown encoder, so that :mod:`graphclust.io` saves and loads it and ``fit`` would train
    that architecture: ``hidden_dims`` becomes the new widths when the encoder was the
    default one and nothing else reads ``hidden_dims``; otherwise ``encoder`` becomes
    ``MLPConfig(hidden_dims=hidden_dims, activation=...)`` and ``hidden_dims`` (then the
    shape of a decoder) is left as it was.

    Note that the estimators cannot continue training from these weights: ``fit``
    always starts from a fresh initialisation. Growing is for reusing a trained small
    model as a function-identical larger one.

    Parameters
    ----------
    estimator : SCGC or SCGCStar
        Fitted, with a plain MLP encoder (``encoder=None`` or an ``MLPConfig``).
    hidden_dims : sequence of int
        New hidden widths, one per hidden layer, each at least the current width.
    random_state : int, optional
        Seed of the replication mapping and of the noise (default: torch's global
        generator).
    noise : float
        Relative zero-sum noise on the copies' outgoing weights (see :func:`widen`).

    Returns
    -------
    estimator
        A new fitted estimator of the same class, grown.
    """
    from sklearn.base import clone
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator, "encoder_")
    estimator._check_inference_params()  # a copy must answer as the fit, not as set_params
    config = estimator.encoder
    if config is None:
        config = estimator._default_encoder()
    if type(config) is not MLPConfig or type(estimator.encoder_) is not MLP:
        raise TypeError("grow_estimator needs an estimator whose encoder is a plain MLP "
                        f"(encoder=None or MLPConfig), got {type(config).__name__}")
    hidden = check_positive_ints("hidden_dims", hidden_dims)
    current = estimator.encoder_.dims[1:-1]
    if len(hidden) != len(current):
        raise ValueError(f"hidden_dims must give one width per hidden layer {current}, "
                         f"got {hidden}")
    generator = None
    if random_state is not None:
        seed = check_integer("random_state", random_state, accepts="None or an integer")
        device = estimator.encoder_.layers[0].weight.device
        generator = torch.Generator(device=device).manual_seed(seed)
    encoder = estimator.encoder_
    for layer, width in enumerate(hidden):
        encoder = widen(encoder, layer, width, generator=generator, noise=noise)
    grown = clone(estimator)
    if estimator.encoder is None and not estimator._needs_decoder():
        grown.set_params(hidden_dims=hidden)
    else:
        grown.set_params(encoder=MLPConfig(hidden_dims=hidden, activation=config.activation))
    grown.__dict__.update({key: copy.deepcopy(value) for key, value in vars(estimator).items()
                           if key.endswith("_") and not key.startswith("__")})
    grown.encoder_ = encoder
    grown._inference_params_ = grown._inference_params()  # its parameters now describe it
    return grown
