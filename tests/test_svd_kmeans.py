"""The SVD + k-means baseline and its propagation."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs

from graphclust import SVDKMeans, evaluate
from graphclust.data import make_sbm
from graphclust.data.propagation import propagate


def test_propagate_equals_dense_normalised_powers():
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    a = np.zeros((5, 5))
    a[edge_index[0], edge_index[1]] = 1
    a_tilde = a + np.eye(5)
    d = a_tilde.sum(1) ** -0.5
    s = d[:, None] * a_tilde * d[None]
    np.testing.assert_allclose(propagate(x, edge_index, 2).numpy(), s @ s @ x.numpy())


def test_propagation_helps_on_a_homophilous_graph_and_predict_agrees():
    graph = make_sbm(600, 4, 32, avg_degree=10, homophily=0.9, feature_signal=0.35,
                     random_state=0)
    plain = SVDKMeans(n_clusters=4, n_components=8, features="standardize",
                      random_state=0).fit(graph)
    smoothed = SVDKMeans(n_clusters=4, n_components=8, features="standardize",
                         propagation_steps=2, random_state=0).fit(graph)
    y = graph.y.numpy()
    assert evaluate(y, smoothed.labels_)["acc"] > evaluate(y, plain.labels_)["acc"] + 0.1
    np.testing.assert_array_equal(plain.predict(graph.x), plain.labels_)
    # With propagation, predict reads the graph it is given, as fit did (the benchmark
    # tables score predict on the training graph).
    np.testing.assert_array_equal(smoothed.predict(graph), smoothed.labels_)
    with pytest.raises(ValueError, match="reads the graph"):
        smoothed.predict(graph.x)


def test_save_and_load_round_trip(tmp_path):
    from graphclust import load

    graph = make_sbm(200, 3, 8, avg_degree=6, random_state=2)
    model = SVDKMeans(n_clusters=3, n_components=4, propagation_steps=1,
                      features="standardize", random_state=0).fit(graph)
    model.save(tmp_path / "svd.gc")
    loaded = load(tmp_path / "svd.gc")
    np.testing.assert_array_equal(loaded.predict(graph), model.labels_)
    np.testing.assert_array_equal(loaded.labels_, model.labels_)


@pytest.mark.parametrize("n_features", [1, 3])
def test_features_fewer_than_components_are_all_kept(n_features):
    # One feature used to reach TruncatedSVD, which refuses it; a few kept one fewer.
    graph = make_sbm(200, 3, n_features, avg_degree=6, random_state=0)
    model = SVDKMeans(n_clusters=3, features="none", normalize=False,
                      random_state=0).fit(graph)
    assert model.components_.shape == (n_features, n_features)
    assert model.embedding_.shape == (200, n_features)
    assert np.isfinite(model.embedding_).all()


def test_two_features_keep_both_directions_and_their_clusters():
    # With one direction the unit sphere split 2-D data by sign: 2 of 4 blobs.
    x, y = make_blobs(300, n_features=2, centers=4, random_state=0)
    labels = SVDKMeans(n_clusters=4, random_state=0).fit(x.astype(np.float32)).labels_
    assert len(np.unique(labels)) == 4 and evaluate(y, labels)["acc"] > 0.8



def test_no_propagation_builds_no_knn_graph_for_a_plain_matrix(monkeypatch):
    # t = 0 reads the features alone: the exact search (O(N^2)) had run, unread, and a
    # missing faiss had failed knn_method="approximate".
    import graphclust.estimators.base as base

    def no_search(*args, **kwargs):
        raise AssertionError("a kNN graph was built")

    x, y = make_blobs(60, centers=3, n_features=5, random_state=0)
    monkeypatch.setattr(base, "knn_graph", no_search)
    model = SVDKMeans(3, random_state=0, knn_method="approximate").fit(x)
    assert not model.knn_graph_ and evaluate(y, model.labels_)["acc"] == 1.0
    np.testing.assert_array_equal(model.predict(x), model.labels_)
    with pytest.raises(AssertionError, match="a kNN graph was built"):
        SVDKMeans(3, propagation_steps=1, random_state=0).fit(x)


def test_a_model_that_built_its_knn_graph_refuses_a_given_graph_at_predict():
    """Fitted on a plain matrix, a model that reads the graph at inference builds the kNN
    graph of the rows again; a Data's edges (or none, for a Data without edges) and
    adjacency= had been read in its place without a word, as the command line and the
    baseline comparison already refused."""
    from torch_geometric.data import Data

    x, _ = make_blobs(60, 5, centers=3, random_state=0)
    model = SVDKMeans(n_clusters=3, propagation_steps=2, random_state=0).fit(x)
    assert model.knn_graph_
    np.testing.assert_array_equal(model.predict(x), model.labels_)
    edges = torch.randint(0, 60, (2, 100), generator=torch.Generator().manual_seed(0))
    features = torch.tensor(x, dtype=torch.float32)
    for args, passed in [((Data(x=features, edge_index=edges),), r"\(data.x\), not a Data"),
                         ((Data(x=features),), r"\(data.x\), not a Data"),
                         ((x, edges), "without adjacency"), ((x, edges[:, :0]), "adjacency")]:
        for method in (model.predict, model.predict_proba, model.transform):
            with pytest.raises(ValueError, match="fitted on a kNN graph it built of the "
                                                 f"features .*{passed}"):
                method(*args)
    # A model that reads no graph at inference reads the Data's features alone, as before.
    unsmoothed = SVDKMeans(n_clusters=3, random_state=0).fit(x)
    np.testing.assert_array_equal(unsmoothed.predict(Data(x=features, edge_index=edges)),
                                  unsmoothed.labels_)
