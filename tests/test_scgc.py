"""SCGC / SCGC* estimators: API, determinism, bad input."""

import warnings
from dataclasses import dataclass
from typing import ClassVar

import networkx as nx
import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris

from graphclust import SCGC, SCGCStar, SVDKMeans, evaluate, to_graph
from graphclust.data import make_sbm
from graphclust.nn import MLPConfig, MPNNVNConfig
from graphclust.objectives import target_distribution
from graphclust.plotting import plot_training_curves
from graphclust.starts.held_out_rule import held_out_summary


@dataclass(frozen=True)
class _FixedMLPConfig:
    """An encoder configuration without from_linear: it cannot take the linear start."""

    uses_graph: ClassVar[bool] = False

    def build(self, in_channels, out_channels):
        return MLPConfig((32,)).build(in_channels, out_channels)


FAST = {"max_epochs": 15, "pretrain_epochs": 5, "hidden_dims": (32,), "embedding_dim": 8}


@pytest.fixture(scope="module")
def sbm():
    return make_sbm(300, 3, 16, avg_degree=8, homophily=0.9, feature_signal=1.5,
                    random_state=0)


@pytest.mark.parametrize("model", [SCGC, SCGCStar])
def test_fit_attributes_and_quality(model, sbm):
    est = model(n_clusters=3, random_state=0, **FAST).fit(sbm)
    n = sbm.num_nodes
    assert est.labels_.shape == (n,)
    assert est.embedding_.shape == (n, 8)
    assert est.cluster_centers_.shape == (3, 8)
    assert est.n_features_in_ == 16
    assert 1 <= est.n_iter_ <= FAST["max_epochs"]
    phases = {entry["phase"] for entry in est.history_}
    assert phases == {"start-length", "pretrain", "train"}  # the held-out length rule ran
    train = [e for e in est.history_ if e["phase"] == "train"]
    assert "acc" in train[0]  # the Data carried labels: metrics recorded per epoch
    assert evaluate(sbm.y.numpy(), est.labels_)["acc"] > 0.9


@pytest.mark.parametrize("model", [SCGC, SCGCStar])
def test_same_seed_same_labels(model, sbm):
    a = model(n_clusters=3, random_state=7, **FAST).fit(sbm)
    b = model(n_clusters=3, random_state=7, **FAST).fit(sbm)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(a.embedding_, b.embedding_)


def test_fit_does_not_change_global_torch_rng(sbm):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    SCGCStar(n_clusters=3, random_state=0, **FAST).fit(sbm)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_predict_needs_no_graph_and_matches_labels(sbm):
    est = SCGCStar(n_clusters=3, random_state=0, **FAST).fit(sbm)
    np.testing.assert_array_equal(est.predict(sbm.x.numpy()), est.labels_)
    proba = est.predict_proba(sbm.x)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(est.transform(sbm), est.embedding_, rtol=1e-5, atol=1e-6)


def test_predict_checks_edges_it_does_not_read(sbm):
    """A feature-only model ignores ``adjacency`` at predict, but edges of another graph
    say the rows are not the graph's: refused as a graph-reading model refuses them."""
    est = SCGCStar(n_clusters=3, random_state=0, **FAST).fit(sbm)
    with pytest.raises(ValueError, match="adjacency has node indices outside"):
        est.predict(sbm.x[:50].numpy(), adjacency=sbm.edge_index)
    np.testing.assert_array_equal(est.predict(sbm.x.numpy(), adjacency=sbm.edge_index),
                                  est.labels_)


def test_a_networkx_graph_as_x_is_refused_with_the_remedy(sbm):
    graph = nx.Graph(sbm.edge_index.T.tolist())
    with pytest.raises(TypeError, match=r"X is a networkx graph; pass the node features "
                                        r"as X and the graph as adjacency="):
        SCGCStar(n_clusters=3, **FAST).fit(graph)


def test_features_with_adjacency_networkx_and_labels_only_for_history(sbm):
    graph = nx.Graph(sbm.edge_index.T.tolist())
    graph.add_nodes_from(range(sbm.num_nodes))
    est = SCGCStar(n_clusters=3, random_state=0, **FAST)
    labels = est.fit_predict(sbm.x.numpy(), adjacency=graph)
    with_y = SCGCStar(n_clusters=3, random_state=0, **FAST).fit(
        sbm.x.numpy(), sbm.y.numpy(), adjacency=graph)
    np.testing.assert_array_equal(labels, with_y.labels_)  # labels never steer training
    assert "acc" not in est.history_[-1] and "acc" in with_y.history_[-1]


def test_plain_matrix_gets_a_knn_graph():
    from sklearn.datasets import make_blobs

    x, y = make_blobs(200, centers=3, n_features=5, random_state=0)
    est = SCGCStar(n_clusters=3, random_state=0, n_neighbors=5, **FAST).fit(x)
    assert evaluate(y, est.labels_)["acc"] > 0.9


