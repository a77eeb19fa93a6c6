"""Full-graph and sampled contrastive batches."""

import numpy as np
import pytest
import torch

from graphclust.objectives import neighbor_contrastive_loss, positive_weights
from graphclust.sampling.contrastive import FullGraphBatches, SampledBatches


def _graph():
    # Path 0-1-2-3, triangle 4-5-6, isolated nodes 7 and 8.
    edges = [(0, 1), (1, 2), (2, 3), (4, 5), (5, 6), (4, 6)]
    return torch.tensor(edges + [(j, i) for i, j in edges]).T, 9


def _loss(z, batch, tau=1.0):
    return neighbor_contrastive_loss(
        z[batch.anchor_rows], z, batch.positive_anchor, batch.positive_candidate,
        batch.positive_weight, tau, self_candidate=batch.anchor_rows,
    )


def test_excluding_isolated_nodes_averages_the_other_rows():
    edge_index, n = _graph()
    z = torch.randn(n, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    every = next(iter(FullGraphBatches(edge_index, n, 2, "influence")))
    connected = next(iter(FullGraphBatches(edge_index, n, 2, "influence",
                                           exclude_isolated=True)))
    assert connected.anchor_rows.tolist() == list(range(7))
    assert len(connected.candidates) == n  # isolated nodes stay negatives
    w = positive_weights(edge_index, n, 2, "influence").to_dense().double().numpy()
    h = torch.nn.functional.normalize(z, dim=1).numpy()
    s = h @ h.T
    np.fill_diagonal(s, 0.0)
    per_row = -np.log((w * np.exp(s)).sum(1) / np.exp(s).sum(1))
    assert _loss(z, every).item() == pytest.approx(per_row.mean(), rel=1e-6)
    assert _loss(z, connected).item() == pytest.approx(per_row[:7].mean(), rel=1e-6)


@pytest.mark.parametrize("exclude", [False, True])
def test_sampled_batches_cover_the_epoch_and_map_positives(exclude):
    edge_index, n = _graph()
    batches = SampledBatches(edge_index, n, order=2, kind="influence", batch_size=4,
                             num_walks=8, seed=3, exclude_isolated=exclude)
    seen = []
    neighbours = {i: {i} for i in range(n)}
    for i, j in edge_index.T.tolist():
        neighbours[i].add(j)
    for batch in batches:
        b = len(batch.seeds)
        assert torch.equal(batch.candidates[:b], batch.seeds)
        assert len(set(batch.candidates.tolist())) == len(batch.candidates)
        anchors = batch.candidates[batch.anchor_rows]
        if exclude:
            assert not set(anchors.tolist()) & {7, 8}
        # Every positive is within two hops of its anchor (walks of length 2 on A + I).
        for a, c in zip(batch.positive_anchor.tolist(), batch.positive_candidate.tolist(),
                        strict=True):
            anchor, positive = anchors[a].item(), batch.candidates[c].item()
            two_hops = set().union(*(neighbours[k] for k in neighbours[anchor]))
            assert positive in two_hops
        # Influence weights estimate rows of sum_l A_hat^l: each row sums to r = 2.
        sums = torch.zeros(len(batch.anchor_rows), dtype=batch.positive_weight.dtype)
        sums.index_add_(0, batch.positive_anchor, batch.positive_weight)
        torch.testing.assert_close(sums, torch.full_like(sums, 2.0))
        seen.extend(batch.seeds.tolist())
    assert sorted(seen) == list(range(n))


def test_the_random_walk_sampler_caps_an_epoch_at_its_max_batches():
    from graphclust.sampling import RandomWalkSampler
    from graphclust.sampling.contrastive import EPOCH_BATCHES

    edge_index, n = _graph()
    assert RandomWalkSampler(2).max_batches == EPOCH_BATCHES
    capped = RandomWalkSampler(2, max_batches=2).batches(edge_index, n, seed=0)
    every = RandomWalkSampler(2, max_batches=None).batches(edge_index, n, seed=0)
    assert (len(capped), len(every)) == (2, 5)
    assert [len(batch.seeds) for batch in capped] == [2, 2]
