"""``benchmarks.explore.stopping``: the replay of the joint stage's stopping rule stops
where the loop itself stops, and the size-prior probes change only the target."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import graphclust.starts.contrastive as start_module
from graphclust import SCGCStar, evaluate
from graphclust.data import make_sbm
from graphclust.data.principal import principal_directions
from graphclust.data.transforms import FeatureTransform
from graphclust.objectives import composed
from graphclust.objectives.clustering import target_distribution

stopping = pytest.importorskip("benchmarks.explore.stopping")

FIT = {"pretrain_epochs": 30, "max_epochs": 40, "check_interval": 5}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Record and refit on one thread, so that both take the same floating-point path;
    the count is restored for the other tests."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def graph():
    return make_sbm(240, 3, 16, 6.0, homophily=0.6, feature_signal=0.2, random_state=0)


@pytest.fixture(scope="module")
def recorded(graph):
    return stopping.record(graph, 0, FIT)


def test_record_runs_every_epoch_and_reads_each_window(recorded):
    assert recorded["epochs"] == FIT["max_epochs"] == len(recorded["scores"])
    changes = recorded["changed"]["5"]
    # From epoch 5 on; at epoch 5 against the start's k-means labels, as the loop reads it.
    assert changes[:4] == [None] * 4 and all(0 <= value <= 240 for value in changes[4:])
    assert len(recorded["epoch_s"]) == recorded["epochs"] and recorded["start_s"] > 0
    sizes = recorded["sizes"]
    assert sum(sizes["start"]) == sum(sizes["labels_"]) == 240
    shares = recorded["largest_class_in_largest_cluster"]
    assert all(0 <= shares[key] <= 1 for key in ("start", "labels_"))
    assert abs(sum(sizes["start_soft"]) - 240) <= 3  # rounded soft sizes


@pytest.mark.parametrize("when", ["at the first window", "later"])
def test_replay_stops_where_the_loop_stops(graph, recorded, when):
    """The replayed stop and partition are the fit's own (same seed, one thread, full
    batch: the same epochs), at epoch 5 (read against the start's k-means labels) and
    at a later epoch."""
    shares = [value / 240 for value in recorded["changed"]["5"][4:]]
    positive = min(value for value in shares if value > 0)
    tol = shares[0] + 1e-6 if when == "at the first window" else positive / 2
    epochs, (acc, nmi) = stopping.stop(recorded, 5, tol)
    assert (epochs == 5) == (when == "at the first window") and epochs < FIT["max_epochs"]
    fitted = SCGCStar(3, random_state=0, **{**FIT, "tol": tol}).fit(graph)
    scores = evaluate(graph.y.numpy(), fitted.labels_)
    assert fitted.n_iter_ == epochs
    assert (round(scores["acc"], 4), round(scores["nmi"], 4)) == (acc, nmi)


def test_a_rule_that_never_fires_returns_the_last_epochs_labels(recorded):
    assert stopping.stop(recorded, 5, 0.0) == (recorded["epochs"], recorded["labels_"])


def test_replay_reads_the_change_as_the_loop_does():
    """Exactly tol of the nodes changing stops the loop (float32 10 / 2000 < 0.005)."""
    run = {"nodes": 2000, "epochs": 3, "changed": {"1": [11, 10, 9]},
           "scores": [[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]], "labels_": [0.4, 0.4]}
    assert stopping.stop(run, 1, 0.005) == (2, [0.3, 0.3])


def test_sizes_reads_each_seed_first_and_last(recorded, tmp_path, capsys, monkeypatch):
    """One row a seed: the first epoch's and labels_' ACC, the start's and labels_'
    largest and smallest clusters and the graph's largest and smallest class, grouped as
    replay groups them; --first-seeds drops the later seeds; a line without a joint
    stage says so."""
    loaded = []

    def classes_of(spec, root):  # a graph with classes of 20 and 14 nodes
        loaded.append(spec)
        return SimpleNamespace(y=torch.tensor([0] * 20 + [1] * 14))

    monkeypatch.setattr(stopping, "load_graph", classes_of)
    path = tmp_path / "runs.jsonl"
    other = {**recorded, "seed": 1, "labels_": [0.5, 0.5],
             "sizes": {**recorded["sizes"], "labels_": [1, 2, 237]}}
    untrained = {**recorded, "seed": 1, "scores": [],
                 "sizes": {**recorded["sizes"], "start": None}}
    older = {key: value for key, value in other.items()  # recorded before the shares
             if key != "largest_class_in_largest_cluster"}
    lines = [({}, recorded), ({}, older), ({}, {**recorded, "seed": 2}),
             ({"init": "clusters"}, untrained)]
    path.write_text("".join(json.dumps({"dataset": "g", "params": params, **run}) + "\n"
                            for params, run in lines))
    stopping.main(["sizes", str(path), "--first-seeds", "2"])
    rows = capsys.readouterr().out.splitlines()[2:]
    start, end = recorded["sizes"]["start"], recorded["sizes"]["labels_"]
    first = f"{recorded['scores'][0][0]:.3f}"
    shares = recorded["largest_class_in_largest_cluster"]
    assert rows == [
        f"| g | 0 | {first} -> {recorded['labels_'][0]:.3f} | {start[-1]} -> {end[-1]} | "
        f"{start[0]} -> {end[0]} | 20, 14 | {shares['start']:.2f} -> {shares['labels_']:.2f} |",
        f"| g | 1 | {first} -> 0.500 | {start[-1]} -> 237 | {start[0]} -> 1 | 20, 14 |  |",
        '| g {"init": "clusters"} | 1 | no joint stage | | | | |']
    assert loaded == ["g"]  # once for both groups of the same graph


def test_size_prior_probes_change_the_target_and_are_restored():
    q = torch.softmax(torch.randn(50, 4, generator=torch.Generator().manual_seed(0)), 1)
    prior, target = composed.SelfTraining.prior, composed.SelfTraining.target
    sharpened = target_distribution(q, cluster_frequency=torch.ones(4))
    with stopping._size_prior("none"):
        term = composed.SelfTraining()
        assert torch.allclose(term.target(q, term.prior(q)), sharpened)
    with stopping._size_prior("hold"):
        term = composed.SelfTraining()
        start = term.prior(q)
        assert start.sum() == 50  # the start's hard sizes
        # Sizes where the start put them: no pull, only sharpening.
        assert torch.allclose(term.target(q, start), sharpened)
        # A cluster that lost nodes since the start is pulled back up.
        shrunk = start.clone()
        shrunk[0] += 10
        assert (term.target(q, shrunk)[:, 0] > sharpened[:, 0]).all()
    with stopping._size_prior("start"):
        assert composed.SelfTraining.target is target
    assert (composed.SelfTraining.prior, composed.SelfTraining.target) == (prior, target)


def test_init_begins_the_start_elsewhere_and_names_it(graph, monkeypatch, capsys):
    """--init reaches the linear start (its first step's map begins at the principal
    directions for the clusters, the other outputs at the defaults' random weights) and
    the line's params name it, so that replay keeps it apart."""
    first = []  # each fit's linear map and its weights at its first step
    original_step = start_module.optimizer_step

    def spy_step(module, optimizer, loss):
        if not any(seen is module for seen, _ in first):
            first.append((module, module.layers[0].weight.detach().clone()))
        return original_step(module, optimizer, loss)

    monkeypatch.setattr(start_module, "optimizer_step", spy_step)
    row = stopping.record(graph, 0, {**FIT, "max_epochs": 2}, init="clusters")
    stopping.record(graph, 0, {**FIT, "max_epochs": 2})
    assert row["epochs"] == 2
    (_, weight), (_, default) = first
    x = FeatureTransform("auto").fit_graph(graph).transform(graph.x)  # what the start reads
    assert torch.allclose(weight[:3], principal_directions(x, 32, 0)[:3], atol=1e-5)
    assert torch.equal(weight[3:], default[3:])
    stopping.main(["record", "karate", "--tiny", "--init", "clusters"])
    assert json.loads(capsys.readouterr().out)["params"]["init"] == "clusters"
    # The probes that read the labels get them from the recorded graph.
    assert stopping.record(graph, 0, {**FIT, "max_epochs": 2},
                           init="clusters-between")["epochs"] == 2


def test_the_largest_class_share_counts_the_class_in_the_largest_cluster():
    labels = np.array([0, 0, 0, 0, 1, 1, 2, 2])  # class 0 is the largest, 4 nodes
    partition = [5, 5, 5, 1, 1, 1, 1, 1]  # cluster 1 is the largest (5): 1 of class 0's
    # A share of the cluster (1 of 5), or the arguments swapped, would be 0.2.
    assert stopping._largest_class_share(partition, labels) == 0.25
