"""``benchmarks.explore.start_ridge``: the start's penalty set from the graph's edges, its map held
to the principal directions, and where it begins."""

from __future__ import annotations

import json
from unittest.mock import patch

import numpy as np
import pytest
import torch
from dataset_helpers import sbm_with_a_split_class

from graphclust import SCGCStar
from graphclust.data import make_sbm
from graphclust.data.transforms import FeatureTransform

start_ridge = pytest.importorskip("benchmarks.explore.start_ridge")
directions_scores = pytest.importorskip("benchmarks.explore._directions")
lines = pytest.importorskip("benchmarks.explore._lines")

FIT = {"pretrain_epochs": 10, "max_epochs": 5}


def test_undirected_edges_count_pairs_once_without_self_loops():
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 2, 0]])
    assert start_ridge.undirected_edges(edge_index) == 3  # {0,1}, {1,2}, {0,3}


def test_record_sets_the_penalty_per_edge_and_default_keeps_the_estimators():
    graph = make_sbm(90, 3, 8, 4.0, homophily=0.8, feature_signal=0.3, random_state=0)
    edges = start_ridge.undirected_edges(graph.edge_index)
    scaled = start_ridge.record_seed(graph, 0, "30", FIT)
    assert scaled["edges"] == edges
    assert scaled["pretrain_weight_decay"] == pytest.approx(30 / edges)
    default = start_ridge.record_seed(graph, 0, "default", FIT)
    assert default["pretrain_weight_decay"] is None
    assert all(0 <= value <= 1 for value in scaled["labels_"] + default["labels_"])


def test_the_pull_to_the_initial_map_and_the_start_checks_reach_the_start(monkeypatch):
    """``pull initial`` keeps the default weight decay and adds the distance to the
    initial weights to every start step's loss; the check interval reaches the start's
    held-out rule alone."""
    graph = make_sbm(90, 3, 8, 4.0, homophily=0.8, feature_signal=0.3, random_state=0)
    added, intervals = [], []
    original_step = start_ridge.start_module.optimizer_step

    def spy_step(module, optimizer, loss):
        added.append(float(loss))
        return original_step(module, optimizer, loss)

    monkeypatch.setattr(start_ridge.start_module, "optimizer_step", spy_step)
    original_call = start_ridge.start_module.ContrastiveStart.__call__

    def spy_call(self, *args, **kwargs):
        intervals.append(self.check_interval)
        return original_call(self, *args, **kwargs)

    monkeypatch.setattr(start_ridge.start_module.ContrastiveStart, "__call__", spy_call)
    plain = start_ridge.record_seed(graph, 0, "default", FIT)
    plain_losses, added[:] = list(added), []
    pulled = start_ridge.record_seed(graph, 0, "1000", FIT, pull="initial",
                                     start_check_interval=2)
    assert pulled["variant"] == "1000, pull to the initial map, checks every 2"
    assert pulled["pretrain_weight_decay"] is None
    assert pulled["pull_strength"] == pytest.approx(1000 / pulled["edges"])
    assert intervals == [10, 2]  # the estimator's check_interval, then the probe's
    # The first step is at the initial weights (no distance yet): the same loss; a later
    # step has moved them, and the pull adds to its loss.
    assert added[0] == pytest.approx(plain_losses[0])
    assert plain["variant"] == "default" and added != plain_losses


def _row(variant, seed, acc, length=20):
    return {"dataset": "g", "variant": variant, "seed": seed, "labels_": [acc, acc / 2],
            "pretrain_weight_decay": None if variant == "default" else 0.01,
            "pull_strength": None, "start_length": length, "epochs": 5}


def test_read_gives_the_change_from_default_on_shared_seeds():
    rows = [_row("default", 0, 0.5), _row("default", 1, 0.7), _row("10", 0, 0.6),
            _row("10", 1, 0.6, length=None)]
    lines = start_ridge.read(rows).splitlines()
    assert [line.split("|")[2].strip() for line in lines[2:]] == ["default", "10"]
    cells = [cell.strip() for cell in lines[3].strip("|").split("|")]
    assert cells == ["g", "10", "0.01000", "2", "0.600 / 0.300", "+0.000 / +0.000", "20"]
    untaught = start_ridge.read([_row("default", 0, 0.5, length=None)]).splitlines()[2]
    assert untaught.rstrip("| ").endswith("untaught")


