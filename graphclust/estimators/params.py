"""One parameter table per estimator: name, default and scikit-learn constraints.

Each estimator class declares ``_parameters``, a dict ``name -> Param`` that extends its
parent's (``{**Parent._parameters, "hidden_dims": Param(...)}``). From it
:func:`with_parameters` (run for every subclass by
:meth:`graphclust.estimators.base.BaseGraphClusterer.__init_subclass__`) derives

* ``__init__``, whose signature (``__signature__``, read by scikit-learn's
  ``get_params``) is ``(self, n_clusters=..., *, <every other parameter>=...)`` and which
  only stores the values (scikit-learn's rule);
* ``_parameter_constraints``, scikit-learn's table checked by ``_validate_params`` at
  the start of ``fit`` (:class:`sklearn.utils._param_validation.InvalidParameterError`,
  a ``ValueError`` and ``TypeError``).

The docstring of each class documents every parameter; tests check that the two agree.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from graphclust.data.propagation import MAX_PROPAGATION_STEPS

__all__ = ["NumberInterval", "Param", "at_least", "between", "is_default", "non_negative",
           "positive", "propagation_depth", "with_parameters"]


@dataclass(frozen=True)
class Param:
    """One parameter: its default and its scikit-learn constraints (a list)."""

    default: object
    constraints: list = field(default_factory=list)


class NumberInterval(Interval):
    """scikit-learn's ``Interval`` less ``bool``: ``True`` is an ``Integral`` and a
    ``Real``, so ``embedding_dim=True`` had passed as a one-dimensional embedding."""

    def is_satisfied_by(self, val) -> bool:
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


def at_least(minimum: int) -> Interval:
    """Integers ``>= minimum``."""
    return NumberInterval(Integral, minimum, None, closed="left")


def propagation_depth() -> Interval:
    """Propagation steps: integers from 0 to
    :data:`~graphclust.data.propagation.MAX_PROPAGATION_STEPS`."""
    return NumberInterval(Integral, 0, MAX_PROPAGATION_STEPS, closed="both")


def positive() -> Interval:
    """Finite reals ``> 0``."""
    return NumberInterval(Real, 0, np.inf, closed="neither")


def non_negative() -> Interval:
    """Finite reals ``>= 0``."""
    return NumberInterval(Real, 0, np.inf, closed="left")


def between(low: float, high: float) -> Interval:
    """Reals strictly between ``low`` and ``high``."""
    return NumberInterval(Real, low, high, closed="neither")


def is_default(value, default) -> bool:
    """Whether a (validated) parameter still has its default value: equal as arrays, so
    that a list equals the same tuple and a NumPy scalar (a value from a grid or a pandas
    table) the same number, as it computes the same; comparing types too had refused
    ``alpha=np.float64(0.03)`` beside ``objective=`` as a changed ``alpha``."""
    try:
        return value is default or bool(np.array_equal(value, default))
    except ValueError:  # a ragged sequence, which no default is
        return False


def _annotation(constraints: list) -> str:
    """A type annotation read off the constraints (``"float | str"``), for readers and
    tools that read signatures; the constraints are what ``fit`` checks."""
    names = []
    for constraint in constraints:
        if constraint is None:
            name = "None"
        elif isinstance(constraint, Interval):
            name = "int" if constraint.type is Integral else "float"
        elif isinstance(constraint, StrOptions):
            name = "str"
        elif isinstance(constraint, type):
            name = "int" if constraint is Integral else constraint.__name__
        else:
            name = {"boolean": "bool", "verbose": "bool", "array-like": "sequence",
                    "random_state": "int | RandomState | None"}[constraint]
        if name not in names:
            names.append(name)
    return " | ".join(names)


def _signature(parameters: dict[str, Param]) -> inspect.Signature:
    """``(self, n_clusters, *, ...)``: the first parameter may be positional."""
    first, *rest = parameters
    kinds = [inspect.Parameter.POSITIONAL_OR_KEYWORD] + \
        [inspect.Parameter.KEYWORD_ONLY] * len(rest)
    return inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)] +
        [inspect.Parameter(name, kind, default=parameters[name].default,
                           annotation=_annotation(parameters[name].constraints))
         for name, kind in zip([first, *rest], kinds, strict=True)])


def with_parameters(cls: type) -> type:
    """Give ``cls`` the ``__init__`` and ``_parameter_constraints`` of its table."""
    parameters = cls._parameters
    signature = _signature(parameters)

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = signature
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__module__ = cls.__module__
    __init__.__doc__ = "Store the parameters (see the class docstring); no validation."
    cls.__init__ = __init__
    cls._parameter_constraints = {name: list(param.constraints)
                                  for name, param in parameters.items()}
    return cls
