"""Extras of the "sparsity" group: group sparse envelope pruning, Net2Net growth and
critical initialisation."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

from graphclust import SCGCStar
from graphclust.data import make_sbm
from graphclust.extras.criticality import CRITICAL_INIT, CriticalMLPConfig, critical_init_
from graphclust.extras.group_sparsity import (
    GroupSparseMLP,
    GroupSparseMLPConfig,
    envelope_prox_factors,
    group_sparse_envelope,
)
from graphclust.extras.net2net import deepen, grow_estimator, widen
from graphclust.io import load
from graphclust.nn import MLP, MLPConfig


def _k_support_reference(v: torch.Tensor, k: int) -> float:
    """Half the squared k-support norm by Argyriou, Foygel and Srebro's closed form
    (Prop. 2.1), written independently of the module's breakpoint solver."""
    s = sorted(v.tolist(), reverse=True)
    for r in range(k):
        tail = sum(s[k - r - 1:])
        before = math.inf if k - r - 2 < 0 else s[k - r - 2]
        if before > tail / (r + 1) >= s[k - r - 1]:
            return 0.5 * (sum(x * x for x in s[:k - r - 1]) + tail * tail / (r + 1))
    raise AssertionError("no r satisfies the closed form's condition")


# ---------------------------------------------------------------- group sparse envelope
def test_envelope_matches_k_support_closed_form():
    generator = torch.Generator().manual_seed(0)
    for k in (1, 2, 5, 9, 12):
        v = torch.rand(12, generator=generator, dtype=torch.float64)
        assert group_sparse_envelope(v, k).item() == pytest.approx(_k_support_reference(v, k))


def test_envelope_ends_and_sparse_points():
    v = torch.tensor([3.0, 1.0, 0.5, 0.25], dtype=torch.float64)
    assert group_sparse_envelope(v, 1).item() == pytest.approx(0.5 * v.sum().item() ** 2)
    assert group_sparse_envelope(v, 4).item() == pytest.approx(0.5 * v.square().sum().item())
    # On k-sparse points the envelope is the function it relaxes, 1/2 ||x||^2 ...
    sparse = torch.tensor([0.0, 2.0, 0.0, 1.0], dtype=torch.float64)
    assert group_sparse_envelope(sparse, 2).item() == pytest.approx(2.5)
    # ... and elsewhere it lies above it (it is half a squared norm >= the l2 norm).
    assert group_sparse_envelope(v, 2).item() > 0.5 * v.square().sum().item()


@pytest.mark.parametrize("k", [1, 3, 7])
@pytest.mark.parametrize("strength", [0.01, 0.3, 2.0])
def test_prox_minimises_its_objective(k, strength):
    generator = torch.Generator().manual_seed(k)
    x = torch.randn(10, generator=generator, dtype=torch.float64)  # groups of size one
    factors = envelope_prox_factors(x.abs(), k, strength)
    u = factors * x

    def objective(candidate):
        return (0.5 * (candidate - x).square().sum()
                + strength * group_sparse_envelope(candidate.abs(), k)).item()

    best = objective(u)
    for scale in (1e-4, 1e-2, 1e-1):
        for _ in range(50):
            step = scale * torch.randn(10, generator=generator, dtype=torch.float64)
            assert objective(u + step) >= best - 1e-12
    assert int((factors == 0).sum()) <= 10 - k  # the prox never removes more than m - k
    assert float(factors.max()) <= 1 / (1 + strength) + 1e-12


def test_tiny_groups_beside_saturated_ones_leave_the_envelope_exact():
    # The solver's slope had been a running sum of +v and -v over the breakpoints: once
    # the large groups saturated, what remained was their rounding noise, not the tiny
    # groups' norms (the envelope came out 0.0, not 2.5).
    v = torch.tensor([2.0, 1.0, 1e-16, 1e-17], dtype=torch.float64)
    assert group_sparse_envelope(v, 2).item() == pytest.approx(2.5)
    norms = torch.tensor([0.5839505, 0.0031711554, 1.1272792e-18, 0.019529056,
                          4.3463624e-18, 7.302196e-05], dtype=torch.float64)
    factors = envelope_prox_factors(norms, 3, 1e-3)
    assert factors[2] == 0 and factors[4] == 0  # theta_j = clip(v_j t - lambda, 0, 1)
    theta = factors * 1e-3 / (1 - factors)
    assert float(theta.sum()) == pytest.approx(3.0, abs=1e-9)