def test_the_start_on_principal_directions_grows_a_map_within_their_span(monkeypatch):
    """``rank``: the start trains an (M x 32) map on the features' coordinates along their
    top M principal directions, and the encoder it grows computes that map times the
    directions, a map of the features whose weights lie in the directions' span."""
    graph = make_sbm(90, 3, 8, 4.0, homophily=0.8, feature_signal=0.3, random_state=0)
    grown = []
    original = start_ridge._GrownThrough.from_linear

    def spy(self, layer):
        weight, bias = layer.weight.detach().clone(), layer.bias.detach().clone()
        encoder = original(self, layer)
        grown.append((weight, bias, self.directions, encoder))
        return encoder

    monkeypatch.setattr(start_ridge._GrownThrough, "from_linear", spy)
    # No joint stage, which would train the grown encoder further.
    row = start_ridge.record_seed(graph, 0, "default", {**FIT, "max_epochs": 0}, rank=4)
    assert row["variant"] == "default, top 4 principal directions" and row["rank"] == 4
    (weight, bias, directions, encoder), = grown
    assert weight.shape[1] == 4 and directions.shape == (4, graph.x.shape[1])
    assert torch.allclose(directions @ directions.T, torch.eye(4), atol=1e-5)
    x = torch.randn(5, graph.x.shape[1])
    with torch.no_grad():
        expected = x @ (weight @ directions).T + bias
        assert torch.allclose(encoder.eval()(x), expected, atol=1e-5)
        # A change of the features outside the directions' span leaves the map unmoved.
        outside = x - (x @ directions.T) @ directions
        assert torch.allclose(encoder(x + outside), expected, atol=1e-4)
    assert start_ridge.record_seed(graph, 0, "default", FIT)["rank"] is None


def test_init_principal_begins_the_map_at_orthonormal_directions(monkeypatch):
    graph = make_sbm(90, 3, 40, 4.0, homophily=0.8, feature_signal=0.3, random_state=0)
    first = []
    original_step = start_ridge.start_module.optimizer_step

    def spy_step(module, optimizer, loss):
        if not first:
            first.append((module.layers[0].weight.detach().clone(),
                          module.layers[0].bias.detach().clone()))
        return original_step(module, optimizer, loss)

    monkeypatch.setattr(start_ridge.start_module, "optimizer_step", spy_step)
    row = start_ridge.record_seed(graph, 0, "default", FIT, init="principal")
    assert row["variant"] == "default, begun at the principal directions"
    weight, bias = first[0]
    assert weight.shape == (32, 40)  # 32 directions of 40 features
    assert torch.allclose(weight @ weight.T, torch.eye(32), atol=1e-4)
    assert not bias.any()
    with pytest.raises(ValueError, match="random weights"):
        start_ridge.record_seed(graph, 0, "default", FIT, rank=4, init="principal")


def _start_directions(graph):
    """What the start reads (the transformed features) and their top 32 principal
    directions at seed 0, the directions the begun maps are built from."""
    x = FeatureTransform("auto").fit_graph(graph).transform(graph.x)
    return x, start_ridge.principal_directions(x, 32, 0)


def _first_step_map(monkeypatch, graph, **record_options):
    """The linear start's weights at its first step in ``record_seed``."""
    first = []
    original_step = start_ridge.start_module.optimizer_step

    def spy_step(module, optimizer, loss):
        if not first:
            first.append(module.layers[0].weight.detach().clone())
        return original_step(module, optimizer, loss)

    with monkeypatch.context() as patched:
        patched.setattr(start_ridge.start_module, "optimizer_step", spy_step)
        row = start_ridge.record_seed(graph, 0, "default", FIT, **record_options)
    return first[0], row


def test_init_clusters_begins_n_clusters_outputs_at_the_directions_and_the_rest_random(
        monkeypatch):
    graph = make_sbm(90, 3, 40, 4.0, homophily=0.8, feature_signal=0.3, random_state=0)
    weight, row = _first_step_map(monkeypatch, graph, init="clusters")
    assert row["variant"] == ("default, begun at the principal directions for the "
                              "clusters, the rest random")
    assert torch.allclose(weight[:3] @ weight[:3].T, torch.eye(3), atol=1e-4)
    # The other 29 outputs keep PyTorch's uniform(+-1/sqrt(40)) weights.
    assert weight[3:].abs().max() <= 40 ** -0.5 and weight[3:].norm(dim=1).max() < 0.9
    assert weight[3:].norm(dim=1).min() > 0.1  # not zeroed
    with pytest.raises(ValueError, match="fewer clusters"):  # 2 features, 2 directions
        start_ridge.record_seed(make_sbm(60, 2, 2, 4.0, random_state=0), 0, "default",
                                FIT, init="clusters")


