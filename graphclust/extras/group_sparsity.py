r"""Neuron-level structured sparsity with a group sparse envelope (after Refael, Arbel and
Huleihel, "Learning k-Level Structured Sparse Neural Networks Using Group Envelope
Regularization", arXiv:2212.12921, WGSEF).

**Groups.** Hidden unit :math:`j` of hidden layer :math:`l` of an MLP owns the group
:math:`x_j = (W^{(l)}_{j\cdot},\, b^{(l)}_j,\, W^{(l+1)}_{\cdot j})`: its incoming weights,
its bias and its outgoing weights. A zero group is a unit that can be removed without
changing the network (:meth:`GroupSparseMLP.compact`). Let :math:`v_j = \lVert x_j \rVert_2`
and :math:`k` the number of units a layer keeps.

**The envelope.** The sparse envelope function (Beck and Refael) is the convex envelope of
:math:`\tfrac12\lVert x\rVert^2` restricted to :math:`k`-sparse vectors; its group version
(the WGSEF of the paper) replaces entries by groups. With :math:`\Theta_k = \{\theta \in
[0, 1]^m : \sum_j \theta_j \le k\}` it has the variational form

.. math::

    G_k(x) = \frac12 \min_{\theta \in \Theta_k} \sum_j \frac{v_j^2}{\theta_j},

i.e. half the squared :math:`k`-support norm of the group norms: :math:`G_k(x) = \tfrac12
\lVert x \rVert^2` when at most :math:`k` groups are non-zero, and
:math:`G_1(x) = \tfrac12 (\sum_j v_j)^2` (squared group lasso) at the other end. The
paper's group weights are all equal here, because every group of one layer has the same
size, so they drop out (their scale is absorbed in ``strength``).

**Its proximal operator.** Minimising :math:`\tfrac12\lVert u - x\rVert^2 + \lambda G_k(u)`
jointly over :math:`u` and :math:`\theta` gives :math:`u_j = x_j\, \theta_j / (\theta_j +
\lambda)` with :math:`\theta_j = \mathrm{clip}(v_j t - \lambda, 0, 1)` and :math:`t > 0`
solving :math:`\sum_j \theta_j = k` (found exactly, in :math:`O(m \log m)`, from the sorted
breakpoints of this piecewise linear equation). So each group is, by its norm,

* set to zero (:math:`v_j \le \lambda / t`; at most :math:`m - k` groups, since
  :math:`\sum_j \theta_j = k` with :math:`\theta_j \le 1`),
* shrunk by a constant :math:`\lambda / t` (group soft-thresholding) in a middle band, or
* scaled by :math:`1 / (1 + \lambda)` (ridge) when it is among the largest.

**Training (what this module does).** The penalty is applied as in the paper's proximal
gradient method: after every optimizer step the weights go through the prox with
:math:`\lambda` = ``strength`` (a per-step prox parameter, i.e. learning rate times the
penalty weight). It is *not* also added to the loss, which would apply it twice; so the
module has no ``regularization()``. The paper reaches the level :math:`k` at convergence;
to reach it *exactly* within a short training run, this module adds a level schedule
(our addition, in the spirit of gradual magnitude pruning): after the prox, the required
number of zero units grows linearly from 0 to :math:`m - k` over ``ramp_steps`` steps, and
whenever the prox left fewer zero groups the smallest remaining ones (by norm after the
prox) are set to zero. A unit once zero stays zero (a mask), since Adam's stale moments
would otherwise move a zero group off zero although its gradient is zero. After the ramp
every layer has exactly its requested number of zero units.
"""

from __future__ import annotations

import copy
import math
import numbers
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from graphclust._checks import check_integer
from graphclust.nn.config import check_positive_ints
from graphclust.nn.mlp import MLP

__all__ = [
    "GroupSparseMLP",
    "GroupSparseMLPConfig",
    "envelope_prox_factors",
    "group_sparse_envelope",
]


