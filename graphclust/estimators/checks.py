"""Input checks every estimator shares: the device, plain matrices and their column
names, where a warning about the user's input should point, whether a graph suits a
neighbour contrast, and the fitted attributes a model file gives."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from sklearn.utils._param_validation import StrOptions, validate_parameter_constraints
from sklearn.utils.validation import check_array

from graphclust._warnings import user_stacklevel
from graphclust.data.edge_inputs import is_networkx_graph
from graphclust.data.homophily import feature_homophily
from graphclust.data.transforms import FEATURE_TRANSFORMS
from graphclust.estimators.params import at_least, non_negative
from graphclust.memory import TrainingMemoryError
from graphclust.training.parts import agreed_minimum

__all__ = ["LOW_FEATURE_HOMOPHILY", "as_matrix", "check_feature_names",
           "check_fitted_metadata", "feature_names", "memory_check_in_every_process",
           "resolve_device", "user_stacklevel",
           "warn_if_edges_disagree"]

#: Feature homophily (:func:`graphclust.data.feature_homophily`) below which a fit warns
#: that its edges hardly group what its features group. Between the values measured
#: (benchmarks/results/feature_homophily.md): 0.02 and below on the air-traffic graphs and
#: the weak-feature SBM, where SCGC* loses to the no-training baselines by up to 0.2 ACC
#: (on the air-traffic graphs SCGC, MPNN + VN and the graph transformer lose too);
#: 0.10-0.79 on the other development graphs, where they mostly beat them (at Photo, 0.21,
#: SCGC*, SCGC and the graph transformer trail by under 0.01; in digits' NMI, 0.79, all
#: but the graph transformer by under 0.02): no warning promises no loss.
LOW_FEATURE_HOMOPHILY = 0.05


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else as torch reads it."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device={device!r} is not a torch device or 'auto'") from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} requested but CUDA is not available")
    if resolved.type == "meta":
        raise ValueError(f"device={device!r} holds no data; fit needs a real device "
                         "('cpu', 'cuda' or 'auto')")
    if resolved.type not in ("cpu", "cuda"):
        try:  # another backend (mps, xpu...): this torch build or machine may lack it
            torch.empty(0, device=resolved)
        except Exception as error:  # noqa: BLE001 - each backend fails in its own way
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise ValueError(f"device={device!r} is not available here ({reason})") from None
    return resolved


def as_matrix(X, min_samples: int = 2):
    """Torch tensors pass through; anything else goes through scikit-learn's checks.

    This gives plain matrices scikit-learn's usual behaviour (lists, object arrays of
    numbers, clear messages for complex data, 0 features or too few samples).
    """
    if isinstance(X, torch.Tensor):
        return X
    if is_networkx_graph(X):
        raise TypeError(
            "X is a networkx graph; pass the node features as X and the graph as adjacency= "
            "(fit(X, adjacency=G)), or one torch_geometric Data built by "
            "graphclust.data.to_graph(X, G)")
    _refuse_text(X)
    # NaN and inf pass here so that graphclust.data.to_graph's check names the rows. A
    # list is read as float64, so that a value beyond float32 is named as such there
    # rather than read as an inf the caller never wrote.
    typed = hasattr(X, "dtype") or hasattr(X, "dtypes")
    return check_array(
        X,
        accept_sparse=("csr", "csc", "coo"),
        dtype=(np.float32, np.float64) if typed else np.float64,
        ensure_min_samples=min_samples,
        ensure_all_finite=False,
    )


def _refuse_text(X) -> None:
    """Refuse a matrix of text (a string array, or strings in an object array or a
    table's columns), which scikit-learn would convert to numbers where it can."""
    dtypes = [dtype for dtype in getattr(X, "dtypes", [getattr(X, "dtype", None)])
              if dtype is not None]
    # numpy's string kinds; pandas' and polars' string types name themselves so.
    text = any(dtype.kind in "US" if isinstance(dtype, np.dtype) else "str" in str(dtype).lower()
               for dtype in dtypes)
    if not text and any(isinstance(dtype, np.dtype) and dtype.kind == "O" for dtype in dtypes):
        text = any(isinstance(value, (str, bytes)) for value in np.asarray(X, dtype=object).flat)
    if text:
        raise TypeError("X holds text; features must be numbers (bool, integer or float): "
                        "encode categories first, or convert columns of numbers written as "
                        "text (e.g. pandas.to_numeric)")


def feature_names(X) -> np.ndarray | None:
    """A table's column names (a pandas or polars frame's ``columns``) where every one is a
    string, as scikit-learn records them in ``feature_names_in_``; ``None`` otherwise."""
    if isinstance(X, (np.ndarray, torch.Tensor)) or not hasattr(X, "columns"):
        return None
    names = list(X.columns)
    kinds = {isinstance(name, str) for name in names}
    if kinds == {True, False}:
        raise TypeError("X's column names must all be strings or none of them (scikit-learn's "
                        "rule for feature names); rename the columns, e.g. with str")
    return np.asarray(names, dtype=object) if kinds == {True} else None


def check_feature_names(estimator, X) -> None:
    """At ``predict``/``transform``: ``X``'s column names against the ones ``fit`` saw
    (``feature_names_in_``). Other names or another order would feed each column to the
    weights of another: a ValueError. A warning where only one side has names."""
    fitted, given = getattr(estimator, "feature_names_in_", None), feature_names(X)
    name = type(estimator).__name__
    if fitted is None and given is not None:
        warnings.warn(f"X has feature names, but {name} was fitted without feature names",
                      UserWarning, stacklevel=user_stacklevel())
    elif fitted is not None and given is None:
        warnings.warn(f"X does not have valid feature names, but {name} was fitted with "
                      "feature names", UserWarning, stacklevel=user_stacklevel())
    elif fitted is not None and (len(given) != len(fitted) or (given != fitted).any()):
        differ = [index for index, (a, b) in enumerate(zip(fitted, given, strict=False))
                  if a != b]
        where = (f"first at column {differ[0]}: {given[differ[0]]!r} where fit saw "
                 f"{fitted[differ[0]]!r}") if differ else \
            f"{len(given)} columns where fit saw {len(fitted)}"
        raise ValueError(f"X's column names differ from those fit saw (feature_names_in_; "
                         f"{where}): pass the columns fit saw, in that order")


def warn_if_edges_disagree(features: torch.Tensor, edge_index: torch.Tensor,
                           reads_graph: bool = False) -> None:
    """Warn, at the user's ``fit`` line, when a neighbour contrast has little to work
    with: a graph without edges, or edges between nodes whose (transformed) features are
    hardly more alike than random pairs' (feature homophily below
    :data:`LOW_FEATURE_HOMOPHILY`). ``reads_graph``: the encoder already reads the graph
    (message passing, propagated inputs), so the warning does not suggest it."""
    if edge_index.shape[1] == 0:
        warnings.warn("the graph has no edges: the neighbour contrast has no pair to pull "
                      "together, so a contrastive start keeps an untrained map "
                      "(start_length_ is None; the linear start: the features' principal "
                      "directions, with no joint stage, as SVDKMeans clusters them)",
                      UserWarning, stacklevel=user_stacklevel())
        return
    homophily = feature_homophily(features, edge_index)
    if homophily < LOW_FEATURE_HOMOPHILY:
        warnings.warn(
            f"linked nodes' features are hardly more alike than random pairs' (feature "
            f"homophily {homophily:.3f}, below {LOW_FEATURE_HOMOPHILY}; "
            "graphclust.data.feature_homophily): the neighbour contrast pulls together "
            "nodes that the features do not group, and the trained model may score below "
            "the no-training baselines; compare it with SVDKMeans (with and without "
            "propagation_steps) and DegreeKMeans"
            + ("" if reads_graph else ". Where the graph holds the clusters and the "
               "features do not, input_hops lets the encoder read the graph"),
            UserWarning, stacklevel=user_stacklevel())


# The JSON fitted attributes of a model file and what each must be.
_METADATA_CONSTRAINTS = {
    "n_features_in_": [at_least(1)],
    "n_iter_": [at_least(0)],
    "fit_time_": [non_negative()],
    "knn_graph_": ["boolean"],
    "knn_rows": [StrOptions({"raw", "transformed"}), None],  # None: saved before it
    "history_": [list],
    "transform_kind": [StrOptions({kind for kind in FEATURE_TRANSFORMS if kind != "auto"})],
    "feature_names_in_": [list, None],  # None: fitted without column names, or before them
}


def check_fitted_metadata(metadata) -> None:
    """The JSON fitted attributes of a model file have the types an estimator's
    ``_restore`` reads; anything else is a ValueError."""
    if not isinstance(metadata, dict):
        raise ValueError("the fitted attributes are not a JSON object")
    validate_parameter_constraints(
        _METADATA_CONSTRAINTS, {key: metadata.get(key) for key in _METADATA_CONSTRAINTS},
        caller_name="the model file's fitted attributes")
    if not all(isinstance(item, dict) for item in metadata["history_"]):
        raise ValueError("history_ must be a list of objects")
    names = metadata.get("feature_names_in_")
    if names is not None and (len(names) != metadata["n_features_in_"] or
                              not all(isinstance(name, str) for name in names)):
        raise ValueError("feature_names_in_ must be n_features_in_ strings")


def memory_check_in_every_process(check, device):
    """``check()``'s result, where a :class:`TrainingMemoryError` it raises is raised
    in every process of a distributed job (in the others, one that points to it): a
    process that stopped alone would leave the others waiting in their first collective
    call until the job's timeout."""
    try:
        result, failure = check(), None
    except TrainingMemoryError as error:
        result, failure = None, error
    if agreed_minimum(0 if failure is not None else 1, device) == 0:
        raise failure if failure is not None else TrainingMemoryError(
            "another process of this distributed job cannot fit its training in its "
            "memory; its own error says what to change")
    return result