def test_the_band_sums_to_k_and_grows_with_the_norm_over_many_scales():
    from graphclust.extras.group_sparsity import _envelope_theta

    generator = torch.Generator().manual_seed(0)
    for trial in range(400):
        m = int(torch.randint(3, 12, (1,), generator=generator))
        norms = 10 ** (torch.rand(m, generator=generator, dtype=torch.float64) * 19 - 18)
        k = int(torch.randint(1, m, (1,), generator=generator))
        shift = 0.0 if trial % 2 else float(torch.rand(1, generator=generator))
        theta = _envelope_theta(norms, k, shift)
        assert float(theta.sum()) == pytest.approx(k, abs=1e-9), (norms, k, shift)
        assert bool((theta[norms.argsort()].diff() >= -1e-12).all()), (norms, k, shift)


def test_prox_of_zero_strength_is_identity_and_zeroes_small_groups_otherwise():
    norms = torch.tensor([5.0, 4.0, 0.01, 0.02, 3.0])
    assert torch.equal(envelope_prox_factors(norms, 3, 0.0), torch.ones(5))
    factors = envelope_prox_factors(norms, 3, 0.5)
    assert torch.equal(factors[2:4], torch.zeros(2))
    assert bool((factors[[0, 1, 4]] > 0).all())


def _train(module: nn.Module, steps: int, seed: int = 0) -> None:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(64, module.mlp.in_channels, generator=generator)
    y = torch.randn(64, module.mlp.out_channels, generator=generator)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-2)
    for _ in range(steps):
        loss = (module(x) - y).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            module.after_optimizer_step()


def test_training_reaches_the_requested_zero_units_exactly_and_keeps_them():
    torch.manual_seed(0)
    module = GroupSparseMLPConfig(hidden_dims=(32, 20), sparsity=0.5, ramp_steps=10).build(8, 4)
    assert isinstance(module, GroupSparseMLP)
    _train(module, 4)
    assert all(0 < zeros < target for zeros, target in zip(module.zero_groups(), (16, 10),
                                                            strict=True))
    _train(module, 6, seed=1)
    assert module.zero_groups() == (16, 10)
    zero_units = [norms == 0 for norms in module.group_norms()]
    _train(module, 20, seed=2)  # Adam's moments would move them; the prox keeps them at 0
    assert module.zero_groups() == (16, 10)
    for before, norms in zip(zero_units, module.group_norms(), strict=True):
        assert torch.equal(before, norms == 0)


def test_sparsity_as_a_number_of_units_and_at_once():
    torch.manual_seed(0)
    module = GroupSparseMLPConfig(hidden_dims=(12, 9), sparsity=4, ramp_steps=0).build(5, 3)
    _train(module, 1)
    assert module.zero_groups() == (4, 4)


def test_compact_removes_zero_units_and_keeps_the_function():
    torch.manual_seed(0)
    module = GroupSparseMLPConfig(hidden_dims=(32, 20), sparsity=0.5, ramp_steps=3,
                                  activation="tanh").build(8, 4)
    _train(module, 5)
    compact = module.compact()
    assert isinstance(compact, MLP)
    assert compact.dims == (8, 16, 10, 4)
    x = torch.randn(50, 8)
    torch.testing.assert_close(compact(x), module(x), atol=1e-6, rtol=0)


@pytest.mark.parametrize("kwargs", [
    {"sparsity": 1.0}, {"sparsity": -0.1}, {"sparsity": True}, {"sparsity": "half"},
    {"sparsity": 256}, {"strength": -1.0}, {"strength": float("nan")},
    {"ramp_steps": -1}, {"hidden_dims": ()}, {"hidden_dims": (0,)},
])
def test_group_sparse_config_rejects_bad_values(kwargs):
    with pytest.raises(ValueError):
        GroupSparseMLPConfig(**kwargs)


def test_group_sparse_config_rejects_a_fractional_ramp():
    with pytest.raises(TypeError, match="ramp_steps must be an integer, got float"):
        GroupSparseMLPConfig(ramp_steps=2.5)


def test_envelope_functions_reject_bad_values():
    with pytest.raises(ValueError, match="norms"):
        group_sparse_envelope(torch.tensor([1.0, -1.0]), 1)
    with pytest.raises(ValueError, match="norms"):
        group_sparse_envelope(torch.ones(2, 2), 1)
    with pytest.raises(ValueError, match="k must"):
        group_sparse_envelope(torch.ones(3), 4)
    with pytest.raises(ValueError, match="strength"):
        envelope_prox_factors(torch.ones(3), 1, -0.5)


# ---------------------------------------------------------------- Net2Net
def _mlp(dims, activation="relu", seed=0) -> MLP:
    torch.manual_seed(seed)
    return MLP(dims, activation)


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
def test_widen_preserves_the_function(activation):
    mlp = _mlp([6, 5, 7, 3], activation)
    generator = torch.Generator().manual_seed(1)
    wider = widen(widen(mlp, 0, 12, generator=generator), 1, 15, generator=generator)
    assert wider.dims == (6, 12, 15, 3) and mlp.dims == (6, 5, 7, 3)  # the original stays
    x = torch.randn(40, 6)
    torch.testing.assert_close(wider(x), mlp(x), atol=1e-5, rtol=0)


