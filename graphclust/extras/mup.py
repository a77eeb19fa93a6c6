r"""Maximal-update parametrisation (muP) of the MLP encoder for Adam.

Yang et al., "Tensor Programs V: Tuning Large Neural Networks via Zero-Shot
Hyperparameter Transfer" (2022). Under the standard parametrisation (SP) with Adam, a
hidden or output layer with fan-in :math:`n` changes its output by :math:`\Theta(\eta n)`
per step (Adam's update of every entry is :math:`\Theta(\eta)` and :math:`n` of them are
summed), so the best learning rate shrinks as the network widens. muP scales the
initialisation and the per-layer Adam learning rates so that every layer's activations
move by :math:`\Theta(1)` per step at any width; a learning rate tuned on a narrow
*base* model then transfers to wide ones.

This module implements the paper's Table 3 (muP for Adam, no output multiplier), written
relative to a base width :math:`n_0` (``base_width``) so that at :math:`n = n_0` the model
is exactly the plain :class:`graphclust.nn.MLP`. For a layer with fan-in :math:`n` let
:math:`m = n / n_0` (its width multiplier) and :math:`\eta` the estimator's learning rate:

* input weights (fan-in = the number of features, which does not grow with the width):
  PyTorch's default initialisation (variance :math:`1/(3n)`), learning rate :math:`\eta`;
* hidden weights (fan-in :math:`n`): PyTorch's default initialisation (variance
  :math:`1/(3n)`), learning rate :math:`\eta / m`;
* output weights (fan-in :math:`n`): PyTorch's default times :math:`m^{-1/2}` (variance
  :math:`n_0 / (3 n^2)`), learning rate :math:`\eta / m`;
* all biases: PyTorch's default initialisation, learning rate :math:`\eta`.

Table 3's variances are :math:`1/\text{fan-in}` (input, hidden) and
:math:`1/\text{fan-in}^2` (output) up to width-independent constants; the constant here is
PyTorch's (uniform on :math:`\pm 1/\sqrt{n}`, variance :math:`1/(3n)`), and the output's
:math:`n_0/(3n^2)` is the :math:`1/n^2` law normalised to agree with the plain model at the
base width. No layer has a forward multiplier (Table 3's form). The equivalent formulation
with an output multiplier :math:`1/m`, output variance :math:`m/(3n)` and an unscaled
output learning rate gives the same initial function and the same Adam updates of the
effective weights (up to Adam's :math:`\epsilon`).

In muP a learning rate is tuned on the base model and reused at larger widths; the
estimators' default learning rates were chosen (by SP) for the default width 256, so
using them with ``base_width=64`` is a transfer from width 64, not a tuned setting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import torch

from graphclust._checks import check_integer
from graphclust.nn.config import check_positive_ints
from graphclust.nn.mlp import MLP

__all__ = ["MuPMLP", "MuPMLPConfig"]


class MuPMLP(MLP):
    r"""An :class:`graphclust.nn.MLP` in the maximal-update parametrisation for Adam.

    The forward pass is the plain MLP's; :meth:`reset_parameters` applies the muP output
    initialisation and :meth:`parameter_groups` gives the per-layer Adam learning rates
    (see the module docstring's table). At every width equal to ``base_width`` it is the
    plain MLP (same initialisation for the same seed, every learning rate :math:`\eta`).

    Parameters
    ----------
    dims : sequence of int
        Layer widths ``(features, hidden..., embedding)``.
    base_width : int
        The width :math:`n_0` at which learning rates are tuned.
    activation : str
        Non-linearity between layers.
    """

    def __init__(self, dims: Sequence[int], base_width: int, activation: str = "relu") -> None:
        check_integer("base_width", base_width, 1)
        super().__init__(dims, activation)
        if len(self.dims) < 3:
            raise ValueError(f"muP needs at least one hidden layer (a width to scale), got "
                             f"layer widths {self.dims}")
        self.base_width = int(base_width)
        self._scale_output_init()

    def width_multipliers(self) -> list[float]:
        """:math:`m = \\text{fan-in} / n_0` of every layer after the input layer."""
        return [fan_in / self.base_width for fan_in in self.dims[1:-1]]

    def _scale_output_init(self) -> None:
        with torch.no_grad():
            self.layers[-1].weight.mul_(self.width_multipliers()[-1] ** -0.5)

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self._scale_output_init()

    def parameter_groups(self, lr: float) -> list[dict]:
        """Adam groups: weights after the input layer at ``lr / m``, the rest at ``lr``."""
        first, *later = self.layers
        groups = [{"params": [first.weight], "lr": lr}]
        for layer, multiplier in zip(later, self.width_multipliers(), strict=True):
            groups.append({"params": [layer.weight], "lr": lr / multiplier})
        biases = [layer.bias for layer in self.layers if layer.bias is not None]
        groups.append({"params": biases, "lr": lr})
        return groups

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({'-'.join(map(str, self.dims))}, "
                f"base_width={self.base_width})")


@dataclass(frozen=True)
class MuPMLPConfig:
    """A :class:`MuPMLP` encoder ``in - hidden_dims... - out`` with base width ``base_width``.

    Parameters
    ----------
    hidden_dims : tuple of int
        Hidden widths; each hidden and output layer's learning rate is scaled by
        ``base_width / fan_in``.
    base_width : int
        The width the learning rate is tuned at (muP's base model).
    activation : str
        Non-linearity between layers.
    """

    hidden_dims: tuple[int, ...] = (256,)
    base_width: int = 64
    activation: str = "relu"
    uses_graph: ClassVar[bool] = False

    def build(self, in_channels: int, out_channels: int) -> MuPMLP:
        hidden = check_positive_ints("hidden_dims", self.hidden_dims)
        return MuPMLP([in_channels, *hidden, out_channels], self.base_width, self.activation)
