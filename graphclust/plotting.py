"""Figures for fitted models and benchmark tables (matplotlib, no display needed).

Every function returns a :class:`matplotlib.figure.Figure` built without ``pyplot``, so it
never touches the global backend or needs a display; save it with ``fig.savefig(path)``
(PNG via Agg) or show it in a notebook by evaluating it.

* :func:`plot_training_curves`: loss per epoch (pre-training and training in separate
  panels, their losses are different objectives) and, when labels were given to ``fit``,
  ACC/NMI per training epoch.
* :func:`plot_embedding`: a 2-D projection of the embeddings (PCA, or t-SNE) coloured by
  cluster, and by true class when given.
* :func:`plot_metric_bars`: mean ± standard deviation of each metric per data set and model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from graphclust._checks import check_label_values

__all__ = ["plot_embedding", "plot_metric_bars", "plot_training_curves"]

_METRIC_NAMES = {"acc": "ACC", "nmi": "NMI", "ari": "ARI", "f1": "F1"}
# Above this many points a line gets no markers (they would hide the line).
_MARKER_LIMIT = 40


def _line(ax, x, y, **kwargs) -> None:
    ax.plot(x, y, marker="o" if len(x) <= _MARKER_LIMIT else None, markersize=3, **kwargs)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(x) == 1:  # otherwise matplotlib spans +-5% around the point with fractional ticks
        ax.set_xlim(x[0] - 1, x[0] + 1)


def _epochs(count: int) -> str:
    return f"{count} epoch" + ("" if count == 1 else "s")


def plot_training_curves(history: Sequence[Mapping], *, title: str | None = None) -> Figure:
    """Loss per epoch, per phase, and the label metrics per training epoch.

    Parameters
    ----------
    history : sequence of dict
        An estimator's ``history_``: one dict per epoch with ``phase`` (``"pretrain"`` or
        ``"train"``), ``epoch`` and ``loss``; training entries may carry ``acc``, ``nmi``,
        ``ari`` and ``f1`` (present when labels were given to ``fit``). Entries of phase
        ``"start-length"`` are the start's held-out checks (``held_out_loss``, the chosen
        one marked ``kept``).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per phase present, plus a metrics panel when metrics were recorded.
    """
    if len(history) == 0:
        raise ValueError("history is empty: fit the estimator first (max_epochs >= 1)")
    from graphclust.starts.held_out_rule import held_out_checks  # torch: only when plotted

    phases = {"start-length": held_out_checks(history),
              **{phase: [entry for entry in history if entry.get("phase") == phase]
                 for phase in ("pretrain", "train")}}
    with_metrics = [entry for entry in phases["train"] if "acc" in entry]
    panels = [(phase, entries) for phase, entries in phases.items() if entries]
    if not panels:
        raise ValueError("history has no start-length, pretrain or train entries to plot")
    n_panels = len(panels) + bool(with_metrics)
    figure = Figure(figsize=(4.2 * n_panels, 3.4), layout="constrained")
    axes = figure.subplots(1, n_panels, squeeze=False)[0]
    for ax, (phase, entries) in zip(axes, panels, strict=False):
        epochs = [entry["epoch"] for entry in entries]
        if phase == "start-length":
            _line(ax, epochs, [entry["held_out_loss"] for entry in entries],
                  color="tab:purple", label="held-out loss")
            kept = [entry for entry in entries if entry.get("kept")]
            ax.plot([entry["epoch"] for entry in kept],
                    [entry["held_out_loss"] for entry in kept], "k*", markersize=9,
                    label="length chosen")
            ax.set_title(f"Start length ({len(entries)} checks)")
            ax.set_xlabel("step")
            ax.set_ylabel("held-out loss")
            ax.grid(alpha=0.3)
            ax.legend(loc="best", fontsize="small")
            continue
        losses = [entry["loss"] for entry in entries]
        if phase == "pretrain":
            _line(ax, epochs, losses, color="tab:gray", label="pre-training loss")
            ax.set_title(f"Pre-training ({_epochs(len(entries))})")
        else:
            _line(ax, epochs, losses, color="tab:blue", label="training loss")
            ax.set_title(f"Training after k-means start ({_epochs(len(entries))})")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize="small")
    if with_metrics:
        ax = axes[-1]
        epochs = [entry["epoch"] for entry in with_metrics]
        for key, color in (("acc", "tab:green"), ("nmi", "tab:orange")):
            _line(ax, epochs, [entry[key] for entry in with_metrics], color=color,
                  label=_METRIC_NAMES[key])
        ax.set_title("Agreement with labels (not used to train)")
        ax.set_xlabel("training epoch")
        ax.set_ylabel("score")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize="small")
    if title:
        figure.suptitle(title)
    return figure


def _project(embedding: np.ndarray, method: str, random_state: int) -> np.ndarray:
    if embedding.shape[1] <= 2:
        return np.pad(embedding, ((0, 0), (0, 2 - embedding.shape[1])))
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=random_state).fit_transform(embedding)
    from sklearn.manifold import TSNE

    perplexity = min(30.0, (len(embedding) - 1) / 3)
    return TSNE(n_components=2, perplexity=perplexity, init="pca",
                random_state=random_state).fit_transform(embedding)


def _scatter(ax, points: np.ndarray, groups: np.ndarray, legend_title: str) -> None:
    values = np.unique(groups)
    colours = _colours(len(values))
    # Large markers for small graphs, small ones where thousands of points overlap.
    size = float(np.clip(3000 / len(points), 4, 30))
    for value, colour in zip(values, colours, strict=True):
        mask = groups == value
        ax.scatter(points[mask, 0], points[mask, 1], s=size, color=colour, label=str(value),
                   alpha=0.8, linewidths=0)
    if len(values) <= 20:
        ax.legend(title=legend_title, fontsize="x-small", title_fontsize="small",
                  markerscale=2, loc="center left", bbox_to_anchor=(1.0, 0.5))


def _colours(count: int) -> list:
    from matplotlib import colormaps

    palette = colormaps["tab10" if count <= 10 else "tab20"]
    if count <= 20:
        return [palette(i) for i in range(count)]
    return [colormaps["turbo"](i / (count - 1)) for i in range(count)]


def _groups(name: str, values) -> np.ndarray:
    """``clusters`` or ``classes``, one value a node: shape (n,), or (n, 1) as labels are
    taken elsewhere. NaN is refused: a NaN node matches no group, so it would be left out
    of the picture while the title counts it."""
    values = np.asarray(values)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values.ravel()
    if values.ndim != 1:
        raise ValueError(f"{name} must have shape (n,) or (n, 1), got {values.shape}")
    check_label_values(name, values)
    return values


def plot_embedding(
    embedding,
    clusters,
    *,
    classes=None,
    method: str = "pca",
    title: str | None = None,
    max_points: int = 5000,
    random_state: int = 0,
) -> Figure:
    """2-D picture of node embeddings coloured by cluster (and by true class).

    Parameters
    ----------
    embedding : array-like of shape (n, d)
        E.g. an estimator's ``embedding_`` or ``transform(X)``.
    clusters : array-like of shape (n,) or (n, 1)
        Predicted clusters (``labels_``).
    classes : array-like of shape (n,) or (n, 1), optional
        True classes; adds a second panel coloured by class. NaN (an unlabelled node) is
        refused: give those nodes a class, or leave them out.
    method : {"pca", "tsne"}, default="pca"
        PCA is linear and fast; t-SNE separates clusters visually but distorts distances
        and costs seconds to minutes.
    title : str, optional
        Figure title.
    max_points : int, default=5000
        Larger inputs are drawn as a uniform random subset of this size (seeded).
    random_state : int, default=0
        Seed of the subset, PCA's solver and t-SNE.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if method not in ("pca", "tsne"):
        raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}")
    embedding = np.asarray(embedding, dtype=np.float64)
    clusters = _groups("clusters", clusters)
    if embedding.ndim != 2 or len(clusters) != len(embedding):
        raise ValueError(
            f"embedding must be (n, d) and clusters (n,), got {embedding.shape} and "
            f"{clusters.shape}"
        )
    if classes is not None:
        classes = _groups("classes", classes)
        if classes.shape != clusters.shape:
            raise ValueError(f"classes has shape {classes.shape}, clusters {clusters.shape}")
    if max_points < 2:
        raise ValueError(f"max_points must be >= 2, got {max_points}")
    subset = len(embedding) > max_points
    if subset:
        keep = np.random.default_rng(random_state).choice(len(embedding), max_points,
                                                          replace=False)
        embedding, clusters = embedding[keep], clusters[keep]
        classes = None if classes is None else classes[keep]
    points = _project(embedding, method, random_state)
    axis_name = "PC" if method == "pca" else "t-SNE "
    n_panels = 1 if classes is None else 2
    figure = Figure(figsize=(5.2 * n_panels, 4.2), layout="constrained")
    axes = figure.subplots(1, n_panels, squeeze=False)[0]
    panels = [("coloured by cluster", clusters, "cluster")]
    if classes is not None:
        panels.append(("coloured by true class", classes, "class"))
    for ax, (subtitle, groups, legend_title) in zip(axes, panels, strict=True):
        _scatter(ax, points, groups, legend_title)
        ax.set_title(subtitle)
        ax.set_xlabel(f"{axis_name}1")
        ax.set_ylabel(f"{axis_name}2")
    shown = f"{len(embedding)} nodes" + (" (random subset)" if subset else "")
    figure.suptitle(f"{title + ': ' if title else ''}{method.upper()} of embeddings, {shown}")
    return figure


