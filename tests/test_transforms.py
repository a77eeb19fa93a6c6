"""The graph-free input transforms, and the degree code that ``features="auto"`` reads as
ordinal (graphclust.data.transforms)."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Data

from graphclust import SCGCStar, SVDKMeans, load
from graphclust.data.synthetic import make_sbm
from graphclust.data.transforms import FeatureTransform, is_degree_code


@pytest.fixture(scope="module")
def airports():
    """A graph whose features are a one-hot code of the degree, the layout of the
    air-traffic graphs (PyG's ``OneHotDegree``)."""
    graph = make_sbm(120, 4, 8, avg_degree=6.0, random_state=0)
    degree = torch.bincount(graph.edge_index[0], minlength=graph.num_nodes)
    x = torch.nn.functional.one_hot(degree, int(degree.max()) + 1).to(torch.float32)
    return Data(x=x, edge_index=graph.edge_index, y=graph.y)


def test_tfidf_weighs_rare_columns_up_and_normalises_rows():
    x = torch.tensor([[1.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    out = FeatureTransform("tfidf").fit(x).transform(x)
    assert torch.allclose(out.norm(dim=1), torch.ones(3))
    assert out[0, 1] > out[0, 0]  # the column only one row has


def test_ordinal_is_a_standardised_thermometer_code():
    codes = torch.tensor([0, 2, 1, 2])
    x = torch.eye(3)[codes]
    transform = FeatureTransform("ordinal").fit(x)
    thermometer = torch.tensor([[1.0, 0, 0], [1, 1, 1], [1, 1, 0], [1, 1, 1]])
    std = thermometer.std(0, unbiased=False)
    expected = torch.where(std > 0, (thermometer - thermometer.mean(0)) / std,
                           torch.zeros_like(thermometer))
    assert torch.allclose(transform.transform(x), expected)
    # Order survives: the code of 2 is nearer to 1 than to 0.
    out = transform.transform(torch.eye(3))
    assert (out[2] - out[1]).norm() < (out[2] - out[0]).norm()


def test_ordinal_refuses_negative_features():
    with pytest.raises(ValueError, match="non-negative"):
        FeatureTransform("ordinal").fit(torch.tensor([[1.0, -1.0], [0.0, 1.0]]))


def test_a_one_hot_code_of_the_degree_is_recognised(airports):
    degree = torch.bincount(airports.edge_index[0], minlength=airports.num_nodes)
    assert is_degree_code(airports.x, degree)
    assert FeatureTransform().fit(airports.x, degree).kind_ == "ordinal"
    assert FeatureTransform().fit_graph(airports).kind_ == "ordinal"  # the same degrees
    # Without the degree, or with the columns shuffled, it is a plain indicator matrix.
    assert FeatureTransform().fit(airports.x).kind_ == "tfidf"
    shuffled = airports.x[:, torch.randperm(airports.x.shape[1],
                                            generator=torch.Generator().manual_seed(0))]
    assert not is_degree_code(shuffled, degree)
    assert FeatureTransform().fit(shuffled, degree).kind_ == "tfidf"


@pytest.mark.parametrize("x", [torch.eye(4)[[0, 1, 1, 2]] * 2,  # not indicators
                               torch.tensor([[1.0, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]]),
                               torch.eye(4)[[0, 1, 0, 1]]],  # two columns used only
                         ids=["scaled", "two-hot row", "two columns"])
def test_other_matrices_are_not_degree_codes(x):
    assert not is_degree_code(x, torch.tensor([1, 2, 2, 3]))


def test_estimators_read_a_degree_code_as_ordinal_and_save_it(airports, tmp_path):
    tiny = {"hidden_dims": (16,), "embedding_dim": 4, "max_epochs": 2, "pretrain_epochs": 2}
    model = SCGCStar(n_clusters=4, random_state=0, **tiny).fit(airports)
    assert model.transform_.kind_ == "ordinal"
    model.save(tmp_path / "model.graphclust")
    loaded = load(tmp_path / "model.graphclust")
    assert loaded.transform_.kind_ == "ordinal"
    assert (loaded.predict(airports.x) == model.predict(airports.x)).all()
    baseline = SVDKMeans(n_clusters=4, random_state=0).fit(airports)
    assert baseline.transform_.kind_ == "ordinal"


@pytest.mark.parametrize("params", [{}, {"input_hops": 1}])
def test_a_fit_transforms_the_training_features_once(params, monkeypatch):
    """The homophily check and the encoder's input (and the held-out run's, with
    propagated inputs) share one pass of the transform over ``x``."""
    calls = []
    transform = FeatureTransform.transform
    monkeypatch.setattr(FeatureTransform, "transform",
                        lambda self, x: calls.append(x.shape) or transform(self, x))
    # Edges enough for the start's held-out run (karate has too few).
    graph = make_sbm(200, n_clusters=2, n_features=20, avg_degree=10, random_state=0)
    model = SCGCStar(n_clusters=2, random_state=0, max_epochs=2, pretrain_epochs=2, **params)
    model.fit(graph)
    assert any(entry.get("phase") == "start-length" for entry in model.history_)
    assert calls == [tuple(graph.x.shape)]
