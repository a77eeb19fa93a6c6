"""Tests of graphclust.sampling: the CSR graph and neighbour sampling."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sampling_graphs import (
    P_THRESHOLD,
    SMALL_NUM_NODES,
    dense_adjacency,
    random_graph,
)
from scipy import stats

from graphclust.sampling import (
    CSRGraph,
    available_memory_bytes,
    random_walks,
    sample_neighbors,
)
from graphclust.sampling import csr as csr_module

# --------------------------------------------------------------------------- CSR


def test_csr_matches_scipy_and_ignores_edge_order():
    edge_index = random_graph(300, 1500, seed=1)
    shuffled = edge_index[:, torch.randperm(edge_index.shape[1])]
    csr = CSRGraph.from_edge_index(shuffled, 300)
    ones = np.ones(edge_index.shape[1])
    reference = sp.csr_matrix((ones, (edge_index[0].numpy(), edge_index[1].numpy())), (300, 300))
    reference.sort_indices()
    assert torch.equal(csr.rowptr, torch.from_numpy(reference.indptr.astype(np.int64)))
    assert torch.equal(csr.col, torch.from_numpy(reference.indices.astype(np.int64)))
    assert torch.equal(csr.degree, torch.from_numpy(np.diff(reference.indptr)))
    assert csr.num_nodes == 300 and csr.num_edges == edge_index.shape[1]
    assert csr.memory_bytes() == 8 * (300 + 1 + edge_index.shape[1])
    again = CSRGraph.from_edge_index(edge_index, 300)
    assert torch.equal(again.col, csr.col)


def test_csr_keeps_duplicates_self_loops_and_trailing_isolated_nodes():
    edge_index = torch.tensor([[2, 0, 2, 1], [1, 0, 1, 2]])
    csr = CSRGraph.from_edge_index(edge_index, 5)
    assert csr.rowptr.tolist() == [0, 1, 2, 4, 4, 4]
    assert csr.col.tolist() == [0, 2, 1, 1]


def test_csr_of_empty_graph():
    csr = CSRGraph.from_edge_index(torch.empty((2, 0), dtype=torch.int64), 4)
    assert csr.rowptr.tolist() == [0, 0, 0, 0, 0]
    assert csr.num_edges == 0
    assert csr.to("cpu") is csr
    assert "num_nodes=4" in repr(csr)


def test_csr_too_large_for_memory_names_the_size(monkeypatch):
    monkeypatch.setattr(csr_module, "available_memory_bytes", lambda device: 1000)
    edge_index = random_graph(100, 400, seed=0)
    with pytest.raises(MemoryError, match=r"100 nodes .* takes 0\.00 GiB \(6,\d+ bytes\)"):
        CSRGraph.from_edge_index(edge_index, 100)


def test_available_memory_bytes():
    assert available_memory_bytes("cpu") > 0
    with pytest.raises(ValueError, match="Unsupported device type"):
        available_memory_bytes("meta")


@pytest.mark.parametrize(
    ("edge_index", "num_nodes", "error", "message"),
    [
        ([[0, 1], [1, 0]], 2, TypeError, "must be a torch.Tensor"),
        (torch.tensor([[0.0, 1.0], [1.0, 0.0]]), 2, TypeError, "must hold integers"),
        (torch.tensor([[0, 1, 2]]), 3, ValueError, r"shape \(2, E\)"),
        (torch.tensor([[0, 3], [3, 0]]), 3, ValueError, r"outside \[0, 3\)"),
        (torch.tensor([[0, -1], [-1, 0]]), 3, ValueError, r"outside \[0, 3\)"),
        (torch.tensor([[0], [1]]), -1, ValueError, "num_nodes must be an integer >= 0"),
        (torch.tensor([[0], [1]]), True, TypeError, "num_nodes must be an integer, got bool"),
        (torch.tensor([[0], [1]]), 4_000_000_000, ValueError, "cannot overflow"),
    ],
)
def test_csr_rejects_bad_input(edge_index, num_nodes, error, message):
    with pytest.raises(error, match=message):
        CSRGraph.from_edge_index(edge_index, num_nodes)


@pytest.mark.parametrize(
    ("rowptr", "col", "message"),
    [
        ([0, 2, 1], [0], "non-decreasing"),
        ([1, 2], [0], "start at 0"),
        ([0, 1, 2], [0], r"rowptr\[-1\] must equal len\(col\)"),
        ([0, 1, 1], [5], r"outside \[0, 2\)"),
    ],
)
def test_csr_constructor_validates(rowptr, col, message):
    with pytest.raises(ValueError, match=message):
        CSRGraph(torch.tensor(rowptr), torch.tensor(col))


# ------------------------------------------------------------ neighbour sampling


def test_sample_neighbors_structure():
    num_nodes = 400
    edge_index = random_graph(num_nodes, 2000, seed=2)
    csr = CSRGraph.from_edge_index(edge_index, num_nodes)
    adjacency = dense_adjacency(edge_index, num_nodes) > 0
    degree = csr.degree
    seeds = torch.randperm(num_nodes, generator=torch.Generator().manual_seed(0))[:40]
    fanouts = [3, 5]
    sample = sample_neighbors(csr, seeds, fanouts, generator=torch.Generator().manual_seed(1))

    node_ids, (source, target) = sample.node_ids, sample.edge_index
    assert torch.equal(node_ids[:40], seeds) and sample.num_seeds == 40
    assert torch.unique(node_ids).numel() == node_ids.numel() == sample.num_nodes
    assert sum(sample.layer_sizes) == node_ids.numel() and len(sample.layer_sizes) == 3
    assert sum(sample.layer_edge_counts) == source.numel()
    assert adjacency[node_ids[source].numpy(), node_ids[target].numpy()].all()

    block_end = np.cumsum(sample.layer_sizes)
    edge_end = np.cumsum([0, *sample.layer_edge_counts])
    for hop, fanout in enumerate(fanouts):
        hop_source = source[edge_end[hop] : edge_end[hop + 1]]
        hop_target = target[edge_end[hop] : edge_end[hop + 1]]
        frontier_start = 0 if hop == 0 else block_end[hop - 1]
        frontier = torch.arange(frontier_start, block_end[hop])
        # Every frontier node samples min(degree, fanout) distinct neighbours.
        per_target = torch.bincount(hop_target - frontier_start, minlength=frontier.numel())
        assert torch.equal(per_target, degree[node_ids[frontier]].clamp(max=fanout))
        assert torch.unique(hop_target * num_nodes + hop_source).numel() == hop_source.numel()
        # The nodes first reached at this hop are exactly the new sources.
        new_nodes = set(range(block_end[hop], block_end[hop + 1]))
        assert new_nodes == set(hop_source.tolist()) - set(range(block_end[hop]))


def test_fanout_minus_one_gives_the_exact_k_hop_neighbourhood(small_csr, small_adjacency):
    seeds = torch.tensor([1, 9])
    sample = sample_neighbors(small_csr, seeds, [-1, -1])
    reach = np.eye(SMALL_NUM_NODES)[[1, 9]]
    for _ in range(2):
        reach = reach + reach @ small_adjacency
    assert set(sample.node_ids.tolist()) == set(np.flatnonzero(reach.sum(0)).tolist())
    # Hop 1 expands the seeds (degrees 1 and 0), hop 2 the star centre 0 (degree 4).
    assert sample.layer_sizes == [2, 1, 3] and sample.layer_edge_counts == [1, 4]


def disjoint_stars(num_stars, num_leaves):
    """Stars with centre ``k * (num_leaves + 1)`` and leaves following it."""
    centres = torch.arange(num_stars) * (num_leaves + 1)
    leaves = centres.unsqueeze(1) + torch.arange(1, num_leaves + 1)
    pairs = torch.stack([centres.repeat_interleave(num_leaves), leaves.reshape(-1)])
    edge_index = torch.cat([pairs, pairs.flip(0)], dim=1)
    return CSRGraph.from_edge_index(edge_index, num_stars * (num_leaves + 1)), centres


@pytest.mark.parametrize(("num_leaves", "fanout"), [(6, 2), (5, 3), (4, 3)])
def test_subsets_without_replacement_are_uniform(num_leaves, fanout):
    num_stars = 3000
    csr, centres = disjoint_stars(num_stars, num_leaves)
    sample = sample_neighbors(csr, centres, [fanout], generator=torch.Generator().manual_seed(3))
    source, target = sample.edge_index
    leaf_rank = sample.node_ids[source] - sample.node_ids[target] - 1
    subsets = torch.zeros(num_stars, num_leaves, dtype=torch.bool)
    subsets[target, leaf_rank] = True
    assert torch.equal(subsets.sum(1), torch.full((num_stars,), fanout))
    all_subsets = list(itertools.combinations(range(num_leaves), fanout))
    index = {subset: k for k, subset in enumerate(all_subsets)}
    drawn = [index[tuple(np.flatnonzero(row))] for row in subsets.numpy()]
    counts = np.bincount(drawn, minlength=len(all_subsets))
    assert stats.chisquare(counts).pvalue > P_THRESHOLD


def test_hub_inclusion_probabilities_are_uniform():
    num_stars, num_leaves, fanout = 2000, 40, 8
    csr, centres = disjoint_stars(num_stars, num_leaves)
    sample = sample_neighbors(csr, centres, [fanout], generator=torch.Generator().manual_seed(4))
    source, target = sample.edge_index
    leaf_rank = (sample.node_ids[source] - sample.node_ids[target] - 1).numpy()
    counts = np.bincount(leaf_rank, minlength=num_leaves)
    assert counts.sum() == num_stars * fanout
    assert stats.chisquare(counts).pvalue > P_THRESHOLD


def test_sampling_with_replacement_is_uniform_and_full():
    num_stars, num_leaves, fanout = 3000, 5, 4
    csr, centres = disjoint_stars(num_stars, num_leaves)
    sample = sample_neighbors(
        csr, centres, [fanout], generator=torch.Generator().manual_seed(5), replace=True
    )
    source, target = sample.edge_index
    assert torch.equal(torch.bincount(target), torch.full((num_stars,), fanout))
    leaf_rank = (sample.node_ids[source] - sample.node_ids[target] - 1).numpy()
    assert stats.chisquare(np.bincount(leaf_rank, minlength=num_leaves)).pvalue > P_THRESHOLD


def test_sample_neighbors_is_reproducible_and_seed_dependent(small_csr):
    seeds = torch.tensor([0, 5])

    def draw(seed):
        return sample_neighbors(small_csr, seeds, [2, 2], torch.Generator().manual_seed(seed))

    first, again = draw(7), draw(7)
    assert torch.equal(first.node_ids, again.node_ids)
    assert torch.equal(first.edge_index, again.edge_index)
    assert any(not torch.equal(first.edge_index, draw(seed).edge_index) for seed in range(8, 20))


def test_isolated_seed_and_no_fanouts(small_csr):
    sample = sample_neighbors(small_csr, torch.tensor([9]), [5, 5])
    assert sample.node_ids.tolist() == [9] and sample.edge_index.shape == (2, 0)
    assert sample.layer_sizes == [1, 0, 0]
    alone = sample_neighbors(small_csr, torch.tensor([3, 0]), [])
    assert alone.node_ids.tolist() == [3, 0] and alone.edge_index.shape == (2, 0)


@pytest.mark.parametrize(
    ("seeds", "fanouts", "error", "message"),
    [
        (torch.tensor([0]), [0], ValueError, "positive or -1"),
        (torch.tensor([0]), [2, -2], ValueError, "positive or -1"),
        (torch.tensor([0]), [2.0], TypeError, "must hold ints"),
        (torch.tensor([0]), 2, TypeError, "sequence of ints"),
        (torch.tensor([0.0]), [2], ValueError, "1-D int64"),
        (torch.tensor([0, 0]), [2], ValueError, "distinct"),
        (torch.tensor([10]), [2], ValueError, r"outside \[0, 10\)"),
    ],
)
def test_sample_neighbors_rejects_bad_input(small_csr, seeds, fanouts, error, message):
    with pytest.raises(error, match=message):
        sample_neighbors(small_csr, seeds, fanouts)


def test_generator_must_match_the_graph(small_csr):
    with pytest.raises(TypeError, match="torch.Generator"):
        sample_neighbors(small_csr, torch.tensor([0]), [2], generator=0)
    with pytest.raises(TypeError, match="CSRGraph"):
        sample_neighbors(torch.zeros(3), torch.tensor([0]), [2])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_sampling_uses_the_same_code(small_csr):
    csr = small_csr.to("cuda")
    generator = torch.Generator(device="cuda").manual_seed(0)
    sample = sample_neighbors(csr, torch.tensor([0, 5], device="cuda"), [2, -1], generator)
    assert sample.node_ids.is_cuda and sample.edge_index.is_cuda
    walks = random_walks(csr, torch.arange(10, device="cuda"), 3, generator)
    assert walks.is_cuda and walks.shape == (10, 4)
    with pytest.raises(ValueError, match="generator is on cpu"):
        random_walks(csr, torch.arange(10, device="cuda"), 3, torch.Generator())
    with pytest.raises(ValueError, match="starts is on cpu"):
        random_walks(csr, torch.arange(10), 3)
