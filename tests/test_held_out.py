"""The held-out edges that stop the contrastive start."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from graphclust import MPNNVNClusterer, SCGCStar
from graphclust.data import make_sbm
from graphclust.data.principal import principal_directions
from graphclust.data.transforms import FeatureTransform
from graphclust.objectives.held_out import HeldOutEdges, cluster_code_fall
from graphclust.starts import (
    START_MIN_FALL,
    START_MIN_ROOM,
    START_RETAKE,
    START_VERDICT_STEPS,
    start_gate,
    start_length,
)


def _scripted_losses(monkeypatch, losses):
    """Make the held-out loss follow ``losses``, check by check."""
    sequence = iter(losses)
    monkeypatch.setattr(HeldOutEdges, "scores", lambda self, z: (next(sequence), 0.5))


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
    assert model.start_length_ == 40


def test_without_holdout_the_start_runs_every_step_and_records_no_check():
    graph = make_sbm(120, 3, 8, avg_degree=6, random_state=0)
    model = SCGCStar(n_clusters=3, hidden_dims=(32,), embedding_dim=8, max_epochs=0,
                     pretrain_epochs=30, start_holdout=None, random_state=0).fit(graph)
    steps = [e["epoch"] for e in model.history_ if e["phase"] == "pretrain"]
    assert steps == list(range(1, 31))
    assert not any("held_out_loss" in e for e in model.history_)
    assert model.start_length_ == 30


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


SHORT_START = dict(n_clusters=3, hidden_dims=(32,), embedding_dim=4, start_holdout=0.1,
                   random_state=0)


# On these 120-node graphs an embedding that tells no node apart scores log(119) = 4.78,
# and a code of 3 clusters 0.730 lower: from a first check at 5.0 the gate is
# 0.2 * (5.0 - 4.05) = 0.190.
FIRST_AT_5_GATE = start_gate(3, 1.0, 5.0, math.log(119))


@pytest.mark.parametrize(("k", "tau"), [(3, 1.0), (2, 0.5), (7, 2.0)])
def test_the_gate_is_a_share_of_the_fall_still_possible(k, tau):
    uninformative, fall = 6.0, cluster_code_fall(k, tau)
    assert start_gate(k, tau, uninformative, uninformative) == pytest.approx(
        START_MIN_FALL * fall)
    # A first check a quarter of the way down to a code of the clusters: 3/4 of the gate.
    assert start_gate(k, tau, uninformative - fall / 4, uninformative) == pytest.approx(
        START_MIN_FALL * fall * 3 / 4)
    # Past START_MIN_ROOM of the way, or past the code itself: the gate's floor.
    floor = START_MIN_FALL * START_MIN_ROOM * fall
    for first in (uninformative - 0.75 * fall, uninformative - 2 * fall):
        assert start_gate(k, tau, first, uninformative) == pytest.approx(floor)


def test_the_first_at_5_gate():
    assert FIRST_AT_5_GATE == pytest.approx(0.190, abs=1e-3)


def test_the_uninformative_loss_is_that_of_an_embedding_telling_no_node_apart():
    graph = make_sbm(300, 3, 8, avg_degree=6, random_state=0)
    for max_candidates in (8192, 100):  # every node, or a sample
        held_out = HeldOutEdges(graph.edge_index, 300, 0.2, 1.0,
                                torch.Generator().manual_seed(0), max_candidates=max_candidates)
        constant = torch.ones(len(held_out.nodes), 4)
        assert held_out.loss(constant) == pytest.approx(held_out.uninformative_loss, abs=1e-5)


def test_features_that_already_predict_the_edges_leave_less_to_learn(monkeypatch):
    """A first check near a code of the clusters (a kNN graph of the features): a fall of
    0.1, which a fixed share of cluster_code_fall (0.146) would call no lesson, is most
    of what is left, so the start trains on. The gate there is its floor, 0.1 of the
    yardstick (0.073), not 0.2 * (4.2 - 4.05) = 0.030."""
    assert start_gate(3, 1.0, 4.2, math.log(119)) == pytest.approx(0.073, abs=1e-3)
    checks = START_VERDICT_STEPS // 10 + 1
    _scripted_losses(monkeypatch, [4.2, 4.15, 4.1] + [4.1] * (checks - 3))
    graph = make_sbm(120, 3, 8, avg_degree=6, random_state=0)
    model = SCGCStar(pretrain_epochs=START_VERDICT_STEPS, max_epochs=5, tol=0.0,
                     **SHORT_START).fit(graph)
    assert model.start_length_ == START_VERDICT_STEPS and model.n_iter_ == 5


@pytest.mark.parametrize("losses", [[3.9] * 20, [3.9, 3.902, 3.898, 3.9, 3.901] * 4],
                         ids=["flat", "noise"])
def test_a_first_check_past_a_cluster_code_still_needs_a_fall(monkeypatch, losses):
    """Past a code of the clusters (room below nothing), a flat loss or noise of 0.002
    nats is no lesson: the gate keeps its floor, and the start is untaught."""
    _scripted_losses(monkeypatch, losses[:START_VERDICT_STEPS // 10 + 1])
    graph = make_sbm(120, 3, 8, avg_degree=6, random_state=0)
    with pytest.warns(UserWarning, match="teach the encoder nothing"):
        model = SCGCStar(pretrain_epochs=START_VERDICT_STEPS, max_epochs=5,
                         **SHORT_START).fit(graph)
    assert model.start_length_ is None and model.n_iter_ == 0


def test_a_rise_before_the_gate_is_not_erosion(monkeypatch):
    # The rise at 20 comes before any fall by the gate (0.190) and does not stop the
    # run; the rise at 60 comes after a fall of 2 and does (past 3 + 0.1 * 2).
    _scripted_losses(monkeypatch, [5.0, 5.1, 5.3, 4.0, 3.0, 3.1, 3.5])
    graph = make_sbm(120, 3, 8, avg_degree=6, random_state=0)
    model = SCGCStar(pretrain_epochs=200, max_epochs=0, **SHORT_START).fit(graph)
    assert [e["epoch"] for e in model.history_ if e.get("kept")] == [40]


def test_edges_that_teach_nothing_keep_the_principal_directions_and_no_joint_stage(
        monkeypatch):
    # The loss never falls by the gate (0.190) in a start long enough for a verdict.
    checks = START_VERDICT_STEPS // 10 + 1
    _scripted_losses(monkeypatch, [5.0, 5.05, 4.9, 4.95] + [4.97] * (checks - 4))
    graph = make_sbm(120, 3, 8, avg_degree=6, random_state=0)
    with pytest.warns(UserWarning, match="teach the encoder nothing"):
        model = SCGCStar(pretrain_epochs=START_VERDICT_STEPS, max_epochs=20,
                         **SHORT_START).fit(graph)
    assert [e["epoch"] for e in model.history_ if e.get("kept")] == [0]
    assert not [e for e in model.history_ if e["phase"] in ("pretrain", "train")]
    assert model.n_iter_ == 0 and model.start_length_ is None
    # The encoder's output is a linear map of the projection on the 4 principal
    # directions (a whitened one): the residual of a least-squares fit on it is nil.
    x = FeatureTransform("auto").fit_graph(graph).transform(graph.x)
    projected = x @ principal_directions(x, 4, 0).T
    basis = torch.cat([projected, torch.ones(len(x), 1)], 1).double()
    with torch.no_grad():
        z = model.encoder_(x).double()
    solution = torch.linalg.lstsq(basis, z).solution
    assert torch.allclose(basis @ solution, z, atol=1e-4)


@pytest.mark.parametrize("signed", [False, True], ids=["tfidf", "standardize"])
def test_an_untaught_start_equalises_the_directions_of_standardised_columns_only(
        monkeypatch, signed):
    """Row-scaled (TF-IDF) features keep their principal directions' own scale, the
    projection svd-kmeans reads; standardised columns get the start's whitening, which
    centres them and equalises their variances."""
    checks = START_VERDICT_STEPS // 10 + 1
    _scripted_losses(monkeypatch, [5.0] * checks)
    graph = make_sbm(120, 3, 8, avg_degree=6, random_state=0)
    graph.x = graph.x if signed else graph.x.abs()
    with pytest.warns(UserWarning, match="teach the encoder nothing"):
        model = SCGCStar(pretrain_epochs=START_VERDICT_STEPS, **SHORT_START).fit(graph)
    assert model.transform_.kind_ == ("standardize" if signed else "tfidf")
    x = model.transform_.transform(graph.x)
    projected = x @ principal_directions(x, 4, 0).T
    with torch.no_grad():
        z = model.encoder_(x)
    if signed:  # centred, and the spread of the variances shrunk (0.49 to 0.81 here)
        assert torch.allclose(z.mean(0), torch.zeros(4), atol=1e-4)
        spread = projected.var(0) / projected.var(0).max()
        assert (z.var(0) / z.var(0).max()).min() > spread.min() + 0.2
    else:  # the projection itself, up to each direction's sign
        solution = torch.linalg.lstsq(projected.double(), z.double()).solution
        assert torch.allclose(solution.abs(), torch.eye(4, dtype=torch.float64), atol=1e-3)


def test_a_start_too_short_for_a_verdict_keeps_its_joint_stage(monkeypatch):
    _scripted_losses(monkeypatch, [5.0, 5.05, 4.9, 4.95, 4.97, 4.97])
    graph = make_sbm(120, 3, 8, avg_degree=6, random_state=0)
    model = SCGCStar(pretrain_epochs=50, max_epochs=5, tol=0.0, **SHORT_START).fit(graph)
    assert [e["epoch"] for e in model.history_ if e.get("kept")] == [50]
    assert model.n_iter_ == 5 and model.start_length_ == 50


def test_a_one_check_dip_is_a_transient_not_a_lesson(monkeypatch):
    # Under the gate (0.190) at 10 only, then above the first check: nothing taught. The
    # same dip held for a second check is a lesson, and the climb after it erosion.
    checks = START_VERDICT_STEPS // 10 + 1
    graph = make_sbm(120, 3, 8, avg_degree=6, random_state=0)
    _scripted_losses(monkeypatch, [5.0, 4.8, 5.2] + [5.1] * (checks - 3))
    with pytest.warns(UserWarning, match="teach the encoder nothing"):
        model = SCGCStar(pretrain_epochs=START_VERDICT_STEPS, max_epochs=0,
                         **SHORT_START).fit(graph)
    assert [e["epoch"] for e in model.history_ if e.get("kept")] == [0]
    _scripted_losses(monkeypatch, [5.0, 4.8, 4.8, 5.2])
    model = SCGCStar(pretrain_epochs=START_VERDICT_STEPS, max_epochs=0,
                     **SHORT_START).fit(graph)
    assert [e["epoch"] for e in model.history_ if e.get("kept")] == [10]


def test_a_verdict_needs_two_checks_after_the_first(monkeypatch):
    # check_interval = pretrain_epochs: one check after step 0 cannot show a loss kept
    # under the gate twice, so there is no verdict and the joint stage runs.
    _scripted_losses(monkeypatch, [5.0, 5.0])
    graph = make_sbm(120, 3, 8, avg_degree=6, random_state=0)
    params = {**SHORT_START, "check_interval": START_VERDICT_STEPS}
    model = SCGCStar(pretrain_epochs=START_VERDICT_STEPS, max_epochs=2 * START_VERDICT_STEPS,
                     tol=0.0, **params).fit(graph)
    assert [e["epoch"] for e in model.history_ if e.get("kept")] == [START_VERDICT_STEPS]
    assert model.n_iter_ == 2 * START_VERDICT_STEPS


def test_an_encoder_start_that_learns_nothing_keeps_its_weights_and_the_joint_stage(
        monkeypatch):
    # pretrain="contrastive" has no untrained map better than its initialisation: only
    # the joint stage can train it.
    checks = START_VERDICT_STEPS // 10 + 1
    _scripted_losses(monkeypatch, [5.0] * checks)
    graph = make_sbm(120, 3, 8, avg_degree=6, random_state=0)
    with pytest.warns(UserWarning, match="keeps its initial weights"):
        model = SCGCStar(pretrain="contrastive", pretrain_epochs=START_VERDICT_STEPS,
                         max_epochs=5, tol=0.0, **SHORT_START).fit(graph)
    assert [e["epoch"] for e in model.history_ if e.get("kept")] == [0]
    assert model.n_iter_ == 5 and model.start_length_ is None


def test_start_length_reads_the_kept_check_else_the_start_steps():
    check, step = {"phase": "start-length"}, {"phase": "pretrain"}
    assert start_length([]) == 0
    assert start_length([{**step, "epoch": 1}, {**step, "epoch": 2}]) == 2
    assert start_length([{**check, "epoch": 0}, {**check, "epoch": 10, "kept": True},
                         {**step, "epoch": 10}]) == 10
    assert start_length([{**check, "epoch": 0, "kept": True, "untaught": True}]) is None
    # Only true marks count: a file's "yes" or 1 is no kept check.
    assert start_length([{**check, "epoch": 10, "kept": "yes"}, {**step, "epoch": 3}]) == 3


@pytest.mark.parametrize("epoch", ["10", -1, 2.5, True, None])
def test_start_length_refuses_a_history_without_whole_steps(epoch):
    with pytest.raises(ValueError, match="non-negative 'epoch'"):
        start_length([{"phase": "start-length", "epoch": epoch, "kept": True}])


def test_a_single_feature_that_teaches_nothing_keeps_its_one_direction():
    # The untaught start's principal directions used to reach TruncatedSVD, which
    # refuses a single feature.
    graph = make_sbm(200, 3, 1, avg_degree=6, random_state=0)
    with pytest.warns(UserWarning, match="teach the encoder nothing"):
        model = SCGCStar(n_clusters=3, random_state=0).fit(graph)
    assert model.start_length_ is None and np.isfinite(model.embedding_).all()


def _first_step_map(monkeypatch, **params):
    """The start's linear map (weight, bias) when its first step is taken."""
    import graphclust.starts.contrastive as start_module

    first, original = [], start_module.optimizer_step

    def spy(module, optimizer, loss):
        if not first:
            layer = module.layers[0]
            first.append((layer.weight.detach().clone(), layer.bias.detach().clone()))
        return original(module, optimizer, loss)

    monkeypatch.setattr(start_module, "optimizer_step", spy)
    graph = make_sbm(120, 3, 8, avg_degree=6, random_state=0)
    start = params or {"pretrain_epochs": 20}  # a start= object takes the steps itself
    model = SCGCStar(max_epochs=0, **SHORT_START, **start).fit(graph)
    return first[0], model.transform_.transform(graph.x)


