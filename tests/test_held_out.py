"""The held-out edges that stop the contrastive start."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from graphclust import MPNNVNClusterer, SCGCStar
from graphclust.data import make_sbm
from graphclust.objectives.held_out import HeldOutEdges
from graphclust.starts import START_RETAKE


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


def test_large_graphs_are_scored_against_a_sample_holding_every_partner():
    n = 500
    held = HeldOutEdges(_ring(n), n, 0.1, 1.0, torch.Generator().manual_seed(0),
                        max_pairs=16, max_candidates=50)
    assert len(held) == 16
    candidates = set(held.nodes[held._candidates].tolist())
    assert set(held.nodes[held._partners].tolist()) <= candidates
    assert len(candidates) <= 50 + 16


def _scripted_losses(monkeypatch, losses):
    """Make the held-out loss follow ``losses``, check by check."""
    sequence = iter(losses)
    monkeypatch.setattr(HeldOutEdges, "loss", lambda self, z: next(sequence))


def test_the_length_is_the_minimum_before_erosion_and_its_last_steps_take_every_edge(
        monkeypatch):
    # Fall 5 -> 3, then a rise past 3 + 0.1 * (5 - 3) = 3.2: the 5th check stops the run.
    _scripted_losses(monkeypatch, [5.0, 4.0, 3.0, 3.1, 3.5, 2.0, 2.0])
    graph = make_sbm(120, 3, 8, avg_degree=6, random_state=0)
    model = SCGCStar(n_clusters=3, hidden_dims=(32,), embedding_dim=8, max_epochs=0,
                     pretrain_epochs=100, start_holdout=0.1, random_state=0).fit(graph)
    checks = [(e["epoch"], e["held_out_loss"], e.get("kept", False))
              for e in model.history_ if e["phase"] == "start-length"]
    assert checks == [(0, 5.0, False), (10, 4.0, False), (20, 3.0, True), (30, 3.1, False),
                      (40, 3.5, False)]
    # Resumed from the check at step 10: steps 11-20 again, on every edge.
    assert [e["epoch"] for e in model.history_ if e["phase"] == "pretrain"] == list(
        range(11, 21))


@pytest.mark.parametrize("pretrain", ["linear", "contrastive"])
def test_a_length_of_one_check_equals_a_fixed_start_of_that_length(monkeypatch, pretrain):
    # Resumed from step 0: the initial weights and a fresh optimizer, on every edge.
    _scripted_losses(monkeypatch, [5.0, 3.0, 4.0])
    graph = make_sbm(120, 3, 8, avg_degree=6, random_state=0)
    params = dict(n_clusters=3, hidden_dims=(32,), embedding_dim=8, max_epochs=0,
                  pretrain=pretrain, random_state=0)
    chosen = SCGCStar(pretrain_epochs=100, start_holdout=0.1, **params).fit(graph)
    fixed = SCGCStar(pretrain_epochs=10, start_holdout=None, **params).fit(graph)
    np.testing.assert_allclose(chosen.embedding_, fixed.embedding_, atol=1e-6)


def test_the_start_resumes_the_held_out_run_and_retakes_its_last_quarter(monkeypatch):
    # Kept at step 80 in both runs (the second's held-out run goes 10 steps further): the
    # start resumes from the check at 60 = 3/4 of 80 and retakes steps 61-80.
    assert START_RETAKE == 0.25
    graph = make_sbm(120, 3, 8, avg_degree=6, random_state=0)
    params = dict(n_clusters=3, hidden_dims=(32,), embedding_dim=8, max_epochs=0,
                  random_state=0)
    falling = [5.0, 4.0, 3.0, 2.9, 2.8, 2.7, 2.6, 2.5, 2.0]
    embeddings = []
    for rest in ([3.0], [2.05, 3.0]):
        _scripted_losses(monkeypatch, falling + rest)
        model = SCGCStar(pretrain_epochs=200, **params).fit(graph)
        assert [e["epoch"] for e in model.history_ if e.get("kept")] == [80]
        assert [e["epoch"] for e in model.history_ if e["phase"] == "pretrain"] == list(
            range(61, 81))
        embeddings.append(model.embedding_)
    np.testing.assert_allclose(embeddings[0], embeddings[1], atol=1e-6)
    # Its first 60 steps are the held-out run's: not those of a start on every edge.
    fixed = SCGCStar(pretrain_epochs=80, start_holdout=None, **params).fit(graph)
    assert not np.allclose(embeddings[0], fixed.embedding_, atol=1e-4)


def test_a_start_that_only_plateaus_runs_to_the_bound(monkeypatch):
    _scripted_losses(monkeypatch, [5.0, 3.0, 3.1, 3.15, 3.0])
    graph = make_sbm(120, 3, 8, avg_degree=6, random_state=0)
    model = SCGCStar(n_clusters=3, hidden_dims=(32,), embedding_dim=8, max_epochs=0,
                     pretrain_epochs=40, start_holdout=0.1, random_state=0).fit(graph)
    checks = [e for e in model.history_ if e["phase"] == "start-length"]
    assert [e["epoch"] for e in checks] == [0, 10, 20, 30, 40]
    assert [e.get("kept", False) for e in checks] == [False] * 4 + [True]
    assert [e["epoch"] for e in model.history_ if e["phase"] == "pretrain"] == list(
        range(31, 41))


def test_without_holdout_the_start_runs_every_step_and_records_no_check():
    graph = make_sbm(120, 3, 8, avg_degree=6, random_state=0)
    model = SCGCStar(n_clusters=3, hidden_dims=(32,), embedding_dim=8, max_epochs=0,
                     pretrain_epochs=30, start_holdout=None, random_state=0).fit(graph)
    steps = [e["epoch"] for e in model.history_ if e["phase"] == "pretrain"]
    assert steps == list(range(1, 31))
    assert not any("held_out_loss" in e for e in model.history_)


@pytest.mark.parametrize("value", [0.0, 0.5, -0.1, "a", np.nan])
def test_bad_holdout_is_refused(value):
    graph = make_sbm(60, 2, 4, avg_degree=4, random_state=0)
    with pytest.raises(ValueError, match="start_holdout"):
        SCGCStar(n_clusters=2, start_holdout=value).fit(graph)


@pytest.mark.parametrize("estimator, params", [
    (MPNNVNClusterer, dict(pretrain="contrastive", hidden_channels=16)),
    (MPNNVNClusterer, dict(pretrain="linear", hidden_channels=16, batch_size=40)),
    (SCGCStar, dict(pretrain="linear", hidden_dims=(16,), batch_size=40)),
])
def test_held_out_start_runs_for_graph_encoders_and_mini_batches(estimator, params):
    graph = make_sbm(120, 3, 8, avg_degree=6, random_state=0)
    model = estimator(n_clusters=3, embedding_dim=4, max_epochs=2, pretrain_epochs=30,
                      start_holdout=0.2, random_state=0, **params).fit(graph)
    checks = [e for e in model.history_ if e["phase"] == "start-length"]
    kept = [e["epoch"] for e in checks if e.get("kept")]
    assert len(kept) == 1 and all(np.isfinite(e["held_out_loss"]) for e in checks)
    resumed = int(kept[0] * (1 - START_RETAKE)) // 10 * 10
    assert [e["epoch"] for e in model.history_ if e["phase"] == "pretrain"] == list(
        range(resumed + 1, kept[0] + 1))
