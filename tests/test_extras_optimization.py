"""Optimisation extras: TrAct first layer, muP, AugLocal-style local learning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graphclust import SCGCStar, evaluate
from graphclust.data import make_sbm
from graphclust.extras.local_learning import (
    LocalLearningMLP,
    LocalLearningMLPConfig,
    auxiliary_layer_indices,
)
from graphclust.extras.mup import MuPMLP, MuPMLPConfig
from graphclust.extras.tract import TrActLinear, TrActMLPConfig, tract_weight_gradient
from graphclust.io import load
from graphclust.nn import MLP, MLPConfig

# --------------------------------------------------------------------------- TrAct


def _dense_tract(grad_z: torch.Tensor, x: torch.Tensor, lam: float) -> torch.Tensor:
    """grad_z^T X (X^T X / b + lam I)^{-1} with an explicit inverse."""
    b, d = x.shape
    return grad_z.T @ x @ torch.linalg.inv(x.T @ x / b + lam * torch.eye(d, dtype=x.dtype))


@pytest.mark.parametrize("batch", [12, 4], ids=["primal", "kernel"])
def test_tract_weight_gradient_equals_dense_closed_form(batch):
    torch.manual_seed(0)
    x = torch.randn(batch, 6, dtype=torch.float64, requires_grad=True)
    target = torch.randn(batch, 3, dtype=torch.float64)
    layer = TrActLinear(6, 3, lam=0.1, dtype=torch.float64)
    plain = torch.nn.Linear(6, 3, dtype=torch.float64)
    plain.load_state_dict(layer.state_dict())

    def loss(module, inputs):
        return (torch.tanh(module(inputs)) - target).square().mean()

    z = plain(x)
    grad_z, = torch.autograd.grad((torch.tanh(z) - target).square().mean(), z)
    loss(layer, x).backward()
    expected_x_grad = x.grad.clone()
    x.grad = None
    loss(plain, x).backward()

    torch.testing.assert_close(layer.weight.grad, _dense_tract(grad_z, x.detach(), 0.1))
    torch.testing.assert_close(layer.bias.grad, plain.bias.grad)  # bias unchanged
    torch.testing.assert_close(expected_x_grad, x.grad)  # input gradient unchanged


@pytest.mark.parametrize("shape", [(5, 9), (9, 5)])
@pytest.mark.parametrize("relative_lam", [False, True])
def test_primal_and_kernel_forms_agree(shape, relative_lam):
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(*shape, generator=generator, dtype=torch.float64)
    grad_z = torch.randn(shape[0], 4, generator=generator, dtype=torch.float64)
    primal = tract_weight_gradient(grad_z, x, 0.3, relative_lam=relative_lam, form="primal")
    kernel = tract_weight_gradient(grad_z, x, 0.3, relative_lam=relative_lam, form="kernel")
    torch.testing.assert_close(primal, kernel)
    assert primal.shape == (4, shape[1])


def test_large_lambda_gives_the_plain_gradient_over_lambda():
    generator = torch.Generator().manual_seed(2)
    x = torch.randn(16, 5, generator=generator, dtype=torch.float64)
    grad_z = torch.randn(16, 3, generator=generator, dtype=torch.float64)
    lam = 1e7
    torch.testing.assert_close(lam * tract_weight_gradient(grad_z, x, lam), grad_z.T @ x,
                               rtol=1e-6, atol=1e-9)
    # ... while the paper's lambda = 0.1 changes its direction.
    tract = tract_weight_gradient(grad_z, x, 0.1).flatten()
    cosine = torch.nn.functional.cosine_similarity(tract, (grad_z.T @ x).flatten(), dim=0)
    assert cosine < 0.95


def test_relative_lambda_makes_the_update_scale_free():
    # With lambda relative to the mean eigenvalue, scaling X by s scales the weight
    # gradient by 1/s, so the pre-activation change X dW does not depend on s.
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(10, 4, generator=generator, dtype=torch.float64)
    grad_z = torch.randn(10, 2, generator=generator, dtype=torch.float64)
    base = tract_weight_gradient(grad_z, x, 0.1, relative_lam=True)
    scaled = tract_weight_gradient(grad_z, 7.0 * x, 0.1, relative_lam=True)
    torch.testing.assert_close(7.0 * scaled, base)
    absolute = tract_weight_gradient(grad_z, 7.0 * x, 0.1)
    assert not torch.allclose(7.0 * absolute, base)


def test_cholesky_factor_reused_for_the_same_input_and_refreshed_after_a_change():
    torch.manual_seed(4)
    layer = TrActLinear(5, 3, lam=0.1, dtype=torch.float64)
    x = torch.randn(20, 5, dtype=torch.float64)
    layer(x).sum().backward()
    first = layer._factor
    layer(x).sum().backward()
    assert layer._factor is first  # same tensor, unchanged: no refactorisation
    x.mul_(3.0)  # in place: the cached factor is stale
    layer.weight.grad = None
    layer(x).sum().backward()
    assert layer._factor is not first
    torch.testing.assert_close(layer.weight.grad, _dense_tract(torch.ones(20, 3).double(), x, 0.1))
    layer(x.clone()).sum()  # another tensor with equal values gets its own factor
    assert layer._factor.inputs is not x


def test_tract_mlp_config_builds_a_plain_mlp_with_a_tract_first_layer():
    torch.manual_seed(5)
    encoder = TrActMLPConfig(hidden_dims=(16,), lam=0.2).build(8, 4)
    torch.manual_seed(5)
    plain = MLPConfig(hidden_dims=(16,)).build(8, 4)
    assert isinstance(encoder.layers[0], TrActLinear) and encoder.layers[0].lam == 0.2
    assert not isinstance(encoder.layers[1], TrActLinear)
    assert encoder.state_dict().keys() == plain.state_dict().keys()
    x = torch.randn(32, 8)
    with torch.no_grad():
        torch.testing.assert_close(encoder(x), plain(x))  # same function, same seed
    # Training with TrAct fits a linear target.
    target = x @ torch.randn(8, 4)
    optimizer = torch.optim.Adam(encoder.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        loss = (encoder(x) - target).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]


def test_tract_bad_input():
    with pytest.raises(ValueError, match="lam must be > 0"):
        TrActLinear(3, 2, lam=0.0)
    with pytest.raises(ValueError, match="lam must be finite"):  # an all-zero gradient
        TrActLinear(3, 2, lam=float("inf"))
    with pytest.raises(TypeError, match="lam must be a real number, got bool"):
        TrActMLPConfig(lam=True).build(3, 2)
    with pytest.raises(TypeError, match="relative_lam must be True or False"):
        TrActMLPConfig(relative_lam="yes").build(3, 2)
    with pytest.raises(ValueError, match="unknown form"):
        tract_weight_gradient(torch.ones(2, 1), torch.ones(2, 3), form="dual")
    with pytest.raises(ValueError, match="rows"):
        tract_weight_gradient(torch.ones(2, 1), torch.ones(3, 3))
    with pytest.raises(ValueError, match="matrices"):
        tract_weight_gradient(torch.ones(2, 1, 1), torch.ones(2, 3))
    with pytest.raises(ValueError, match="batch, features"):
        TrActLinear(3, 2)(torch.ones(2, 2, 3))
    with pytest.raises(TypeError, match="torch.nn.Linear"):
        TrActLinear.from_linear(torch.nn.Conv1d(3, 2, 1))
    with pytest.raises(ValueError, match="hidden_dims"):
        TrActMLPConfig(hidden_dims=(0,)).build(3, 2)


# --------------------------------------------------------------------------- muP


def test_mup_parameter_groups_have_the_table_learning_rates():
    encoder = MuPMLPConfig(hidden_dims=(256, 512), base_width=64).build(10, 4)
    lr = 1e-3
    groups = encoder.parameter_groups(lr)
    rates = {id(p): group["lr"] for group in groups for p in group["params"]}
    assert len(rates) == sum(len(group["params"]) for group in groups)  # no duplicates
    assert set(rates) == {id(p) for p in encoder.parameters()}  # every parameter once
    first, hidden, output = encoder.layers
    assert rates[id(first.weight)] == lr  # input layer: unchanged
    assert rates[id(hidden.weight)] == pytest.approx(lr * 64 / 256)  # fan-in 256
    assert rates[id(output.weight)] == pytest.approx(lr * 64 / 512)  # fan-in 512
    assert all(rates[id(layer.bias)] == lr for layer in encoder.layers)


def test_mup_at_the_base_width_is_the_plain_mlp():
    torch.manual_seed(6)
    mup = MuPMLPConfig(hidden_dims=(64, 64), base_width=64).build(10, 4)
    torch.manual_seed(6)
    plain = MLPConfig(hidden_dims=(64, 64)).build(10, 4)
    for (name, a), (_, b) in zip(mup.state_dict().items(), plain.state_dict().items(),
                                 strict=True):
        torch.testing.assert_close(a, b, msg=name)
    assert {group["lr"] for group in mup.parameter_groups(3e-4)} == {3e-4}


def test_mup_output_initialisation_variance():
    torch.manual_seed(7)
    width, base = 2048, 64
    encoder = MuPMLP([50, width, 64], base_width=base)
    output_std = encoder.layers[-1].weight.std().item()
    assert output_std == pytest.approx((base / (3 * width**2)) ** 0.5, rel=0.05)
    assert encoder.layers[0].weight.std().item() == pytest.approx((1 / 150) ** 0.5, rel=0.05)
    encoder.reset_parameters()  # keeps the muP scaling
    assert encoder.layers[-1].weight.std().item() == pytest.approx(output_std, rel=0.05)


def _hidden_change(width: int, use_mup: bool, lr: float = 1e-3, steps: int = 3) -> float:
    """RMS change of the last hidden layer's activations after a few Adam steps."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 32, generator=generator)
    target = torch.randn(64, 8, generator=generator)
    torch.manual_seed(0)
    dims = [32, width, width, 8]
    encoder = MuPMLP(dims, base_width=64) if use_mup else MLP(dims)
    groups = encoder.parameter_groups(lr) if use_mup else encoder.parameters()
    optimizer = torch.optim.Adam(groups, lr=lr)

    def last_hidden():
        with torch.no_grad():
            h = x
            for layer in encoder.layers[:-1]:
                h = encoder.activation(layer(h))
            return h

    before = last_hidden()
    for _ in range(steps):
        loss = (encoder(x) - target).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return (last_hidden() - before).square().mean().sqrt().item()


