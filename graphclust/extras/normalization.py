r"""Further norm placements for residual sublayers: Peri-LN, LayerNorm Scaling, PRepBN.

Every placement here has the interface of :mod:`graphclust.nn.residual`: a module built
from ``(sublayer, channels, layer_index)`` whose ``forward(h, *args)`` returns the new
residual stream :math:`h'` and hands ``*args`` (edges, batch vector) to the sublayer
:math:`f`. ``layer_index`` :math:`l` counts residual sublayers from 1.

* **Peri-LN** (Kim et al. 2025, "Peri-LN: Revisiting Layer Normalization in the
  Transformer Architecture"): normalise both the input and the output of the sublayer,

  .. math:: h' = h + \mathrm{LN}_{out}\big(f(\mathrm{LN}_{in}(h))\big),

  so every update added to the stream has a bounded, learned scale (pre-LN lets large
  updates pile up; post-LN normalises the stream itself and loses the identity path).
* **LayerNorm Scaling** (Sun et al. 2025, "The Curse of Depth in Large Language
  Models"): pre-LN whose normalised input is damped by the square root of the depth,

  .. math:: h' = h + f\big(\mathrm{LN}(h) / \sqrt{l}\big),

  which keeps the output variance of deep pre-LN stacks from growing with depth, so
  deep layers do not degenerate towards the identity.
* **PRepBN** (Guo et al. ICML 2024, "SLAB: Efficient Transformers with Simplified Linear
  Attention and Progressive Re-parameterized Batch Normalization"): pre-norm whose
  normaliser moves progressively from LayerNorm to a re-parameterised BatchNorm,

  .. math::

      \mathrm{RepBN}(x) = \mathrm{BN}(x) + \eta x, \qquad
      \mathrm{PRepBN}(x) = \gamma\,\mathrm{LN}(x) + (1 - \gamma)\,\mathrm{RepBN}(x),
      \qquad \gamma_t = \max(0, 1 - t / T),

  with :math:`\eta` a learned scalar (initialised to 1), :math:`t` the optimizer steps
  taken and :math:`T` the decay length. At inference BatchNorm uses its running
  statistics, so once :math:`\gamma = 0` the whole normaliser is one per-channel affine
  map :math:`x \odot s + c` (:meth:`PRepBN.fold`) that needs no statistics of the input.

:data:`NORM_PLACEMENTS` maps the names ``"pre"``, ``"post"`` (from
:mod:`graphclust.nn.residual`), ``"peri"``, ``"scaled"`` and ``"prepbn"`` to their classes;
:func:`norm_placement` looks one up.

LayerNorm normalises each row's features; BatchNorm normalises each feature over the
rows of a training batch (the graph's nodes, or a mini-batch of them) and, at inference,
with statistics averaged during training, so a node's output never depends on the others.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable

import torch
from torch import nn

from graphclust._checks import check_integer, check_positive_real
from graphclust.nn.residual import PostNormResidual, PreNormResidual

__all__ = [
    "NORM_PLACEMENTS",
    "PRepBN",
    "PRepBNResidual",
    "PeriNormResidual",
    "ScaledPreNormResidual",
    "advance_norm_schedules",
    "norm_placement",
]


class PeriNormResidual(nn.Module):
    r""":math:`h + \mathrm{LN}_{out}(f(\mathrm{LN}_{in}(h)))` (Peri-LN).

    Parameters
    ----------
    sublayer : nn.Module
        :math:`f`, called as ``sublayer(normalised_h, *args)``; it must return
        ``channels`` features.
    channels : int
        Width of the residual stream.
    layer_index : int
        Position of the sublayer (unused; part of the placement interface).
    """

    def __init__(self, sublayer: nn.Module, channels: int, layer_index: int = 1):
        super().__init__()
        self.sublayer = sublayer
        self.norm_in = nn.LayerNorm(channels)
        self.norm_out = nn.LayerNorm(channels)

    def forward(self, h: torch.Tensor, *args) -> torch.Tensor:
        return h + self.norm_out(self.sublayer(self.norm_in(h), *args))


class ScaledPreNormResidual(nn.Module):
    r""":math:`h + f(\mathrm{LN}(h) / \sqrt{l})` (LayerNorm Scaling).

    Parameters
    ----------
    sublayer : nn.Module
        :math:`f`, called as ``sublayer(scaled_normalised_h, *args)``.
    channels : int
        Width of the residual stream.
    layer_index : int
        :math:`l \ge 1`, the depth of this sublayer; the normalised input is multiplied
        by ``scale`` :math:`= 1/\sqrt{l}`.
    """

    def __init__(self, sublayer: nn.Module, channels: int, layer_index: int = 1):
        super().__init__()
        layer_index = check_integer("layer_index", layer_index, 1)
        self.sublayer = sublayer
        self.norm = nn.LayerNorm(channels)
        self.scale = 1.0 / math.sqrt(layer_index)

    def forward(self, h: torch.Tensor, *args) -> torch.Tensor:
        return h + self.sublayer(self.norm(h) * self.scale, *args)

    def extra_repr(self) -> str:
        return f"scale={self.scale:.6g}"


class PRepBN(nn.Module):
    r"""Progressive re-parameterised BatchNorm over the last dimension (see module docstring).

    The schedule advances by one step per call of :meth:`advance` (an encoder calls it from
    ``after_optimizer_step``; :func:`advance_norm_schedules` does it for every PRepBN in a
    module). The step count is a buffer, so it is saved and restored with the weights.

    In training mode both normalisers run while :math:`\gamma > 0` (BatchNorm's running
    statistics keep updating); in evaluation mode the same mixture uses BatchNorm's running
    statistics, and once :math:`\gamma = 0` the folded affine map of :meth:`fold` replaces
    both. (SLAB's reference code uses RepBN alone at evaluation even while
    :math:`\gamma > 0`; here inference always computes the function being trained.)

    Parameters
    ----------
    channels : int
        Number of features (the last dimension of the input).
    decay_steps : int
        :math:`T`: optimizer steps over which :math:`\gamma` falls linearly from 1 to 0.
        0 means RepBN from the first step.
    eps : float
        Variance floor of both normalisers.
    """

    def __init__(self, channels: int, decay_steps: int = 50, eps: float = 1e-5):
        super().__init__()
        channels = check_integer("channels", channels, 1)
        self.decay_steps = check_integer("decay_steps", decay_steps, 0)
        eps = check_positive_real("eps", eps)  # torch takes NaN or < 0, and outputs NaN
        self.layer_norm = nn.LayerNorm(channels, eps=eps)
        self.batch_norm = nn.BatchNorm1d(channels, eps=eps)
        self.eta = nn.Parameter(torch.ones(()))
        self.register_buffer("step", torch.zeros((), dtype=torch.long))

    @property
    def gamma(self) -> float:
        r"""The current LayerNorm weight :math:`\gamma_t = \max(0, 1 - t/T)`."""
        if self.decay_steps == 0:
            return 0.0
        return max(0.0, 1.0 - int(self.step) / self.decay_steps)

    @torch.no_grad()
    def advance(self) -> None:
        """Count one optimizer step of the schedule."""
        self.step += 1

    def rep_batch_norm(self, x: torch.Tensor) -> torch.Tensor:
        r""":math:`\mathrm{BN}(x) + \eta x` over the last dimension (batch or running statistics,
        following the training mode)."""
        rows = x.reshape(-1, x.shape[-1])
        return (self.batch_norm(rows) + self.eta * rows).reshape(x.shape)

    def fold(self) -> tuple[torch.Tensor, torch.Tensor]:
        r"""RepBN at inference as one affine map: ``(scale, shift)``.

        With running mean :math:`\mu`, running variance :math:`\sigma^2`, BatchNorm's affine
        weight :math:`w` and bias :math:`b`,

        .. math::

            \mathrm{RepBN}(x) = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}\,w + b + \eta x
            = x \odot s + c, \quad s = \frac{w}{\sqrt{\sigma^2 + \epsilon}} + \eta, \quad
            c = b - \frac{\mu\,w}{\sqrt{\sigma^2 + \epsilon}}.

        Once :math:`\gamma = 0` this is the whole of PRepBN in evaluation mode, which then
        computes ``x * scale + shift``. Differentiable in the parameters.
        """
        bn = self.batch_norm
        weight_over_std = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
        return weight_over_std + self.eta, bn.bias - bn.running_mean * weight_over_std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gamma = self.gamma
        if gamma == 0.0 and not self.training:
            scale, shift = self.fold()
            return torch.addcmul(shift, x, scale)
        rep = self.rep_batch_norm(x)
        if gamma == 0.0:
            return rep
        return gamma * self.layer_norm(x) + (1.0 - gamma) * rep

    def extra_repr(self) -> str:
        return f"decay_steps={self.decay_steps}"


class PRepBNResidual(nn.Module):
    r""":math:`h + f(\mathrm{PRepBN}(h))`: pre-norm with SLAB's progressive normaliser.

    Parameters
    ----------
    sublayer : nn.Module
        :math:`f`, called as ``sublayer(normalised_h, *args)``.
    channels : int
        Width of the residual stream.
    layer_index : int
        Position of the sublayer (unused; part of the placement interface).
    decay_steps : int
        Length :math:`T` of the LayerNorm-to-RepBN schedule (see :class:`PRepBN`).
    """

    def __init__(self, sublayer: nn.Module, channels: int, layer_index: int = 1,
                 decay_steps: int = 50):
        super().__init__()
        self.sublayer = sublayer
        self.norm = PRepBN(channels, decay_steps)

    def forward(self, h: torch.Tensor, *args) -> torch.Tensor:
        return h + self.sublayer(self.norm(h), *args)


def advance_norm_schedules(module: nn.Module) -> int:
    """Advance the schedule of every :class:`PRepBN` inside ``module`` by one step.

    Meant for an encoder's ``after_optimizer_step``. Returns how many were advanced.
    """
    norms = [m for m in module.modules() if isinstance(m, PRepBN)]
    for norm in norms:
        norm.advance()
    return len(norms)


#: Placement name -> class built from ``(sublayer, channels, layer_index)``.
NORM_PLACEMENTS: dict[str, type[nn.Module]] = {
    "pre": PreNormResidual,
    "post": PostNormResidual,
    "peri": PeriNormResidual,
    "scaled": ScaledPreNormResidual,
    "prepbn": PRepBNResidual,
}


def norm_placement(name: str, **options) -> Callable[..., nn.Module]:
    """The placement called ``name``, with keyword ``options`` bound (e.g. ``decay_steps``).

    The result can be passed to :func:`graphclust.nn.residual.residual_sublayer`.

    Raises
    ------
    TypeError
        ``name`` is not a string, or an option is not a parameter of that placement.
    ValueError
        ``name`` is not a key of :data:`NORM_PLACEMENTS`.
    """
    if not isinstance(name, str):
        raise TypeError(f"norm placement name must be a string, got {name!r}")
    if name not in NORM_PLACEMENTS:
        raise ValueError(f"unknown norm placement {name!r}; choose one of "
                         f"{sorted(NORM_PLACEMENTS)}")
    placement = NORM_PLACEMENTS[name]
    if not options:
        return placement
    accepted = set(inspect.signature(placement).parameters) - {
        "sublayer", "channels", "layer_index"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise TypeError(f"norm placement {name!r} takes no option(s) {unknown}; "
                        f"it accepts {sorted(accepted) or 'none'}")
    return functools.partial(placement, **options)
