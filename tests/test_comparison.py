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
    # The baselines read the model's kNN graph, given to them as edges.
    edges = real(model.transform_.transform(club.x), k=model.n_neighbors, metric="cosine")
    expected = SVDKMeans(2, propagation_steps=1, random_state=0).fit(x, adjacency=edges)
    assert report.baselines["svd-kmeans t=1"] == evaluate(y, expected.labels_)


def test_a_failing_baseline_is_recorded_not_raised(club, monkeypatch):
    class Failing(MODELS["degree-kmeans"]):
        def fit(self, X, y=None, adjacency=None):
            raise RuntimeError("deliberate")

    monkeypatch.setitem(MODELS, "degree-kmeans", Failing)
    report = compare_with_baselines(SCGCStar(2, random_state=0, **TINY).fit(club), club)
    assert report.baselines["degree-kmeans"] == {"error": "RuntimeError: deliberate"}
    assert "no-training baseline degree-kmeans failed: RuntimeError: deliberate" in str(report)
    assert report.lines()[1].startswith("no training (best of svd-kmeans t=0..3): ACC")

    class AllFailing(SVDKMeans):
        def fit(self, X, y=None, adjacency=None):
            raise RuntimeError("deliberate")

    monkeypatch.setitem(MODELS, "svd-kmeans", AllFailing)
    report = compare_with_baselines(SCGCStar(2, random_state=0, **TINY).fit(club), club)
    assert report.comparisons == [] and report.losses == []
    assert report.lines()[-1] == "no comparison: no no-training baseline could be fitted"


def test_the_call_leaves_the_model_and_its_generator_as_they_were(club):
    generator = np.random.RandomState(0)
    model = SCGCStar(2, random_state=generator, **TINY).fit(club)
    drawn = generator.get_state()[2]
    labels = model.labels_.copy()
    first = compare_with_baselines(model, club)
    second = compare_with_baselines(model, club)
    assert generator.get_state()[2] == drawn and model.random_state is generator
    assert first.baselines == second.baselines and (model.labels_ == labels).all()
    assert first.comparisons[0]["dataset"] == "karate"  # the Data's own name


def test_bad_calls_are_refused_with_the_reason(club):
    from sklearn.cluster import KMeans

    model = SCGCStar(2, random_state=0, **TINY).fit(club)
    x, y = club.x.numpy(), club.y.numpy()
    with pytest.raises(NotFittedError):
        compare_with_baselines(SCGCStar(2), club)
    with pytest.raises(TypeError, match="a fitted graphclust estimator, got KMeans"):
        compare_with_baselines(KMeans(2, n_init=1).fit(x), x, y)

    class MySVD(SVDKMeans):
        pass

    with pytest.raises(ValueError, match="MySVD is itself a no-training baseline"):
        compare_with_baselines(MySVD(2).fit(club), club)
    with pytest.raises(ValueError, match="fitted on given edges, but this input has none"):
        compare_with_baselines(model, x, y)
    on_rows = SCGCStar(2, random_state=0, **TINY).fit(x)
    with pytest.raises(ValueError, match="built of the rows, but this input gives edges"):
        compare_with_baselines(on_rows, club)
    with pytest.raises(ValueError, match="X has 5 features, but SCGCStar is expecting 34"):
        compare_with_baselines(on_rows, np.random.default_rng(0).random((34, 5)), y)
    with pytest.raises(ValueError, match="inside the Data object"):
        compare_with_baselines(model, club, y=np.zeros(34))
    unlabelled = club.clone()
    del unlabelled.y
    with pytest.raises(ValueError, match="needs the true labels"):
        compare_with_baselines(model, unlabelled)
    with pytest.raises(ValueError, match="X has 20 nodes, but the model was fitted on 34"):
        compare_with_baselines(on_rows, x[:20], y[:20])
