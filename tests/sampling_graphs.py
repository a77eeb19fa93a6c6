"""Small graphs and exact distributions shared by the tests of graphclust.sampling.

Statistical tests compare empirical distributions with exact ones (dense matrix powers
on small graphs) by a chi-square test with fixed seeds: a sampler that is off by a
few percent fails them.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats

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
