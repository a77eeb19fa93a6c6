"""Tests of graphclust.sampling: random walks and the positives sampled from them.

Statistical tests compare empirical distributions with exact ones (dense matrix powers
on small graphs) by a chi-square test with fixed seeds (``sampling_graphs.py``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sampling_graphs import (
    P_THRESHOLD,
    SMALL_NUM_NODES,
    combined_chisquare_pvalue,
    normalized_with_self_loops,
    row_counts,
)

from graphclust.sampling import (
    CSRGraph,
    random_walks,
    sample_neighbors,
    sample_positives,
)

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
        (0, 5, "power", "order must be an integer >= 1"),
        (2, 0, "power", "num_samples must be an integer >= 1"),
        (2, 5, "sum", "kind must be one of"),
    ],
)
def test_sample_positives_rejects_bad_input(small_csr, order, num_samples, kind, message):
    with pytest.raises(ValueError, match=message):
        sample_positives(small_csr, torch.tensor([0]), order, num_samples, kind)


def test_random_walks_rejects_bad_length(small_csr):
    with pytest.raises(ValueError, match="length must be an integer >= 0"):
        random_walks(small_csr, torch.tensor([0]), -1)


@pytest.mark.parametrize("flag", ["self_loops", "coalesce", "replace"])
def test_samplers_refuse_a_flag_that_is_not_a_bool(small_csr, flag):
    # "no" and 0 are values a config file gives; each would be read as its truth value.
    calls = {
        "self_loops": lambda value: random_walks(small_csr, torch.tensor([0]), 2,
                                                 self_loops=value),
        "coalesce": lambda value: sample_positives(small_csr, torch.tensor([0]), 2, 3,
                                                   coalesce=value),
        "replace": lambda value: sample_neighbors(small_csr, torch.tensor([0]), [2],
                                                  replace=value),
    }
    with pytest.raises(TypeError, match=f"{flag} must be True or False, got 'no'"):
        calls[flag]("no")
    calls[flag](np.bool_(True))  # a NumPy bool is a bool