def test_every_init_of_the_start_has_a_name():
    assert set(start_ridge.start_module.LINEAR_INITS) < set(start_ridge.INIT_NAMES)


def test_record_takes_seeds_from_first_seed_and_refuses_a_rank_with_an_init(capsys):
    # Not --tiny, which runs one seed; karate trains in a second.
    start_ridge.main(["record", "karate", "--per-edge", "default", "--first-seed", "2",
                      "--seeds", "2"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["seed"] for line in lines] == [2, 3]
    with pytest.raises(SystemExit):
        start_ridge.main(["record", "karate", "--tiny", "--rank", "4", "--init", "principal"])
    assert "--rank's map begins at random weights" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        start_ridge.main(["record", "karate", "--tiny", "--rank", "100000"])
    assert "features, fewer than 100000 directions" in capsys.readouterr().err


def test_params_reach_the_estimator_and_name_their_variant(capsys):
    start_ridge.main(["record", "karate", "--per-edge", "default", "--seeds", "1",
                      "--params", '{"max_epochs": 0}'])
    line = json.loads(capsys.readouterr().out)
    assert line["variant"] == 'default, {"max_epochs": 0}'
    assert line["params"] == {"max_epochs": 0} and line["epochs"] == 0
    assert line["start_held_out"] is None  # karate's 78 edges: too few to hold out


def test_kept_held_out_reads_the_kept_check():
    history = [
        {"epoch": 0, "phase": "start-length", "held_out_loss": 7.5, "held_out_rank": 0.2},
        {"epoch": 10, "phase": "start-length", "held_out_loss": 7.1, "held_out_rank": 0.1,
         "kept": True},
        {"epoch": 20, "phase": "start-length", "held_out_loss": 7.2, "held_out_rank": 0.12},
        {"epoch": 1, "phase": "train", "held_out_loss": 1.0, "held_out_rank": 0.0,
         "kept": True}]
    assert lines.kept_held_out(history) == [7.1, 0.1]
    assert lines.kept_held_out([{"epoch": 1, "phase": "pretrain", "loss": 6.0}]) is None
    history[0]["gate"] = 0.08
    assert lines.checks_line(history) == {
        "gate": 0.08, "losses": [[0, 7.5], [10, 7.1], [20, 7.2]]}
    assert lines.checks_line(history[3:]) is None
    no_edges = [{"epoch": 0, "phase": "start-length", "kept": True, "untaught": True,
                 "edges": 0}]  # what a graph without edges records: a verdict, no check
    assert lines.kept_held_out(no_edges) is None and lines.checks_line(no_edges) is None
    graph = make_sbm(200, 3, 20, 8.0, random_state=0)  # enough edges to hold some out
    row = start_ridge.record_seed(graph, 0, "default", FIT)
    loss, rank = row["start_held_out"]
    assert loss > 0 and 0 <= rank <= 1
    assert loss in [held for _, held in row["start_checks"]["losses"]]
    assert row["start_checks"]["gate"] > 0


@pytest.mark.parametrize("init", ["clusters-shrunk", "orthonormal", "clusters-mixed"])
def test_the_controls_of_init_clusters_change_only_the_first_outputs(monkeypatch, init):
    """clusters-shrunk: the principal directions at the random outputs' mean norm;
    orthonormal: orthonormal rows of norm 1 that are not the principal directions;
    clusters-mixed: the defaults' random rows plus the shrunk directions; the other
    outputs keep the defaults' random weights."""
    graph = make_sbm(90, 3, 40, 4.0, homophily=0.8, feature_signal=0.3, random_state=0)
    weight, row = _first_step_map(monkeypatch, graph, init=init)
    default, _ = _first_step_map(monkeypatch, graph)
    assert row["variant"] == f"default, begun at the {start_ridge.INIT_NAMES[init]}"
    assert torch.equal(weight[3:], default[3:])
    rest = weight[3:].norm(dim=1).mean()
    gram = weight[:3] @ weight[:3].T
    principal = _start_directions(graph)[1][:3]
    if init == "clusters-shrunk":
        assert torch.allclose(gram, rest ** 2 * torch.eye(3), atol=1e-5)
        assert torch.allclose(weight[:3] / rest, principal, atol=1e-4)
    elif init == "clusters-mixed":
        assert torch.allclose((weight[:3] - default[:3]) / rest, principal, atol=1e-4)
    else:
        assert torch.allclose(gram, torch.eye(3), atol=1e-5)
        assert (weight[:3] @ principal.T).abs().max() < 0.9  # not the principal directions


def test_init_clusters_no_split_passes_over_the_directions_within_the_largest_class(
        monkeypatch):
    """The first outputs begin at the top principal directions whose variance lies mostly
    outside the largest class, in their order; without labels it is refused."""
    graph = sbm_with_a_split_class()
    x, directions = _start_directions(graph)
    shares = directions_scores.largest_class_share((x @ directions.T).numpy(), graph.y.numpy())
    assert shares[0] > 0.9 and (shares[1:4] < start_ridge.SPLIT_SHARE).all()
    kept = directions[1:4]  # the top direction splits class 0
    weight, row = _first_step_map(monkeypatch, graph, init="clusters-no-split")
    default, _ = _first_step_map(monkeypatch, graph)
    assert row["variant"] == ("default, begun at the principal directions for the clusters "
                              "but those within the largest class (labels read), the rest "
                              "random")
    assert torch.allclose(weight[:3], kept[:3], atol=1e-4)
    assert torch.equal(weight[3:], default[3:])
    start = start_ridge.ClusterDirectionsStart(first_outputs="clusters-no-split")
    with pytest.raises(ValueError, match="reads one label per node"):
        SCGCStar(3, max_epochs=0, start=start).fit(graph)


@pytest.mark.parametrize("init", ["clusters-agreeing", "clusters-between"])
def test_init_clusters_chosen_by_a_score_begins_at_the_best_scored_directions(monkeypatch,
                                                                            init):
    """The first outputs begin at the principal directions of the highest edge agreement
    (no labels) or between-class share (labels read), the highest first."""
    graph = sbm_with_a_split_class()
    x, directions = _start_directions(graph)
    coordinates = (x @ directions.T).double().numpy()
    scores = (directions_scores.edge_agreement(coordinates, graph.edge_index.numpy())
              if init == "clusters-agreeing"
              else directions_scores.between_class_share(coordinates, graph.y.numpy()))
    best = directions[torch.from_numpy(np.argsort(-scores)[:3].copy())]
    assert not torch.allclose(best, directions[:3])  # the case reorders them
    weight, row = _first_step_map(monkeypatch, graph, init=init)
    default, _ = _first_step_map(monkeypatch, graph)
    assert row["variant"] == f"default, begun at the {start_ridge.INIT_NAMES[init]}"
    assert torch.allclose(weight[:3], best, atol=1e-4)
    assert torch.equal(weight[3:], default[3:])
    if init == "clusters-between":
        start = start_ridge.ClusterDirectionsStart(first_outputs=init)
        with pytest.raises(ValueError, match="reads one label per node"):
            SCGCStar(3, max_epochs=0, start=start).fit(graph)


def test_only_the_inits_that_read_labels_are_handed_them(monkeypatch):
    handed = []
    original = start_ridge.ClusterDirectionsStart._trained_module

    def spy(self, encoder, run):
        handed.append((self.first_outputs, self.labels is not None))
        return original(self, encoder, run)

    monkeypatch.setattr(start_ridge.ClusterDirectionsStart, "_trained_module", spy)
    graph = sbm_with_a_split_class()
    for init in ("clusters", "clusters-agreeing", "clusters-between"):
        start_ridge.record_seed(graph, 0, "default", {**FIT, "max_epochs": 0}, init=init)
    assert handed == [("clusters", False), ("clusters-agreeing", False),
                      ("clusters-between", True)]


def test_the_two_scores_order_the_directions_differently_here():
    """So that the test above tells edge agreement from the between-class share."""
    graph = sbm_with_a_split_class()
    coordinates = directions_scores.coordinates_along(*_start_directions(graph))
    agreement = directions_scores.edge_agreement(coordinates, graph.edge_index.numpy())
    between = directions_scores.between_class_share(coordinates, graph.y.numpy())
    assert list(np.argsort(-agreement)[:3]) != list(np.argsort(-between)[:3])


def test_an_unknown_first_outputs_is_refused_before_training():
    graph = make_sbm(60, 3, 8, 4.0, random_state=0)
    start = start_ridge.ClusterDirectionsStart(first_outputs="pca")
    with pytest.raises(ValueError, match="first_outputs must be one of clusters, "), \
            patch.object(start_ridge.ClusterDirectionsStart, "_trained_module",
                         side_effect=AssertionError("trained")):
        SCGCStar(3, max_epochs=0, start=start).fit(graph)
