"""The no-training baselines that every benchmark table carries, and how a table reads them.

A deep model is worth its cost only where it beats methods that learn nothing. So the
grid of :func:`graphclust.benchmark.run_benchmark` adds, to the models asked for, the
baselines of :data:`BASELINES` that are not among them: ``svd-kmeans`` after t = 0, 1, 2
and 3 propagation steps (which t is best depends on the graph, so a table reads the best
of the four) and ``degree-kmeans``. :func:`against_baselines` then compares each trained
model's mean scores with the best no-training mean of its data set, metric by metric, so
that a loss to no training is written out rather than left to the reader.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["BASELINES", "BASELINE_MODELS", "GridModel", "against_baselines",
           "baseline_models", "loss_lines", "margin_text", "paired_comparisons",
           "score_baselines"]

#: Means closer than this are a tie (margin 0): the same scores averaged in another seed
#: order, or other scores of the same exact total, differ in the last bits of their float
#: means (0.1 + 0.2 + 0.3 against 0.3 + 0.2 + 0.1), which had read as a loss. Far below
#: any real difference of scores in [-1/2, 1]: one node of ACC over 10**9 node-seeds.
TIE_TOLERANCE = 1e-12


@dataclass(frozen=True)
class GridModel:
    """One model of a grid: its ``label`` in the results (the registry name, or a name
    with its setting such as ``"svd-kmeans t=2"``), the registry ``model`` it builds, the
    ``params`` it is built with, whether it is a no-training ``baseline``, and whether the
    grid ``added`` it (a baseline not asked for: no pictures of its own)."""

    label: str
    model: str
    params: Mapping = field(default_factory=dict)
    baseline: bool = False
    added: bool = False


#: (label, registry name, fixed parameters) of the no-training baselines.
BASELINES: tuple[tuple[str, str, Mapping], ...] = (
    *((f"svd-kmeans t={t}", "svd-kmeans", {"propagation_steps": t}) for t in range(4)),
    ("degree-kmeans", "degree-kmeans", {}),
)
#: Registry names of the models that learn nothing; listed in a grid, they count as its
#: baselines.
BASELINE_MODELS = frozenset(model for _, model, _ in BASELINES)


def baseline_models(models: Sequence[str], params: Mapping) -> list[GridModel]:
    """The baselines a grid of ``models`` adds: those of :data:`BASELINES` whose label is
    not a listed model (a listed ``degree-kmeans`` runs as asked instead of its row; a
    listed ``svd-kmeans``, with the grid's settings, runs beside the ``svd-kmeans t=<t>``
    rows, so that listing it never takes the strongest baselines out of the
    comparison). Each takes the grid's ``params`` that it accepts (the feature
    transform, device, threads: both sides then read the same input), with its own fixed
    setting over them."""
    from graphclust.benchmark.grid import share_of

    return [GridModel(label, model, {**share_of(model, params), **fixed}, baseline=True,
                      added=True)
            for label, model, fixed in BASELINES if label not in models]


def against_baselines(summary: Sequence[Mapping], baselines: Sequence[str],
                      metrics: Sequence[str] = ("acc", "nmi")) -> list[dict]:
    """Each trained model's mean against the best no-training mean of its data set.

    Parameters
    ----------
    summary : sequence of mapping
        :func:`graphclust.benchmark.summarize`'s entries (``<metric>_mean`` keys).
    baselines : sequence of str
        The labels of the grid's no-training models.
    metrics : sequence of str
        The metrics compared, each on its own (the best baseline may differ by metric).

    Returns
    -------
    list of dict
        One per (data set, trained model, metric) where both sides have a score:
        ``dataset``, ``model``, ``metric``, ``value``, ``baseline`` (the best baseline's
        label), ``baseline_value`` and ``margin`` (``value - baseline_value``, 0 where
        the two are within :data:`TIE_TOLERANCE`; negative: the model loses to no
        training).
    """
    best: dict[tuple[str, str], tuple[float, str]] = {}
    for entry in summary:
        if entry["model"] not in baselines:
            continue
        for metric in metrics:
            value = entry[f"{metric}_mean"]
            key = (entry["dataset"], metric)
            if not math.isnan(value) and (key not in best or value > best[key][0]):
                best[key] = (value, entry["model"])
    comparisons = []
    for entry in summary:
        if entry["model"] in baselines:
            continue
        for metric in metrics:
            value = entry[f"{metric}_mean"]
            if (entry["dataset"], metric) not in best or math.isnan(value):
                continue
            baseline_value, label = best[(entry["dataset"], metric)]
            margin = value - baseline_value
            comparisons.append({"dataset": entry["dataset"], "model": entry["model"],
                                "metric": metric, "value": value, "baseline": label,
                                "baseline_value": baseline_value,
                                "margin": 0.0 if abs(margin) <= TIE_TOLERANCE
                                else margin})
    return comparisons


def paired_comparisons(rows: Sequence[Mapping], baselines: Sequence[str],
                       metrics: Sequence[str] = ("acc", "nmi")) -> list[dict]:
    """:func:`against_baselines` of the runs ``rows``, each trained model and the
    baselines of its data set on the same seeds: those where the model and every baseline
    that ran on the data set have a successful run. Means over all successful runs would
    set a model that failed on some seeds (or a baseline that did) against the other side's
    mean over other seeds, and a loss seed by seed could turn into a win."""
    from graphclust.benchmark.summaries import summarize

    ok = [row for row in rows if row["status"] == "ok"]
    seeds: dict[tuple[str, str], set] = {}
    for row in ok:
        seeds.setdefault((row["dataset"], row["model"]), set()).add(row["seed"])
    comparisons = []
    for (dataset, model), own in seeds.items():
        if model in baselines:
            continue
        ran = [label for label in baselines if (dataset, label) in seeds]
        common = own.intersection(*(seeds[dataset, label] for label in ran))
        paired = [row for row in ok if row["dataset"] == dataset and row["seed"] in common
                  and row["model"] in (model, *ran)]
        comparisons += against_baselines(summarize(paired, metrics), baselines, metrics)
    return comparisons


def margin_text(margin: float) -> str:
    """A margin signed to 4 decimals, or in scientific notation where 4 decimals would
    show a loss as ``-0.0000`` (or a win as ``+0.0000``)."""
    text = f"{margin:+.4f}"
    return f"{margin:+.1e}" if margin != 0 and float(text) == 0 else text


def loss_lines(comparisons: Sequence[Mapping]) -> list[str]:
    """One ``below no training: ...`` line for each of :func:`against_baselines`'
    comparisons that a model loses; where both means print alike to 4 decimals, the
    margin follows, so that the line still shows a loss."""
    lines = []
    for item in comparisons:
        if item["margin"] >= 0:
            continue
        value, baseline_value = f"{item['value']:.4f}", f"{item['baseline_value']:.4f}"
        margin = f" ({margin_text(item['margin'])})" if value == baseline_value else ""
        lines.append(f"below no training: {item['model']} on {item['dataset']}, "
                     f"{item['metric'].upper()} {value} against "
                     f"{item['baseline']}'s {baseline_value}{margin}")
    return lines


def score_baselines(source, model: str, params: Mapping) -> dict[str, dict]:
    """The scores of the baselines a fit of ``model`` on ``source`` (a labelled
    :class:`graphclust.data.source.Source`) is read against: each of
    :func:`baseline_models` fitted once with the ``params`` of the fit that it takes (seed,
    ``n_clusters``, feature transform, device, threads); label -> scores, with a
    ``warnings`` list where its fit warned, or ``{"error": ...}`` where its fit raised (as
    a benchmark records a failed run: the model's own results must not be lost to a
    baseline)."""
    from graphclust.benchmark.summaries import error_text
    from graphclust.metrics import evaluate
    from graphclust.registry import build_estimator

    scores = {}
    for entry in baseline_models([model], params):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                estimator = build_estimator(entry.model, entry.params).fit(*source.fit_args)
        except Exception as error:  # recorded, like a failed run of a grid
            scores[entry.label] = {"error": error_text(error)}
            continue
        scores[entry.label] = evaluate(source.y, estimator.labels_)
        if caught:  # the baseline's, not the model's: kept apart from the model's own
            scores[entry.label]["warnings"] = [str(warning.message) for warning in caught]
    return scores
