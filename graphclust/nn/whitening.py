r"""Shrunk whitening of a linear map's outputs, folded into the map itself.

For the outputs :math:`z = W x + b` of a linear map on the data, with mean :math:`\mu` and
covariance :math:`C = V \Lambda V^\top` (eigenvalues :math:`\lambda_1 \ge \dots \ge
\lambda_e`), and a shrinkage :math:`\varepsilon > 0`,

.. math::

    M = V \operatorname{diag}\Big(\big(\lambda_i / \lambda_1 + \varepsilon\big)^{-1/2}\Big)
    V^\top, \qquad W \leftarrow M W, \qquad b \leftarrow M (b - \mu).

The new map's outputs are centred, and their directions whose variance is well above
:math:`\varepsilon \lambda_1` get about equal variance, while directions far below it are
scaled by at most :math:`\varepsilon^{-1/2}` (full whitening, :math:`\varepsilon \to 0`, would
blow up the noise in the weakest directions; :math:`\varepsilon \to \infty` only centres).
Cosine similarities and k-means on the unit sphere are otherwise dominated by the few
directions of largest variance. :math:`M` is symmetric (ZCA form), so the map changes as
little as a whitening can; the result is still a linear map, which an encoder can grow from.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from graphclust._checks import check_positive_real
from graphclust._warnings import user_stacklevel

__all__ = ["whiten_linear_"]


@torch.no_grad()
def whiten_linear_(linear: nn.Linear, outputs: torch.Tensor, shrinkage: float) -> torch.Tensor:
    """Fold the shrunk whitening of ``outputs`` into ``linear`` (in place).

    Parameters
    ----------
    linear : torch.nn.Linear
        The map; it needs a bias (the centring goes there).
    outputs : torch.Tensor
        ``(N, out_features)``: ``linear`` applied to the data, ``N >= 2``.
    shrinkage : float
        :math:`\\varepsilon > 0`, relative to the largest variance, finite: a Python or
        NumPy real number or a 0-d real torch tensor (not a bool).

    Returns
    -------
    torch.Tensor
        The ``(out_features, out_features)`` matrix :math:`M` that was applied (the
        identity, with a warning, when the outputs do not vary at all).
    """
    if linear.bias is None:
        raise ValueError("whiten_linear_ needs a linear map with a bias (it centres)")
    if outputs.ndim != 2 or outputs.shape[1] != linear.out_features or outputs.shape[0] < 2:
        raise ValueError(
            f"outputs must have shape (N >= 2, {linear.out_features}), got "
            f"{tuple(outputs.shape)}")
    if isinstance(shrinkage, torch.Tensor):
        # A torch scalar (a value computed or tuned in torch) is a number: its item() is a
        # Python float, int or bool, checked below like any other (a bool stays refused).
        if shrinkage.ndim != 0:
            raise TypeError("shrinkage must be a real number or a 0-d tensor, got a tensor "
                            f"of shape {tuple(shrinkage.shape)}")
        shrinkage = shrinkage.item()
    # Finite too: an infinite shrinkage scales every direction by 0 and zeroes the map.
    shrinkage = check_positive_real("shrinkage", shrinkage)
    if not bool(torch.isfinite(outputs).all()):
        raise ValueError("outputs must be finite (the map produced NaN or inf)")
    z = outputs.double()
    mean = z.mean(0)
    centred = z - mean
    covariance = centred.T @ centred / z.shape[0]
    variances, directions = torch.linalg.eigh(covariance)
    top = variances[-1]
    if not top > 0:
        # e.g. identical feature rows: no direction to equalise; the map stays as it is
        warnings.warn("the map's outputs do not vary over the data: not whitened",
                      UserWarning, stacklevel=user_stacklevel())
        return torch.eye(linear.out_features, dtype=linear.weight.dtype,
                         device=linear.weight.device)
    scale = (variances.clamp_min(0) / top + shrinkage).rsqrt()
    matrix = directions @ torch.diag(scale) @ directions.T
    weight = matrix @ linear.weight.double()
    bias = matrix @ (linear.bias.double() - mean)
    linear.weight.copy_(weight.to(linear.weight.dtype))
    linear.bias.copy_(bias.to(linear.bias.dtype))
    return matrix.to(linear.weight.dtype)
