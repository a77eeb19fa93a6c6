r"""Sparse and squared activations, and a measurement of activation sparsity.

* **Squared ReLU** (So et al. 2021, "Primer: Searching for Efficient Transformers"):
  :math:`\mathrm{ReLU}(x)^2`, found by Primer's architecture search to train feed-forward
  blocks faster than ReLU or GELU; its gradient is :math:`2\,\mathrm{ReLU}(x)`.
* **Top-k activations** (Li et al. ICLR 2023, "The Lazy Neuron Phenomenon: On Emergence
  of Activation Sparsity in Transformers"): trained ReLU feed-forward layers already
  leave most of their units at zero for each input (3-6 % non-zero in T5-Base and
  ViT-B16); the paper's Top-k Transformer enforces this by keeping only the :math:`k`
  largest activations of each row,

  .. math:: \mathrm{TopK}_k(a)_j = a_j \,[\, a_j \text{ is among the } k
     \text{ largest entries of } a \,],

  with gradients flowing through the kept entries only.
* :func:`activation_sparsity` measures the fraction of exact zeros that each activation
  module of an encoder outputs for a batch of inputs (forward hooks; any encoder).
"""

from __future__ import annotations

import math
import numbers
from collections import defaultdict

import torch
from torch import nn

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_TYPES",
    "SquaredReLU",
    "TopK",
    "activation_sparsity",
    "resolve_topk",
    "squared_relu",
    "topk_activations",
    "watched_forward",
]


def squared_relu(x: torch.Tensor) -> torch.Tensor:
    r""":math:`\mathrm{ReLU}(x)^2`, elementwise."""
    return torch.relu(x).square()


class SquaredReLU(nn.Module):
    r"""Module form of :func:`squared_relu` (Primer's :math:`\mathrm{ReLU}(x)^2`)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return squared_relu(x)


def _check_topk(k) -> None:
    if isinstance(k, bool) or not isinstance(k, numbers.Real):
        raise TypeError(f"top-k must be an int (units kept) or a float (fraction kept), "
                        f"got {k!r}")
    if isinstance(k, numbers.Integral) and k < 1:
        raise ValueError(f"top-k must keep at least one unit, got {k!r}")
    if not isinstance(k, numbers.Integral) and not 0.0 < k <= 1.0:
        raise ValueError(f"top-k fraction must be in (0, 1], got {k!r}")


def resolve_topk(k: int | float, width: int) -> int:
    """Number of units kept out of ``width``: ``k`` itself (an int), or ``ceil(k * width)``
    for a fraction ``0 < k <= 1`` (a float).

    Raises
    ------
    TypeError
        ``k`` is neither an int nor a float (a bool is refused).
    ValueError
        An int ``k`` outside ``[1, width]`` or a float outside ``(0, 1]``.
    """
    _check_topk(k)
    if not isinstance(k, numbers.Integral):
        # Rounded first so that e.g. 0.1 * 250 (= 25.000000000000004) keeps 25, not 26.
        return max(1, math.ceil(round(k * width, 9)))
    if k > width:
        raise ValueError(f"top-k keeps {k} units, but a row has only {width}")
    return int(k)


def topk_activations(a: torch.Tensor, k: int | float) -> torch.Tensor:
    """Keep the ``k`` largest entries of each row (last dimension) of ``a``; zero the rest.

    ``k`` is a number of entries or a fraction of the row (see :func:`resolve_topk`).

    Ties are broken by :func:`torch.topk`, so exactly ``k`` entries per row are kept. The
    gradient with respect to ``a`` is the incoming gradient on the kept entries and zero
    elsewhere.
    """
    k = resolve_topk(k, a.shape[-1])
    values, indices = a.topk(k, dim=-1, sorted=False)
    return torch.zeros_like(a).scatter(-1, indices, values)


class TopK(nn.Module):
    """Module form of :func:`topk_activations`, placed after an activation.

    Parameters
    ----------
    k : int or float
        Units kept per row: an int, or a fraction ``0 < k <= 1`` of the row's width
        (rounded up), resolved on each call.
    """

    def __init__(self, k: int | float):
        super().__init__()
        _check_topk(k)
        self.k = k

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return topk_activations(a, self.k)

    def extra_repr(self) -> str:
        return f"k={self.k}"


#: Activation names accepted by the extras' encoders.
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "squared_relu": SquaredReLU,
}

#: Module types :func:`activation_sparsity` hooks by default.
ACTIVATION_TYPES: tuple[type[nn.Module], ...] = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid,
    SquaredReLU, TopK,
)


def watched_forward(module: nn.Module, inputs: tuple, hooks) -> None:
    """Call ``module(*inputs)`` in eval mode with each ``(submodule, forward hook)`` of
    ``hooks`` registered, then restore the module's training flag and remove the hooks
    (also when the call raises)."""
    handles = [submodule.register_forward_hook(hook) for submodule, hook in hooks]
    was_training = module.training
    module.eval()
    try:
        module(*inputs)
    finally:
        module.train(was_training)
        for handle in handles:
            handle.remove()


@torch.no_grad()
def activation_sparsity(module: nn.Module, *inputs,
                        module_types: tuple[type[nn.Module], ...] = ACTIVATION_TYPES,
                        ) -> dict[str, float]:
    """Fraction of exact zeros in the output of each activation module, for one batch.

    ``module(*inputs)`` runs once in evaluation mode (its mode is restored afterwards) with
    a forward hook on every submodule of one of ``module_types``. A module applied several
    times (e.g. :class:`graphclust.nn.MLP` shares one activation between its layers)
    gets one entry per call, ``"name[0]"``, ``"name[1]"``, ...; a module called once is
    keyed by its name alone.

    Parameters
    ----------
    module : nn.Module
        Any encoder, e.g. one built by an encoder configuration.
    *inputs
        Its forward arguments (``x``, or ``x, edge_index`` for message-passing encoders).
    module_types : tuple of type
        Which submodules count as activations.

    Returns
    -------
    dict of str to float
        Per activation call, in call order: zeros / entries of its output.

    Raises
    ------
    ValueError
        ``module`` has no submodule of ``module_types``.
    """
    targets = [(name, m) for name, m in module.named_modules() if isinstance(m, module_types)]
    if not targets:
        names = ", ".join(t.__name__ for t in module_types)
        raise ValueError(f"{type(module).__name__} has no activation module ({names})")
    calls: dict[str, list[float]] = defaultdict(list)
    order: list[str] = []

    def record(name):
        def hook(_module, _inputs, output):
            if name not in calls:
                order.append(name)
            calls[name].append((output == 0).float().mean().item())
        return hook

    watched_forward(module, inputs, [(m, record(name)) for name, m in targets])
    sparsity = {}
    for name in order:
        if len(calls[name]) == 1:
            sparsity[name] = calls[name][0]
        else:
            sparsity.update({f"{name}[{i}]": value for i, value in enumerate(calls[name])})
    return sparsity
