"""MPNN + virtual node, attention, positional encodings and the GPS graph transformer."""

import math

import pytest
import torch

from graphclust.nn import GraphTransformer, GraphTransformerConfig, MPNNVirtualNode, MPNNVNConfig
from graphclust.nn.attention import FullAttention, PerformerAttention
from graphclust.nn.positional import laplacian_pe, random_walk_pe


def _ring(n: int, offset: int = 0) -> torch.Tensor:
    src = torch.arange(n)
    dst = (src + 1) % n
    return torch.stack([torch.cat([src, dst]), torch.cat([dst, src])]) + offset


def _two_copies(x, edge_index):
    n = x.shape[0]
    x2 = torch.cat([x, x])
    edges = torch.cat([edge_index, edge_index + n], 1)
    batch = torch.cat([torch.zeros(n, dtype=torch.long), torch.ones(n, dtype=torch.long)])
    return x2, edges, batch


@pytest.mark.parametrize("conv", ["gcn", "gin"])
def test_virtual_node_averages_so_duplicating_the_graph_changes_nothing(conv):
    torch.manual_seed(0)
    model = MPNNVirtualNode(5, 16, 4, num_layers=3, conv=conv).eval()
    x, edges = torch.randn(6, 5), _ring(6)
    alone = model(x, edges)
    # Two disconnected copies as ONE graph: a mean VN sees the same average (a sum would
    # double), so every node's output is unchanged.
    x2, edges2, batch = _two_copies(x, edges)
    torch.testing.assert_close(model(x2, edges2)[:6], alone, atol=1e-5, rtol=1e-5)
    # As two graphs of a batch: one VN each, same outputs again.
    torch.testing.assert_close(model(x2, edges2, batch)[6:], alone, atol=1e-5, rtol=1e-5)


def test_virtual_node_carries_information_between_disconnected_nodes():
    torch.manual_seed(0)
    model = MPNNVirtualNode(3, 8, 2, num_layers=2).eval()
    x = torch.randn(4, 3)
    edges = torch.empty(2, 0, dtype=torch.long)
    changed = x.clone()
    changed[3] += 5.0
    # Without edges only the VN links node 0 to node 3.
    assert not torch.allclose(model(x, edges)[0], model(changed, edges)[0])


def test_performer_approaches_softmax_attention_with_many_features():
    torch.manual_seed(0)
    channels, heads = 16, 2
    exact = FullAttention(channels, heads)
    approximate = PerformerAttention(channels, heads, num_features=4096)
    approximate.projections.load_state_dict(exact.projections.state_dict())
    h = torch.randn(50, channels) * 0.5
    reference = exact(h)
    error = (approximate(h) - reference).norm() / reference.norm()
    assert error < 0.1


def test_performer_features_estimate_the_softmax_kernel_without_bias():
    # QR's own signs gave every block's first row a negative first entry: the kernel
    # estimate at m = 200,000 was 0.85 where exp(x.y) = 1 (i.i.d. features: 1.006).
    torch.manual_seed(0)
    omega = PerformerAttention._orthogonal_features(1, 100_000, 4)[0].double()
    assert omega.mean(0).abs().max() < 0.02
    x = torch.tensor([0.6, -0.4, 0.2, 0.8], dtype=torch.float64)
    y = torch.tensor([0.2, 1.0, -0.6, 0.4], dtype=torch.float64)

    def phi(v):
        return torch.exp(omega @ v - v.dot(v) / 2)

    assert (phi(x) * phi(y)).mean().item() == pytest.approx(torch.exp(x.dot(y)).item(),
                                                             rel=0.03)


