r"""Critical initialisation of MLPs (Roberts, Yaida and Hanin, "The Principles of Deep
Learning Theory", 2022).

At initialisation each preactivation :math:`z^{(l)}_i = b^{(l)}_i + \sum_j W^{(l)}_{ij}
\sigma(z^{(l-1)}_j)` of a wide MLP is Gaussian with variance :math:`K^{(l)}`, which obeys the
layer-to-layer recursion (weights :math:`W_{ij} \sim \mathcal N(0, C_W / n_{l-1})`, biases
:math:`b_i \sim \mathcal N(0, C_b)`)

.. math::

    K^{(l+1)} = C_b + C_W \, \mathbb E_{z \sim \mathcal N(0, K^{(l)})}\big[\sigma(z)^2\big].

*Criticality* is the choice of :math:`(C_b, C_W)` for which this recursion neither explodes
nor vanishes exponentially with depth:

* ReLU (scale-invariant class): :math:`\mathbb E[\mathrm{relu}(z)^2] = K/2`, so
  :math:`K^{(l+1)} = C_b + C_W K^{(l)} / 2`; criticality is :math:`C_W = 2, C_b = 0`
  (He initialisation with zero biases) and the variance stays constant with depth;
* tanh (:math:`K^\star = 0` class): criticality is :math:`C_W = 1, C_b = 0`; the variance
  then decays only as a power law, :math:`K^{(l)} \approx 1 / (2 l)` (instead of
  exponentially).

PyTorch's default :class:`torch.nn.Linear` initialisation (``kaiming_uniform_`` with
``a=sqrt(5)``: weight variance :math:`1 / (3 n_{l-1})`, i.e. :math:`C_W = 1/3`, and uniform
biases) is off-critical for both: for ReLU the signal shrinks by :math:`C_W / 2 = 1/6` per
layer until the bias variance is all that is left.

The recursion holds for the average over initialisations; one network of width :math:`n`
and depth :math:`L` fluctuates around it by an amount that grows with :math:`L / n` (the
book's effective depth), so criticality matters most for deep, not too wide, MLPs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from graphclust.nn.config import check_positive_ints
from graphclust.nn.mlp import MLP

__all__ = ["CRITICAL_INIT", "CriticalMLP", "CriticalMLPConfig", "critical_init_"]

#: Critical ``(C_W, C_b)`` per activation (module docstring).
CRITICAL_INIT: dict[str, tuple[float, float]] = {"relu": (2.0, 0.0), "tanh": (1.0, 0.0)}


def critical_init_(module: nn.Module, activation: str,
                   generator: torch.Generator | None = None) -> nn.Module:
    r"""Re-initialise every :class:`torch.nn.Linear` of ``module`` at criticality, in place.

    Weights are drawn from :math:`\mathcal N(0, C_W / \text{fan\_in})` and biases are set to
    zero (:math:`C_b = 0` for both activations), with :math:`(C_W, C_b)` from
    :data:`CRITICAL_INIT`. Other submodules (norms, embeddings) are left untouched.

    Parameters
    ----------
    module : torch.nn.Module
        The network; it must contain at least one ``nn.Linear``.
    activation : {"relu", "tanh"}
        The non-linearity the network uses between its linear layers.
    generator : torch.Generator, optional
        Source of randomness (default: torch's global generator, which estimators seed).

    Returns
    -------
    torch.nn.Module
        ``module`` itself.

    Raises
    ------
    ValueError
        An activation without a known critical point, or a module without linear layers.
    """
    if activation not in CRITICAL_INIT:
        raise ValueError(f"no critical initialisation known for activation {activation!r}; "
                         f"choose one of {sorted(CRITICAL_INIT)}")
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(module).__name__} has no nn.Linear layer to initialise")
    weight_scale, bias_variance = CRITICAL_INIT[activation]
    with torch.no_grad():
        for linear in linears:
            std = math.sqrt(weight_scale / linear.in_features)
            nn.init.normal_(linear.weight, 0.0, std, generator=generator)
            if linear.bias is not None:
                nn.init.normal_(linear.bias, 0.0, math.sqrt(bias_variance), generator=generator)
    return module


class CriticalMLP(MLP):
    """:class:`graphclust.nn.MLP` drawn at criticality (:func:`critical_init_`), at
    construction and at every :meth:`reset_parameters`, which would otherwise restore
    torch's default initialisation."""

    def __init__(self, dims, activation: str = "relu") -> None:
        super().__init__(dims, activation)
        self.critical_activation = activation
        self.reset_parameters()

    @property
    def accepts_sparse_rows(self) -> bool:
        # The forward is MLP's own: sparse rows reach a plain first nn.Linear as there.
        return type(self.layers[0]) is nn.Linear

    def reset_parameters(self) -> None:
        critical_init_(self, self.critical_activation)


@dataclass(frozen=True)
class CriticalMLPConfig:
    """A feature-only :class:`CriticalMLP`: a :class:`graphclust.nn.MLP` initialised at
    criticality.

    The architecture is that of :class:`graphclust.nn.MLPConfig`; only the starting
    weights differ (:func:`critical_init_`).

    Parameters
    ----------
    hidden_dims : tuple of int
        Hidden widths.
    activation : {"relu", "tanh"}
        Non-linearity between layers; it fixes the critical :math:`(C_W, C_b)`.

    Examples
    --------
    >>> from graphclust import SCGCStar
    >>> model = SCGCStar(n_clusters=4, encoder=CriticalMLPConfig(hidden_dims=(256,) * 4),
    ...                  pretrain="contrastive", pretrain_epochs=50)
    """

    hidden_dims: tuple[int, ...] = (256, 256, 256)
    activation: str = "relu"
    uses_graph: ClassVar[bool] = False

    def __post_init__(self) -> None:
        check_positive_ints("hidden_dims", self.hidden_dims)
        if self.activation not in CRITICAL_INIT:
            raise ValueError(f"activation={self.activation!r} has no known critical "
                             f"initialisation; choose one of {sorted(CRITICAL_INIT)}")

    def build(self, in_channels: int, out_channels: int) -> MLP:
        hidden = check_positive_ints("hidden_dims", self.hidden_dims)
        return CriticalMLP([in_channels, *hidden, out_channels], self.activation)