def test_widen_noise_keeps_the_function_and_breaks_the_symmetry():
    mlp = _mlp([6, 4, 3])
    wider = widen(mlp, 0, 10, generator=torch.Generator().manual_seed(0), noise=0.1)
    x = torch.randn(40, 6)
    torch.testing.assert_close(wider(x), mlp(x), atol=1e-5, rtol=0)
    incoming, outgoing = wider.layers[0].weight, wider.layers[1].weight
    copies = [(i, j) for i in range(10) for j in range(i + 1, 10)
              if torch.equal(incoming[i], incoming[j])]
    assert copies  # 6 new units among 4 sources: some rows are copies
    assert all(not torch.equal(outgoing[:, i], outgoing[:, j]) for i, j in copies)


def test_deepen_preserves_the_function():
    mlp = _mlp([6, 5, 7, 3])
    deeper = deepen(deepen(mlp, 1), 0)
    assert deeper.dims == (6, 5, 5, 7, 7, 3) and len(deeper.layers) == 5
    x = torch.randn(40, 6)
    torch.testing.assert_close(deeper(x), mlp(x), atol=1e-5, rtol=0)


def test_grown_networks_get_gradients():
    mlp = _mlp([6, 5, 3])
    grown = deepen(widen(mlp, 0, 9, generator=torch.Generator().manual_seed(0), noise=0.05), 0)
    x = torch.randn(40, 6)
    grown(x).square().sum().backward()
    for name, parameter in grown.named_parameters():
        assert parameter.grad is not None and bool(torch.isfinite(parameter.grad).all()), name
    assert bool(grown.layers[0].weight.grad[5:].abs().sum(1).gt(0).all())  # the new units
    assert grown.layers[1].weight.grad.abs().sum() > 0  # the inserted identity layer


def test_net2net_rejects_bad_input():
    mlp = _mlp([6, 5, 3])
    with pytest.raises(ValueError, match="hidden layer"):
        widen(mlp, 1, 8)
    with pytest.raises(ValueError, match="new_width"):
        widen(mlp, 0, 4)
    with pytest.raises(ValueError, match="noise"):
        widen(mlp, 0, 8, noise=-1.0)
    with pytest.raises(ValueError, match="no hidden layer"):
        widen(_mlp([6, 3]), 0, 8)
    with pytest.raises(TypeError, match="graphclust.nn.MLP"):
        widen(nn.Linear(3, 3), 0, 8)
    with pytest.raises(ValueError, match="ReLU"):
        deepen(_mlp([6, 5, 3], "tanh"), 0)
    with pytest.raises(ValueError, match="hidden layer"):
        deepen(mlp, True)


# ---------------------------------------------------------------- criticality
def _preactivation_variances(activation: str, critical: bool, networks: int = 8,
                             depth: int = 20, width: int = 256) -> np.ndarray:
    """Per-layer preactivation second moment, averaged over independent initialisations
    (the networks run side by side as one batched product per layer)."""
    generator = torch.Generator().manual_seed(0)
    mlps = []
    for seed in range(networks):
        torch.manual_seed(seed)
        mlp = MLP([width] * (depth + 1), activation)
        mlps.append(critical_init_(mlp, activation, generator=generator) if critical else mlp)
    h = torch.randn(networks, 64, width, generator=generator)
    moments = []
    with torch.no_grad():
        for index in range(depth):
            weight = torch.stack([mlp.layers[index].weight for mlp in mlps])
            bias = torch.stack([mlp.layers[index].bias for mlp in mlps])
            z = torch.baddbmm(bias[:, None, :], h, weight.transpose(1, 2))
            moments.append(z.square().mean().item())
            h = mlps[0].activation(z)
    return np.array(moments)


def test_critical_relu_keeps_the_variance_and_the_default_init_loses_it():
    critical = _preactivation_variances("relu", critical=True)
    assert 0.5 <= critical[-1] / critical[0] <= 2.0
    default = _preactivation_variances("relu", critical=False)
    assert default[-1] / default[0] < 1e-2


def test_critical_tanh_decays_as_the_power_law():
    critical = _preactivation_variances("tanh", critical=True)
    depth = len(critical)
    # K^(l) ~ 1 / (2 l) at criticality for tanh (power law, not exponential).
    assert 0.5 <= critical[-1] * 2 * depth <= 2.0