@pytest.mark.parametrize("attention", [FullAttention(8, 2), PerformerAttention(8, 2)])
def test_attention_stays_within_each_graph_of_a_batch(attention):
    torch.manual_seed(1)
    a, b = torch.randn(5, 8), torch.randn(7, 8)
    batch = torch.cat([torch.zeros(5, dtype=torch.long), torch.ones(7, dtype=torch.long)])
    joint = attention(torch.cat([a, b]), batch)
    torch.testing.assert_close(joint[:5], attention(a), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(joint[5:], attention(b), atol=1e-5, rtol=1e-4)


def test_performer_keeps_a_graph_of_far_smaller_keys_apart_in_a_batch():
    # Keys of norm 60 have logits of -hundreds where the zero keys of the other graph have 0:
    # one shift for the batch had floored the far graph's kernel at 1e-6 everywhere, so
    # its attention became a plain mean.
    torch.manual_seed(0)
    attention = PerformerAttention(8, 2)
    with torch.no_grad():  # queries, keys and values are the input itself
        attention.projections.qkv.weight.copy_(torch.eye(8).repeat(3, 1))
        attention.projections.qkv.bias.zero_()
    near, far = torch.zeros(3, 8), 60 * torch.randn(5, 8) / 8 ** 0.5
    batch = torch.tensor([0, 0, 0, 1, 1, 1, 1, 1])
    joint = attention(torch.cat([near, far]), batch)
    torch.testing.assert_close(joint[3:], attention(far), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("attention", [FullAttention(8, 2), PerformerAttention(8, 2)])
@pytest.mark.parametrize("batch", [None, torch.zeros(0, dtype=torch.long)])
def test_attention_over_no_nodes_gives_no_rows(attention, batch):
    # A batch whose sampled subgraph is empty: torch's reshape and amax had raised.
    assert attention(torch.zeros(0, 8), batch).shape == (0, 8)


@pytest.mark.parametrize("batch", [None, torch.zeros(0, dtype=torch.long)])
def test_encoders_over_no_nodes_give_no_rows(batch):
    # MPNN + VN had taken batch.max() of an empty batch vector (a RuntimeError).
    no_edges = torch.zeros(2, 0, dtype=torch.long)
    for encoder in (MPNNVirtualNode(4, 8, 3), GraphTransformer(4, 8, 3, heads=2)):
        assert encoder(torch.zeros(0, 4), no_edges, batch).shape == (0, 3)


def test_performer_built_on_the_meta_device_draws_no_features():
    # A model file's check builds its modules for their shapes alone: 64 heads of 10**4
    # features had taken 640,000 QR factorisations (minutes) for nothing.
    with torch.device("meta"):
        attention = PerformerAttention(64, 64, 10**4)
    assert attention.omega.is_meta and attention.omega.shape == (64, 10**4, 1)


def test_full_attention_refuses_large_graphs():
    with pytest.raises(ValueError, match="max_nodes=10.*performer"):
        FullAttention(8, 2, max_nodes=10)(torch.randn(11, 8))


def test_random_walk_pe_on_a_ring():
    pe = random_walk_pe(_ring(6), 6, steps=4)
    # Returning after 1 and 3 steps is impossible on an even ring; after 2: 1/2; after 4: 3/8.
    torch.testing.assert_close(pe[:, 0], torch.zeros(6))
    torch.testing.assert_close(pe[:, 1], torch.full((6,), 0.5))
    torch.testing.assert_close(pe[:, 2], torch.zeros(6))
    torch.testing.assert_close(pe[:, 3], torch.full((6,), 3 / 8))


def test_laplacian_pe_solves_the_eigenproblem():
    n, k = 8, 3
    edges = _ring(n)
    pe = laplacian_pe(edges, n, k).double()
    adjacency = torch.zeros(n, n, dtype=torch.float64)
    adjacency[edges[0], edges[1]] = 1
    laplacian = torch.eye(n, dtype=torch.float64) - adjacency / 2  # ring: every degree is 2
    eigenvalues = torch.tensor([1 - math.cos(2 * math.pi * j / n) for j in (1, 1, 2)],
                               dtype=torch.float64)
    torch.testing.assert_close(laplacian @ pe, pe * eigenvalues, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(pe.T @ pe, torch.eye(k, dtype=torch.float64), atol=1e-5,
                               rtol=1e-5)


def test_laplacian_pe_leaves_out_every_trivial_eigenvector_and_isolated_nodes():
    # Two components (a path 0-1-2, an edge 3-4) and an isolated node 5. Each component
    # has a zero eigenvalue; the isolated node's own eigenvector, of eigenvalue 1, had
    # come out as its row's unit vector, and the second zero one as a column.
    edges = torch.tensor([[0, 1, 1, 2, 3, 4], [1, 0, 2, 1, 4, 3]])
    pe = laplacian_pe(edges, 6, 4).double()
    assert (pe[5] == 0).all() and (pe[:, 3] == 0).all()  # only 3 non-trivial eigenvalues
    adjacency = torch.zeros(5, 5, dtype=torch.float64)
    adjacency[edges[0], edges[1]] = 1
    scale = adjacency.sum(1).rsqrt()
    laplacian = torch.eye(5, dtype=torch.float64) - scale[:, None] * adjacency * scale
    vectors = pe[:5, :3]
    eigenvalues = (vectors * (laplacian @ vectors)).sum(0)
    torch.testing.assert_close(laplacian @ vectors, vectors * eigenvalues, atol=1e-5,
                               rtol=1e-5)
    torch.testing.assert_close(eigenvalues, torch.tensor([1.0, 2.0, 2.0],
                                                         dtype=torch.float64),
                               atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("encoding", [laplacian_pe, random_walk_pe])
def test_positional_encodings_read_a_one_way_edge_list_as_undirected(encoding):
    # A sampled subgraph lists its edges from neighbour to seed only; eigh on its one-way
    # Laplacian read half of the matrix and gave vectors that solve no eigenproblem.
    edges = _ring(8)
    one_way = edges[:, edges[0] < edges[1]]
    repeated = torch.cat([one_way, one_way, torch.tensor([[3], [3]])], dim=1)  # + a loop
    torch.testing.assert_close(encoding(one_way, 8, 3), encoding(edges, 8, 3))
    torch.testing.assert_close(encoding(repeated, 8, 3), encoding(edges, 8, 3))


def test_positional_encodings_work_on_inference_mode_tensors():
    # The cache's key read the version counter, which inference tensors do not keep.
    from graphclust.nn.graph_transformer import GraphTransformer

    model = GraphTransformer(4, 8, 3, positional_encoding="random_walk", pe_dim=3).eval()
    with torch.inference_mode():
        edges, x = _ring(6), torch.randn(6, 4)
        assert model(x, edges).shape == (6, 3)


def test_positional_encoding_cache_sees_edges_edited_in_place():
    from graphclust.nn.graph_transformer import GraphTransformer

    model = GraphTransformer(4, 8, 3, positional_encoding="random_walk", pe_dim=3).eval()
    edges = _ring(6)
    before = model.positional(edges, 6).clone()
    edges.copy_(torch.tensor([[0, 1, 1, 2, 3, 4, 4, 5, 0, 2, 3, 5],
                              [1, 0, 2, 1, 4, 3, 5, 4, 2, 0, 5, 3]]))  # two triangles
    torch.testing.assert_close(model.positional(edges, 6), random_walk_pe(edges, 6, 3))
    assert not torch.equal(model.positional(edges, 6), before)


def test_positional_encodings_refuse_large_graphs():
    with pytest.raises(ValueError, match="above the limit"):
        random_walk_pe(_ring(20), 20, 4, max_nodes=10)
    with pytest.raises(ValueError, match="positional_encoding=None"):
        laplacian_pe(_ring(20), 20, 4, max_nodes=10)


@pytest.mark.parametrize("norm", ["post", "pre"])
@pytest.mark.parametrize("attention", ["performer", "full"])
def test_graph_transformer_keeps_graphs_of_a_batch_apart(norm, attention):
    torch.manual_seed(0)
    model = GraphTransformer(5, 16, 4, num_layers=2, heads=2, attention=attention,
                             norm=norm).eval()
    x, edges = torch.randn(6, 5), _ring(6)
    x2, edges2, batch = _two_copies(x, edges)
    # Nodes of a batch never mix (attention is per graph and LayerNorm is per node).
    torch.testing.assert_close(model(x2, edges2, batch)[6:], model(x, edges), atol=1e-5,
                               rtol=1e-4)


@pytest.mark.parametrize("pe", ["random_walk", "laplacian"])
def test_graph_transformer_with_positional_encoding(pe):
    torch.manual_seed(0)
    model = GraphTransformer(5, 8, 3, heads=2, positional_encoding=pe, pe_dim=4)
    out = model(torch.randn(6, 5), _ring(6))
    out.sum().backward()
    assert model.pe_input.weight.grad.abs().sum() > 0
    model.eval()
    x, edges = torch.randn(6, 5), _ring(6)
    torch.testing.assert_close(model(x, edges), model(x, edges))  # no random sign at eval


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (lambda: MPNNVNConfig(num_layers=0), "num_layers must be an integer >= 1"),
        (lambda: MPNNVNConfig(conv="sage"), "conv='sage' is not one of"),
        (lambda: GraphTransformerConfig(hidden_channels=10, heads=4), "divisible by heads"),
        (lambda: GraphTransformerConfig(attention="dense"), "attention='dense'"),
        (lambda: GraphTransformerConfig(positional_encoding="rw"), "positional_encoding='rw'"),
        # These built and then failed in torch.cat / torch.stack at the first forward.
        (lambda: GraphTransformerConfig(num_features=0), "num_features must be an integer >= 1"),
        (lambda: GraphTransformerConfig(positional_encoding="random_walk", pe_dim=0),
         "pe_dim must be an integer >= 1"),
    ],
)
def test_bad_configurations(config, message):
    with pytest.raises(ValueError, match=message):
        config()


def _grown_and_trained_one_step(model, x, edges):
    """One Adam step on a random objective; returns the parameters that moved."""
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model(x, edges).pow(3).sum().backward()
    optimizer.step()
    return {name for name, p in model.named_parameters() if not torch.equal(p, before[name])}


@pytest.mark.parametrize("conv", ["gcn", "gin"])
@pytest.mark.parametrize("num_layers", [1, 3])
def test_mpnn_vn_grown_from_a_linear_map_computes_it_then_grows_message_passing(conv,
                                                                                num_layers):
    torch.manual_seed(0)
    x, edges = torch.randn(12, 6), _ring(12)
    linear = torch.nn.Linear(6, 4)
    model = MPNNVNConfig(hidden_channels=10, num_layers=num_layers, conv=conv).from_linear(
        linear)
    torch.testing.assert_close(model(x, edges), linear(x))
    moved = _grown_and_trained_one_step(model, x, edges)
    assert {f"norms.{i}.weight" for i in range(num_layers)} <= moved  # branches open up
    model.zero_grad()
    model(x, edges).pow(3).sum().backward()  # ... and then message passing learns
    assert any(p.grad.abs().sum() > 0 for p in model.convs[0].parameters())


@pytest.mark.parametrize("norm", ["post", "pre"])
@pytest.mark.parametrize(("conv", "attention", "pe"),
                         [("gcn", "performer", None), ("gin", "full", "random_walk")])
def test_graph_transformer_grown_from_a_linear_map_points_the_same_way(norm, conv, attention,
                                                                       pe):
    torch.manual_seed(0)
    x, edges = torch.randn(12, 6), _ring(12)
    linear = torch.nn.Linear(6, 4)
    config = GraphTransformerConfig(hidden_channels=12, num_layers=2, heads=2, conv=conv,
                                    attention=attention, norm=norm, positional_encoding=pe,
                                    pe_dim=3)
    model = config.from_linear(linear)
    z, u = model(x, edges), linear(x)
    # A positive multiple of u per node: same direction, positive scale.
    torch.testing.assert_close(torch.nn.functional.normalize(z, dim=1),
                               torch.nn.functional.normalize(u, dim=1))
    assert ((z * u).sum(1) > 0).all()
    moved = _grown_and_trained_one_step(model, x, edges)
    assert "layers.0.mix.sublayer.attention.inner.projections.out.weight" in moved
    assert "layers.1.feedforward.sublayer.2.weight" in moved


@pytest.mark.parametrize(("config", "message"), [
    (MPNNVNConfig(hidden_channels=7), "hidden_channels must be at least 2 \\* out_features = 8"),
    (GraphTransformerConfig(hidden_channels=6, heads=2), "at least 2 \\* out_features = 8"),
    (GraphTransformerConfig(norm=lambda sublayer, channels, index: sublayer),
     "norm 'post' or 'pre'"),
])
def test_growth_from_a_linear_map_refuses_what_it_cannot_carry(config, message):
    with pytest.raises(ValueError, match=message):
        config.from_linear(torch.nn.Linear(5, 4))


@pytest.mark.parametrize("build, error, message", [
    (lambda: FullAttention(8, 0), ValueError, "heads must be an integer >= 1"),
    (lambda: FullAttention(8, -2), ValueError, "heads must be an integer >= 1"),
    (lambda: PerformerAttention(0, 1), ValueError, "channels must be an integer >= 1"),
    (lambda: PerformerAttention(8, 2.0), TypeError, "heads must be an integer"),
    (lambda: PerformerAttention(8, 2, num_features=0), ValueError, "num_features"),
    (lambda: FullAttention(8, 2, max_nodes=-1), ValueError, "max_nodes"),
])
def test_attention_constructors_refuse_bad_sizes(build, error, message):
    # heads=0 had divided by zero, heads=-2 built heads of width -4 (which failed only in
    # forward), num_features=0 failed inside torch.cat without a name.
    with pytest.raises(error, match=message):
        build()
