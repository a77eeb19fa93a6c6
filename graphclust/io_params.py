"""Estimator parameters as plain JSON for model files, and back, without running file code.

A model file names its encoder configuration (``encoder=MLPConfig(...)``) as
``{"__config__": "module:Class", "fields": {...}}``. Loading must never import or call
what a file names (a file naming ``graphclust.cli:main`` would otherwise run the command
line), so the name is only looked up in :data:`CONFIG_CLASSES`, an explicit list of the
package's own configuration dataclasses, and the class is built from plain values (numbers,
strings, booleans, None, tuples of them, or another listed configuration) passed to its
declared fields only. Tuples are stored as ``{"__tuple__": [...]}`` so that they come back
as tuples and the loaded estimator has exactly the saved parameters.
"""

from __future__ import annotations

import dataclasses
import importlib

import numpy as np
import torch

__all__ = ["CONFIG_CLASSES", "decode_param", "encode_param"]

#: Every configuration class a model file may name: encoder configurations, the
#: attention factories they take, and the part objects (starts, objective terms,
#: samplers) an estimator's ``start=``, ``objective=`` and ``sampler=`` take. Kept by
#: name, not imported here, so that graphclust.extras is imported only when a file uses
#: it. A new configuration class that should be saveable is added here
#: (tests/test_io_safety.py checks that every frozen dataclass of those packages with
#: ``build``, ``__call__`` or ``batches`` is listed).
CONFIG_CLASSES = (
    "graphclust.nn.config:MLPConfig",
    "graphclust.nn.graph_transformer:GraphTransformerConfig",
    "graphclust.nn.mpnn_vn:MPNNVNConfig",
    "graphclust.extras.criticality:CriticalMLPConfig",
    "graphclust.extras.group_sparsity:GroupSparseMLPConfig",
    "graphclust.extras.local_learning:LocalLearningMLPConfig",
    "graphclust.extras.matryoshka:MatryoshkaMLPConfig",
    "graphclust.extras.mup:MuPMLPConfig",
    "graphclust.extras.projection_head:ProjectionHeadConfig",
    "graphclust.extras.residual_mlp:ResidualMLPConfig",
    "graphclust.extras.tract:TrActMLPConfig",
    "graphclust.extras.transformer_config:ConvolvedQKV",
    "graphclust.extras.transformer_config:ExtraGraphTransformerConfig",
    "graphclust.extras.transformer_config:MixtureOfDepths",
    "graphclust.extras.transformer_config:SLABAttention",
    "graphclust.extras.transformer_config:TokenMerging",
    "graphclust.extras.weight_sharing:RecursiveMLPConfig",
    "graphclust.starts.autoencoder:AutoencoderStart",
    "graphclust.starts.autoencoder:NoStart",
    "graphclust.starts.contrastive:ContrastiveStart",
    "graphclust.starts.contrastive:LinearStart",
    "graphclust.objectives.composed:ClusteringObjective",
    "graphclust.objectives.composed:NeighborContrast",
    "graphclust.objectives.composed:Reconstruction",
    "graphclust.objectives.composed:SelfTraining",
    "graphclust.sampling.contrastive:FullGraphSampler",
    "graphclust.sampling.contrastive:RandomWalkSampler",
)

# Deeper nesting than any real configuration needs; bounds the recursion a file can cause.
_MAX_DEPTH = 8


#: Fields added to a configuration after files were written without them, whose default
#: is what those files' models did: a file that lacks them loads with the default.
DEFAULTS_OF_OLDER_FILES = {"LinearStart": {"whiten_untaught", "init"}}


def _config_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _config_class(name: str) -> type:
    """The listed class called ``name``; anything not in the list is refused unimported."""
    if name not in CONFIG_CLASSES:
        raise ValueError(
            f"configuration class {name!r} is not one of graphclust's encoder "
            "configurations (graphclust.io_params.CONFIG_CLASSES)"
        )
    module_name, _, qualname = name.partition(":")
    return getattr(importlib.import_module(module_name), qualname)


