r"""TrAct: train the first layer's pre-activations instead of its weights.

Petersen, Borgelt and Ermon, "TrAct: Making First-layer Pre-Activations Trainable"
(NeurIPS 2024). For a first linear layer :math:`z = X W^\top + b` with a batch
:math:`X \in \mathbb R^{b \times d}` and the gradient :math:`\nabla_z L \in
\mathbb R^{b \times k}` arriving at its pre-activations, plain back-propagation gives the
weight gradient :math:`G = \nabla_z L^\top X`, so a row with large entries moves the
weights more than a row with small ones. TrAct instead takes a gradient step on the
pre-activations, :math:`z^\star = z - \eta\,\nabla_z L`, and finds the weights whose
pre-activations come closest to it, with a ridge term that keeps the step small:

.. math::

    W^\star = \arg\min_{W'} \tfrac1b \|X W'^\top - z^\star\|^2 + \lambda \|W' - W\|^2,

whose closed form is a gradient step with the weight gradient replaced by

.. math::

    G_{\mathrm{TrAct}} = \nabla_z L^\top X \Big(\tfrac{X^\top X}{b} + \lambda I_d\Big)^{-1}
                       = \nabla_z L^\top \Big(\tfrac{X X^\top}{b} + \lambda I_b\Big)^{-1} X .

The two forms are equal by the push-through identity
:math:`(X^\top X/b + \lambda I)^{-1} X^\top = X^\top (X X^\top/b + \lambda I)^{-1}`.
:func:`tract_weight_gradient` solves the smaller system: the *primal* form
(:math:`d \times d`) when :math:`b \ge d`, the *kernel* form (:math:`b \times b`) when
:math:`b < d`, in both cases with a Cholesky factorisation (the matrix is symmetric
positive definite for :math:`\lambda > 0`). The bias gradient is left unchanged, as in
the paper. With :math:`\lambda \to \infty`, :math:`G_{\mathrm{TrAct}} \to G / \lambda`
(plain training up to the step size); with :math:`\lambda \to 0` the update whitens the
inputs.

The paper's default :math:`\lambda = 0.1` is set for standardised inputs, whose
second-moment matrix :math:`X^\top X / b` has mean eigenvalue about 1. Our bag-of-words
features are TF-IDF rows of unit L2 norm, whose mean eigenvalue is :math:`1/d`, so the
same :math:`\lambda` dominates every eigenvalue and TrAct is close to plain training
(under Adam the overall :math:`1/\lambda` scale cancels). ``relative_lam=True`` measures
:math:`\lambda` in units of that mean eigenvalue,
:math:`\lambda_{\mathrm{eff}} = \lambda\,\mathrm{tr}(X^\top X / b) / d`, which is the
paper's setting for standardised inputs and does not depend on the feature scale.

In full-batch training the first layer sees the same input tensor at every step, so the
Cholesky factor is computed once and reused while that tensor (same object, unmodified)
comes back; mini-batches recompute it for every batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from graphclust._checks import check_flag, check_positive_real
from graphclust.nn.config import check_positive_ints
from graphclust.nn.mlp import MLP

__all__ = ["TRACT_FORMS", "TrActLinear", "TrActMLPConfig", "tract_weight_gradient"]

#: Ways to solve for the TrAct gradient: the smaller system, or one of the two forms.
TRACT_FORMS = ("auto", "primal", "kernel")


def _check_lam(lam) -> float:
    """A finite ``lam > 0`` (infinity had given an all-zero gradient)."""
    return check_positive_real("lam", lam)


def _resolve_form(form: str, batch_size: int, in_features: int) -> str:
    if form not in TRACT_FORMS:
        raise ValueError(f"unknown form {form!r}; choose one of {TRACT_FORMS}")
    if form == "auto":
        return "kernel" if batch_size < in_features else "primal"
    return form


def _effective_lam(inputs: torch.Tensor, lam: float, relative_lam: bool) -> torch.Tensor | float:
    """``lam``, or ``lam`` times the mean eigenvalue ``||X||_F^2 / (b d)`` of ``X^T X / b``."""
    if not relative_lam:
        return lam
    mean_eigenvalue = inputs.square().mean()
    # An all-zero batch has a zero weight gradient whatever lambda is; keeping lam there
    # only avoids factorising a zero matrix.
    return torch.where(mean_eigenvalue > 0, lam * mean_eigenvalue,
                       torch.full_like(mean_eigenvalue, lam))


def _cholesky_factor(inputs: torch.Tensor, lam: float, relative_lam: bool,
                     form: str) -> torch.Tensor:
    """Lower Cholesky factor of ``X^T X / b + lam I`` (primal) or ``X X^T / b + lam I``."""
    if inputs.dtype in (torch.float16, torch.bfloat16):
        inputs = inputs.float()  # torch has no half-precision Cholesky
    b = inputs.shape[0]
    gram = inputs.T @ inputs if form == "primal" else inputs @ inputs.T
    gram = gram / b
    gram.diagonal().add_(_effective_lam(inputs, lam, relative_lam))
    return torch.linalg.cholesky(gram)


def _apply_factor(grad_output: torch.Tensor, inputs: torch.Tensor, factor: torch.Tensor,
                  form: str) -> torch.Tensor:
    dtype = grad_output.dtype
    # In the factor's dtype: float32 for half-precision inputs (_cholesky_factor).
    grad_output, inputs = grad_output.to(factor.dtype), inputs.to(factor.dtype)
    if form == "primal":  # (G A^{-1})^T = A^{-1} G^T, A symmetric
        weight_grad = grad_output.T @ inputs
        return torch.cholesky_solve(weight_grad.T, factor).T.to(dtype)
    # grad_z^T K^{-1} X = (K^{-1} grad_z)^T X, K symmetric
    return (torch.cholesky_solve(grad_output, factor).T @ inputs).to(dtype)


def _check_matrices(grad_output: torch.Tensor, inputs: torch.Tensor) -> None:
    if not (isinstance(grad_output, torch.Tensor) and isinstance(inputs, torch.Tensor)):
        raise TypeError("grad_output and inputs must be torch tensors")
    if grad_output.dim() != 2 or inputs.dim() != 2:
        raise ValueError(
            f"grad_output and inputs must be matrices (batch x features), got shapes "
            f"{tuple(grad_output.shape)} and {tuple(inputs.shape)}"
        )
    if grad_output.shape[0] != inputs.shape[0]:
        raise ValueError(
            f"grad_output has {grad_output.shape[0]} rows but inputs has {inputs.shape[0]}"
        )
    if inputs.shape[0] == 0:
        raise ValueError("TrAct needs a non-empty batch")


def tract_weight_gradient(grad_output: torch.Tensor, inputs: torch.Tensor, lam: float = 0.1,
                          *, relative_lam: bool = False, form: str = "auto") -> torch.Tensor:
    r"""The TrAct weight gradient :math:`\nabla_z L^\top X (X^\top X / b + \lambda I)^{-1}`.

    Parameters
    ----------
    grad_output : Tensor of shape (b, k)
        Gradient of the loss with respect to the layer's pre-activations :math:`z`.
    inputs : Tensor of shape (b, d)
        The layer's inputs :math:`X`.
    lam : float
        Ridge strength :math:`\lambda > 0` (the paper's default 0.1).
    relative_lam : bool
        Measure ``lam`` in units of the mean eigenvalue of :math:`X^\top X / b`.
    form : {"auto", "primal", "kernel"}
        Solve the :math:`d \times d` system (primal), the :math:`b \times b` system
        (kernel), or the smaller of the two (auto). Both give the same matrix.

    Returns
    -------
    Tensor of shape (k, d)
        The replacement for the weight gradient :math:`\nabla_z L^\top X`.
    """
    _check_matrices(grad_output, inputs)
    lam = _check_lam(lam)
    check_flag("relative_lam", relative_lam)
    form = _resolve_form(form, *inputs.shape)
    factor = _cholesky_factor(inputs, lam, relative_lam, form)
    return _apply_factor(grad_output, inputs, factor, form)


@dataclass
class _Factor:
    """The Cholesky factor of one input tensor, kept while that tensor is unchanged."""

    inputs: torch.Tensor
    version: int
    key: tuple
    form: str
    factor: torch.Tensor

    def matches(self, inputs: torch.Tensor, key: tuple) -> bool:
        # Identity (not address) and the in-place version counter: a new batch, or the same
        # tensor modified in place, gets a new factor.
        return self.inputs is inputs and self.version == inputs._version and self.key == key


class _TrActLinearFunction(torch.autograd.Function):
    """``x W^T + b`` whose weight gradient is the TrAct gradient for a given factor."""

    @staticmethod
    def forward(ctx, inputs, weight, bias, factor: _Factor):
        ctx.save_for_backward(inputs, weight)
        ctx.factor = factor
        ctx.has_bias = bias is not None
        return F.linear(inputs, weight, bias)

    @staticmethod
    def backward(ctx, grad_output):
        inputs, weight = ctx.saved_tensors
        grad_inputs = grad_output @ weight if ctx.needs_input_grad[0] else None
        grad_weight = None
        if ctx.needs_input_grad[1]:
            grad_weight = _apply_factor(grad_output, inputs, ctx.factor.factor, ctx.factor.form)
        grad_bias = grad_output.sum(0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return grad_inputs, grad_weight, grad_bias, None


class TrActLinear(nn.Linear):
    r"""A linear layer trained with TrAct (see the module docstring).

    The forward pass and the gradients of the input and the bias are those of
    :class:`torch.nn.Linear`; the weight gradient is :func:`tract_weight_gradient` of the
    batch. Parameters and ``state_dict`` keys are those of :class:`torch.nn.Linear`.

    Parameters
    ----------
    in_features, out_features : int
        Layer shape.
    lam : float
        Ridge strength :math:`\lambda > 0`.
    relative_lam : bool
        Measure ``lam`` in units of the mean eigenvalue of :math:`X^\top X / b`.
    bias : bool
        Whether the layer has a bias.
    """

    def __init__(self, in_features: int, out_features: int, lam: float = 0.1,
                 relative_lam: bool = False, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
        self.lam = _check_lam(lam)
        self.relative_lam = check_flag("relative_lam", relative_lam)
        self._factor: _Factor | None = None

    @classmethod
    def from_linear(cls, linear: nn.Linear, lam: float = 0.1,
                    relative_lam: bool = False) -> TrActLinear:
        """A TrAct layer that shares ``linear``'s weight and bias parameters."""
        if not isinstance(linear, nn.Linear):
            raise TypeError(f"expected a torch.nn.Linear, got {type(linear).__name__}")
        layer = cls(linear.in_features, linear.out_features, lam, relative_lam,
                    bias=linear.bias is not None, device=linear.weight.device,
                    dtype=linear.weight.dtype)
        layer.weight = linear.weight
        layer.bias = linear.bias
        return layer

    def _factor_for(self, inputs: torch.Tensor) -> _Factor:
        key = (self.lam, self.relative_lam)
        if self._factor is None or not self._factor.matches(inputs, key):
            form = _resolve_form("auto", *inputs.shape)
            with torch.no_grad():
                factor = _cholesky_factor(inputs.detach(), self.lam, self.relative_lam, form)
            self._factor = _Factor(inputs, inputs._version, key, form, factor)
        return self._factor

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if not (torch.is_grad_enabled() and self.weight.requires_grad):
            return super().forward(inputs)  # no weight gradient: nothing to change
        if inputs.dim() != 2:
            raise ValueError(f"TrActLinear needs a (batch, features) matrix, got shape "
                             f"{tuple(inputs.shape)}")
        if inputs.shape[0] == 0:
            raise ValueError("TrAct needs a non-empty batch")
        return _TrActLinearFunction.apply(inputs, self.weight, self.bias,
                                          self._factor_for(inputs))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, lam={self.lam}, relative_lam={self.relative_lam}"


@dataclass(frozen=True)
class TrActMLPConfig:
    r"""The plain :class:`graphclust.nn.MLP` encoder with a TrAct first layer.

    Parameters
    ----------
    hidden_dims : tuple of int
        Hidden widths (as :class:`graphclust.nn.MLPConfig`).
    lam : float
        Ridge strength :math:`\lambda` (the paper's default 0.1).
    relative_lam : bool
        Measure ``lam`` in units of the mean eigenvalue of the first layer's
        :math:`X^\top X / b` (see the module docstring).
    activation : str
        Non-linearity between layers.
    """

    hidden_dims: tuple[int, ...] = (256,)
    lam: float = 0.1
    relative_lam: bool = False
    activation: str = "relu"
    uses_graph: ClassVar[bool] = False

    def build(self, in_channels: int, out_channels: int) -> MLP:
        hidden = check_positive_ints("hidden_dims", self.hidden_dims)
        lam = _check_lam(self.lam)
        mlp = MLP([in_channels, *hidden, out_channels], self.activation)
        mlp.layers[0] = TrActLinear.from_linear(mlp.layers[0], lam, self.relative_lam)
        return mlp