def _check_norms(norms: torch.Tensor, k) -> None:
    if not isinstance(norms, torch.Tensor) or norms.dim() != 1 or norms.numel() == 0:
        raise ValueError("norms must be a non-empty 1-D tensor of group norms")
    if bool((norms < 0).any()) or not bool(torch.isfinite(norms).all()):
        raise ValueError("norms must be finite and non-negative")
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= len(norms):
        raise ValueError(f"k must be an integer in [1, {len(norms)}], got {k!r}")


def _envelope_theta(norms: torch.Tensor, k: int, shift: float) -> torch.Tensor:
    r""":math:`\theta_j = \mathrm{clip}(v_j t - \lambda, 0, 1)` with :math:`\sum_j \theta_j
    = k` (:math:`\lambda` = ``shift``), or the indicator of the non-zero groups when at most
    ``k`` of them are non-zero (then the constraint is not binding)."""
    v = norms.to(torch.float64)
    positive = v > 0
    if int(positive.sum()) <= k:
        return positive.to(v.dtype)
    vp = v[positive]
    # theta_j enters (0 -> positive) at t = shift / v_j and saturates at t = (shift + 1) / v_j.
    # Just after a breakpoint tau, sum(theta) = t * A - shift * B + C, with A the sum of v_j
    # over the B groups in the middle band and C the count of saturated ones. The band is
    # a run of the norms sorted ascending (entered: the largest m - a; saturated: the
    # largest m - b), so A is a difference of ascending prefix sums, which hold no larger
    # norm than the band's: a running sum of +v_j and -v_j over the breakpoints had left
    # rounding noise of the saturated norms where the band holds tiny ones.
    ascending = vp.sort().values
    prefix = torch.cat([ascending.new_zeros(1), ascending.cumsum(0)])
    count = len(ascending)
    enter, saturate = (shift / ascending).flip(0), ((shift + 1.0) / ascending).flip(0)
    times = torch.cat([enter, saturate]).sort().values
    a = count - torch.searchsorted(enter, times, right=True)  # groups not yet entered
    b = count - torch.searchsorted(saturate, times, right=True)  # groups not saturated
    slope, middle, saturated = prefix[b] - prefix[a], (b - a).to(v.dtype), (count - b).to(v.dtype)
    total = times * slope - shift * middle + saturated  # sum(theta) at each breakpoint
    # sum(theta) is non-decreasing and continuous; k lies on the segment ending at the
    # first breakpoint reaching it (never the first breakpoint, where the sum is 0; the
    # last, where every group is saturated, holds m > k). Its first, not a count of the
    # breakpoints below k: rounding can leave a later one a hair under k.
    end = int(torch.nonzero(total >= k)[0])
    t = (k + shift * middle[end - 1] - saturated[end - 1]) / slope[end - 1]
    theta = torch.zeros_like(v)
    theta[positive] = (vp * t - shift).clamp(0.0, 1.0)
    return theta


def group_sparse_envelope(norms: torch.Tensor, k: int) -> torch.Tensor:
    r"""The group sparse envelope :math:`G_k` (module docstring) of groups with these norms.

    Parameters
    ----------
    norms : Tensor of shape (m,)
        Group norms :math:`v_j \ge 0`.
    k : int
        Number of groups the envelope allows to be non-zero, :math:`1 \le k \le m`.

    Returns
    -------
    Tensor
        The scalar :math:`\tfrac12 \min_{\theta \in \Theta_k} \sum_j v_j^2 / \theta_j`
        (float64).
    """
    _check_norms(norms, k)
    theta = _envelope_theta(norms, int(k), 0.0)
    v = norms.to(torch.float64)
    active = theta > 0
    return 0.5 * (v[active].square() / theta[active]).sum()


def envelope_prox_factors(norms: torch.Tensor, k: int, strength: float) -> torch.Tensor:
    r"""Per-group factors :math:`c_j` of :math:`\mathrm{prox}_{\lambda G_k}`:
    :math:`u_j = c_j x_j`.

    Parameters
    ----------
    norms : Tensor of shape (m,)
        Group norms :math:`v_j \ge 0`.
    k : int
        Groups the envelope keeps, :math:`1 \le k \le m`.
    strength : float
        :math:`\lambda \ge 0`; ``0`` gives the identity.

    Returns
    -------
    Tensor of shape (m,)
        :math:`c_j = \theta_j / (\theta_j + \lambda)` in :math:`[0, 1/(1+\lambda)]`, zero for
        the groups the prox removes; same dtype and device as ``norms``.
    """
    _check_norms(norms, k)
    _check_strength(strength)
    if strength == 0:
        return torch.ones_like(norms)
    theta = _envelope_theta(norms, int(k), float(strength))
    return (theta / (theta + strength)).to(norms.dtype)


