"""Figures: the panels, titles, axis labels and legends a reader needs; input checks."""

from __future__ import annotations

import numpy as np
import pytest

from graphclust.plotting import plot_embedding, plot_metric_bars, plot_training_curves


def _history(pretrain: int, train: int, metrics: bool) -> list[dict]:
    entries = [{"phase": "pretrain", "epoch": e, "loss": 2.0 / e} for e in range(1, pretrain + 1)]
    for epoch in range(1, train + 1):
        entry = {"phase": "train", "epoch": epoch, "loss": 1.0 / epoch}
        if metrics:
            entry.update(acc=0.5 + 0.01 * epoch, nmi=0.3, ari=0.2, f1=0.4)
        entries.append(entry)
    return entries


def _texts(ax) -> tuple[str, str, str]:
    return ax.get_title(), ax.get_xlabel(), ax.get_ylabel()


def test_training_curves_panels_per_phase_and_metrics():
    figure = plot_training_curves(_history(5, 8, metrics=True), title="run")
    pretrain, train, scores = figure.axes
    assert _texts(pretrain) == ("Pre-training (5 epochs)", "epoch", "loss")
    assert _texts(train) == ("Training after k-means start (8 epochs)", "epoch", "loss")
    assert scores.get_ylabel() == "score"
    assert [t.get_text() for t in scores.get_legend().get_texts()] == ["ACC", "NMI"]
    np.testing.assert_allclose(scores.lines[0].get_ydata(), [0.5 + 0.01 * e for e in range(1, 9)])
    assert figure.get_suptitle() == "run"


def test_training_curves_without_labels_or_pretraining():
    figure = plot_training_curves(_history(0, 1, metrics=False))
    (train,) = figure.axes
    assert train.get_title() == "Training after k-means start (1 epoch)"
    assert train.get_xlim() == (0.0, 2.0)  # a single epoch gets integer room around it


def test_training_curves_refuse_empty_history():
    with pytest.raises(ValueError, match="history is empty"):
        plot_training_curves([])
    with pytest.raises(ValueError, match="no start-length, pretrain or train entries"):
        plot_training_curves([{"phase": "other", "epoch": 1}])


def test_training_curves_of_a_start_that_found_nothing_to_learn():
    # A fit whose start kept its untrained map: held-out checks only, the first kept.
    checks = [{"phase": "start-length", "epoch": step, "held_out_loss": 5.0 + 0.01 * step}
              for step in range(0, 110, 10)]
    checks[0]["kept"] = True
    (held_out,) = plot_training_curves(checks).axes
    assert _texts(held_out) == ("Start length (11 checks)", "step", "held-out loss")
    line, chosen = held_out.lines
    np.testing.assert_allclose(line.get_ydata(), [c["held_out_loss"] for c in checks])
    assert list(chosen.get_xdata()) == [0]


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_embedding_by_cluster_and_class(method):
    rng = np.random.default_rng(0)
    embedding = np.concatenate([rng.normal(0, 1, (30, 5)), rng.normal(5, 1, (30, 5))])
    clusters = np.repeat([0, 1], 30)
    figure = plot_embedding(embedding, clusters, classes=clusters[::-1], method=method,
                            title="toy")
    by_cluster, by_class = figure.axes
    assert by_cluster.get_title() == "coloured by cluster"
    assert by_class.get_title() == "coloured by true class"
    assert by_cluster.get_legend().get_title().get_text() == "cluster"
    assert len(by_cluster.collections) == 2  # one scatter per cluster
    axis = "PC" if method == "pca" else "t-SNE "
    assert by_cluster.get_xlabel() == f"{axis}1"
    assert figure.get_suptitle() == f"toy: {method.upper()} of embeddings, 60 nodes"


def test_embedding_subsamples_large_inputs():
    embedding = np.random.default_rng(0).normal(size=(500, 3))
    figure = plot_embedding(embedding, np.arange(500) % 3, max_points=100)
    assert sum(len(c.get_offsets()) for c in figure.axes[0].collections) == 100
    assert "random subset" in figure.get_suptitle()
    # Exactly max_points nodes are all drawn: no subset to name.
    figure = plot_embedding(embedding[:100], np.arange(100) % 3, max_points=100)
    assert figure.get_suptitle() == "PCA of embeddings, 100 nodes"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "umap"}, "method must be"),
        ({"clusters": np.zeros(3)}, "embedding must be"),
        ({"classes": np.zeros(3)}, "classes has shape"),
        ({"max_points": 1}, "max_points"),
    ],
)
def test_embedding_input_checks(kwargs, message):
    arguments = {"embedding": np.zeros((4, 3)), "clusters": np.zeros(4), **kwargs}
    with pytest.raises(ValueError, match=message):
        plot_embedding(**arguments)


def test_embedding_takes_column_labels_and_refuses_nan_classes():
    # A column of clusters had raised IndexError, and NaN classes were left out of the
    # picture while the title counted their nodes.
    embedding = np.random.default_rng(0).normal(size=(6, 3))
    figure = plot_embedding(embedding, np.arange(6).reshape(-1, 1) % 2,
                            classes=np.array([[0], [1], [0], [1], [0], [1]]))
    assert sum(len(c.get_offsets()) for c in figure.axes[0].collections) == 6
    with pytest.raises(ValueError, match=r"clusters must have shape \(n,\) or \(n, 1\)"):
        plot_embedding(embedding, np.zeros((6, 2)))
    with pytest.raises(ValueError, match="classes has NaN or infinite values in 1 of 6"):
        plot_embedding(embedding, np.zeros(6), classes=[0, 1, np.nan, 1, 0, 1])


def test_metric_bars_with_error_bars_and_legend():
    scores = {f"{k}_{stat}": value for k in ("acc", "nmi", "ari", "f1")
              for stat, value in (("mean", 0.5), ("std", 0.1))}
    summary = [{"dataset": d, "model": m, "runs": 3, **scores}
               for d in ("dblp", "digits") for m in ("scgc", "scgc-star")]
    figure = plot_metric_bars(summary, title="Final model")
    assert [ax.get_title() for ax in figure.axes] == ["ACC", "NMI", "ARI", "F1"]
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["dblp", "digits"]
    assert len(figure.axes[0].patches) == 4  # 2 data sets x 2 models
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["scgc", "scgc-star"]
    assert figure.get_suptitle() == "Final model, mean ± std over 3 run(s) per bar"


def test_metric_bars_refuse_empty_summary():
    with pytest.raises(ValueError, match="no successful runs"):
        plot_metric_bars([])


def test_metric_bars_show_negative_scores_and_every_value():
    # The axis had stopped at 0, hiding negative ARI bars, and values up to 0.06 went
    # unwritten.
    summary = [{"dataset": "cora", "model": "scgc", "runs": 2, "acc_mean": 0.03,
                "acc_std": 0.01, "ari_mean": -0.2, "ari_std": 0.05}]
    acc, ari = plot_metric_bars(summary, metrics=["acc", "ari"]).axes[:2]
    assert acc.get_ylim() == (0, 1)
    assert ari.get_ylim()[0] <= -0.25 and ari.get_ylim()[1] == 1
    assert [text.get_text() for text in acc.texts] == ["0.03"]
    assert [text.get_text() for text in ari.texts] == ["-0.20"]
