"""The models by name: ``"scgc-star"`` -> :class:`graphclust.SCGCStar`, and so on.

The command line, the benchmark runner and model files (:mod:`graphclust.io`) name models
by these keys. The table below holds each class by module path, not by the class itself:

* :data:`MODEL_NAMES` is read without importing an estimator, so ``graphclust --help``
  lists the models without torch (seconds of start-up);
* :mod:`graphclust.io` looks models up here rather than in :mod:`graphclust.estimators`,
  whose base class imports :mod:`graphclust.io` for ``save``: no import circle.

:data:`MODELS` (also :data:`graphclust.MODELS`) is the dictionary of classes, built on
first use.
"""

from __future__ import annotations

import importlib
import inspect
import numbers
from collections.abc import Mapping

#: Registry name -> ``"module:Class"`` of the estimator.
_CLASS_PATHS = {
    "scgc": "graphclust.estimators.scgc:SCGC",
    "scgc-star": "graphclust.estimators.scgc:SCGCStar",
    "mpnn-vn": "graphclust.estimators.graph_models:MPNNVNClusterer",
    "graph-transformer": "graphclust.estimators.graph_models:GraphTransformerClusterer",
    "svd-kmeans": "graphclust.estimators.svd_kmeans:SVDKMeans",
    "degree-kmeans": "graphclust.estimators.degree_kmeans:DegreeKMeans",
}

#: The registered names, in the order the command line and the docs list them.
MODEL_NAMES = tuple(_CLASS_PATHS)

#: Registry name -> estimator class; set by :func:`_models` on first use.
MODELS: dict[str, type]

__all__ = ["MODELS", "MODEL_NAMES", "build_estimator", "check_model"]


def _models() -> dict[str, type]:
    """:data:`MODELS`, imported and stored on the first call (later look-ups of
    ``registry.MODELS`` then find it without calling :func:`__getattr__`)."""
    if "MODELS" not in globals():
        models = {}
        for name, path in _CLASS_PATHS.items():
            module_name, class_name = path.split(":")
            models[name] = getattr(importlib.import_module(module_name), class_name)
        globals()["MODELS"] = models
    return globals()["MODELS"]


def __getattr__(name: str):
    if name != "MODELS":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _models()


def check_model(model: str) -> type:
    """The class registered as ``model``.

    Raises
    ------
    ValueError
        ``model`` is not a registered name.
    """
    models = _models()
    if model not in models:
        raise ValueError(f"unknown model {model!r}; registered: {', '.join(models)}")
    return models[model]


def _check_value(model: str, key: str, value, default, none_allowed: bool = False) -> None:
    """Reject a value whose type cannot be what the parameter's default is.

    Ranges are the estimator's to check (at ``fit``); this catches ``--set lr=fast`` or
    ``max_epochs=2.5`` before any work starts. A ``None`` default accepts anything;
    ``None`` is accepted where the signature allows it (``none_allowed``, e.g.
    ``start_whitening=None`` turns it off); an ``"auto"`` default also accepts a number
    (``pretrain_lr``, ``pretrain_weight_decay``).
    """
    if default is None or (value is None and none_allowed):
        return
    # numpy's scalar types register as numbers.Integral / numbers.Real.
    is_int = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = is_int
    elif isinstance(default, float):
        ok = is_number
    elif isinstance(default, str):
        ok = isinstance(value, str) or (default == "auto" and is_number)
    elif isinstance(default, (tuple, list)):
        ok = isinstance(value, (tuple, list, int)) and not isinstance(value, bool)
    else:
        ok = True
    if not ok:
        raise ValueError(
            f"{model}: {key}={value!r} has type {type(value).__name__}, expected a value "
            f"like the default {key}={default!r}"
        )


def _has_option(estimator: type, key: str, word: str) -> bool:
    """Whether ``key``'s constraints name the string option ``word``."""
    constraints = getattr(estimator, "_parameter_constraints", {}).get(key, [])
    return any(word in getattr(constraint, "options", ()) for constraint in constraints)


def _allows_none(estimator: type, key: str) -> bool:
    """Whether ``key``'s annotation in the estimator's ``__init__`` names ``None``."""
    annotation = inspect.signature(estimator).parameters[key].annotation
    return "None" in (annotation if isinstance(annotation, str) else repr(annotation))


def build_estimator(model: str, params: Mapping | None = None, **fixed):
    """A registered estimator by name with validated parameter overrides.

    Parameters
    ----------
    model : str
        A key of :data:`graphclust.MODELS` (``"scgc"``, ``"scgc-star"``, ...).
    params : mapping, optional
        Parameter overrides; keys must be among the estimator's ``get_params()`` and
        values of the type of the default (ranges are checked by ``fit``).
    **fixed
        Further parameters set by the caller (e.g. ``n_clusters``, ``random_state``);
        ``params`` wins over them.

    Raises
    ------
    ValueError
        Unknown model name, unknown parameter or a value of the wrong type.
    """
    estimator = check_model(model)
    defaults = estimator().get_params(deep=False)
    merged = {**fixed, **(params or {})}
    for key, value in merged.items():
        if key not in defaults:
            raise ValueError(
                f"{model} has no parameter {key!r}; parameters: {', '.join(sorted(defaults))}"
            )
        none_allowed = _allows_none(estimator, key)
        if isinstance(value, str) and value == "none" and none_allowed and \
                not _has_option(estimator, key, "none"):
            merged[key] = value = None  # the command line's word for None (batch_size=none)
        _check_value(model, key, value, defaults[key], none_allowed)
    return estimator(**merged)
