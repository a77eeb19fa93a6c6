"""Graph-transformer extras: SLAB, convolved Q/K/V, mixture-of-depths, token merging,
norm placements and recursive sharing of GPS layers."""

import math

import numpy as np
import pytest
import torch

from graphclust import GraphTransformerClusterer
from graphclust.data import make_sbm
from graphclust.extras.graph_attention import (
    ConvolvedQKVAttention,
    MixtureOfDepthsAttention,
    SimplifiedLinearAttention,
    TokenMergingAttention,
    merge_groups,
    neighbour_mean,
    route_top_capacity,
)
from graphclust.extras.normalization import PeriNormResidual, PRepBN, PRepBNResidual
from graphclust.extras.transformer_config import (
    ConvolvedQKV,
    ExtraGraphTransformer,
    ExtraGraphTransformerConfig,
    MixtureOfDepths,
    SLABAttention,
    TokenMerging,
)
from graphclust.extras.weight_sharing import RecursiveStack
from graphclust.io import load
from graphclust.nn import GraphTransformerConfig
from graphclust.nn.attention import FullAttention, PerformerAttention
from graphclust.nn.graph_transformer import GPSLayer

C, HEADS = 8, 2


def _ring(n: int, offset: int = 0) -> torch.Tensor:
    nodes = torch.arange(n) + offset
    source = torch.cat([nodes, nodes.roll(-1)])
    return torch.stack([source, torch.cat([nodes.roll(-1), nodes])])


@pytest.fixture
def graph():
    torch.manual_seed(0)
    return torch.randn(12, C), _ring(12)


def test_neighbour_mean_averages_in_neighbours_and_zeroes_isolated_nodes():
    x = torch.tensor([[1.0], [2.0], [4.0], [8.0]])
    edges = torch.tensor([[0, 1, 2], [1, 2, 1]])  # node 1 <- {0, 2}, node 2 <- {1}
    expected = torch.tensor([[0.0], [2.5], [2.0], [0.0]])
    torch.testing.assert_close(neighbour_mean(x, edges), expected)
    with pytest.raises(ValueError, match="edge_index"):
        neighbour_mean(x, edges[0])


def test_slab_equals_the_explicit_relu_kernel_attention_plus_mixed_values(graph):
    h, edges = graph
    slab = SimplifiedLinearAttention(C, HEADS)
    torch.nn.init.normal_(slab.value_mix)
    q, k, v = slab.projections.split(h)
    scores = torch.einsum("nhd,mhd->hnm", q.relu(), k.relu())  # quadratic reference
    # A query whose ReLU features miss every key attends to nothing (floored normaliser).
    weights = scores / scores.sum(-1, keepdim=True).clamp_min(slab.eps)
    attended = torch.einsum("hnm,mhd->nhd", weights, v)
    expected = slab.projections.merge(attended + slab.value_mix * neighbour_mean(v, edges))
    torch.testing.assert_close(slab(h, None, edges), expected)


def test_slab_never_attends_across_graphs(graph):
    h, edges = graph
    slab = SimplifiedLinearAttention(C, HEADS)
    both = torch.cat([h, 2 * h[:7]])
    batch = torch.cat([torch.zeros(12), torch.ones(7)]).long()
    out = slab(both, batch, torch.cat([edges, _ring(7, 12)], 1))
    torch.testing.assert_close(out[:12], slab(h, None, edges))
    torch.testing.assert_close(out[12:], slab(2 * h[:7], None, _ring(7)))
    with pytest.raises(ValueError, match="edge_index"):
        slab(h, None, None)


@pytest.mark.parametrize("kind", ["full", "performer"])
def test_convolved_qkv_starts_as_the_plain_attention(graph, kind):
    h, edges = graph
    torch.manual_seed(1)
    convolved = ConvolvedQKVAttention(C, HEADS, kind=kind)
    plain = FullAttention(C, HEADS) if kind == "full" else PerformerAttention(C, HEADS)
    plain.projections.qkv = convolved.inner.projections.qkv.projection
    plain.projections.out = convolved.inner.projections.out
    if kind == "performer":
        plain.omega = convolved.inner.omega
    torch.testing.assert_close(convolved(h, None, edges), plain(h))