def test_more_neighbours_than_rows_is_said_not_clipped_silently():
    from sklearn.datasets import make_blobs

    from graphclust.data import GraphInputWarning

    x, _ = make_blobs(12, centers=2, n_features=3, random_state=0)
    with pytest.warns(GraphInputWarning, match=r"n_neighbors=20 but X has 12 rows: the kNN "
                                               r"graph joins every row to the other 11"):
        est = SVDKMeans(n_clusters=2, n_neighbors=20, propagation_steps=1,
                        random_state=0).fit(x)  # t = 0 builds no kNN graph
    assert est.knn_graph_ and len(est.predict(x)) == 12


def test_rows_of_zeros_in_a_matrix_are_said_once_at_fit():
    """Their cosine neighbours are arbitrary; said at fit, not again at each predict."""
    x = np.random.default_rng(0).random((40, 6))
    x[[3, 7]] = 0
    with pytest.warns(UserWarning, match=r"2 of 40 rows are all zeros \(first rows: \[3, 7\]\)"
                                         r": their cosine neighbours are arbitrary"):
        model = SVDKMeans(n_clusters=2, propagation_steps=1, random_state=0).fit(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict(x)
        model.transform(x)


def test_stopping_rule_stops_early(sbm):
    est = SCGCStar(n_clusters=3, random_state=0, tol=0.5, check_interval=2, **FAST).fit(sbm)
    assert est.n_iter_ == 2  # the first check compares epoch 2 with the k-means start
    est = SCGCStar(n_clusters=3, random_state=0, tol=0.0, **FAST).fit(sbm)
    assert est.n_iter_ == FAST["max_epochs"]
    # check_interval=1: epoch 1's labels are the start's, so the first check (spanning no
    # step) had always stopped there; the first that counts compares epochs 1 and 2.
    est = SCGCStar(n_clusters=3, random_state=0, tol=0.5, check_interval=1, **FAST).fit(sbm)
    assert est.n_iter_ == 2


def test_linear_start_is_grown_into_the_mlp(sbm):
    est = SCGCStar(n_clusters=3, random_state=0, **{**FAST, "max_epochs": 0}).fit(sbm)
    pretrain = [e for e in est.history_ if e["phase"] == "pretrain"]
    assert len(pretrain) == FAST["pretrain_epochs"]
    assert [layer.weight.shape for layer in est.encoder_.layers] == [(32, 16), (8, 32)]
    # Untrained since the start: the output reads only the carried (u+, u-) units, so the
    # encoder is still exactly the linear map the start trained.
    last = est.encoder_.layers[-1]
    eye = torch.eye(8)
    torch.testing.assert_close(last.weight[:, :16], torch.cat([eye, -eye], 1))
    assert not last.weight[:, 16:].any() and not last.bias.any()
    first = est.encoder_.layers[0]
    torch.testing.assert_close(first.weight[8:16], -first.weight[:8])


def test_linear_start_grows_into_a_message_passing_encoder_too(sbm):
    without_mlp_widths = {key: value for key, value in FAST.items() if key != "hidden_dims"}
    est = SCGCStar(n_clusters=3, random_state=0, encoder=MPNNVNConfig(hidden_channels=16),
                   **without_mlp_widths).fit(sbm)
    assert type(est.encoder_).__name__ == "MPNNVirtualNode"
    assert evaluate(sbm.y.numpy(), est.labels_)["acc"] > 0.9
    np.testing.assert_array_equal(est.predict(sbm), est.labels_)


def test_linear_start_of_zero_steps_needs_no_room_to_grow(sbm):
    # pretrain_epochs=0 is no start at all, so narrow hidden layers are fine.
    est = SCGCStar(n_clusters=3, random_state=0,
                   **{**FAST, "pretrain_epochs": 0, "hidden_dims": (4,)}).fit(sbm)
    assert est.encoder_.dims == (16, 4, 8)


@pytest.mark.parametrize("batch_size", [None, 100])
@pytest.mark.parametrize("size_prior", ["start", "uniform"])
def test_size_prior_reaches_the_target(size_prior, batch_size, sbm, monkeypatch):
    import graphclust.objectives.composed as composed

    seen = []

    def recording(q, *args, **kwargs):
        seen.append(kwargs.get("size_prior"))
        return target_distribution(q, *args, **kwargs)

    monkeypatch.setattr(composed, "target_distribution", recording)
    SCGCStar(n_clusters=3, random_state=0, size_prior=size_prior, batch_size=batch_size,
             **{**FAST, "max_epochs": 2, "tol": 0.0}).fit(sbm)
    assert seen
    if size_prior == "uniform":
        assert all(prior is None for prior in seen)
    else:  # the start's soft cluster sizes: one positive mass per cluster, summing to N
        for prior in seen:
            assert prior.shape == (3,) and (prior > 0).all()
            assert prior.sum().item() == pytest.approx(sbm.num_nodes, rel=1e-4)


def test_graph_without_edges_warns():
    x = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32)
    graph = to_graph(x, np.zeros((2, 0), dtype=np.int64))
    with pytest.warns(UserWarning, match="no edges: .* keeps an untrained map"):
        fitted = SCGCStar(n_clusters=2, random_state=0, **FAST).fit(graph)
    # No steps on a term with no pair: the features' principal directions, no joint stage.
    assert fitted.start_length_ is None and fitted.n_iter_ == 0
    assert [entry["phase"] for entry in fitted.history_] == ["start-length"]
    assert held_out_summary(fitted.history_).startswith("start: the graph has no edges")
    # The contrastive start keeps its initial map for the joint stage, whose curve plots
    # beside a start that has no check to show.
    with pytest.warns(UserWarning, match="no edges"):
        fitted = SCGCStar(n_clusters=2, random_state=0, pretrain="contrastive",
                          **FAST).fit(graph)
    assert fitted.start_length_ is None and fitted.n_iter_ > 0
    assert len(plot_training_curves(fitted.history_).axes) == 1