def _not_saveable(name: str, cls: type) -> str:
    return (f"parameter {name}: {cls.__name__} is not one of graphclust's own encoder "
            "configurations or part objects (graphclust.io_params.CONFIG_CLASSES), so it "
            "cannot be saved: a model file never names code to run. Save a model built of "
            "graphclust's own parts, or keep the code that defines the class and fit again "
            "where the model is needed")


def encode_param(name: str, value):
    """JSON-able form of one parameter value (see the module docstring)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic) and isinstance(value.item(), (bool, int, float, str)):
        return value.item()  # a NumPy scalar (n_clusters=y.max() + 1): the same number
    if isinstance(value, torch.device):
        return str(value)  # "cpu", "cuda:0": the string the parameter also takes
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        if _config_name(cls) not in CONFIG_CLASSES:
            raise TypeError(_not_saveable(name, cls))
        return {"__config__": _config_name(cls),
                "fields": {f.name: encode_param(f"{name}.{f.name}", getattr(value, f.name))
                           for f in dataclasses.fields(value)}}
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = tuple(value.tolist())  # hidden_dims=np.array([256, 64]): saved as a tuple
    if isinstance(value, tuple):
        return {"__tuple__": [encode_param(name, item) for item in value]}
    if isinstance(value, list):
        return [encode_param(name, item) for item in value]
    if callable(value) or hasattr(value, "batches") or hasattr(value, "build"):
        raise TypeError(_not_saveable(name, type(value)))  # a part or encoder of your own
    raise TypeError(
        f"parameter {name}={value!r} cannot be saved as JSON; use None, a number, a string "
        "or a tuple/list of them (for random_state: an int or None)"
    )


def decode_param(name: str, value, depth: int = 0):
    """Inverse of :func:`encode_param`; only plain values and listed configurations.

    Raises
    ------
    ValueError
        An unlisted class, an unknown or a missing field, a value of another type (dicts other than
        the two tagged forms), or nesting deeper than any configuration needs.
    """
    if depth > _MAX_DEPTH:
        raise ValueError(f"parameter {name} is nested deeper than {_MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [decode_param(name, item, depth + 1) for item in value]
    if isinstance(value, dict) and set(value) == {"__tuple__"} \
            and isinstance(value["__tuple__"], list):
        return tuple(decode_param(name, item, depth + 1) for item in value["__tuple__"])
    if isinstance(value, dict) and set(value) == {"__config__", "fields"} \
            and isinstance(value["__config__"], str) and isinstance(value["fields"], dict):
        cls = _config_class(value["__config__"])
        declared = {f.name for f in dataclasses.fields(cls) if f.init}
        unknown = sorted(set(value["fields"]) - declared)
        if unknown:
            raise ValueError(f"parameter {name}: {cls.__name__} has no field(s) "
                             f"{', '.join(map(repr, unknown))}")
        # A field the file lacks would take today's default, which may not be what the
        # model was trained with (RandomWalkSampler's max_batches came later): refused,
        # unless that default is the behaviour before the field (DEFAULTS_OF_OLDER_FILES).
        missing = sorted(declared - set(value["fields"])
                         - DEFAULTS_OF_OLDER_FILES.get(cls.__name__, set()))
        if missing:
            raise ValueError(f"parameter {name}: the file gives no {cls.__name__} field(s) "
                             f"{', '.join(map(repr, missing))} (written by an earlier "
                             "graphclust?); refit the model")
        fields = {key: decode_param(f"{name}.{key}", item, depth + 1)
                  for key, item in value["fields"].items()}
        try:
            return cls(**fields)
        except (TypeError, ValueError) as error:
            raise ValueError(f"parameter {name}: invalid {cls.__name__}: {error}") from None
    raise ValueError(f"parameter {name}: {type(value).__name__} value {value!r:.80} is not "
                     "a plain value, a tagged tuple or a graphclust configuration")
