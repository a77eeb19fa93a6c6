"""graphclust.data.feature_homophily and the fit's warning built on it."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import graphclust.data.homophily as homophily_module
from graphclust import MPNNVNClusterer, SCGCStar, load_dataset, to_graph
from graphclust.data import feature_homophily
from graphclust.estimators.checks import LOW_FEATURE_HOMOPHILY

FAST = {"max_epochs": 2, "pretrain_epochs": 2}


def brute_force(x: torch.Tensor, edge_index: torch.Tensor) -> float:
    """The definition, pair by pair."""
    units = F.normalize(x.double(), dim=1)
    n = len(units)
    pairs = np.mean([float(units[i] @ units[j])
                     for i, j in itertools.permutations(range(n), 2)])
    linked = np.mean([float(units[i] @ units[j]) for i, j in edge_index.t().tolist()])
    return (linked - pairs) / (1 - pairs)


def planted(n: int = 60, seed: int = 0):
    """Two groups of nodes, features pointing to their group, edges inside groups."""
    generator = torch.Generator().manual_seed(seed)
    group = torch.arange(n) % 2
    x = F.one_hot(group, 2).float() + 0.3 * torch.rand(n, 2, generator=generator)
    pairs = torch.randint(n, (2, 4 * n), generator=generator)
    inside = (group[pairs[0]] == group[pairs[1]]) & (pairs[0] != pairs[1])
    edges = torch.cat([pairs[:, inside], pairs[:, inside].flip(0)], dim=1).unique(dim=1)
    return x, edges, group


def test_matches_the_definition_pair_by_pair():
    generator = torch.Generator().manual_seed(1)
    x = torch.rand(12, 5, generator=generator)
    edges = torch.randint(12, (2, 30), generator=generator)
    edges = edges[:, edges[0] != edges[1]]
    assert feature_homophily(x, edges) == pytest.approx(brute_force(x, edges), abs=1e-6)
    # Node ids of any integer type are ids (torch.int32 from a loader, as the models read).
    assert feature_homophily(x, edges.int()) == feature_homophily(x, edges)


def test_rows_of_zeros_count_as_pointing_nowhere():
    """A node without features has similarity 0 with every node, in s_E and s_P alike."""
    generator = torch.Generator().manual_seed(3)
    x = torch.rand(10, 4, generator=generator)
    x[[2, 7]] = 0.0
    edges = torch.tensor([[0, 2, 7, 1, 3], [2, 7, 1, 3, 0]])
    assert feature_homophily(x, edges) == pytest.approx(brute_force(x, edges), abs=1e-6)


@pytest.mark.parametrize("scale", [1e-25, 1e-20, 1e20, 1e30])
def test_does_not_depend_on_the_features_scale(scale):
    # A cosine measure: a float32 product of raw rows had overflowed (NaN at 1e20) or
    # underflowed (the sign flipped at 1e-25).
    x, edges, _ = planted()
    assert feature_homophily(x * scale, edges) == pytest.approx(
        feature_homophily(x, edges), abs=1e-9)


def test_does_not_depend_on_the_chunk_of_edges(monkeypatch):
    x, edges, _ = planted()
    whole = feature_homophily(x, edges)
    monkeypatch.setattr(homophily_module, "_CHUNK_ENTRIES", 3)  # one edge entry a chunk
    assert feature_homophily(x, edges) == pytest.approx(whole, abs=1e-9)


def test_planted_groups_are_homophilous_and_shuffled_edges_are_not():
    x, edges, _ = planted(400)
    assert feature_homophily(x, edges) > 0.5
    order = torch.randperm(400, generator=torch.Generator().manual_seed(0))
    assert abs(feature_homophily(x, order[edges])) < LOW_FEATURE_HOMOPHILY


def test_edges_across_groups_are_negative():
    x, _, group = planted(40)
    across = torch.tensor([[i, j] for i in range(40) for j in range(40)
                           if group[i] != group[j]]).t()
    assert feature_homophily(x, across) < 0


@pytest.mark.parametrize("x", [torch.eye(5), torch.cat([torch.eye(5), torch.zeros(5, 2)], 1),
                               torch.ones(5, 3)], ids=["node-ids", "node-ids-padded", "constant"])
def test_undefined_without_likeness_or_without_difference(x):
    edges = torch.tensor([[0, 1, 2, 3], [1, 0, 3, 2]])
    assert math.isnan(feature_homophily(x, edges))


def test_constant_features_are_undefined_at_a_million_nodes():
    """s_P is summed in float64: N = 10^6 identical rows still read as all alike (float32
    sums of their unit vectors, 0.577 in each of 3 columns, gave 0.99999778)."""
    edges = torch.tensor([[0, 1], [1, 0]])
    assert math.isnan(feature_homophily(torch.full((1_000_000, 3), 0.7), edges))


def test_half_precision_and_gradients_read_as_float64():
    """float16 rows near its largest values do not overflow; x's gradient is not tracked."""
    generator = torch.Generator().manual_seed(2)
    x = 1000 * torch.rand(12, 5, generator=generator)
    edges = torch.randint(12, (2, 30), generator=generator)
    edges = edges[:, edges[0] != edges[1]]
    expected = brute_force(x.half().double(), edges)
    assert feature_homophily(x.half(), edges) == pytest.approx(expected, abs=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert feature_homophily(x.requires_grad_(), edges) == pytest.approx(
            brute_force(x.detach(), edges), abs=1e-6)


@pytest.mark.parametrize(("x", "edges", "error", "match"), [
    (np.ones((3, 2)), torch.tensor([[0], [1]]), TypeError, "dense 2-D torch tensor"),
    (torch.ones(3, 2).to_sparse(), torch.tensor([[0], [1]]), TypeError, "dense 2-D"),
    (torch.ones(3), torch.tensor([[0], [1]]), TypeError, "dense 2-D"),
    (torch.rand(3, 2), torch.tensor([[0.0], [1.0]]), TypeError, "must hold integers"),
    (torch.rand(3, 2), torch.tensor([0, 1]), ValueError, r"\(2, E\)"),
    (torch.rand(3, 2), torch.zeros(2, 0, dtype=torch.long), ValueError, "one edge"),
    (torch.rand(1, 2), torch.tensor([[0], [0]]), ValueError, "two nodes"),
    (torch.rand(3, 2), torch.tensor([[0], [3]]), ValueError, r"outside \[0, 3\)"),
    (torch.rand(3, 2), torch.tensor([[-1], [0]]), ValueError, "outside"),
    (torch.zeros(3, 0), torch.tensor([[0], [1]]), ValueError, "no feature columns"),
    (torch.tensor([[1.0, float("nan")], [1.0, 0.0]]), torch.tensor([[0], [1]]), ValueError,
     "NaN or infinite"),
    (torch.tensor([[1.0, float("inf")], [1.0, 0.0]]), torch.tensor([[0], [1]]), ValueError,
     "NaN or infinite"),
])
def test_bad_input_is_named(x, edges, error, match):
    with pytest.raises(error, match=match):
        feature_homophily(x, edges)


def _fit_warnings(graph, model=SCGCStar, **params) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model(n_clusters=2, random_state=0, **FAST, **params).fit(graph)
    return [str(warning.message) for warning in caught if "feature homophily" in
            str(warning.message)]


def test_fit_warns_when_edges_join_unlike_nodes():
    x, edges, group = planted(60)
    across = torch.tensor([[i, j] for i in range(60) for j in range(60)
                           if group[i] != group[j] and abs(i - j) < 8]).t()
    graph = to_graph(x.numpy(), across.numpy())
    found = _fit_warnings(graph)
    assert len(found) == 1 and "DegreeKMeans" in found[0] and "SVDKMeans" in found[0]
    assert "input_hops" in found[0]
    # An encoder that already reads the graph is not told to read it.
    for model, params in ((SCGCStar, {"input_hops": 1}), (MPNNVNClusterer, {})):
        found = _fit_warnings(graph, model, **params)
        assert len(found) == 1 and "SVDKMeans" in found[0] and "input_hops" not in found[0]


def test_fit_is_quiet_on_homophilous_and_featureless_graphs():
    x, edges, _ = planted(60)
    assert _fit_warnings(to_graph(x.numpy(), edges.numpy())) == []
    assert _fit_warnings(load_dataset("karate")) == []  # one-hot node ids: nan, no warning


def test_many_edges_are_sampled_the_same_way_every_time(monkeypatch):
    x, edges, _ = planted(400)
    exact = feature_homophily(x, edges)
    monkeypatch.setattr(homophily_module, "EDGE_BUDGET", 2 * 300)  # 300 of the edge entries
    sampled = feature_homophily(x, edges)
    assert sampled != exact and abs(sampled - exact) < 0.1
    assert feature_homophily(x, edges) == sampled
