"""input_hops and propagation_steps: the encoder reads propagated features (SIGN, SGC)."""

import numpy as np
import pytest
import torch

from graphclust import SCGC, SCGCStar, evaluate, load
from graphclust.data import make_sbm
from graphclust.data.propagation import propagate, stack_hops

SHORT = {"max_epochs": 30, "pretrain_epochs": 30, "random_state": 0}


@pytest.fixture(scope="module")
def weak_features():
    """The edges carry the clusters, the features hardly do."""
    return make_sbm(600, 3, 16, avg_degree=12, homophily=0.9, feature_signal=0.1,
                    random_state=0)


def test_stack_hops_is_the_features_beside_their_propagations():
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    stacked = stack_hops(x, edge_index, 2)
    assert stacked.shape == (5, 9)
    for hop in range(3):
        torch.testing.assert_close(stacked[:, 3 * hop:3 * hop + 3], propagate(x, edge_index, hop))
    assert stack_hops(x, edge_index, 0) is x
    with pytest.raises(ValueError, match="hops must be an integer >= 0"):
        stack_hops(x, edge_index, -1)


@pytest.mark.parametrize("count", [True, 2.0])
def test_hops_and_steps_must_be_integers(count):
    # True had been read as 1 hop; 2.0 had failed inside range() without naming the argument.
    edge_index = torch.tensor([[0, 1], [1, 0]])
    x = torch.ones(2, 3)
    with pytest.raises(TypeError, match="hops must be an integer"):
        stack_hops(x, edge_index, count)
    with pytest.raises(TypeError, match="steps must be an integer"):
        propagate(x, edge_index, count)


def test_input_hops_reads_the_clusters_the_features_lack(weak_features):
    y = weak_features.y.numpy()
    alone = SCGCStar(n_clusters=3, **SHORT).fit(weak_features)
    hops = SCGCStar(n_clusters=3, input_hops=2, **SHORT).fit(weak_features)
    assert hops.encoder_.dims[0] == 3 * weak_features.x.shape[1]
    assert evaluate(y, hops.labels_)["acc"] > evaluate(y, alone.labels_)["acc"] + 0.3


@pytest.mark.parametrize("model", [SCGCStar, SCGC])
def test_input_hops_predicts_with_the_graph_only_and_survives_saving(model, weak_features,
                                                                     tmp_path):
    fitted = model(n_clusters=3, input_hops=1, **{**SHORT, "max_epochs": 3}).fit(weak_features)
    np.testing.assert_array_equal(fitted.predict(weak_features), fitted.labels_)
    with pytest.raises(ValueError, match="reads the graph.*input_hops.*adjacency="):
        fitted.predict(weak_features.x.numpy())
    fitted.save(tmp_path / "model")
    restored = load(tmp_path / "model")
    np.testing.assert_array_equal(restored.predict(weak_features), fitted.labels_)


def test_input_hops_is_validated():
    with pytest.raises(ValueError, match="input_hops"):
        SCGCStar(n_clusters=2, input_hops=-1).fit(np.eye(4))


def test_propagation_steps_is_the_model_of_the_propagated_features(weak_features):
    from torch_geometric.data import Data

    from graphclust.data.transforms import FeatureTransform

    smoothed = propagate(FeatureTransform("auto").fit_graph(weak_features)
                         .transform(weak_features.x), weak_features.edge_index, 2)
    # Without the held-out start: its run propagates over its own training edges only
    # (next test), which features smoothed by hand beforehand cannot do.
    fixed_start = {**SHORT, "start_holdout": None}
    by_hand = SCGCStar(n_clusters=3, features="none", **fixed_start).fit(
        Data(x=smoothed, edge_index=weak_features.edge_index))
    model = SCGCStar(n_clusters=3, propagation_steps=2, **fixed_start).fit(weak_features)
    assert model.encoder_.dims[0] == weak_features.x.shape[1]
    np.testing.assert_array_equal(model.labels_, by_hand.labels_)
    np.testing.assert_array_equal(model.predict(weak_features), model.labels_)
    with pytest.raises(ValueError, match="reads the graph.*propagation_steps"):
        model.predict(weak_features.x.numpy())
    alone = SCGCStar(n_clusters=3, **fixed_start).fit(weak_features)
    y = weak_features.y.numpy()
    assert evaluate(y, model.labels_)["acc"] > evaluate(y, alone.labels_)["acc"] + 0.3


@pytest.mark.parametrize("params", [{"propagation_steps": 2}, {"input_hops": 1}])
def test_the_held_out_run_reads_inputs_propagated_over_its_training_edges_only(
        monkeypatch, weak_features, params):
    """Features propagated over every edge would carry the held-out edges into the run
    that is scored on them."""
    from graphclust.starts import contrastive as starts

    splits, inputs_seen = [], []

    class RecordedSplit(starts.HeldOutEdges):
        def __init__(self, *args):
            super().__init__(*args)
            splits.append(self)

    original_steps = starts.ContrastiveStart._steps

    def recorded_steps(self, encoder, optimizer, inputs, *args):
        inputs_seen.append(inputs.x)
        yield from original_steps(self, encoder, optimizer, inputs, *args)

    monkeypatch.setattr(starts, "HeldOutEdges", RecordedSplit)
    monkeypatch.setattr(starts.ContrastiveStart, "_steps", recorded_steps)
    model = SCGCStar(n_clusters=3, max_epochs=0, pretrain_epochs=20, random_state=0,
                     **params).fit(weak_features)
    held_out_run, every_edge = inputs_seen  # the held-out run, then the retaken steps
    graph = weak_features
    torch.testing.assert_close(
        held_out_run, model._encoder_features(graph.x, splits[0].train_edge_index))
    torch.testing.assert_close(every_edge, model._encoder_features(graph.x, graph.edge_index))
    assert not torch.allclose(held_out_run, every_edge)