def test_critical_init_statistics_and_config():
    torch.manual_seed(0)
    mlp = CriticalMLPConfig(hidden_dims=(400, 400), activation="relu").build(300, 20)
    assert isinstance(mlp, MLP) and mlp.dims == (300, 400, 400, 20)
    for layer in mlp.layers:
        expected = math.sqrt(CRITICAL_INIT["relu"][0] / layer.in_features)
        assert layer.weight.std().item() == pytest.approx(expected, rel=0.05)
        assert torch.equal(layer.bias, torch.zeros_like(layer.bias))
    # reset_parameters draws at criticality again; torch's default had come back before.
    for layer in mlp.layers:
        nn.init.normal_(layer.bias)
    mlp.reset_parameters()
    hidden = mlp.layers[1]
    assert hidden.weight.std().item() == pytest.approx(
        math.sqrt(CRITICAL_INIT["relu"][0] / 400), rel=0.05)
    assert torch.equal(hidden.bias, torch.zeros_like(hidden.bias))
    assert mlp.accepts_sparse_rows  # MLP's own forward reads sparse rows as before


def test_criticality_rejects_bad_input():
    with pytest.raises(ValueError, match="critical"):
        critical_init_(MLP([3, 4, 2], "gelu"), "gelu")
    with pytest.raises(ValueError, match="no nn.Linear"):
        critical_init_(nn.ReLU(), "relu")
    with pytest.raises(ValueError, match="activation"):
        CriticalMLPConfig(activation="elu")
    with pytest.raises(ValueError, match="hidden_dims"):
        CriticalMLPConfig(hidden_dims=(64, -1))


# ---------------------------------------------------------------- with an estimator
@pytest.fixture(scope="module")
def sbm():
    return make_sbm(150, 3, 24, avg_degree=6.0, homophily=0.9, random_state=0)


def _fit(graph, encoder):
    return SCGCStar(3, encoder=encoder, max_epochs=8, pretrain="contrastive", pretrain_epochs=6,
                    random_state=0, device="cpu").fit(graph)


_SPARSE = GroupSparseMLPConfig(hidden_dims=(40,), sparsity=0.25, ramp_steps=6)


@pytest.fixture(scope="module")
def sparse_model(sbm):
    return _fit(sbm, _SPARSE)


@pytest.fixture(scope="module")
def plain_model(sbm):
    return _fit(sbm, MLPConfig(hidden_dims=(16,)))


def test_scgc_star_with_group_sparsity_fits_saves_and_loads(sbm, sparse_model, tmp_path):
    assert sparse_model.encoder_.zero_groups() == (10,)
    sparse_model.save(tmp_path / "sparse.graphclust")
    loaded = load(tmp_path / "sparse.graphclust")
    assert loaded.encoder == _SPARSE
    assert loaded.encoder_.zero_groups() == (10,)
    np.testing.assert_array_equal(loaded.predict(sbm), sparse_model.predict(sbm))


def test_scgc_star_with_critical_init_fits(sbm):
    model = _fit(sbm, CriticalMLPConfig(hidden_dims=(32, 32)))
    assert model.labels_.shape == (150,)
    assert model.encoder_.dims == (24, 32, 32, 32)


def test_grow_estimator_keeps_predictions_and_round_trips(sbm, plain_model, tmp_path):
    labels, embedding = plain_model.predict(sbm), plain_model.transform(sbm)
    model = grow_estimator(plain_model, (48,), random_state=0, noise=0.1)
    assert plain_model.encoder_.dims == (24, 16, 32)  # the original is left as it was
    assert plain_model.encoder == MLPConfig(hidden_dims=(16,))
    assert model.encoder_.dims == (24, 48, 32)
    assert model.encoder == MLPConfig(hidden_dims=(48,))
    np.testing.assert_array_equal(model.predict(sbm), labels)
    np.testing.assert_allclose(model.transform(sbm), embedding, atol=1e-5)
    model.save(tmp_path / "grown.graphclust")
    np.testing.assert_array_equal(load(tmp_path / "grown.graphclust").predict(sbm), labels)


def test_grown_default_encoder_is_described_by_hidden_dims(sbm):
    # The parameters describe the grown model: refitting trains that architecture.
    small = SCGCStar(3, hidden_dims=(16,), max_epochs=8, pretrain="contrastive",
                     pretrain_epochs=6, random_state=0, device="cpu").fit(sbm)
    grown = grow_estimator(small, (32,), random_state=0)
    assert grown.encoder is None and grown.hidden_dims == (32,)
    assert grown.encoder_.dims == grown.fit(sbm).encoder_.dims


def test_grow_estimator_rejects_bad_input(plain_model, sparse_model):
    model = copy.deepcopy(plain_model)
    with pytest.raises(ValueError, match="one width per hidden layer"):
        grow_estimator(model, (32, 32))
    with pytest.raises(ValueError, match="new_width"):
        grow_estimator(model, (8,))
    with pytest.raises(TypeError, match="random_state must be None or an integer"):
        grow_estimator(model, (32,), random_state="seed")
    with pytest.raises(TypeError, match="plain MLP"):
        grow_estimator(copy.deepcopy(sparse_model), (48,))
