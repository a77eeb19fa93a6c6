"""A fitted model against the no-training baselines on its own graph, from Python.

``graphclust fit`` prints this comparison when it is given labels; in a notebook one
call gives the same::

    model = SCGCStar(n_clusters=7, random_state=0).fit(graph)
    report = compare_with_baselines(model, graph)
    print(report)          # its ACC and NMI, the best baseline's, and every loss to it
    report.losses          # [] when it scores at least the best baseline on both

The baselines (:data:`graphclust.benchmark.BASELINES`: ``svd-kmeans`` after t = 0..3
propagation steps and ``degree-kmeans``) are fitted on the graph the model read (for a
feature matrix, the kNN graph the model built of its rows, not one of their own) with
the model's parameters that they take (seed, ``n_clusters``, feature transform, device,
threads). As in every benchmark table, the best of the five is chosen with the labels,
which flatters the baselines: the comparison is strict on purpose.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from graphclust.benchmark.baselines import loss_lines

__all__ = ["BaselineComparison", "compare_with_baselines"]


@dataclass(frozen=True)
class BaselineComparison:
    """What :func:`compare_with_baselines` found.

    Attributes
    ----------
    model : str
        The model's registry name (its class name outside the registry).
    scores : dict
        The model's ``labels_`` scored (:func:`graphclust.evaluate`).
    baselines : dict
        Baseline label -> its scores, with a ``warnings`` list where its fit warned, or
        ``{"error": ...}`` where its fit raised.
    comparisons : list of dict
        One per metric (ACC, NMI): ``value``, the best baseline's ``baseline`` label and
        ``baseline_value``, and ``margin`` (negative: the model loses to no training);
        empty where no baseline could be fitted.
    """

    model: str
    scores: dict
    baselines: dict
    comparisons: list

    @property
    def losses(self) -> list[dict]:
        """The comparisons the model loses (``margin < 0``); with :attr:`comparisons`
        empty (no baseline fitted) there is nothing to lose to, and nothing won either."""
        return [item for item in self.comparisons if item["margin"] < 0]

    def lines(self) -> list[str]:
        """The comparison as ``graphclust fit`` prints it: failed or warning baselines,
        the best baseline per metric, and a ``below no training`` line per loss."""
        lines = []
        for label, entry in self.baselines.items():
            if "error" in entry:
                lines.append(f"no-training baseline {label} failed: {entry['error']}")
            lines += [f"no-training baseline {label} warned: {warning}"
                      for warning in entry.get("warnings", [])]
        if not self.comparisons:
            return [*lines, "no comparison: no no-training baseline could be fitted"]
        fitted = [label for label, entry in self.baselines.items() if "error" not in entry]
        lines.append(f"no training (best of {', '.join(_compact_labels(fitted))}): " +
                     "  ".join(f"{item['metric'].upper()} {item['baseline_value']:.4f} "
                               f"({item['baseline']})" for item in self.comparisons))
        return lines + loss_lines(self.comparisons)

    def __str__(self) -> str:
        own = f"{self.model}: ACC {self.scores['acc']:.4f}  NMI {self.scores['nmi']:.4f}"
        return "\n".join([own, *self.lines()])


def compare_with_baselines(estimator, X, y=None, adjacency=None, *,
                           name: str | None = None) -> BaselineComparison:
    """Score a fitted model and the no-training baselines on the graph it was fitted on.

    Parameters
    ----------
    estimator : fitted graphclust estimator
        A trained model (not itself one of the baselines), fitted on ``X``.
    X, y, adjacency
        What ``fit`` was given: a ``Data`` (with its ``y``), or a feature matrix with
        the true labels ``y`` and, if fit had them, the edges ``adjacency``.
    name : str, optional
        The graph's name in the printed lines (default: the ``Data``'s ``name``, else
        "the graph").

    Returns
    -------
    BaselineComparison

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    TypeError
        If ``estimator`` is not a graphclust estimator.
    ValueError
        If ``estimator`` is a baseline itself, the labels are missing, or ``X`` is not
        what the model was fitted on (rows, columns, or a given graph where fit built a
        kNN graph of the rows, or the reverse).
    """
    from sklearn.utils.validation import check_is_fitted

    from graphclust.benchmark.baselines import BASELINE_MODELS, against_baselines, score_baselines
    from graphclust.data.source import graph_source
    from graphclust.estimators.base import BaseGraphClusterer
    from graphclust.metrics import evaluate
    from graphclust.registry import MODELS

    if not isinstance(estimator, BaseGraphClusterer):
        raise TypeError(f"compare_with_baselines takes a fitted graphclust estimator, got "
                        f"{type(estimator).__name__}")
    check_is_fitted(estimator, "labels_")
    if isinstance(estimator, tuple(MODELS[model] for model in BASELINE_MODELS)):
        raise ValueError(f"{type(estimator).__name__} is itself a no-training baseline; "
                         "compare a trained model with it")
    model = next((key for key, cls in MODELS.items() if type(estimator) is cls),
                 type(estimator).__name__)
    graph = _graph_read(estimator, X, y, adjacency)
    if name is None:
        name = str(getattr(X, "name", None) or "the graph")
    source = graph_source(name, graph)
    scores = evaluate(source.y, estimator.labels_)
    params = {**estimator.get_params(deep=False), "verbose": False}
    # A generator given as random_state seeds the baselines from a copy: the model's own
    # is left where it was, and two calls give the same baselines.
    params["random_state"] = copy.deepcopy(params.get("random_state"))
    found = score_baselines(source, model, params)
    fitted = {label: entry for label, entry in found.items() if "error" not in entry}
    summary = [{"dataset": name, "model": label,
                **{f"{key}_mean": entry[key] for key in ("acc", "nmi")}}
               for label, entry in {model: scores, **fitted}.items()]
    return BaselineComparison(model, scores, found, against_baselines(summary, list(fitted)))


def _graph_read(estimator, X, y, adjacency):
    """The graph ``estimator`` read from ``X`` (for a feature matrix without edges, the
    kNN graph it built of its rows, through its fitted transform), so that the baselines
    read the model's own graph and build none of theirs; refused where ``X`` is not what
    the model was fitted on."""
    graph = estimator._graph(X, y, adjacency, fitted=True)
    built = bool(getattr(graph, "knn_graph", False))
    if built != bool(estimator.knn_graph_):
        mismatch = ("a kNN graph it built of the rows, but this input gives edges"
                    if estimator.knn_graph_ else "given edges, but this input has none")
        raise ValueError(f"the model was fitted on {mismatch}: pass what fit was given")
    if built:
        del graph.knn_graph  # a given graph to the baselines
    if graph.num_nodes != len(estimator.labels_):
        raise ValueError(f"X has {graph.num_nodes} nodes, but the model was fitted on "
                         f"{len(estimator.labels_)}: pass what fit was given")
    if getattr(graph, "y", None) is None:
        raise ValueError("comparing with the baselines needs the true labels: pass y (or a "
                         "Data with y)")
    return graph


def _compact_labels(labels) -> list[str]:
    """``svd-kmeans t=0``, ..., ``t=3`` as ``svd-kmeans t=0..3`` (consecutive t only)."""
    steps = [int(label.split("=")[1]) for label in labels if label.startswith("svd-kmeans t=")]
    others = [label for label in labels if not label.startswith("svd-kmeans t=")]
    if len(steps) > 1 and steps == list(range(steps[0], steps[-1] + 1)):
        return [f"svd-kmeans t={steps[0]}..{steps[-1]}", *others]
    return [*(f"svd-kmeans t={t}" for t in steps), *others]
