"""Extras of the "embeddings" group: projection head, Starbucks matryoshka, fits with the
recursive weight-sharing encoders (their units: test_extras_weight_sharing.py) and the layer
diagnostics."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from graphclust import SCGCStar, evaluate
from graphclust.data import make_sbm
from graphclust.extras.diagnostics import (
    binned_entropy,
    binned_mutual_information,
    estimator_representations,
    information_plane,
    layer_representations,
    probe_layers,
    weight_statistics,
)
from graphclust.extras.matryoshka import (
    MatryoshkaMLP,
    MatryoshkaMLPConfig,
    prefix_kmeans,
    truncate_embedding,
)
from graphclust.extras.projection_head import ProjectedEncoder, ProjectionHeadConfig
from graphclust.extras.weight_sharing import (
    RecursiveMLPConfig,
)
from graphclust.io import load, save
from graphclust.kmeans import kmeans
from graphclust.objectives.contrastive import neighbor_contrastive_loss

FAST = {"max_epochs": 6, "pretrain": "contrastive", "pretrain_epochs": 3, "embedding_dim": 8}


@pytest.fixture(scope="module")
def sbm():
    return make_sbm(200, 3, 12, avg_degree=8, homophily=0.9, feature_signal=2.0,
                    random_state=0)


def ring_contrastive_loss(view: torch.Tensor) -> torch.Tensor:
    """The package's contrastive loss with each row's ring neighbours as positives."""
    n = view.shape[0]
    rows = torch.arange(n)
    anchor = torch.cat([rows, rows])
    candidate = torch.cat([(rows + 1) % n, (rows - 1) % n])
    return neighbor_contrastive_loss(view, view, anchor, candidate,
                                     torch.full((2 * n,), 0.5), 1.0, self_candidate=rows)


# ---------------------------------------------------------------- projection head
def test_projection_head_embedding_is_pre_projection():
    torch.manual_seed(0)
    module = ProjectionHeadConfig(hidden_dims=(16,), head_dims=(8,)).build(10, 6)
    assert isinstance(module, ProjectedEncoder)
    x = torch.randn(20, 10)
    z = module(x)
    torch.testing.assert_close(z, module.encoder(x))
    (view,) = module.contrastive_views(z)
    torch.testing.assert_close(view, module.head(z))
    assert not torch.allclose(view, z)
    # The embedding does not depend on g: the clustering term never trains the head.
    z.sum().backward()
    assert all(p.grad is None for p in module.head.parameters())


def test_projection_head_contrastive_gradient_reaches_head_and_encoder():
    torch.manual_seed(0)
    module = ProjectionHeadConfig(hidden_dims=(16,), head_dims=(8,)).build(10, 6)
    (view,) = module.contrastive_views(module(torch.randn(20, 10)))
    ring_contrastive_loss(view).backward()
    for part in (module.encoder, module.head):
        for parameter in part.parameters():
            assert parameter.grad is not None and parameter.grad.abs().sum() > 0


def test_projection_head_linear_head_and_bad_widths():
    module = ProjectionHeadConfig(head_dims=()).build(5, 4)
    assert [layer.weight.shape for layer in module.head.layers] == [(4, 4)]
    with pytest.raises(ValueError, match="head_dims"):
        ProjectionHeadConfig(head_dims=(0,)).build(5, 4)


# ---------------------------------------------------------------- matryoshka
def test_matryoshka_prefix_views_are_embedding_columns():
    torch.manual_seed(0)
    module = MatryoshkaMLPConfig(hidden_dims=(16,), dims=(2, 4, 8)).build(10, 8)
    z = module(torch.randn(30, 10))
    views = module.contrastive_views(z)
    assert [v.shape for v in views] == [(30, 2), (30, 4), (30, 8)]
    for view in views:
        assert torch.isfinite(view).all()
        torch.testing.assert_close(view, z[:, :view.shape[1]])


def test_matryoshka_sub_layer_views_use_the_shared_output_projection():
    torch.manual_seed(0)
    config = MatryoshkaMLPConfig(hidden_dims=(16, 16), dims=(2, 4, 8), layers=(1, 1, 2))
    module = config.build(10, 8)
    x = torch.randn(30, 10)
    z = module(x)
    views = module.contrastive_views(z)
    first_hidden = torch.relu(module.layers[0](x))
    sub_layer = module.layers[-1](first_hidden)  # layer 1, then the shared projection
    torch.testing.assert_close(views[0], sub_layer[:, :2])
    torch.testing.assert_close(views[1], sub_layer[:, :4])
    torch.testing.assert_close(views[2], z)
    assert all(torch.isfinite(v).all() for v in views)
    # The rows given to contrastive_views may be the leading rows of the forward pass.
    assert module.contrastive_views(z[:12])[0].shape == (12, 2)


def test_matryoshka_loss_reaches_every_view_and_only_its_prefix():
    torch.manual_seed(0)
    module = MatryoshkaMLPConfig(hidden_dims=(16, 16), dims=(2, 4, 8),
                                 layers=(1, 2, 2)).build(10, 8)
    z = module(torch.randn(30, 10))
    views = module.contrastive_views(z)
    for view in views:
        view.retain_grad()
    (sum(ring_contrastive_loss(v) for v in views) / len(views)).backward()
    assert all(view.grad.abs().sum() > 0 for view in views)

    # The one-layer view skips the second hidden layer and uses the shared projection.
    module.zero_grad()
    z = module(torch.randn(30, 10))
    ring_contrastive_loss(module.contrastive_views(z)[0]).backward()
    assert module.layers[1].weight.grad is None or not module.layers[1].weight.grad.any()
    assert module.layers[0].weight.grad.abs().sum() > 0
    assert module.layers[2].weight.grad[:2].abs().sum() > 0
    assert not module.layers[2].weight.grad[2:].any()  # rows of the unused columns

    single = MatryoshkaMLPConfig(hidden_dims=(16,), dims=(3,)).build(10, 8)
    z = single(torch.randn(30, 10))
    z.retain_grad()
    ring_contrastive_loss(single.contrastive_views(z)[0]).backward()
    assert z.grad[:, :3].abs().sum() > 0
    assert torch.count_nonzero(z.grad[:, 3:]) == 0


def test_matryoshka_bad_configurations():
    with pytest.raises(ValueError, match="embedding width"):
        MatryoshkaMLPConfig(dims=(2, 64)).build(10, 32)
    with pytest.raises(ValueError, match="same length"):
        MatryoshkaMLPConfig(hidden_dims=(16, 16), dims=(2, 4), layers=(1,)).build(10, 8)
    with pytest.raises(ValueError, match="between 1 and the 1 hidden"):
        MatryoshkaMLPConfig(hidden_dims=(16,), dims=(2,), layers=(2,)).build(10, 8)
    with pytest.raises(ValueError, match="equal hidden widths"):
        MatryoshkaMLPConfig(hidden_dims=(32, 16), dims=(2, 4), layers=(1, 2)).build(10, 8)
    with pytest.raises(ValueError, match="dims must be positive"):
        MatryoshkaMLPConfig(dims=(0, 4)).build(10, 8)
    module = MatryoshkaMLP([10, 16, 16, 8], [(1, 2)])
    with torch.no_grad():
        z = module(torch.randn(4, 10))
    with pytest.raises(RuntimeError, match="hidden states"):
        module.contrastive_views(z)


def test_truncate_embedding_and_prefix_kmeans():
    rng = np.random.default_rng(0)
    embedding = rng.normal(size=(40, 6)).astype(np.float32)
    prefix = truncate_embedding(embedding, 3)
    np.testing.assert_allclose(
        prefix, embedding[:, :3] / np.linalg.norm(embedding[:, :3], axis=1, keepdims=True),
        rtol=1e-5)
    labels = prefix_kmeans(embedding, 3, n_clusters=4, random_state=1, n_init=5)
    expected = kmeans(torch.from_numpy(prefix), 4, n_init=5,
                      generator=torch.Generator().manual_seed(1)).labels.numpy()
    np.testing.assert_array_equal(labels, expected)
    with pytest.raises(ValueError, match="dims must be an integer between 1 and"):
        truncate_embedding(embedding, 7)
    with pytest.raises(ValueError, match="n_clusters is required"):
        prefix_kmeans(embedding, 3)
    with pytest.raises(TypeError, match="random_state must be an integer, got NoneType"):
        prefix_kmeans(embedding, 3, n_clusters=4, random_state=None)
    with pytest.raises(TypeError, match="random_state must be an integer, got float"):
        prefix_kmeans(embedding, 3, n_clusters=4, random_state=1.7)  # had been read as 1
    with pytest.raises(ValueError, match="not fitted"):
        truncate_embedding(SCGCStar(), 2)
    with pytest.raises(ValueError, match="NaN"):
        truncate_embedding(np.full((3, 2), np.nan), 1)


# ---------------------------------------------------------------- estimator fits and io
CONFIGS = {
    "projection": ProjectionHeadConfig(hidden_dims=(32,), head_dims=(8,)),
    "matryoshka": MatryoshkaMLPConfig(hidden_dims=(32, 32), dims=(2, 4, 8), layers=(1, 2, 2)),
    "relaxed": RecursiveMLPConfig(hidden_dim=32, loops=2, lora_rank=2),
    "sliced": RecursiveMLPConfig(hidden_dim=32, loops=2, lora_rank=0, mode="sliced"),
}


@pytest.fixture(scope="module")
def fitted(sbm):
    """One short SCGC* fit per extra, shared by the tests below."""
    return {name: SCGCStar(n_clusters=3, encoder=config, random_state=0, **FAST).fit(sbm)
            for name, config in CONFIGS.items()}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_short_scgc_star_fit(name, fitted, sbm):
    estimator = fitted[name]
    assert estimator.embedding_.shape == (sbm.num_nodes, 8)
    assert np.isfinite(estimator.embedding_).all()
    assert evaluate(sbm.y.numpy(), estimator.labels_)["acc"] > 0.6


def test_save_load_round_trip(tmp_path, fitted, sbm):
    path = tmp_path / "model.graphclust"
    save(fitted["relaxed"], path)
    loaded = load(path)
    assert loaded.get_params()["encoder"] == CONFIGS["relaxed"]
    np.testing.assert_array_equal(loaded.predict(sbm.x), fitted["relaxed"].labels_)
    np.testing.assert_allclose(loaded.transform(sbm.x), fitted["relaxed"].embedding_,
                               rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- diagnostics
def test_binned_entropy_of_a_constructed_representation():
    patterns = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    t = patterns.repeat(3, 1)  # four symbols, equally frequent
    assert binned_entropy(t, bins=2) == pytest.approx(2.0)
    assert binned_entropy(t, bins=1) == pytest.approx(0.0)  # one bin: one symbol
    uneven = torch.tensor([[0.0], [0.0], [0.0], [1.0]])  # p = (3/4, 1/4)
    expected = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    assert binned_entropy(uneven, bins=4) == pytest.approx(expected)
    # Two bins over [0, 1]: 0.0 and 0.2 fall into the lower one, 0.6 and 1.0 the upper one.
    assert binned_entropy(torch.tensor([[0.0], [0.2], [0.6], [1.0]]), bins=2) == \
        pytest.approx(1.0)


def test_binned_mutual_information_with_labels():
    t = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]).repeat(2, 1)
    symbol = np.array([0, 1, 2, 3] * 2)
    assert binned_mutual_information(t, symbol, bins=2) == pytest.approx(2.0)
    assert binned_mutual_information(t, t[:, 0].long(), bins=2) == pytest.approx(1.0)
    assert binned_mutual_information(t, np.zeros(8, dtype=int), bins=2) == pytest.approx(0.0)
    rows = information_plane({"t": t}, symbol, bins=2)
    assert rows[0]["i_xt"] == pytest.approx(2.0) and rows[0]["max_bits"] == 3.0
    with pytest.raises(ValueError, match="bins"):
        binned_entropy(t, bins=0)
    with pytest.raises(ValueError, match="rows but there are"):
        binned_mutual_information(t, symbol[:5])
    with pytest.raises(ValueError, match="integer"):
        binned_mutual_information(t, symbol.astype(float))


def test_weight_statistics_hand_checked():
    identical = nn.Linear(4, 3, bias=False)
    identity = nn.Linear(4, 4, bias=False)
    with torch.no_grad():
        identical.weight.copy_(torch.tensor([1.0, -2.0, 0.5, 3.0]).repeat(3, 1))
        identity.weight.copy_(torch.eye(4))
    (row,) = weight_statistics(identical)
    assert row["shape"] == "3x4"
    assert row["redundancy"] == pytest.approx(1.0)  # identical rows: fully redundant
    assert row["sv_entropy"] == pytest.approx(0.0, abs=1e-6)  # rank one
    assert math.isnan(row["variance_entropy"])  # no variance between the rows
    assert row["sparsity"] == 0.0
    (row,) = weight_statistics(identity)
    assert row["redundancy"] == pytest.approx(0.0)
    assert row["sv_entropy"] == pytest.approx(1.0)
    with torch.no_grad():
        identity.weight[1:] = 1e-4  # three rows below 1% of the largest weight
    assert weight_statistics(identity)[0]["sparsity"] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="no nn.Linear"):
        weight_statistics(nn.ReLU())
    with pytest.raises(ValueError, match="sparsity_eps"):
        weight_statistics(identity, sparsity_eps=2.0)


def test_variance_entropy_is_normalised_by_the_rank_centring_leaves():
    torch.manual_seed(0)
    # Centred, two rows span one direction: no entropy to normalise (had read 0.000,
    # "structured", for random weights). Many random rows: near 1.
    assert math.isnan(weight_statistics(nn.Linear(1000, 2))[0]["variance_entropy"])
    assert weight_statistics(nn.Linear(1000, 16))[0]["variance_entropy"] > 0.95


def test_representations_read_the_packages_own_activations_and_keep_the_features(sbm):
    from graphclust.extras.activations import SquaredReLU

    module = nn.Sequential(nn.Linear(6, 5), SquaredReLU(), nn.Linear(5, 2))
    x = torch.randn(4, 6)
    # SquaredReLU had been passed over: the layer's output read before it.
    torch.testing.assert_close(layer_representations(module, x)["0"],
                               torch.relu(module[0](x)).square())
    from graphclust.extras.residual_mlp import ResidualMLPConfig

    model = SCGCStar(3, encoder=ResidualMLPConfig(hidden_dim=8, num_layers=1),
                     pretrain="contrastive", pretrain_epochs=1, max_epochs=1,
                     random_state=0).fit(sbm)
    # Its layer named "input" had replaced the features under that key.
    with pytest.raises(ValueError, match="layer named 'input'"):
        estimator_representations(model, sbm)
    assert "input" in estimator_representations(model, sbm, include_input=False)


def test_layer_representations_follow_the_layers():
    torch.manual_seed(0)
    module = MatryoshkaMLPConfig(hidden_dims=(16, 16), dims=(4,)).build(10, 8)
    module.train()
    x = torch.randn(12, 10)
    representations = layer_representations(module, x)
    assert list(representations) == ["layers.0", "layers.1", "layers.2"]
    torch.testing.assert_close(representations["layers.0"], torch.relu(module.layers[0](x)))
    torch.testing.assert_close(representations["layers.2"], module(x))
    assert module.training  # mode restored

    stack = RecursiveMLPConfig(hidden_dim=16, loops=2, lora_rank=0).build(10, 8)
    named = layer_representations(stack, x, layers=["stack.blocks.0", "output"])
    assert list(named) == ["stack.blocks.0@1", "stack.blocks.0@2", "output"]
    with pytest.raises(ValueError, match="not submodules"):
        layer_representations(stack, x, layers=["nope"])
    with pytest.raises(ValueError, match="no nn.Linear"):
        layer_representations(nn.ReLU(), x)


def test_probe_layers_on_a_fitted_estimator(fitted, sbm):
    estimator = fitted["matryoshka"]
    representations = estimator_representations(estimator, sbm)
    assert list(representations) == ["input", "layers.0", "layers.1", "layers.2"]
    labels = sbm.y.numpy()
    rows = probe_layers(representations, labels, random_state=3)
    assert [row["layer"] for row in rows] == ["input", "layers.0", "layers.1", "layers.2"]
    assert [row["width"] for row in rows] == [12, 32, 32, 8]
    embedding = torch.from_numpy(estimator.embedding_)
    final = kmeans(F.normalize(embedding, dim=1), 3, n_init=10,
                   generator=torch.Generator().manual_seed(3))
    assert rows[-1]["acc"] == pytest.approx(evaluate(labels, final.labels.numpy())["acc"])
    assert rows[-1]["nmi"] == pytest.approx(evaluate(labels, final.labels.numpy())["nmi"])
    plane = information_plane(representations, labels, bins=4)
    assert len(plane) == 4
    assert all(0 <= row["i_ty"] <= row["h_y"] + 1e-9 for row in plane)
    assert all(row["i_ty"] <= row["i_xt"] + 1e-9 <= row["max_bits"] + 1e-9 for row in plane)
    with pytest.raises(ValueError, match="not a fitted estimator"):
        estimator_representations(SCGCStar(), sbm)