def test_a_graph_without_edges_is_clustered_as_its_features_are():
    # Iris with no edges: the untaught start's principal directions, as SVDKMeans reads
    # them (0.967). 200 steps of a term with no pair, then the joint stage, had left every
    # node in one cluster (0.333).
    x, y = load_iris(return_X_y=True)
    graph = to_graph(x.astype(np.float32), np.zeros((2, 0), dtype=np.int64), y)
    with pytest.warns(UserWarning, match="no edges"):
        fitted = SCGCStar(n_clusters=3, random_state=0).fit(graph)
    baseline = SVDKMeans(3, random_state=0).fit(graph)
    assert evaluate(y, fitted.labels_)["acc"] == pytest.approx(
        evaluate(y, baseline.labels_)["acc"]) and evaluate(y, fitted.labels_)["acc"] > 0.9


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_clusters": 1}, "'n_clusters' parameter of SCGCStar must be an int in the range \\[2"),
        ({"n_clusters": 301}, "larger than the number of nodes"),
        ({"order": 0}, "'order' parameter of SCGCStar must be an int"),
        # bool is an Integral and a Real to Python: True had passed as 1.
        ({"embedding_dim": True}, "'embedding_dim' parameter .* Got True"),
        ({"propagation_steps": np.True_}, "'propagation_steps' parameter .* Got np.True_"),
        ({"tau": True}, "'tau' parameter .* Got True"),
        ({"tau": 0.0}, "'tau' parameter of SCGCStar must be a float in the range \\(0"),
        ({"lr": -1.0}, "'lr' parameter"),
        ({"alpha": float("nan")}, "'alpha' parameter"),
        ({"features": "pca"}, "'features' parameter .* Got 'pca'"),
        ({"pretrain": "magic"}, "'pretrain' parameter .* Got 'magic'"),
        ({"size_prior": "equal"}, "'size_prior' parameter .* Got 'equal'"),
        ({"pretrain_lr": "fast"}, "'pretrain_lr' parameter .* or a str among {'auto'}"),
        ({"pretrain_lr": 0.0}, "'pretrain_lr' parameter"),
        ({"start_whitening": 0.0}, "'start_whitening' parameter"),
        ({"start_whitening": "zca"}, "'start_whitening' parameter"),
        ({"pretrain_weight_decay": "ridge"}, "'pretrain_weight_decay' parameter"),
        ({"pretrain_weight_decay": -1e-4}, "'pretrain_weight_decay' parameter"),
        ({"hidden_dims": (15,)}, "at least 2 \\* out_features = 16"),
        ({"hidden_dims": (256,), "encoder": MLPConfig((32,), "tanh")}, "sigma"),
        ({"hidden_dims": (256,), "encoder": _FixedMLPConfig()},
         "_FixedMLPConfig cannot take \\(it has no from_linear"),
        ({"hidden_dims": (256,), "encoder": MPNNVNConfig(hidden_channels=15)},
         "hidden_channels must be at least 2"),
        ({"encoder": MLPConfig((16,))}, "encoder= replaces hidden_dims, which would be ignored"),
        ({"hidden_dims": (8, 0)}, "hidden_dims must be positive"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"device": "tpu"}, "device='tpu'"),
        # A backend this torch build lacks (the CPU wheel has no MPS): said, not torch's
        # own RuntimeError at the first tensor.
        pytest.param({"device": "mps"}, "device='mps' is not available here",
                     marks=pytest.mark.skipif(torch.backends.mps.is_available(),
                                              reason="this machine has MPS")),
    ],
)
def test_bad_parameters(params, message, sbm):
    est = SCGCStar(**{"n_clusters": 3, **FAST, **params})
    with pytest.raises(ValueError, match=message):
        est.fit(sbm)