def test_init_principal_begins_the_linear_start_at_the_principal_directions(monkeypatch):
    """Where no training is (svd-kmeans' map), so that the held-out rule chooses how far
    the steps go from it; the default begins at PyTorch's random weights."""
    from graphclust.starts import LinearStart

    (weight, bias), x = _first_step_map(
        monkeypatch, start=LinearStart(steps=20, holdout=0.1, init="principal"))
    assert torch.allclose(weight, principal_directions(x, 4, 0), atol=1e-5)
    assert not bias.any()
    (weight, _), _ = _first_step_map(monkeypatch)
    assert not torch.allclose(weight, principal_directions(x, 4, 0), atol=1e-2)


def test_an_unknown_start_init_is_refused():
    from graphclust.starts import LinearStart

    graph = make_sbm(60, 3, 8, avg_degree=6, random_state=0)
    with pytest.raises(ValueError, match="init must be one of random, principal, got 'pca'"):
        SCGCStar(3, start=LinearStart(init="pca")).fit(graph)


def test_init_principal_keeps_random_weights_on_outputs_beyond_the_features():
    """Outputs zero for every node would get no gradient and stay dead: with 8 features
    and embedding_dim=12, the joint stage's MLP gives every output a use (rank 12)."""
    from graphclust.starts import LinearStart

    graph = make_sbm(120, 3, 8, avg_degree=6, random_state=0)
    model = SCGCStar(n_clusters=3, hidden_dims=(32,), embedding_dim=12, max_epochs=3,
                     random_state=0, start=LinearStart(steps=10, holdout=None,
                                                       init="principal")).fit(graph)
    embedding = torch.as_tensor(model.embedding_)
    assert embedding.abs().amax(0).min() > 0  # no output zero for every node
    assert torch.linalg.matrix_rank(embedding) == 12
