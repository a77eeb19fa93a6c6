"""HeldOutEdges: the split of the edges the start sets aside, and its two scores."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from graphclust.objectives.held_out import HeldOutEdges, cluster_code_fall


def _ring(n):
    row = torch.arange(n)
    col = (row + 1) % n
    return torch.cat([torch.stack([row, col]), torch.stack([col, row])], 1)


def test_split_keeps_both_directions_and_holds_out_the_share():
    edge_index = _ring(100)
    held = HeldOutEdges(edge_index, 100, 0.2, 1.0, torch.Generator().manual_seed(0))
    train = {tuple(e) for e in held.train_edge_index.T.tolist()}
    assert len(train) == 2 * 80 and all((b, a) in train for a, b in train)
    assert len(held) == 20
    held_pairs = {(int(held.nodes[a]), int(held.nodes[b]))
                  for a, b in zip(held._anchors, held._partners, strict=True)}
    assert not held_pairs & train


def test_loss_equals_the_formula_written_densely():
    n, tau = 30, 2.0
    held = HeldOutEdges(_ring(n), n, 0.3, tau, torch.Generator().manual_seed(1))
    z = torch.randn(n, 5, generator=torch.Generator().manual_seed(2))
    zn = F.normalize(z, dim=1)
    expected = []
    for a, b in zip(held._anchors, held._partners, strict=True):
        i, j = int(held.nodes[a]), int(held.nodes[b])
        logits = tau * zn[i] @ zn.T
        logits[i] = float("-inf")
        expected.append(torch.logsumexp(logits, 0) - tau * zn[i] @ zn[j])
    assert held.loss(z[held.nodes]) == pytest.approx(float(torch.stack(expected).mean()),
                                                     rel=1e-5)


def test_rank_share_counts_the_other_candidates_closer_than_the_partner():
    n = 30
    held = HeldOutEdges(_ring(n), n, 0.3, 3.0, torch.Generator().manual_seed(1))
    z = torch.randn(n, 5, generator=torch.Generator().manual_seed(2))
    zn = F.normalize(z, dim=1)
    shares = []
    for a, b in zip(held._anchors, held._partners, strict=True):
        i, j = int(held.nodes[a]), int(held.nodes[b])
        similarity = zn[i] @ zn.T
        others = [k for k in range(n) if k not in (i, j)]
        shares.append(sum(bool(similarity[k] > similarity[j]) for k in others) / len(others))
    loss, rank = held.scores(z[held.nodes])
    assert loss == held.loss(z[held.nodes])
    assert rank == pytest.approx(sum(shares) / len(shares), rel=1e-6)
    # tau scales every logit alike, so the rank share does not depend on it.
    same_split = HeldOutEdges(_ring(n), n, 0.3, 1.0, torch.Generator().manual_seed(1))
    assert same_split.scores(z[held.nodes])[1] == rank
    # An embedding that tells no node apart is no better than chance: ties count half.
    assert held.scores(torch.ones(len(held.nodes), 4))[1] == pytest.approx(0.5)


def test_large_graphs_are_scored_against_a_sample_holding_every_partner():
    n = 500
    held = HeldOutEdges(_ring(n), n, 0.1, 1.0, torch.Generator().manual_seed(0),
                        max_pairs=16, max_candidates=50)
    assert len(held) == 16
    candidates = set(held.nodes[held._candidates].tolist())
    assert set(held.nodes[held._partners].tolist()) <= candidates
    assert len(candidates) <= 50 + 16


@pytest.mark.parametrize("k, tau", [(3, 1.0), (10, 1.0), (4, 2.5)])
def test_cluster_code_fall_is_the_fall_to_a_simplex_code_of_the_clusters(k, tau):
    # Every held-out pair inside a cluster; from one point for every node (no node told
    # apart) to the corners of a regular simplex, one a cluster.
    n = 3000
    cluster = torch.arange(n) % k
    order = torch.argsort(cluster)
    ring = _ring(n // k)
    edges = torch.cat([order[ring + c * (n // k)] for c in range(k)], 1)
    held = HeldOutEdges(edges, n, 0.5, tau, torch.Generator().manual_seed(0))
    corners = torch.eye(k) - 1 / k  # centred one-hot codes: cosine -1/(k-1) across
    same = held.loss(torch.ones(n, k)[held.nodes])
    coded = held.loss(corners[cluster][held.nodes])
    assert same - coded == pytest.approx(cluster_code_fall(k, tau), abs=5e-3)


def test_cluster_code_fall_needs_two_clusters():
    with pytest.raises(ValueError, match="n_clusters"):
        cluster_code_fall(1, 1.0)
