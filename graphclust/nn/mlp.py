r"""Multi-layer perceptrons used as SCGC encoders and decoders.

An :class:`MLP` with dimensions :math:`(d_0, d_1, \dots, d_L)` computes

.. math::

    h^{(0)} = x, \qquad h^{(l)} = \sigma\big(W^{(l)} h^{(l-1)} + b^{(l)}\big), \quad l < L,
    \qquad z = W^{(L)} h^{(L-1)} + b^{(L)},

with a linear last layer, as SDCN's autoencoder (``d-500-500-2000-10``) that SCGC reuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import torch
from torch import nn

__all__ = ["MLP", "Autoencoder"]

_ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "elu": nn.ELU, "tanh": nn.Tanh}


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
        dims = [int(d) for d in dims]
        if len(dims) < 2 or min(dims) < 1:
            raise ValueError(f"MLP needs at least two positive layer widths, got {dims}")
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"unknown activation {activation!r}; choose one of {sorted(_ACTIVATIONS)}"
            )
        self.dims = tuple(dims)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(dims))
        self.activation = _ACTIVATIONS[activation]()

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
            x = layer(x)
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
