"""A fitted model against the no-training baselines on its own graph, from Python.

``graphclust fit`` prints this comparison when it is given labels; in a notebook one
call gives the same::

    model = SCGCStar(n_clusters=7, random_state=0).fit(graph)
    report = compare_with_baselines(model, graph)
    print(report)          # its ACC and NMI, the best baseline's, and every loss to it
    report.losses          # [] when the model beats every baseline on both

The baselines (:data:`graphclust.benchmark.BASELINES`: ``svd-kmeans`` after t = 0..3
propagation steps and ``degree-kmeans``) are fitted on the graph the model read (for a
feature matrix, the kNN graph the model built of its rows, not one of their own) with
the model's parameters that they take (seed, ``n_clusters``, feature transform, device,
threads). As in every benchmark table, the best of the five is chosen with the labels,
which flatters the baselines: the comparison is strict on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["BaselineComparison", "compact_labels", "compare_with_baselines", "loss_lines"]


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
        ``baseline_value``, and ``margin`` (negative: the model loses to no training).
    """

    model: str
    scores: dict
    baselines: dict
    comparisons: list = field(default_factory=list)

    @property
    def losses(self) -> list[dict]:
        """The comparisons the model loses (``margin < 0``)."""
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
            return lines
        fitted = [label for label, entry in self.baselines.items() if "error" not in entry]
        lines.append(f"no training (best of {', '.join(compact_labels(fitted))}): " +
                     "  ".join(f"{item['metric'].upper()} {item['baseline_value']:.4f} "
                               f"({item['baseline']})" for item in self.comparisons))
        return lines + loss_lines(self.comparisons)

    def __str__(self) -> str:
        own = f"{self.model}: ACC {self.scores['acc']:.4f}  NMI {self.scores['nmi']:.4f}"
        return "\n".join([own, *self.lines()])


def compare_with_baselines(estimator, X, y=None, adjacency=None, *,
                           name: str = "the graph") -> BaselineComparison:
    """Score a fitted model and the no-training baselines on the graph it was fitted on.

    Parameters
    ----------
    estimator : fitted graphclust estimator
        A trained model (not itself one of the baselines), fitted on ``X``.
    X, y, adjacency
        What ``fit`` was given: a ``Data`` (with its ``y``), or a feature matrix with
        the true labels ``y`` and, if fit had them, the edges ``adjacency``.
    name : str
        The graph's name in the printed lines.

    Returns
    -------
    BaselineComparison

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    ValueError
        If ``estimator`` is a baseline itself, the labels are missing, or ``X`` has
        another number of rows than the model was fitted on.
    """
    from sklearn.utils.validation import check_is_fitted

    from graphclust.benchmark.baselines import BASELINE_MODELS, against_baselines, score_baselines
    from graphclust.data.source import graph_source
    from graphclust.metrics import evaluate

    check_is_fitted(estimator, "labels_")
    model = _registry_name(estimator)
    if model in BASELINE_MODELS:
        raise ValueError(f"{type(estimator).__name__} is itself a no-training baseline; "
                         "compare a trained model with it")
    graph = _graph_read(estimator, X, y, adjacency)
    if getattr(graph, "y", None) is None:
        raise ValueError("comparing with the baselines needs the true labels: pass y (or a "
                         "Data with y)")
    if graph.num_nodes != len(estimator.labels_):
        raise ValueError(f"X has {graph.num_nodes} nodes, but the model was fitted on "
                         f"{len(estimator.labels_)}: pass what fit was given")
    source = graph_source(name, graph)
    scores = evaluate(source.y, estimator.labels_)
    found = score_baselines(source, model,
                            {**estimator.get_params(deep=False), "verbose": False})
    fitted = {label: entry for label, entry in found.items() if "error" not in entry}
    summary = [{"dataset": name, "model": label,
                **{f"{key}_mean": entry[key] for key in ("acc", "nmi")}}
               for label, entry in {model: scores, **fitted}.items()]
    return BaselineComparison(model, scores, found, against_baselines(summary, list(fitted)))


def loss_lines(comparisons) -> list[str]:
    """One ``below no training: ...`` line for each comparison a model loses (a
    benchmark's, :attr:`graphclust.benchmark.BenchmarkResults.comparisons`, or one fit's)."""
    return [f"below no training: {item['model']} on {item['dataset']}, "
            f"{item['metric'].upper()} {item['value']:.4f} against "
            f"{item['baseline']}'s {item['baseline_value']:.4f}"
            for item in comparisons if item["margin"] < 0]


def compact_labels(labels) -> list[str]:
    """``svd-kmeans t=0``, ..., ``t=3`` as ``svd-kmeans t=0..3`` (consecutive t only)."""
    steps = [int(label.split("=")[1]) for label in labels if label.startswith("svd-kmeans t=")]
    others = [label for label in labels if not label.startswith("svd-kmeans t=")]
    if len(steps) > 1 and steps == list(range(steps[0], steps[-1] + 1)):
        return [f"svd-kmeans t={steps[0]}..{steps[-1]}", *others]
    return [*(f"svd-kmeans t={t}" for t in steps), *others]


def _registry_name(estimator) -> str:
    from graphclust.registry import MODELS

    return next((name for name, cls in MODELS.items() if type(estimator) is cls),
                type(estimator).__name__)


def _graph_read(estimator, X, y, adjacency):
    """The graph ``estimator`` was fitted on: ``X`` as given, or for a feature matrix
    without edges the kNN graph the model built of its rows (with its fitted transform),
    so that the baselines read the model's own graph and build none of theirs."""
    from graphclust.data import to_graph
    from graphclust.estimators.base import _GRAPHS
    from graphclust.estimators.checks import as_matrix

    if isinstance(X, _GRAPHS):
        if y is not None or adjacency is not None:
            raise ValueError("pass y and adjacency inside the Data object, not beside it")
        return to_graph(X)
    graph = to_graph(as_matrix(X), adjacency, y)
    if adjacency is None:
        graph = estimator._with_knn_graph(graph, fitted=True)
        del graph.knn_graph  # a given graph to the baselines
    return graph