def test_bad_inputs(sbm):
    est = SCGCStar(n_clusters=3, **FAST)
    x = sbm.x.numpy().copy()
    x[3, 2] = np.nan
    # A numpy matrix gets the rows named, as a tensor or Data does (not scikit-learn's
    # "Input contains NaN"), in fit with or without edges and in predict.
    named = r"X has NaN or inf values in 1 of \d+ rows \(first rows: \[3\]\)"
    with pytest.raises(ValueError, match=named):
        est.fit(x, adjacency=sbm.edge_index)
    with pytest.raises(ValueError, match=named):
        est.fit(x)
    for text in (sbm.x.numpy().astype(str), sbm.x.numpy().astype(str).astype(object)):
        with pytest.raises(TypeError, match="X holds text; features must be numbers"):
            est.fit(text, adjacency=sbm.edge_index)
    with pytest.raises(ValueError):
        est.fit(sbm.x.numpy()[:-1], adjacency=sbm.edge_index)
    fitted = SCGCStar(n_clusters=3, random_state=0, **FAST).fit(sbm)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(sbm.x.numpy()[:, :5])
    with pytest.raises(ValueError, match=named):
        fitted.predict(x)


def test_predict_before_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        SCGCStar().predict(np.ones((3, 2)))


def test_auto_pretrain_lr_depends_on_the_start():
    assert SCGCStar()._start_part().lr == 1e-2
    assert SCGCStar(pretrain="contrastive")._start_part().lr == 1e-3
    assert SCGCStar(pretrain="autoencoder")._start_part().lr == 1e-3
    assert SCGCStar(pretrain_lr=5e-4)._start_part().lr == 5e-4


def test_auto_pretrain_weight_decay_is_a_ridge_on_the_linear_start_only():
    assert SCGCStar()._start_part().weight_decay == 1e-4
    assert SCGCStar(pretrain="contrastive")._start_part().weight_decay == 0.0
    assert SCGCStar(pretrain="autoencoder")._start_part().weight_decay == 0.0
    assert SCGCStar(pretrain_weight_decay=0)._start_part().weight_decay == 0.0


def test_start_whitening_centres_and_evens_the_linear_start(sbm):
    def start_outputs(whitening):
        est = SCGCStar(n_clusters=3, random_state=0, start_whitening=whitening,
                       **{**FAST, "pretrain_epochs": 30, "max_epochs": 0}).fit(sbm)
        with torch.no_grad():
            z = est.encoder_(est.transform_.transform(sbm.x)).double()
        variances = torch.linalg.eigvalsh(torch.cov(z.T))
        # spread of the variances within a factor of 10 of the largest
        strong = variances[variances > variances[-1] / 10]
        return float(z.mean(0).norm() / z.norm(dim=1).mean()), float(strong[-1] / strong[0])

    trained_mean, trained_spread = start_outputs(None)
    mean, spread = start_outputs(0.3)
    assert mean < 1e-5 < 1e-3 < trained_mean
    # the strong directions' variances come closer together than the trained map's
    assert spread < trained_spread


def test_start_is_clustered_after_the_whitening(sbm):
    # With no joint stage the centres are the k-means start's: the means of their members'
    # embeddings, which the whitened encoder computes (whitening after k-means would not).
    est = SCGCStar(n_clusters=3, random_state=0, start_whitening=0.3,
                   **{**FAST, "pretrain_epochs": 30, "max_epochs": 0}).fit(sbm)
    embedding, centres = np.asarray(est.embedding_), np.asarray(est.cluster_centers_)
    for cluster in range(3):
        np.testing.assert_allclose(centres[cluster],
                                   embedding[est.labels_ == cluster].mean(0), atol=1e-5)


@pytest.mark.parametrize("pretrain", ["linear", "contrastive", "autoencoder"])
def test_pretrain_weight_decay_shrinks_the_start(pretrain, sbm):
    # The start's Adam receives the penalty: a strong one leaves smaller first-layer
    # weights than none (max_epochs=0: the encoder is the start itself).
    def first_layer_norm(weight_decay):
        est = SCGCStar(n_clusters=3, random_state=0, pretrain=pretrain,
                       pretrain_weight_decay=weight_decay,
                       **{**FAST, "pretrain_epochs": 30, "max_epochs": 0}).fit(sbm)
        return float(est.encoder_.layers[0].weight.norm())

    assert first_layer_norm(0.5) < 0.9 * first_layer_norm(0.0)