def test_mup_coordinate_check_hidden_updates_do_not_grow_with_width():
    mup_ratio = _hidden_change(1024, True) / _hidden_change(64, True)
    sp_ratio = _hidden_change(1024, False) / _hidden_change(64, False)
    assert 0.5 < mup_ratio < 2.0
    assert sp_ratio > 3.0  # standard parametrisation: updates grow with the width


def test_mup_bad_input():
    with pytest.raises(ValueError, match="base_width must be an integer >= 1"):
        MuPMLPConfig(base_width=0).build(5, 2)
    with pytest.raises(TypeError, match="base_width must be an integer, got float"):
        MuPMLPConfig(base_width=64.0).build(5, 2)
    with pytest.raises(ValueError, match="at least one hidden layer"):
        MuPMLPConfig(hidden_dims=()).build(5, 2)
    with pytest.raises(ValueError, match="hidden_dims"):
        MuPMLPConfig(hidden_dims=(-3,)).build(5, 2)


# --------------------------------------------------------------------------- local learning


def _grads(module: torch.nn.Module) -> list[torch.Tensor | None]:
    return [p.grad for p in module.parameters()]


def test_final_loss_does_not_reach_the_first_block():
    torch.manual_seed(8)
    encoder = LocalLearningMLPConfig(hidden_dims=(8, 8)).build(6, 4)
    z = encoder(torch.randn(10, 6))
    views = encoder.contrastive_views(z)
    views[0].square().sum().backward()
    first, last, output = encoder.layers
    assert all(g is None for g in _grads(first))
    assert all(g is None for g in _grads(encoder.aux_heads))
    assert all(g is not None and g.abs().sum() > 0 for g in _grads(last) + _grads(output))