def _check_strength(strength) -> None:
    if isinstance(strength, bool) or not isinstance(strength, numbers.Real) \
            or not math.isfinite(strength) or strength < 0:
        raise ValueError(f"strength must be a finite number >= 0, got {strength!r}")


def _check_ramp_steps(ramp_steps) -> None:
    check_integer("ramp_steps", ramp_steps, 0)


def _zeros_per_layer(sparsity, widths: tuple[int, ...]) -> tuple[int, ...]:
    """Requested zero units per hidden layer: ``sparsity`` units (an int) or
    ``floor(sparsity * width)`` (a fraction in [0, 1))."""
    if not widths:
        raise ValueError("group sparsity needs at least one hidden layer (hidden_dims is empty)")
    if isinstance(sparsity, bool) or not isinstance(sparsity, numbers.Real):
        raise ValueError(f"sparsity must be a fraction in [0, 1) or a number of units, "
                         f"got {sparsity!r}")
    if isinstance(sparsity, numbers.Integral):
        if not 0 <= sparsity < min(widths):
            raise ValueError(f"sparsity={sparsity} zero units must leave at least one unit "
                             f"in every hidden layer {widths}")
        return tuple(int(sparsity) for _ in widths)
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"a fractional sparsity must lie in [0, 1), got {sparsity!r}")
    return tuple(math.floor(sparsity * width) for width in widths)


class GroupSparseMLP(nn.Module):
    """A :class:`graphclust.nn.MLP` whose hidden units are pruned by the group sparse
    envelope's proximal step (module docstring).

    Parameters
    ----------
    dims : sequence of int
        Layer widths from input to output (at least one hidden layer).
    activation : str
        Non-linearity (see :class:`graphclust.nn.MLP`).
    sparsity : float or int
        Zero units per hidden layer: a fraction in [0, 1) of its width (rounded down) or a
        number.
    strength : float
        Prox parameter :math:`\\lambda` of each step.
    ramp_steps : int
        Steps over which the number of zero units grows to the requested one (0: at once).
    """

    def __init__(self, dims, activation: str = "relu", sparsity: float | int = 0.5,
                 strength: float = 1e-3, ramp_steps: int = 50) -> None:
        super().__init__()
        self.mlp = MLP(dims, activation)
        widths = self.mlp.dims[1:-1]
        self.target_zeros = _zeros_per_layer(sparsity, widths)
        _check_strength(strength)
        _check_ramp_steps(ramp_steps)
        self.strength = float(strength)
        self.ramp_steps = int(ramp_steps)
        self.steps = 0
        for index, width in enumerate(widths):
            # Training state only: not saved, so a saved model has the MLP's tensors.
            self.register_buffer(f"pruned_{index}", torch.zeros(width, dtype=torch.bool),
                                 persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x)

    def group_norms(self) -> list[torch.Tensor]:
        """Norm of each hidden unit's group (incoming row, bias, outgoing column), per layer."""
        layers = self.mlp.layers
        return [
            (layers[i].weight.square().sum(1) + layers[i].bias.square()
             + layers[i + 1].weight.square().sum(0)).sqrt()
            for i in range(len(layers) - 1)
        ]

    def zero_groups(self) -> tuple[int, ...]:
        """Number of hidden units whose whole group is exactly zero, per hidden layer."""
        with torch.no_grad():
            return tuple(int((norms == 0).sum()) for norms in self.group_norms())

    @torch.no_grad()
    def after_optimizer_step(self) -> None:
        """The envelope's prox, then the level schedule (module docstring)."""
        self.steps += 1
        progress = 1.0 if self.ramp_steps == 0 else min(1.0, self.steps / self.ramp_steps)
        layers = self.mlp.layers
        for index, norms in enumerate(self.group_norms()):
            pruned = getattr(self, f"pruned_{index}")
            norms = norms.masked_fill(pruned, 0.0)
            target = self.target_zeros[index]
            factors = envelope_prox_factors(norms, len(norms) - target, self.strength)
            factors = factors.masked_fill(norms == 0, 0.0)
            missing = math.floor(target * progress) - int((factors == 0).sum())
            if missing > 0:
                remaining = (norms * factors).masked_fill(factors == 0, math.inf)
                factors[remaining.topk(missing, largest=False).indices] = 0.0
            pruned |= factors == 0
            layers[index].weight.mul_(factors[:, None])
            layers[index].bias.mul_(factors)
            layers[index + 1].weight.mul_(factors[None, :])

    @torch.no_grad()
    def compact(self) -> MLP:
        """A plain :class:`graphclust.nn.MLP` without the zero units, computing the same
        function (a zero unit's outgoing weights are zero, so removing it changes nothing).

        Raises
        ------
        ValueError
            A hidden layer has no non-zero unit left.
        """
        keep = [norms > 0 for norms in self.group_norms()]
        if not all(bool(mask.any()) for mask in keep):
            raise ValueError(f"a hidden layer has no non-zero unit left: {self.zero_groups()}")
        layers = []
        for index, layer in enumerate(self.mlp.layers):
            weight, bias = layer.weight, layer.bias
            if index < len(keep):  # rows of the kept units of this layer
                weight, bias = weight[keep[index]], bias[keep[index]]
            if index > 0:  # columns of the kept units of the previous layer
                weight = weight[:, keep[index - 1]]
            # skip_init: the values are overwritten, so draw nothing from the global generator.
            linear = nn.utils.skip_init(nn.Linear, weight.shape[1], weight.shape[0],
                                        device=weight.device, dtype=weight.dtype)
            linear.weight.copy_(weight)
            linear.bias.copy_(bias)
            layers.append(linear)
        compact = copy.deepcopy(self.mlp)  # keeps the activation
        compact.layers = nn.ModuleList(layers)
        compact.dims = (self.mlp.dims[0], *(int(mask.sum()) for mask in keep),
                        self.mlp.dims[-1])
        return compact.train(self.training)


