r"""Multi-layer perceptrons used as SCGC encoders and decoders.

An :class:`MLP` with dimensions :math:`(d_0, d_1, \dots, d_L)` computes

.. math::

    h^{(0)} = x, \qquad h^{(l)} = \sigma\big(W^{(l)} h^{(l-1)} + b^{(l)}\big), \quad l < L,
    \qquad z = W^{(L)} h^{(L-1)} + b^{(L)},

with a linear last layer, as SDCN's autoencoder (``d-500-500-2000-10``) that SCGC reuses.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from itertools import pairwise

import torch
from torch import nn

from graphclust.nn.sparse_rows import is_sparse_rows, sparse_rows_linear

__all__ = ["MLP", "Autoencoder", "carry_linear", "check_positive_ints", "grow_linear"]

_ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "elu": nn.ELU, "tanh": nn.Tanh}
# Activations with sigma(u) - sigma(-u) = u, which lets an MLP carry a linear map exactly:
# ReLU, and GELU since u * Phi(u) + u * Phi(-u) = u.
ODD_PART_IDENTITY = ("relu", "gelu")


def check_positive_ints(name: str, values) -> tuple[int, ...]:
    """``values`` (an int or a sequence of ints) as a tuple, or a ValueError naming ``name``."""
    values = (values,) if isinstance(values, numbers.Integral) else tuple(values)
    if any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1 for v in values):
        raise ValueError(f"{name} must be positive integers, got {values!r}")
    return tuple(int(v) for v in values)


class MLP(nn.Module):
    """Feed-forward network with a linear output layer.

    Parameters
    ----------
    dims : sequence of int
        Layer widths from input to output, at least two entries.
    activation : {"relu", "gelu", "elu", "tanh"}
        Non-linearity between layers (none after the last one).
    """

    def __init__(self, dims: Sequence[int], activation: str = "relu") -> None:
        super().__init__()
        dims = check_positive_ints("MLP layer widths", dims)
        if len(dims) < 2:
            raise ValueError(f"MLP needs at least two layer widths, got {dims}")
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"unknown activation {activation!r}; choose one of {sorted(_ACTIVATIONS)}"
            )
        self.dims = tuple(dims)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(dims))
        self.activation = _ACTIVATIONS[activation]()

    @property
    def accepts_sparse_rows(self) -> bool:
        """Whether ``forward`` takes sparse CSR rows (:mod:`graphclust.nn.sparse_rows`):
        the first layer is a plain ``nn.Linear``, which multiplies them as they are. Only
        this class says so: a subclass or a replaced first layer may read ``x`` otherwise
        (several in :mod:`graphclust.extras` do), and keeps dense rows."""
        return type(self) is MLP and type(self.layers[0]) is nn.Linear

    @property
    def in_channels(self) -> int:
        return self.dims[0]

    @property
    def out_channels(self) -> int:
        return self.dims[-1]

    def reset_parameters(self) -> None:
        for layer in self.layers:
            layer.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = len(self.layers) - 1
        for index, layer in enumerate(self.layers):
            # CSR rows reach the first layer only (accepts_sparse_rows); a plain
            # nn.Linear reads them with a cheaper backward, anything else as a module.
            x = sparse_rows_linear(x, layer.weight, layer.bias) \
                if is_sparse_rows(x) and _plain_linear(layer) else layer(x)
            if index < last:
                x = self.activation(x)
        return x

    def flops_per_row(self) -> int:
        """Multiply-adds times two of one forward pass for one input row."""
        return 2 * sum(a * b for a, b in pairwise(self.dims))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({'-'.join(map(str, self.dims))})"


class Autoencoder(nn.Module):
    """An encoder MLP and its mirror-image decoder (SDCN's shape).

    ``forward`` returns ``(z, x_hat)``. SCGC trains both; SCGC* keeps only the encoder.
    """

    def __init__(self, dims: Sequence[int], activation: str = "relu") -> None:
        super().__init__()
        self.encoder = MLP(dims, activation)
        self.decoder = MLP(list(dims)[::-1], activation)

    def reset_parameters(self) -> None:
        self.encoder.reset_parameters()
        self.decoder.reset_parameters()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encoder(x)
        return z, self.decoder(z)


def _plain_linear(layer: nn.Module) -> bool:
    """Whether ``layer`` is an ``nn.Linear`` whose call runs nothing but ``F.linear``: no
    subclass, no ``forward`` set on the instance, no forward or backward hook of its own
    (``weight_norm``'s, a user's) or of every module."""
    every_module = nn.modules.module
    return type(layer) is nn.Linear and "forward" not in vars(layer) and not (
        layer._forward_hooks or layer._forward_pre_hooks
        or layer._backward_hooks or layer._backward_pre_hooks
        or every_module._global_forward_hooks or every_module._global_forward_pre_hooks
        or every_module._global_backward_hooks or every_module._global_backward_pre_hooks)


def _bias(linear: nn.Linear) -> torch.Tensor:
    """``linear``'s bias, zeros for a bias-free map."""
    return torch.zeros_like(linear.weight[:, 0]) if linear.bias is None else linear.bias


@torch.no_grad()
def carry_linear(linear: nn.Linear, first: nn.Linear, last: nn.Linear,
                 scale: float = 1.0, width_name: str = "hidden width") -> None:
    r"""Make ``first`` carry :math:`(u, -u)`, :math:`u = Wx + b`, and ``last`` read it back.

    ``first``'s first :math:`2e` output rows become :math:`[W; -W]` (bias :math:`[b; -b]`;
    its other rows keep their random weights); ``last`` becomes ``scale`` times
    :math:`[I, -I]` on those :math:`2e` inputs and zero elsewhere, with zero bias. Whatever
    lies between them and maps the pair to :math:`(f(u), f(-u))` with
    :math:`f(u) - f(-u) = c\,u` gives :math:`\mathrm{scale}\cdot c\,u` at the output: a
    ReLU/GELU (:func:`grow_linear`), or a LayerNorm, which subtracts the same mean from
    both halves (:meth:`graphclust.nn.GraphTransformerConfig.from_linear`, up to a
    positive factor per node). ``first`` needs at least :math:`2e` outputs; the
    ValueError otherwise names them ``width_name``.
    """
    e = linear.out_features
    if first.out_features < 2 * e:
        raise ValueError(f"{width_name} must be at least 2 * out_features = {2 * e} to "
                         f"carry the linear map, got {first.out_features}")
    bias = _bias(linear)
    eye = torch.eye(e, dtype=linear.weight.dtype, device=linear.weight.device)
    first.weight[: 2 * e] = torch.cat([linear.weight, -linear.weight])
    first.bias[: 2 * e] = torch.cat([bias, -bias])
    last.weight.zero_()
    last.weight[:, : 2 * e] = scale * torch.cat([eye, -eye], 1)
    last.bias.zero_()


@torch.no_grad()
def grow_linear(linear: nn.Linear, hidden_dims: Sequence[int], activation: str = "relu") -> MLP:
    r"""An :class:`MLP` ``in - hidden_dims - out`` that computes exactly ``linear``'s map.

    With :math:`u = Wx + b` (``e`` outputs) and an activation satisfying
    :math:`\sigma(u) - \sigma(-u) = u` (ReLU, GELU), every hidden layer carries
    :math:`(\sigma(u), \sigma(-u))` in its first :math:`2e` units:

    .. math::

        h^{(1)}_{:2e} = \sigma\Big(\begin{bmatrix} W \\ -W \end{bmatrix} x +
            \begin{bmatrix} b \\ -b \end{bmatrix}\Big), \qquad
        h^{(l+1)}_{:2e} = \sigma\Big(\begin{bmatrix} I & -I \\ -I & I \end{bmatrix}
            h^{(l)}_{:2e}\Big), \qquad
        z = \begin{bmatrix} I & -I \end{bmatrix} h^{(L)}_{:2e} = u.

    The other hidden units keep their random initial incoming weights and get zero
    outgoing weights: they do not change the output, but receive gradients once the next
    layer's weights move, so training the grown network starts exactly where the linear
    map was and can use the extra capacity. SCGC's ``pretrain="linear"`` start uses this to
    hand a stable linear contrastive solution to the MLP of the joint stage.

    Parameters
    ----------
    linear : torch.nn.Linear
        The map to reproduce (its device and dtype are kept; no bias counts as zero).
    hidden_dims : sequence of int
        Hidden widths, each at least ``2 * linear.out_features``.
    activation : {"relu", "gelu"}
        Non-linearity of the new MLP.
    """
    hidden = check_positive_ints("hidden_dims", hidden_dims)
    e = linear.out_features
    if activation not in ODD_PART_IDENTITY:
        raise ValueError(f"grow_linear needs an activation with sigma(u) - sigma(-u) = u "
                         f"({', '.join(ODD_PART_IDENTITY)}), got {activation!r}")
    if any(width < 2 * e for width in hidden):
        raise ValueError(f"every hidden width must be at least 2 * out_features = {2 * e} to "
                         f"carry the linear map exactly, got hidden_dims={tuple(hidden)}")
    mlp = MLP([linear.in_features, *hidden, e], activation).to(linear.weight)
    if not hidden:  # a linear encoder: the map itself
        mlp.layers[0].weight.copy_(linear.weight)
        mlp.layers[0].bias.copy_(_bias(linear))
        return mlp
    first, *middle, last = mlp.layers
    carry_linear(linear, first, last)
    # Carried rows read only the carried units; the extra units keep their random rows.
    eye = torch.eye(e, dtype=linear.weight.dtype, device=linear.weight.device)
    carry = torch.cat([torch.cat([eye, -eye], 1), torch.cat([-eye, eye], 1)])
    for layer in middle:
        layer.weight[: 2 * e] = 0.0
        layer.weight[: 2 * e, : 2 * e] = carry
        layer.bias[: 2 * e] = 0.0
    return mlp
