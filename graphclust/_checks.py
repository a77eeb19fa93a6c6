"""Argument checks shared by the package, so that every bad count or label reads the
same way.

A count must be a Python or NumPy integer (``bool`` is not one): anything else is a
``TypeError``; an integer out of its range is a ``ValueError``. Nothing is rounded or
clipped; a valid value comes back as a plain ``int`` (``float`` for reals).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["FeatureWidthError", "check_edge_index", "check_flag", "check_integer",
           "check_positive_real", "check_label_values", "check_real", "check_whole_labels"]


class FeatureWidthError(ValueError):
    """Features of another width than a fitted model's or transform's: a ``ValueError``
    whose ``width`` (given) and ``expected`` (fitted) let a caller such as the command line
    say it in its own terms without measuring the input again."""

    def __init__(self, message: str, width: int, expected: int) -> None:
        super().__init__(message)
        self.width, self.expected = width, expected


def check_integer(name: str, value, minimum: int | None = None,
                  maximum: int | None = None, *, accepts: str = "an integer") -> int:
    """``value`` as an ``int``, or an error naming ``name``.

    ``accepts`` is what the type error says ``name`` must be (``"None or an integer"``
    where the caller allows ``None`` and has handled it).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {accepts}, got {type(value).__name__}")
    below = minimum is not None and value < minimum
    above = maximum is not None and value > maximum
    if below or above:
        if maximum is None:
            bound = f">= {minimum}"
        elif minimum is None:
            bound = f"<= {maximum}"
        else:
            bound = f"in [{minimum}, {maximum}]"
        raise ValueError(f"{name} must be an integer {bound}, got {value!r}")
    return int(value)


def check_edge_index(edge_index, num_nodes) -> None:
    """Refuse an edge list that is not a ``(2, E)`` integer tensor of ids below
    ``num_nodes``: torch's sparse kernels read such ids past their buffers (a crash, or
    a matrix with a row that does not exist), where they are not checked."""
    import torch

    if not isinstance(edge_index, torch.Tensor):
        raise TypeError(f"edge_index must be a torch.Tensor, got {type(edge_index).__name__}")
    if edge_index.dtype.is_floating_point or edge_index.dtype.is_complex \
            or edge_index.dtype == torch.bool:
        raise TypeError(f"edge_index must hold integers, got dtype {edge_index.dtype}")
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"edge_index must have shape (2, E), got {tuple(edge_index.shape)}")
    num_nodes = check_integer("num_nodes", num_nodes, 0)
    if edge_index.shape[1] > 0:
        low, high = (int(value) for value in torch.aminmax(edge_index))
        if low < 0 or high >= num_nodes:
            raise ValueError(
                f"edge_index holds node ids in [{low}, {high}], outside [0, {num_nodes})")


def check_flag(name: str, value) -> bool:
    """``value`` as a ``bool``, or a ``TypeError`` naming ``name`` (``"no"`` is truthy)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_real(name: str, value) -> float:
    """``value`` as a finite ``float``, or an error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return float(value)


def check_positive_real(name: str, value, *, allow_zero: bool = False) -> float:
    """``value`` as a finite ``float`` above 0 (or at least 0), or an error naming it."""
    value = check_real(name, value)
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return value


def check_label_values(name: str, values: np.ndarray, given=None) -> None:
    """Refuse NaN or infinite labels, floats or objects (``np.unique`` keeps every NaN of
    an object array apart, so each would become a class of its own), then float labels
    that are not whole numbers (:func:`check_whole_labels`). With ``given``, the sequence
    ``values`` was made of, also one that mixes strings with numbers: NumPy writes the
    numbers as strings (``[0, 1, "1"]`` becomes ``["0", "1", "1"]``), two classes as one."""
    if values.dtype.kind == "U" and given is not None and not isinstance(given, np.ndarray):
        others = sorted({type(value).__name__ for value in np.asarray(given, dtype=object).ravel()
                         if not isinstance(value, str)})
        if others:
            raise TypeError(
                f"{name} mixes strings with {', '.join(others)} values, which would be "
                "read as their text (1 and '1' one class): give every label as a string, "
                "or every one as a number")
    if values.dtype.kind == "f":
        missing = int((~np.isfinite(values)).sum())
    elif values.dtype.kind == "O":
        missing = sum(isinstance(value, numbers.Real) and not math.isfinite(value)
                      for value in values.ravel())
    else:
        return
    if missing:
        raise ValueError(
            f"{name} has NaN or infinite values in {missing} of {values.size} entries: "
            "unlabelled nodes cannot be mapped to classes; drop those nodes or give them a "
            "class")
    if values.dtype.kind == "f":
        check_whole_labels(name, values)


def check_whole_labels(name: str, values: np.ndarray) -> None:
    """Refuse float labels that are not whole numbers: class ids read as floats (as
    ``np.loadtxt`` reads them) are labels; 0.37 is a score or a probability."""
    fraction = values[np.isfinite(values) & (values != np.round(values))]
    if fraction.size:
        raise ValueError(
            f"{name} holds {fraction.size} floats that are not whole numbers (first: "
            f"{float(fraction[0])!r}): labels are class ids or names, not scores; cast class ids "
            "with .astype(int), or pass names as strings")