def _value_label(ax, bar, value: float, spread: float) -> None:
    """``value`` written at the foot of its bar, clear of the error bar, in white where
    the bar has room for it; else in black above the error bar (``spread`` high)."""
    x = bar.get_x() + bar.get_width() / 2
    if abs(value) > 0.06:
        below = value < 0
        ax.text(x, -0.015 if below else 0.015, f"{value:.2f}", ha="center",
                va="top" if below else "bottom", fontsize="x-small", color="white")
    else:
        ax.text(x, max(value + spread, 0) + 0.015, f"{value:.2f}", ha="center",
                va="bottom", fontsize="x-small", color="black")


def plot_metric_bars(
    summary: Sequence[Mapping],
    *,
    metrics: Sequence[str] = ("acc", "nmi", "ari", "f1"),
    title: str | None = None,
) -> Figure:
    """Grouped bars: mean ± standard deviation of each metric per data set and model.

    Each bar carries its value. A panel's axis runs from 0 to 1, or from below 0 where a
    bar or its error bar goes there (ARI can).

    Parameters
    ----------
    summary : sequence of dict
        One dict per (data set, model) with ``dataset``, ``model``, ``runs`` and, for each
        metric ``m``, ``m_mean`` and ``m_std`` (as produced by
        :func:`graphclust.benchmark.summarize`).
    metrics : sequence of str
        Metric keys to draw, one panel each.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if len(summary) == 0:
        raise ValueError("summary is empty: no successful runs to plot")
    datasets = list(dict.fromkeys(row["dataset"] for row in summary))
    models = list(dict.fromkeys(row["model"] for row in summary))
    cells = {(row["dataset"], row["model"]): row for row in summary}
    width = 0.8 / len(models)
    figure = Figure(figsize=(max(3.2, 1.1 * len(datasets) * max(1, len(models) / 2) + 1.2)
                             * len(metrics), 3.6), layout="constrained")
    axes = figure.subplots(1, len(metrics), squeeze=False)[0]
    colours = _colours(len(models))
    for ax, metric in zip(axes, metrics, strict=True):
        lowest = 0.0  # ARI goes below 0: the axis follows the lowest bar or error bar
        for index, (model, colour) in enumerate(zip(models, colours, strict=True)):
            means = [cells.get((d, model), {}).get(f"{metric}_mean", np.nan) for d in datasets]
            stds = [cells.get((d, model), {}).get(f"{metric}_std", np.nan) for d in datasets]
            positions = np.arange(len(datasets)) + (index - (len(models) - 1) / 2) * width
            bars = ax.bar(positions, means, width, yerr=stds, capsize=3, color=colour,
                          label=model if metric == metrics[0] else None)
            for bar, mean, std in zip(bars, means, stds, strict=True):
                if np.isfinite(mean):
                    _value_label(ax, bar, mean, std if np.isfinite(std) else 0.0)
            lows = np.asarray(means, dtype=float) - np.nan_to_num(np.asarray(stds, dtype=float))
            lowest = min([lowest, *lows[np.isfinite(lows)]])
        ax.set_xticks(np.arange(len(datasets)), datasets)
        ax.set_title(_METRIC_NAMES.get(metric, metric.replace("_", " ").upper()))
        ax.set_xlabel("data set")
        ax.set_ylim(lowest - 0.05 if lowest < 0 else 0, 1)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("score (mean ± std over seeds)")
    figure.legend(title="model", fontsize="small", loc="outside right upper")
    runs = sorted({int(row["runs"]) for row in summary})
    seeds = f"{runs[0]}" if len(runs) == 1 else f"{runs[0]}-{runs[-1]}"
    figure.suptitle(f"{title + ', ' if title else ''}mean ± std over {seeds} run(s) per bar")
    return figure