def test_each_block_learns_from_its_own_auxiliary_head():
    torch.manual_seed(9)
    encoder = LocalLearningMLPConfig(hidden_dims=(8, 8, 8)).build(6, 4)
    x = torch.randn(10, 6)
    for block in range(2):
        encoder.zero_grad(set_to_none=True)
        views = encoder.contrastive_views(encoder(x))
        views[1 + block].square().sum().backward()
        for index, layer in enumerate(encoder.layers):
            got_gradient = layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
            assert got_gradient == (index == block), (block, index)
        assert all(g is not None for g in _grads(encoder.aux_heads[block]))
        assert all(g is None for g in _grads(encoder.aux_heads[1 - block]))


def test_views_shapes_and_leading_rows():
    encoder = LocalLearningMLPConfig(hidden_dims=(8, 8, 8)).build(6, 4)
    z = encoder(torch.randn(10, 6))
    views = encoder.contrastive_views(z)
    assert [tuple(v.shape) for v in views] == [(10, 4)] * 3
    z = encoder(torch.randn(10, 6))
    assert [tuple(v.shape) for v in encoder.contrastive_views(z[:3])] == [(3, 4)] * 3
    with pytest.raises(RuntimeError, match="forward pass"):
        encoder.contrastive_views(z)  # each forward pass's outputs are used once