def test_convolved_qkv_mixes_each_projection_with_the_neighbour_mean(graph):
    h, edges = graph
    convolved = ConvolvedQKVAttention(C, HEADS, kind="full")
    mix = convolved.inner.projections.qkv.mix
    torch.nn.init.normal_(mix.self_weight)
    torch.nn.init.normal_(mix.neighbour_weight)
    qkv = convolved.inner.projections.qkv.projection(h)
    mixed = mix.self_weight * qkv + mix.neighbour_weight * neighbour_mean(qkv, edges)
    q, k, v = mixed.view(12, 3, HEADS, C // HEADS).unbind(1)
    values = torch.softmax(torch.einsum("nhd,mhd->hnm", q, k) / math.sqrt(C // HEADS), -1)
    expected = convolved.inner.projections.merge(torch.einsum("hnm,mhd->nhd", values, v))
    torch.testing.assert_close(convolved(h, None, edges), expected)
    assert convolved.inner.projections.qkv.edge_index is None  # nothing kept between calls
    with pytest.raises(ValueError, match="edge_index"):
        convolved(h, None, None)


@pytest.mark.parametrize("capacity", [0.1, 0.5, 0.75, 1.0])
def test_mod_updates_exactly_the_top_capacity_nodes(graph, capacity):
    h, edges = graph
    mod = MixtureOfDepthsAttention(C, HEADS, capacity=capacity, kind="full")
    update = mod(h, None, edges)
    updated = update.abs().sum(1) > 0
    assert int(updated.sum()) == math.ceil(capacity * 12)
    scores = mod.router(h).squeeze(-1)
    if capacity < 1:  # the router's highest scores are the ones routed
        assert scores[updated].min() >= scores[~updated].max()
    # The routed nodes attend to each other only, gated by the router.
    rows = updated.nonzero().squeeze(-1)
    expected = torch.sigmoid(scores[rows])[:, None] * mod.inner(h[rows])
    torch.testing.assert_close(update[rows], expected)


def test_mod_skipped_nodes_keep_their_state_through_the_attention_sublayer(graph):
    h, edges = graph
    torch.manual_seed(2)
    mod = MixtureOfDepthsAttention(C, HEADS, capacity=0.25, kind="full")
    layer = GPSLayer(C, "gcn", mod, norm="pre")
    conv_only = layer.mix.sublayer.conv(layer.mix.norm(h), edges)
    after_mix = layer.mix(h, edges, None)
    skipped = ~route_top_capacity(mod.router(layer.mix.norm(h)).squeeze(-1), 0.25)
    assert int(skipped.sum()) == 12 - 3
    torch.testing.assert_close(after_mix[skipped], h[skipped] + conv_only[skipped])
    after_mix.sum().backward()
    assert mod.router.weight.grad.abs().sum() > 0  # the gate passes gradient to the router


def test_route_top_capacity_counts_per_graph():
    scores = torch.tensor([0.1, 0.9, 0.5, 0.3, 0.8, 0.2, 0.7])
    batch = torch.tensor([0, 0, 0, 1, 1, 1, 1])
    selected = route_top_capacity(scores, 0.5, batch)
    assert selected.tolist() == [False, True, True, False, True, False, True]
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="capacity"):
            route_top_capacity(scores, bad)


def test_p_mod_capacity_decays_linearly_with_depth():
    config = ExtraGraphTransformerConfig(hidden_channels=C, heads=HEADS, num_layers=3,
                                         attention=MixtureOfDepths(final_capacity=0.5))
    model = config.build(4, 2)
    capacities = [layer.mix.sublayer.attention.capacity for layer in model.layers]
    assert capacities == [1.0, 0.75, 0.5]
    constant = MixtureOfDepths(final_capacity=0.3, schedule="constant")
    assert constant(C, HEADS).capacity == 0.3  # works without a layer position
    with pytest.raises(ValueError, match="layer position"):
        GraphTransformerConfig(hidden_channels=C, heads=HEADS,
                               attention=MixtureOfDepths()).build(4, 2)
    with pytest.raises(ValueError, match="final_capacity"):
        MixtureOfDepths(final_capacity=0.0)
    with pytest.raises(ValueError, match="schedule"):
        MixtureOfDepths(schedule="cosine")


def test_merge_groups_merges_duplicates_first_and_leaves_n_minus_r():
    torch.manual_seed(3)
    keys = torch.randn(10, 6)
    keys[1] = keys[0] * 3  # cosine 1 with row 0 (even row 0 is in A, odd row 1 in B)
    keys[5] = keys[4] + 1e-4
    groups = merge_groups(keys, 2)
    assert int(groups.max()) + 1 == 8 and groups.unique().numel() == 8
    assert groups[0] == groups[1] and groups[4] == groups[5]
    assert torch.equal(merge_groups(keys, 0), torch.arange(10))
    for r in range(6):
        assert merge_groups(keys, r).unique().numel() == 10 - r


def test_merge_groups_never_merges_across_graphs():
    keys = torch.ones(6, 3)  # all identical
    batch = torch.tensor([0, 0, 0, 0, 1, 2])
    groups = merge_groups(keys, 2, batch)
    for merged in groups.unique():
        assert batch[groups == merged].unique().numel() == 1
    with pytest.raises(ValueError, match="exceeds"):
        merge_groups(keys, 3, batch)  # even row 4 has no odd row in its graph
    with pytest.raises(ValueError, match="num_merges"):
        merge_groups(keys, -1)


@pytest.mark.parametrize("kind", ["full", "performer"])
def test_token_merging_without_merges_is_the_plain_attention(graph, kind):
    h, edges = graph
    merging = TokenMergingAttention(C, HEADS, merge_ratio=0.0, kind=kind)
    torch.testing.assert_close(merging(h, None, edges), merging.inner(h), rtol=0, atol=0)


def test_token_merging_attends_over_merged_nodes_and_copies_back(graph):
    h, edges = graph
    h = h.clone()
    h[1] = h[0]
    h[3] = h[2] + 1e-3
    merging = TokenMergingAttention(C, HEADS, merge_ratio=2 / 12, kind="full")
    out = merging(h, None, edges)
    torch.testing.assert_close(out[0], out[1])
    torch.testing.assert_close(out[2], out[3])
    merged_rows = [0, 2, 4, 5, 6, 7, 8, 9, 10, 11]
    merged = h[merged_rows].clone()
    merged[1] = (h[2] + h[3]) / 2
    torch.testing.assert_close(out[merged_rows], merging.inner(merged))
    with pytest.raises(ValueError, match="merge_ratio"):
        TokenMergingAttention(C, HEADS, merge_ratio=0.6)


@pytest.mark.parametrize("norm, placement", [("peri", PeriNormResidual),
                                             ("prepbn", PRepBNResidual)])
def test_extra_config_places_the_named_norm_in_every_sublayer(norm, placement):
    model = ExtraGraphTransformerConfig(hidden_channels=C, heads=HEADS, norm=norm,
                                        attention=SLABAttention()).build(4, 2)
    for layer in model.layers:
        assert isinstance(layer.mix, placement) and isinstance(layer.feedforward, placement)
        assert isinstance(layer.mix.sublayer.attention, SimplifiedLinearAttention)
    if norm == "prepbn":
        model.after_optimizer_step()
        assert {int(m.step) for m in model.modules() if isinstance(m, PRepBN)} == {1}


def test_recursive_sharing_loops_one_gps_layer_with_depthwise_lora(graph):
    h, edges = graph
    shared = ExtraGraphTransformerConfig(hidden_channels=C, heads=HEADS, num_layers=3,
                                         share_layers=True, lora_rank=2,
                                         attention=ConvolvedQKV(kind="full")).build(C, 4)
    stack = shared.layers[0]
    assert isinstance(stack, RecursiveStack) and len(stack.blocks) == 1
    block = stack.blocks[0]
    # B = 0 at initialisation: three applications of the same layer.
    expected = h
    for _ in range(3):
        expected = block(expected, edges, None)
    torch.testing.assert_close(stack(h, edges, None), expected)
    unshared = ExtraGraphTransformerConfig(hidden_channels=C, heads=HEADS, num_layers=3,
                                           attention=ConvolvedQKV(kind="full")).build(C, 4)
    adapters = sum(p.numel() for p in stack.lora.parameters())
    layer_size = sum(p.numel() for p in block.parameters())
    size = sum(p.numel() for p in shared.parameters())
    assert size == sum(p.numel() for p in unshared.parameters()) - 2 * layer_size + adapters


def test_extra_config_rejects_bad_settings():
    with pytest.raises(ValueError, match="norm"):
        ExtraGraphTransformerConfig(norm="rms")
    with pytest.raises(ValueError, match="share_layers"):
        ExtraGraphTransformerConfig(lora_rank=4)
    with pytest.raises(ValueError, match="one MoD capacity"):
        ExtraGraphTransformerConfig(share_layers=True, attention=MixtureOfDepths())
    with pytest.raises(TypeError, match="attention"):
        ExtraGraphTransformerConfig(attention=lambda c, h: None)
    with pytest.raises(ValueError, match="attention"):
        ExtraGraphTransformerConfig(attention="linear")
    with pytest.raises(ValueError, match="divisible"):
        ExtraGraphTransformerConfig(hidden_channels=10, heads=4)
    with pytest.raises(ValueError, match="kind"):
        ConvolvedQKV(kind="slab")
    with pytest.raises(TypeError, match="merge_ratio"):
        TokenMerging(merge_ratio="0.1")


def test_clusterer_fits_and_round_trips_with_an_extra_config(tmp_path):
    data = make_sbm(90, 3, 12, 6, random_state=0)
    config = ExtraGraphTransformerConfig(hidden_channels=16, heads=2, norm="peri",
                                         attention=TokenMerging(merge_ratio=0.1))
    fitted = GraphTransformerClusterer(3, encoder=config, max_epochs=6, pretrain="contrastive",
                                       pretrain_epochs=4, random_state=0).fit(data)
    assert isinstance(fitted.encoder_, ExtraGraphTransformer)
    assert fitted.labels_.shape == (90,) and np.isfinite(fitted.embedding_).all()
    fitted.save(tmp_path / "model")
    loaded = load(tmp_path / "model")
    assert loaded.get_params()["encoder"] == config
    np.testing.assert_array_equal(loaded.predict_proba(data), fitted.predict_proba(data))


def test_capacity_routing_and_neighbour_means_read_their_inputs_exactly():
    from graphclust.extras.graph_attention import neighbour_mean, route_top_capacity

    # 0.14 * 50 is 7.000000000000001 in floating point: its ceiling had kept 8 nodes.
    assert int(route_top_capacity(torch.randn(50), 0.14).sum()) == 7
    with pytest.raises(ValueError, match=r"outside \[0, 3\)"):  # a -1 had wrapped
        neighbour_mean(torch.randn(3, 2), torch.tensor([[0, -1], [1, 2]]))


def test_scalar_settings_of_the_extras_are_checked_as_integers():
    from graphclust.extras.fusion import DepthFusion
    from graphclust.extras.residual_mlp import ResidualMLPConfig
    from graphclust.extras.transformer_config import ConvolvedQKV

    # A tuple had passed a sequence check and failed inside torch at build time.
    with pytest.raises(TypeError, match="hidden_dim must be an integer, got tuple"):
        ResidualMLPConfig(hidden_dim=(4, 8))
    with pytest.raises(TypeError, match="out_channels must be an integer, got tuple"):
        DepthFusion([2, 3], (3, 4))
    with pytest.raises(ValueError, match="max_full_nodes must be an integer >= 1"):
        ConvolvedQKV("full", max_full_nodes=-5)


def test_token_merging_caps_its_merges_at_the_pairs_and_takes_empty_inputs():
    torch.manual_seed(4)
    merging = TokenMergingAttention(C, HEADS, merge_ratio=0.5, kind="full")
    h = torch.randn(4, C)
    # floor(0.5 * 4) = 2 merges asked, but one-node graphs have no partner: none merge
    # (this had raised about a num_merges the caller never gave).
    singles = torch.arange(4)
    out = merging(h, singles, None)
    expected = torch.cat([merging.inner(h[i:i + 1]) for i in range(4)])
    torch.testing.assert_close(out, expected)
    # Zero nodes: arange(1, 0, 2) had raised a RuntimeError.
    assert merging(torch.zeros(0, C), None, None).shape == (0, C)
    assert merge_groups(torch.zeros(0, 3), 0).shape == (0,)
    # A count given explicitly is still checked, not clipped.
    with pytest.raises(ValueError, match="exceeds"):
        merge_groups(h, 1, singles)
    with pytest.raises(TypeError, match="num_merges must be an integer"):
        merge_groups(h, 1.0)
    with pytest.raises(ValueError, match="chunk_size"):
        merge_groups(h, 1, chunk_size=0)


def test_token_merging_merges_floor_of_ratio_times_nodes_exactly():
    torch.manual_seed(5)
    merging = TokenMergingAttention(C, HEADS, merge_ratio=0.29, kind="full")
    out = merging(torch.randn(100, C), None, None)
    # Members of a merged node get its output: 100 - 29 distinct rows. 0.29 * 100 is
    # 28.999999999999996 in floating point, which had merged 28.
    assert out.unique(dim=0).shape[0] == 71


def test_slab_refuses_a_normaliser_floor_that_is_not_positive():
    # eps=0 had let a query whose ReLU features miss every key compute 0 / 0 = NaN.
    for eps in (0.0, -1.0):
        with pytest.raises(ValueError, match="eps must be > 0"):
            SimplifiedLinearAttention(C, HEADS, eps=eps)


def test_neighbour_mean_counts_many_in_neighbours_exactly_in_bfloat16():
    x = torch.full((1001, 2), 5.5)
    edges = torch.stack([torch.arange(1, 1001), torch.zeros(1000, dtype=torch.long)])
    # The degree had been summed in bfloat16, where 256 + 1 is 256: 5504 / 256 = 21.5.
    mean = neighbour_mean(x.bfloat16(), edges)[0].float()
    torch.testing.assert_close(mean, torch.full((2,), 5.5), rtol=0.02, atol=0)