@dataclass(frozen=True)
class GroupSparseMLPConfig:
    """A feature-only MLP with a requested fraction of zero hidden units
    (:class:`GroupSparseMLP`).

    Parameters
    ----------
    hidden_dims : tuple of int
        Hidden widths.
    sparsity : float or int
        Zero units per hidden layer: a fraction in [0, 1) of the width (rounded down) or a
        number of units.
    strength : float
        Prox parameter of one step (learning rate times penalty weight in proximal
        gradient terms). The default equals the contrastive start's learning rate
        (penalty weight 1).
    ramp_steps : int
        Optimizer steps over which the zero units are introduced; the default is the
        length of the estimators' contrastive start, so the k-means start already sees
        the pruned encoder.
    activation : str
        Non-linearity between layers (see :class:`graphclust.nn.MLP`).

    Examples
    --------
    >>> from graphclust import SCGCStar
    >>> model = SCGCStar(n_clusters=4, encoder=GroupSparseMLPConfig(sparsity=0.5),
    ...                  pretrain="contrastive", pretrain_epochs=50)
    >>> # after fit: model.encoder_.zero_groups() == (128,)
    """

    hidden_dims: tuple[int, ...] = (256,)
    sparsity: float | int = 0.5
    strength: float = 1e-3
    ramp_steps: int = 50
    activation: str = "relu"
    uses_graph: ClassVar[bool] = False

    def __post_init__(self) -> None:
        _zeros_per_layer(self.sparsity, check_positive_ints("hidden_dims", self.hidden_dims))
        _check_strength(self.strength)
        _check_ramp_steps(self.ramp_steps)

    def build(self, in_channels: int, out_channels: int) -> GroupSparseMLP:
        hidden = check_positive_ints("hidden_dims", self.hidden_dims)
        return GroupSparseMLP([in_channels, *hidden, out_channels], self.activation,
                              self.sparsity, self.strength, self.ramp_steps)
