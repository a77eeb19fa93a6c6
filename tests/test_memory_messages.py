"""The memory estimate of message-passing encoders (graphclust.memory_messages)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from graphclust import MPNNVNClusterer, SCGCStar
from graphclust.estimators.graph_models import GraphTransformerClusterer
from graphclust.memory import estimate_peak_memory
from graphclust.memory_messages import MessagePassing, message_passing_sizes
from graphclust.nn.graph_transformer import GraphTransformerConfig
from graphclust.nn.mpnn_vn import MPNNVNConfig
from graphclust.sampling import RandomWalkSampler

GCN = MessagePassing(layers=2)
PERFORMER = MessagePassing(layers=2, heads=4, features=64)


def test_the_sizes_of_each_encoder():
    assert message_passing_sizes(MPNNVNConfig(), 10) == MessagePassing(2, 10, 2, 1, 0)
    assert message_passing_sizes(MPNNVNConfig(num_layers=3, conv="gin"), 5) == \
        MessagePassing(3, 5, 1, 1, 0)
    assert message_passing_sizes(GraphTransformerConfig(), 10) == MessagePassing(2, 10, 2, 4, 64)
    # Exact attention is not counted (module docstring): only the messages are.
    assert message_passing_sizes(GraphTransformerConfig(attention="full"), 10).features == 0
    assert message_passing_sizes(SCGCStar(3)._encoder_config(), 10) is None


def test_the_estimators_pass_their_encoder_and_sampler():
    assert SCGCStar(3)._memory_sizes()["message_passing"] is None
    assert MPNNVNClusterer(3, fanout=4)._memory_sizes()["message_passing"] == \
        MessagePassing(2, 4, 2, 1, 0)
    sampler = RandomWalkSampler(256, fanout=7)
    passing = GraphTransformerClusterer(3, sampler=sampler)._memory_sizes()["message_passing"]
    assert passing == MessagePassing(2, 7, 2, 4, 64)


@pytest.mark.parametrize("field, value, error", [
    ("layers", 0, ValueError), ("fanout", 0, ValueError), ("messages", 0, ValueError),
    ("heads", 0, ValueError), ("features", -1, ValueError), ("layers", 2.5, TypeError)])
def test_bad_sizes_are_refused(field, value, error):
    with pytest.raises(error, match=field):
        MessagePassing(**{"layers": 2, field: value})


def test_a_message_passing_argument_of_another_type_is_refused():
    with pytest.raises(TypeError, match="MessagePassing"):
        estimate_peak_memory(100, 500, 8, message_passing=2)


def test_messages_grow_with_the_edges_by_the_copies_of_a_state():
    """GCN holds two H-wide states an edge entry (gathered, weighted), GIN one."""
    sizes = dict(hidden_dims=(128, 128), n_positive_pairs=10**5)
    gin = MessagePassing(layers=2, messages=1)
    for passing, copies in ((GCN, 2), (gin, 1)):
        low, high = (estimate_peak_memory(5000, e, 16, message_passing=passing, **sizes)
                     .parts["messages"] for e in (10**5, 2 * 10**5))
        assert (high - low) / 10**5 == copies * 128 * 4 + 2 * (16 + 4)
    mlp = estimate_peak_memory(5000, 10**5, 16, **sizes)
    assert "messages" not in mlp.parts and "attention" not in mlp.parts


def test_a_mini_batch_counts_its_neighbourhood_and_the_whole_graph_pass():
    sizes = dict(hidden_dims=(64, 64), batch_size=64, message_passing=PERFORMER)
    # 64 seeds, 9 candidates a seed, 2 hops of 10: 576 * 111 rows cover a 20k-node graph.
    large = estimate_peak_memory(20_000, 500_000, 16, **sizes)
    full = estimate_peak_memory(20_000, 500_000, 16, hidden_dims=(64, 64),
                                n_positive_pairs=10**6, message_passing=PERFORMER)
    assert large.parts["attention"] == full.parts["attention"]
    assert large.parts["neighbourhood activations"] > 0
    # On a million nodes the neighbourhood is 63,936 rows, the whole graph's pass larger.
    huge = estimate_peak_memory(10**6, 10**7, 16, **sizes).parts
    assert huge["attention"] == 10**6 * (4 * 4 * 64 + 14 * 64) * 4
    assert huge["messages"] == (10**7 + 10**6) * (2 * 64 * 4 + 16 + 4)


_ENCODER_PEAK = """
import sys, psutil, torch
from graphclust.benchmark.measure import peak_resident_bytes
from graphclust.nn.graph_transformer import GraphTransformerConfig
from graphclust.nn.mpnn_vn import MPNNVNConfig
kind, n, e = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
config = MPNNVNConfig(64) if kind == "mpnn" else GraphTransformerConfig(64)
encoder = config.build(16, 32)
edges = torch.randint(0, n, (2, e), generator=torch.Generator().manual_seed(0))
x = torch.randn(n, 16)
before = psutil.Process().memory_info().rss
encoder(x, edges).sum().backward()
print(peak_resident_bytes() - before)  # not ru_maxrss, which holds pytest's own peak
"""


def _peak(kind: str, n: int, e: int) -> int:
    # glibc's threshold for returning freed blocks to the system moves with what was freed
    # before: fixed, a small graph's peak varied by 23 MiB between identical runs.
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(2**17)}
    return int(subprocess.run([sys.executable, "-c", _ENCODER_PEAK, kind, str(n), str(e)],
                              capture_output=True, text=True, check=True, env=env).stdout)


@pytest.mark.parametrize("kind, passing, sizes", [
    # More edges on as many nodes: the messages alone grow.
    ("mpnn", GCN, ((4000, 100_000), (4000, 600_000))),
    # More nodes on as many edges: the attention's rows grow (from 6,000 nodes on the
    # peak grows by 16 KB a row; below, the allocator's caching blurs it).
    ("gt", PERFORMER, ((6000, 20_000), (20_000, 20_000)))])
def test_the_counted_parts_cover_a_measured_full_batch_step(kind, passing, sizes):
    """An encoder's forward and backward over the whole graph, measured in a fresh process
    at two sizes: what the estimate's message-passing parts add between them is within
    0.9-1.5 of what the peak grew by (both had been counted as an MLP's rows, far less)."""
    grown = _peak(kind, *sizes[1]) - _peak(kind, *sizes[0])
    counted = [estimate_peak_memory(n, e, 16, hidden_dims=(64, 64), n_positive_pairs=10**5,
                                    message_passing=passing) for n, e in sizes]
    parts = ("messages", "attention", "activations")
    added = sum(counted[1].parts.get(p, 0) - counted[0].parts.get(p, 0) for p in parts)
    assert 0.9 <= added / grown <= 1.5, (added, grown)