def test_auxiliary_heads_copy_uniformly_spaced_later_layers():
    assert auxiliary_layer_indices(0, 4, 2) == [2, 3]
    assert auxiliary_layer_indices(1, 4, 2) == [2, 3]  # as many as remain
    assert auxiliary_layer_indices(0, 7, 2) == [3, 6]
    assert auxiliary_layer_indices(0, 4, 0) == []
    encoder = LocalLearningMLP([5, 10, 20, 30, 40, 3], aux_depth=2)
    assert [head.dims for head in encoder.aux_heads] == [
        (10, 30, 40, 3), (20, 30, 40, 3), (30, 40, 3)]
    linear_heads = LocalLearningMLP([5, 10, 20, 3], aux_depth=0)
    assert [head.dims for head in linear_heads.aux_heads] == [(10, 3)]
    # Fresh parameters: no storage shared with the main network.
    main = {p.data_ptr() for p in encoder.layers.parameters()}
    assert main.isdisjoint(p.data_ptr() for p in encoder.aux_heads.parameters())


def test_local_learning_inference_is_the_plain_mlp():
    torch.manual_seed(10)
    encoder = LocalLearningMLPConfig(hidden_dims=(8, 8)).build(6, 4)
    plain = MLP([6, 8, 8, 4])
    plain.load_state_dict({k: v for k, v in encoder.state_dict().items()
                           if k.startswith("layers.")})
    x = torch.randn(10, 6)
    with torch.no_grad():
        torch.testing.assert_close(encoder(x), plain(x))
    torch.testing.assert_close(encoder(x), plain(x))  # detaching changes no values


def test_local_learning_bad_input():
    with pytest.raises(ValueError, match="at least two hidden layers"):
        LocalLearningMLPConfig(hidden_dims=(8,)).build(6, 4)
    with pytest.raises(ValueError, match="aux_depth"):
        LocalLearningMLPConfig(aux_depth=-1).build(6, 4)
    with pytest.raises(ValueError, match="aux_depth"):
        LocalLearningMLPConfig(aux_depth=1.5).build(6, 4)
    with pytest.raises(ValueError, match="block must be"):
        auxiliary_layer_indices(3, 4, 1)


# --------------------------------------------------------------------------- estimator

_FAST = {"max_epochs": 12, "pretrain": "contrastive", "pretrain_epochs": 5, "embedding_dim": 8}
_CONFIGS = [TrActMLPConfig(hidden_dims=(32,)), MuPMLPConfig(hidden_dims=(32,), base_width=16),
            LocalLearningMLPConfig(hidden_dims=(32, 32))]


@pytest.fixture(scope="module")
def sbm():
    return make_sbm(240, 3, 16, avg_degree=8, homophily=0.9, feature_signal=1.5,
                    random_state=0)


@pytest.mark.parametrize("config", _CONFIGS, ids=["tract", "mup", "local"])
def test_scgc_star_fits_and_round_trips(config, sbm, tmp_path):
    estimator = SCGCStar(n_clusters=3, encoder=config, random_state=0, **_FAST).fit(sbm)
    assert evaluate(sbm.y.numpy(), estimator.labels_)["acc"] > 0.8
    path = tmp_path / "model.graphclust"
    estimator.save(path)
    loaded = load(path)
    assert loaded.encoder == config
    np.testing.assert_array_equal(loaded.predict(sbm.x), estimator.labels_)
    np.testing.assert_allclose(loaded.transform(sbm), estimator.embedding_, rtol=1e-5,
                               atol=1e-6)
