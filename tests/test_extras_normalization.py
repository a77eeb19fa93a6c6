"""Norm placements, activations and fusion of graphclust.extras: their defining properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from graphclust import SCGCStar, load_dataset
from graphclust.extras.activations import (
    SquaredReLU,
    TopK,
    activation_sparsity,
    resolve_topk,
    squared_relu,
    topk_activations,
    watched_forward,
)
from graphclust.extras.fusion import DepthFusion
from graphclust.extras.normalization import (
    NORM_PLACEMENTS,
    PeriNormResidual,
    PRepBN,
    PRepBNResidual,
    ScaledPreNormResidual,
    advance_norm_schedules,
    norm_placement,
)
from graphclust.extras.residual_mlp import ResidualMLP, ResidualMLPConfig
from graphclust.io import load
from graphclust.nn import MLP
from graphclust.nn.residual import PostNormResidual, PreNormResidual, residual_sublayer

_FIT = {"max_epochs": 3, "pretrain": "contrastive", "pretrain_epochs": 2, "embedding_dim": 4,
        "random_state": 0}


def _layer_norm(h, norm: nn.LayerNorm):
    """LayerNorm written out: (h - mean) / sqrt(var + eps) * weight + bias."""
    mean = h.mean(-1, keepdim=True)
    variance = h.var(-1, unbiased=False, keepdim=True)
    return (h - mean) / torch.sqrt(variance + norm.eps) * norm.weight + norm.bias


def _randomise(module: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial values in every parameter (LayerNorm starts as the identity affine)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator))
    return module


@pytest.fixture(scope="module")
def karate():
    return load_dataset("karate")


# ---------------------------------------------------------------- placements
def test_peri_ln_is_input_and_output_normalised_residual():
    torch.manual_seed(0)
    sublayer = nn.Linear(6, 6)
    block = _randomise(PeriNormResidual(sublayer, 6))
    h = torch.randn(5, 6) * 3 + 1
    expected = h + _layer_norm(sublayer(_layer_norm(h, block.norm_in)), block.norm_out)
    torch.testing.assert_close(block(h), expected)
    assert block.norm_in is not block.norm_out


@pytest.mark.parametrize("layer_index", [1, 2, 4, 9])
def test_scaled_ln_damps_the_normalised_input_by_root_depth(layer_index):
    torch.manual_seed(0)
    block = _randomise(ScaledPreNormResidual(nn.Identity(), 6, layer_index))
    h = torch.randn(5, 6)
    update = block(h) - h  # f = identity: the update is the scaled normalised input
    torch.testing.assert_close(update, _layer_norm(h, block.norm) / math.sqrt(layer_index))
    assert block.scale == pytest.approx(1 / math.sqrt(layer_index))


def test_placements_pass_extra_arguments_to_the_sublayer():
    torch.manual_seed(0)

    class Shift(nn.Module):
        def forward(self, u, offset):
            return u + offset

    h, offset = torch.randn(3, 4), torch.randn(3, 4)
    for name in NORM_PLACEMENTS:
        block = residual_sublayer(norm_placement(name), Shift(), 4, 2)
        block.eval()
        moved, still = block(h, offset), block(h, torch.zeros(3, 4))
        assert not torch.allclose(moved, still), name


def test_registry_reuses_core_pre_and_post():
    assert NORM_PLACEMENTS["pre"] is PreNormResidual
    assert NORM_PLACEMENTS["post"] is PostNormResidual
    assert set(NORM_PLACEMENTS) == {"pre", "post", "peri", "scaled", "prepbn"}
    block = norm_placement("prepbn", decay_steps=7)(nn.Identity(), 4, 1)
    assert isinstance(block, PRepBNResidual) and block.norm.decay_steps == 7


def test_placement_lookup_errors():
    with pytest.raises(ValueError, match="unknown norm placement 'mid'"):
        norm_placement("mid")
    with pytest.raises(TypeError, match="must be a string"):
        norm_placement(PreNormResidual)
    with pytest.raises(TypeError, match="takes no option"):
        norm_placement("pre", decay_steps=3)
    with pytest.raises(ValueError, match="layer_index"):
        ScaledPreNormResidual(nn.Identity(), 4, 0)


# ---------------------------------------------------------------- PRepBN
def test_prepbn_gamma_falls_linearly_to_zero_and_stays():
    norm = PRepBN(4, decay_steps=4)
    gammas = []
    for _ in range(7):
        gammas.append(norm.gamma)
        norm.advance()
    assert gammas == [1.0, 0.75, 0.5, 0.25, 0.0, 0.0, 0.0]
    assert PRepBN(4, decay_steps=0).gamma == 0.0


def test_prepbn_mixes_layer_norm_and_rep_batch_norm():
    torch.manual_seed(0)
    norm = _randomise(PRepBN(5, decay_steps=4))
    norm.advance()  # gamma = 0.75
    x = torch.randn(20, 5) * 2 + 3
    mean, variance = x.mean(0), x.var(0, unbiased=False)
    bn = norm.batch_norm
    batch_normalised = (x - mean) / torch.sqrt(variance + bn.eps) * bn.weight + bn.bias
    expected = 0.75 * _layer_norm(x, norm.layer_norm) + 0.25 * (batch_normalised + norm.eta * x)
    torch.testing.assert_close(norm(x), expected)
    # Evaluation mode mixes the same way, with BatchNorm's running statistics.
    norm.eval()
    running = (x - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias
    expected = 0.75 * _layer_norm(x, norm.layer_norm) + 0.25 * (running + norm.eta * x)
    torch.testing.assert_close(norm(x), expected)


def test_prepbn_folds_exactly_once_gamma_is_zero():
    torch.manual_seed(0)
    norm = _randomise(PRepBN(8, decay_steps=3))
    for _ in range(10):  # non-trivial running statistics
        norm(torch.randn(32, 8) * 4 - 2)
        norm.advance()
    assert norm.gamma == 0.0
    norm.eval()
    x = torch.randn(50, 8) * 4 - 2
    unfolded = norm.rep_batch_norm(x)  # BN(x) + eta x with running statistics
    folded = norm(x)
    scale, shift = norm.fold()
    np.testing.assert_allclose(folded.detach().numpy(), unfolded.detach().numpy(), atol=1e-6)
    torch.testing.assert_close(folded, x * scale + shift)
    assert scale.shape == shift.shape == (8,)


def test_prepbn_schedule_follows_optimizer_steps_of_the_encoder():
    model = ResidualMLPConfig(hidden_dim=8, num_layers=3, norm="prepbn",
                              prepbn_steps=2).build(5, 3)
    assert advance_norm_schedules(nn.Linear(2, 2)) == 0
    model.after_optimizer_step()
    gammas = [m.gamma for m in model.modules() if isinstance(m, PRepBN)]
    assert gammas == [0.5, 0.5, 0.5]


def test_prepbn_bad_input():
    with pytest.raises(ValueError, match="decay_steps"):
        PRepBN(4, decay_steps=-1)
    with pytest.raises(ValueError, match="channels"):
        PRepBN(0)


# ---------------------------------------------------------------- activations
def test_squared_relu_values_and_gradient():
    x = torch.tensor([-2.0, -0.5, 0.0, 0.5, 3.0], requires_grad=True)
    y = squared_relu(x)
    torch.testing.assert_close(y, torch.tensor([0.0, 0.0, 0.0, 0.25, 9.0]))
    y.sum().backward()
    torch.testing.assert_close(x.grad, torch.tensor([0.0, 0.0, 0.0, 1.0, 6.0]))
    torch.testing.assert_close(SquaredReLU()(x), y)


def test_topk_keeps_exactly_k_largest_per_row_and_their_gradient_only():
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(7, 10, generator=generator, requires_grad=True)
    kept = topk_activations(a, 3)
    assert (kept != 0).sum(1).tolist() == [3] * 7
    largest = a.detach().topk(3, dim=1).values
    torch.testing.assert_close(kept.detach().sort(1, descending=True).values[:, :3], largest)
    mask = kept.detach() != 0
    torch.testing.assert_close(kept.detach()[mask], a.detach()[mask])
    weights = torch.randn(7, 10, generator=generator)
    (kept * weights).sum().backward()
    torch.testing.assert_close(a.grad, torch.where(mask, weights, torch.zeros_like(weights)))


def test_topk_fraction_rounds_up_and_module_matches_function():
    assert resolve_topk(0.25, 10) == 3
    assert resolve_topk(0.1, 250) == 25  # not 26 from 0.1 * 250 = 25.000000000000004
    assert resolve_topk(1.0, 4) == 4
    a = torch.randn(4, 10, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(TopK(0.25)(a), topk_activations(a, 3))


@pytest.mark.parametrize("k, error", [(0, ValueError), (11, ValueError), (0.0, ValueError),
                                      (1.5, ValueError), (True, TypeError), ("3", TypeError)])
def test_topk_bad_input(k, error):
    with pytest.raises(error, match="top-k"):
        topk_activations(torch.randn(2, 10), k)


def test_activation_sparsity_counts_zeros_per_call():
    mlp = MLP([2, 2, 2, 1])  # one ReLU module shared by both hidden layers
    with torch.no_grad():
        for layer in mlp.layers:
            layer.weight.copy_(torch.eye(*layer.weight.shape))
            layer.bias.zero_()
        mlp.layers[1].bias.copy_(torch.tensor([-10.0, 0.0]))
    x = torch.tensor([[1.0, -1.0], [-1.0, -2.0], [3.0, 4.0]])
    # Layer 1 ReLU zeros: (-1), (-1, -2) -> 3 of 6. Layer 2 adds -10 to the first unit,
    # whose ReLU is then 0 everywhere: 3 first-unit zeros + 2 second-unit zeros -> 5 of 6.
    sparsity = activation_sparsity(mlp, x)
    assert sparsity == pytest.approx({"activation[0]": 0.5, "activation[1]": 5 / 6})
    assert mlp.training  # the mode is restored


def test_watched_forward_restores_the_module_when_the_call_raises():
    """A forward that fails still leaves the training flag as it was and no hook behind."""
    mlp = MLP([2, 3, 1])
    seen = []
    with pytest.raises(RuntimeError):
        watched_forward(mlp, (torch.randn(4, 5),),  # 5 columns for a 2-input layer
                        [(mlp.layers[0], lambda *args: seen.append(args))])
    assert mlp.training and not mlp.layers[0]._forward_hooks
    watched_forward(mlp, (torch.randn(4, 2),),
                    [(mlp.layers[0], lambda module, inputs, output: seen.append(module.training))])
    assert seen == [False] and mlp.training and not mlp.layers[0]._forward_hooks


def test_activation_sparsity_sees_topk_in_the_encoder():
    torch.manual_seed(0)
    model = ResidualMLPConfig(hidden_dim=20, num_layers=2, topk=4).build(6, 3)
    sparsity = activation_sparsity(model, torch.randn(30, 6))
    assert list(sparsity) == ["blocks.0.sublayer.activation", "blocks.0.sublayer.topk",
                              "blocks.1.sublayer.activation", "blocks.1.sublayer.topk"]
    for name in ("blocks.0.sublayer.topk", "blocks.1.sublayer.topk"):
        assert sparsity[name] >= 1 - 4 / 20
    with pytest.raises(ValueError, match="no activation module"):
        activation_sparsity(nn.Linear(3, 3), torch.randn(2, 3))


# ---------------------------------------------------------------- fusion
def test_depth_fusion_projects_the_concatenation_and_reaches_every_input():
    torch.manual_seed(0)
    fusion = DepthFusion([3, 5, 2], 4)
    hidden = [torch.randn(6, w, requires_grad=True) for w in (3, 5, 2)]
    z = fusion(hidden)
    torch.testing.assert_close(z, fusion.projection(torch.cat(hidden, 1)))
    z.square().sum().backward()
    assert all(h.grad is not None and h.grad.abs().sum() > 0 for h in hidden)
    with pytest.raises(ValueError, match="widths"):
        fusion(hidden[:2])
    with pytest.raises(ValueError, match="at least one"):
        DepthFusion([], 4)


def test_residual_mlp_fuses_the_selected_depths():
    torch.manual_seed(0)
    config = ResidualMLPConfig(hidden_dim=8, num_layers=3, fusion=(1, 3))
    model = config.build(5, 2)
    x = torch.randn(9, 5)
    states = [model.input(x)]
    for block in model.blocks:
        states.append(block(states[-1]))
    torch.testing.assert_close(model(x), model.output([states[1], states[3]]))
    model(x).square().sum().backward()
    columns = model.output.projection.weight.grad.abs().sum(0)
    assert (columns[:8].sum() > 0) and (columns[8:].sum() > 0)  # both depths reach z
    assert ResidualMLPConfig(num_layers=2, fusion=True).fusion_depths() == (0, 1, 2)
    assert ResidualMLPConfig(fusion=False).fusion_depths() is None


@pytest.mark.parametrize("fields, error, match", [
    ({"norm": "mid"}, ValueError, "norm placement"),
    ({"activation": "swish"}, ValueError, "activation"),
    ({"hidden_dim": 0}, ValueError, "hidden_dim"),
    ({"num_layers": 0}, ValueError, "num_layers"),
    ({"topk": 300}, ValueError, "top-k"),
    ({"topk": True}, TypeError, "top-k"),
    ({"fusion": [1, 2]}, TypeError, "fusion"),
    ({"fusion": (0, 1)}, ValueError, "last depth"),
    ({"fusion": (2, 2)}, ValueError, "increasing"),
    ({"fusion": (0, 3)}, ValueError, "depths in 0..2"),
    ({"fusion": ()}, ValueError, "non-empty"),
    ({"prepbn_steps": -1}, ValueError, "prepbn_steps"),
])
def test_config_bad_input(fields, error, match):
    with pytest.raises(error, match=match):
        ResidualMLPConfig(**fields)


# ---------------------------------------------------------------- estimator
@pytest.mark.parametrize("norm", ["peri", "scaled", "prepbn"])  # pre/post: the core's
def test_scgc_star_fits_with_each_new_placement(norm, karate):
    config = ResidualMLPConfig(hidden_dim=16, num_layers=2, norm=norm, prepbn_steps=3)
    model = SCGCStar(n_clusters=2, encoder=config, **_FIT).fit(karate)
    assert isinstance(model.encoder_, ResidualMLP)
    assert model.labels_.shape == (34,) and np.isfinite(model.embedding_).all()
    if norm == "prepbn":  # one schedule step per optimizer step (full batch: one per epoch)
        steps = {int(m.step) for m in model.encoder_.modules() if isinstance(m, PRepBN)}
        assert steps == {_FIT["pretrain_epochs"] + model.n_iter_}


def test_save_load_round_trip_predicts_identically(karate, tmp_path):
    config = ResidualMLPConfig(hidden_dim=16, num_layers=2, norm="prepbn", prepbn_steps=3,
                               activation="squared_relu", topk=0.5, fusion=True)
    fitted = SCGCStar(n_clusters=2, encoder=config, **_FIT).fit(karate)
    fitted.save(tmp_path / "model")
    loaded = load(tmp_path / "model")
    assert loaded.get_params()["encoder"] == config
    for module in loaded.encoder_.modules():
        if isinstance(module, PRepBN):
            assert module.gamma == 0.0  # the schedule state came back: folded inference
    np.testing.assert_array_equal(loaded.predict_proba(karate), fitted.predict_proba(karate))
    np.testing.assert_array_equal(loaded.predict(karate), fitted.predict(karate))
