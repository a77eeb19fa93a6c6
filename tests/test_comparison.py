"""``compare_with_baselines``: a fitted model against the no-training baselines, from Python."""

from __future__ import annotations

import numpy as np
import pytest
from model_helpers import OneCluster
from sklearn.exceptions import NotFittedError

from graphclust import SCGCStar, SVDKMeans, compare_with_baselines, evaluate, load_dataset
from graphclust.data import knn_graph
from graphclust.registry import MODELS

TINY = {"hidden_dims": (16,), "embedding_dim": 4, "pretrain_epochs": 4, "max_epochs": 2}


@pytest.fixture(scope="module")
def club():
    return load_dataset("karate")


def test_a_model_that_loses_is_told_so_metric_by_metric(club, monkeypatch):
    monkeypatch.setitem(MODELS, "one-cluster", OneCluster)
    model = OneCluster(3, random_state=1, features="tfidf", **TINY).fit(club)
    report = compare_with_baselines(model, club, name="karate")
    assert report.model == "one-cluster" and report.scores == evaluate(club.y, model.labels_)
    assert list(report.baselines) == ["svd-kmeans t=0", "svd-kmeans t=1", "svd-kmeans t=2",
                                      "svd-kmeans t=3", "degree-kmeans"]
    # The model's seed, n_clusters and feature transform reach the baselines.
    expected = SVDKMeans(3, propagation_steps=2, random_state=1, features="tfidf").fit(club)
    assert report.baselines["svd-kmeans t=2"] == evaluate(club.y, expected.labels_)
    assert [item["metric"] for item in report.losses] == ["acc", "nmi"]
    best = max(scores["acc"] for scores in report.baselines.values())
    assert report.comparisons[0]["baseline_value"] == best
    text = str(report).splitlines()
    assert text[0] == f"one-cluster: ACC {report.scores['acc']:.4f}  NMI 0.0000"
    assert text[1].startswith("no training (best of svd-kmeans t=0..3, degree-kmeans): ACC")
    assert text[2].startswith("below no training: one-cluster on karate, ACC 0.5000 against")


def test_a_feature_matrix_is_read_on_the_models_own_knn_graph(club, monkeypatch):
    x, y = club.x.numpy(), club.y.numpy()
    model = SCGCStar(2, random_state=0, **TINY).fit(x)
    built = []
    real = knn_graph

    def counting(*args, **kwargs):
        built.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr("graphclust.estimators.base.knn_graph", counting)
    report = compare_with_baselines(model, x, y)
    assert len(built) == 1  # the model's graph once, not one per baseline
    assert "error" not in report.baselines["svd-kmeans t=1"]
    # The same rows with their kNN graph given as edges: the same comparison.
    edges = real(model.transform_.transform(club.x), k=model.n_neighbors, metric="cosine")
    given = compare_with_baselines(model, x, y, adjacency=edges)
    assert given.baselines == report.baselines


def test_a_failing_baseline_is_recorded_not_raised(club, monkeypatch):
    class Failing(MODELS["degree-kmeans"]):
        def fit(self, X, y=None, adjacency=None):
            raise RuntimeError("deliberate")

    monkeypatch.setitem(MODELS, "degree-kmeans", Failing)
    report = compare_with_baselines(SCGCStar(2, random_state=0, **TINY).fit(club), club)
    assert report.baselines["degree-kmeans"] == {"error": "RuntimeError: deliberate"}
    assert "no-training baseline degree-kmeans failed: RuntimeError: deliberate" in str(report)
    assert report.lines()[1].startswith("no training (best of svd-kmeans t=0..3): ACC")


def test_bad_calls_are_refused_with_the_reason(club):
    model = SCGCStar(2, random_state=0, **TINY).fit(club)
    x, y = club.x.numpy(), club.y.numpy()
    with pytest.raises(NotFittedError):
        compare_with_baselines(SCGCStar(2), club)
    with pytest.raises(ValueError, match="itself a no-training baseline"):
        compare_with_baselines(SVDKMeans(2).fit(club), club)
    with pytest.raises(ValueError, match="inside the Data object"):
        compare_with_baselines(model, club, y=np.zeros(34))
    unlabelled = club.clone()
    del unlabelled.y
    with pytest.raises(ValueError, match="needs the true labels"):
        compare_with_baselines(model, unlabelled)
    with pytest.raises(ValueError, match="X has 20 nodes, but the model was fitted on 34"):
        compare_with_baselines(model, x[:20], y[:20])
