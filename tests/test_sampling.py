"""Tests of graphclust.sampling: CSR, neighbour sampling, random walks, batch plans.

Statistical tests compare empirical distributions with exact ones (dense matrix powers
on small graphs) by a chi-square test with fixed seeds: a sampler that is off by a
few percent fails them.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy import stats

from graphclust.sampling import (
    CSRGraph,
    NodeBatchPlan,
    available_memory_bytes,
    random_walks,
    sample_neighbors,
    sample_positives,
)
from graphclust.sampling import csr as csr_module

P_THRESHOLD = 1e-3

# A 10-node graph with a star (0 with leaves 1-4), a triangle (5, 6, 7) hanging off
# leaf 4, a pendant node 8 and an isolated node 9.
SMALL_EDGES = [(0, 1), (0, 2), (0, 3), (0, 4), (4, 5), (5, 6), (6, 7), (7, 5), (7, 8)]
SMALL_NUM_NODES = 10


def symmetric_edge_index(pairs, seed=0):
    """Both directions of each pair, in a shuffled (unsorted) column order."""
    edges = torch.tensor(pairs, dtype=torch.int64).t()
    both = torch.cat([edges, edges.flip(0)], dim=1)
    order = torch.randperm(both.shape[1], generator=torch.Generator().manual_seed(seed))
    return both[:, order]


def random_graph(num_nodes, num_pairs, seed):
    """Symmetric random graph without self-loops or duplicates."""
    generator = torch.Generator().manual_seed(seed)
    pairs = torch.randint(0, num_nodes, (2, num_pairs), generator=generator)
    pairs = pairs[:, pairs[0] != pairs[1]]
    both = torch.cat([pairs, pairs.flip(0)], dim=1)
    return torch.unique(both, dim=1)


def dense_adjacency(edge_index, num_nodes):
    adjacency = np.zeros((num_nodes, num_nodes))
    np.add.at(adjacency, (edge_index[0].numpy(), edge_index[1].numpy()), 1.0)
    return adjacency


def normalized_with_self_loops(adjacency):
    """Â = D̃⁻¹(A + I)."""
    with_loops = adjacency + np.eye(len(adjacency))
    return with_loops / with_loops.sum(axis=1, keepdims=True)


def combined_chisquare_pvalue(counts, probabilities):
    """One chi-square p-value for rows of multinomial counts against exact rows.

    Counts outside the support of a row fail the test outright (p = 0).
    """
    statistic, dof = 0.0, 0
    for observed, expected_p in zip(counts, probabilities, strict=True):
        support = expected_p > 1e-12
        if observed[~support].sum() > 0:
            return 0.0
        if support.sum() < 2:
            continue
        expected = expected_p[support] * observed.sum()
        statistic += stats.chisquare(observed[support], expected).statistic
        dof += int(support.sum()) - 1
    return float(stats.chi2.sf(statistic, dof))


def row_counts(rows, values, num_rows, num_values):
    counts = np.zeros((num_rows, num_values))
    np.add.at(counts, (np.asarray(rows), np.asarray(values)), 1.0)
    return counts


@pytest.fixture
def small_csr():
    return CSRGraph.from_edge_index(symmetric_edge_index(SMALL_EDGES), SMALL_NUM_NODES)


@pytest.fixture
def small_adjacency():
    return dense_adjacency(symmetric_edge_index(SMALL_EDGES), SMALL_NUM_NODES)


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
        (torch.tensor([[0], [1]]), -1, ValueError, "non-negative int"),
        (torch.tensor([[0], [1]]), True, ValueError, "non-negative int"),
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


# ----------------------------------------------------------------- random walks

WALKS_PER_NODE = 20000


def walks_from_every_node(csr, length, seed, self_loops=True):
    starts = torch.arange(csr.num_nodes).repeat_interleave(WALKS_PER_NODE)
    generator = torch.Generator().manual_seed(seed)
    return starts, random_walks(csr, starts, length, generator, self_loops=self_loops)


def test_walk_steps_follow_edges_or_stay(small_csr, small_adjacency):
    starts, walks = walks_from_every_node(small_csr, 3, seed=0)
    assert walks.shape == (starts.numel(), 4) and torch.equal(walks[:, 0], starts)
    before, after = walks[:, :-1].reshape(-1).numpy(), walks[:, 1:].reshape(-1).numpy()
    assert ((before == after) | (small_adjacency[before, after] > 0)).all()
    assert (walks[starts == 9] == 9).all()


@pytest.mark.parametrize("self_loops", [True, False])
def test_walk_positions_follow_matrix_powers(small_csr, small_adjacency, self_loops):
    if self_loops:
        transition = normalized_with_self_loops(small_adjacency)
    else:
        degree = small_adjacency.sum(1, keepdims=True)
        transition = np.where(degree > 0, small_adjacency / np.maximum(degree, 1), 0.0)
        transition[degree[:, 0] == 0, degree[:, 0] == 0] = 1.0
    starts, walks = walks_from_every_node(small_csr, 3, seed=1, self_loops=self_loops)
    power = np.eye(SMALL_NUM_NODES)
    for step in range(1, 4):
        power = power @ transition
        counts = row_counts(starts, walks[:, step], SMALL_NUM_NODES, SMALL_NUM_NODES)
        assert combined_chisquare_pvalue(counts, power) > P_THRESHOLD
        assert np.abs(counts / WALKS_PER_NODE - power).max() < 0.02


def test_chisquare_check_detects_a_wrong_transition_matrix(small_csr, small_adjacency):
    # Guard on the test itself: walks on Â must not pass as walks on D⁻¹A.
    degree = small_adjacency.sum(1, keepdims=True)
    without_stay = np.where(degree > 0, small_adjacency / np.maximum(degree, 1), np.eye(10))
    starts, walks = walks_from_every_node(small_csr, 1, seed=2)
    counts = row_counts(starts, walks[:, 1], SMALL_NUM_NODES, SMALL_NUM_NODES)
    assert combined_chisquare_pvalue(counts, without_stay) == 0.0
    perturbed = normalized_with_self_loops(small_adjacency)
    perturbed[0, [0, 1]] += [0.02, -0.02]
    assert combined_chisquare_pvalue(counts, perturbed) < P_THRESHOLD


def test_walks_without_edges_and_of_length_zero():
    csr = CSRGraph.from_edge_index(torch.empty((2, 0), dtype=torch.int64), 3)
    walks = random_walks(csr, torch.tensor([2, 0]), 4)
    assert walks.tolist() == [[2] * 5, [0] * 5]
    assert random_walks(csr, torch.tensor([1]), 0).tolist() == [[1]]


# -------------------------------------------------------------------- positives

ORDER = 3


def test_power_positives_sample_rows_of_the_matrix_power(small_csr, small_adjacency):
    exact = np.linalg.matrix_power(normalized_with_self_loops(small_adjacency), ORDER)
    seeds = torch.arange(SMALL_NUM_NODES)
    raw = sample_positives(
        small_csr,
        seeds,
        ORDER,
        WALKS_PER_NODE,
        "power",
        torch.Generator().manual_seed(3),
        coalesce=False,
    )
    assert raw.seed_index.numel() == SMALL_NUM_NODES * WALKS_PER_NODE
    counts = row_counts(raw.seed_index, raw.node_ids, SMALL_NUM_NODES, SMALL_NUM_NODES)
    assert combined_chisquare_pvalue(counts, exact) > P_THRESHOLD

    merged = sample_positives(
        small_csr, seeds, ORDER, WALKS_PER_NODE, "power", torch.Generator().manual_seed(3)
    )
    estimate = np.zeros_like(exact)
    estimate[merged.seed_index.numpy(), merged.node_ids.numpy()] = merged.weight.numpy()
    np.testing.assert_allclose(estimate, counts / WALKS_PER_NODE, atol=1e-6)
    np.testing.assert_allclose(estimate.sum(1), 1.0, atol=1e-5)
    assert np.abs(estimate - exact).max() < 0.02


def test_influence_positives_estimate_the_sum_of_powers(small_csr, small_adjacency):
    transition = normalized_with_self_loops(small_adjacency)
    powers = [np.linalg.matrix_power(transition, step) for step in range(1, ORDER + 1)]
    seeds = torch.arange(SMALL_NUM_NODES)
    raw = sample_positives(
        small_csr,
        seeds,
        ORDER,
        WALKS_PER_NODE,
        "influence",
        torch.Generator().manual_seed(4),
        coalesce=False,
    )
    # Uncoalesced pairs are ordered by seed, walk, then step: step l visits are
    # multinomial samples of Â^l, so each is checked on its own.
    visits = raw.node_ids.view(SMALL_NUM_NODES, WALKS_PER_NODE, ORDER)
    anchors = raw.seed_index.view(SMALL_NUM_NODES, WALKS_PER_NODE, ORDER)
    for step in range(ORDER):
        counts = row_counts(
            anchors[..., step].reshape(-1),
            visits[..., step].reshape(-1),
            SMALL_NUM_NODES,
            SMALL_NUM_NODES,
        )
        assert combined_chisquare_pvalue(counts, powers[step]) > P_THRESHOLD

    merged = sample_positives(
        small_csr, seeds, ORDER, WALKS_PER_NODE, "influence", torch.Generator().manual_seed(4)
    )
    estimate = np.zeros((SMALL_NUM_NODES, SMALL_NUM_NODES))
    estimate[merged.seed_index.numpy(), merged.node_ids.numpy()] = merged.weight.numpy()
    np.testing.assert_allclose(estimate.sum(1), ORDER, atol=1e-4)
    assert np.abs(estimate - sum(powers)).max() < 0.05


def test_isolated_node_is_its_own_positive(small_csr):
    for kind, weight in (("power", 1.0), ("influence", float(ORDER))):
        positives = sample_positives(small_csr, torch.tensor([9, 0]), ORDER, 50, kind)
        isolated = positives.seed_index == 0
        assert positives.node_ids[isolated].tolist() == [9]
        assert positives.weight[isolated].tolist() == [weight]


@pytest.mark.parametrize(
    ("order", "num_samples", "kind", "message"),
    [
        (0, 5, "power", "order must be a positive int"),
        (2, 0, "power", "num_samples must be a positive int"),
        (2, 5, "sum", "kind must be one of"),
    ],
)
def test_sample_positives_rejects_bad_input(small_csr, order, num_samples, kind, message):
    with pytest.raises(ValueError, match=message):
        sample_positives(small_csr, torch.tensor([0]), order, num_samples, kind)


def test_random_walks_rejects_bad_length(small_csr):
    with pytest.raises(ValueError, match="length must be a non-negative int"):
        random_walks(small_csr, torch.tensor([0]), -1)


# ------------------------------------------------------------------ batch plans


def test_batch_plan_covers_every_node_once_per_epoch():
    plan = NodeBatchPlan(103, 10, seed=0)
    assert len(plan) == 11
    first, second = list(plan), list(plan)
    assert [batch.numel() for batch in first] == [10] * 10 + [3]
    for epoch in (first, second):
        assert torch.equal(torch.cat(epoch).sort().values, torch.arange(103))
    assert not torch.equal(torch.cat(first), torch.cat(second))
    assert plan.epoch == 2


def test_batch_plan_is_reproducible_from_seed_and_epoch():
    plan, twin = NodeBatchPlan(50, 8, seed=11), NodeBatchPlan(50, 8, seed=11)
    epochs = [torch.cat(list(plan)) for _ in range(3)]
    twin.set_epoch(2)
    assert torch.equal(torch.cat(list(twin)), epochs[2])
    assert torch.equal(torch.cat(plan.batches(0)), epochs[0])
    assert len({tuple(epoch.tolist()) for epoch in epochs}) == 3
    # Neighbouring seeds give different epochs (a 64-bit seed would collide here,
    # since the CPU generator keeps 32 bits of it).
    for seed in (10, 12, 11 + 2**31):
        other = NodeBatchPlan(50, 8, seed=seed)
        assert not torch.equal(torch.cat(list(other)), epochs[0])


def test_batch_plan_default_seed_follows_torch_manual_seed():
    torch.manual_seed(5)
    first = torch.cat(list(NodeBatchPlan(30, 7)))
    torch.manual_seed(5)
    assert torch.equal(torch.cat(list(NodeBatchPlan(30, 7))), first)


def test_batch_plan_without_shuffle_and_with_drop_last():
    plan = NodeBatchPlan(10, 4, shuffle=False, drop_last=True)
    assert len(plan) == 2
    assert [batch.tolist() for batch in plan] == [[0, 1, 2, 3], [4, 5, 6, 7]]


@pytest.mark.parametrize(("num_nodes", "drop_last"), [(60, False), (64, False), (64, True)])
def test_batch_plan_shares_epochs_between_ranks(num_nodes, drop_last):
    world_size, batch_size = 3, 4
    plans = [
        NodeBatchPlan(
            num_nodes, batch_size, drop_last=drop_last, seed=3, rank=rank, world_size=world_size
        )
        for rank in range(world_size)
    ]
    assert len({len(plan) for plan in plans}) == 1
    epochs = [plan.batches(1) for plan in plans]
    assert len({len(batches) for batches in epochs}) == 1
    shares = [torch.cat(batches) for batches in epochs]
    everything = torch.cat(shares)
    single = torch.cat(NodeBatchPlan(num_nodes, batch_size, seed=3).batches(1))
    if drop_last:
        # Whole global batches of batch_size * world_size only.
        assert everything.numel() == (num_nodes // 12) * 12
        assert torch.unique(everything).numel() == everything.numel()
    else:
        padding = -num_nodes % world_size
        assert everything.numel() == num_nodes + padding
        assert torch.equal(torch.unique(everything), torch.arange(num_nodes))
        # Ranks draw the single-process permutation and deal it out in turn.
        for rank, share in enumerate(shares):
            assert torch.equal(share, torch.cat([single, single[:padding]])[rank::world_size])


def test_batch_size_larger_than_the_graph_falls_back_to_full_batch():
    with pytest.warns(UserWarning, match="batch_size=50 exceeds the graph's 20 nodes"):
        plan = NodeBatchPlan(20, 50, seed=0)
    assert plan.batch_size == 20 and len(plan) == 1
    assert torch.equal(next(iter(plan)).sort().values, torch.arange(20))
    with pytest.warns(UserWarning, match="each process's share of 10 nodes"):
        NodeBatchPlan(20, 11, seed=0, rank=1, world_size=2)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"num_nodes": 10, "batch_size": 0}, ValueError, "batch_size must be >= 1"),
        ({"num_nodes": 0, "batch_size": 4}, ValueError, "num_nodes must be >= 1"),
        ({"num_nodes": 10, "batch_size": 2.5}, TypeError, "batch_size must be an int"),
        (
            {"num_nodes": 10, "batch_size": 2, "seed": 1, "rank": 2, "world_size": 2},
            ValueError,
            r"rank must be in \[0, world_size=2\)",
        ),
        ({"num_nodes": 10, "batch_size": 2, "world_size": 2}, ValueError, "seed is required"),
        ({"num_nodes": 10, "batch_size": 2, "seed": -1}, ValueError, "seed must be an int"),
        (
            {"num_nodes": 2, "batch_size": 1, "seed": 0, "world_size": 3, "drop_last": True},
            ValueError,
            "leave nothing",
        ),
        ({"num_nodes": 10, "batch_size": 2, "shuffle": 1}, TypeError, "shuffle must be a bool"),
    ],
)
def test_batch_plan_rejects_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        NodeBatchPlan(**kwargs)


def test_set_epoch_rejects_bad_epoch():
    with pytest.raises(ValueError, match="epoch must be an int"):
        NodeBatchPlan(10, 2, seed=0).set_epoch(-1)


def test_batch_plan_len_matches_iteration():
    for num_nodes, batch_size, drop_last in itertools.product((1, 7, 64), (1, 3, 8), (0, 1)):
        plan = NodeBatchPlan(
            num_nodes, min(batch_size, num_nodes), drop_last=bool(drop_last), seed=0
        )
        assert len(plan) == len(list(plan))
