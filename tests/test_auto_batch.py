"""``batch_size="auto"``, the memory check before training, ``batch_size_`` and
``knn_method`` in the estimators (the rule itself: tests/test_memory.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import graphclust.estimators.base as base_module
import graphclust.estimators.contrastive as contrastive_module
from graphclust import SCGC, GraphTransformerClusterer, MPNNVNClusterer, SCGCStar, SVDKMeans
from graphclust.data import make_sbm
from graphclust.data.transforms import FeatureTransform
from graphclust.io import load
from graphclust.memory import TrainingMemoryError, estimate_peak_memory, positive_pair_bound
from graphclust.sampling import FullGraphSampler, RandomWalkSampler

FAST = {"hidden_dims": (32,), "embedding_dim": 8, "pretrain_epochs": 3, "max_epochs": 3,
        "random_state": 0}


@pytest.fixture(scope="module")
def sbm():
    return make_sbm(300, 3, 16, avg_degree=8, homophily=0.9, feature_signal=1.5,
                    random_state=0)


def _memory(graph, batch_size=None) -> int:
    """The estimator's estimate for FAST on ``graph`` (full batch: the exact bound)."""
    n, e = graph.num_nodes, graph.edge_index.shape[1]
    pairs = positive_pair_bound(graph.edge_index, n, 2) if batch_size is None else None
    return estimate_peak_memory(n, e, graph.x.shape[1], (32,), 8, 3, batch_size=batch_size,
                                n_positive_pairs=pairs, held_out=0.1,
                                start_snapshots=1).total


def _probe_returning(monkeypatch, available: int) -> None:
    monkeypatch.setattr(contrastive_module, "memory_to_check", lambda device: available)


def _forbid_training(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("training started although the memory check should refuse")

    monkeypatch.setattr(contrastive_module, "train_clusterer", refuse)
    monkeypatch.setattr(FeatureTransform, "fit", refuse)


@pytest.mark.parametrize("cls", [SCGC, SCGCStar, MPNNVNClusterer, GraphTransformerClusterer])
def test_auto_is_the_default_and_a_small_graph_trains_full_batch(cls, sbm):
    assert cls().batch_size == "auto"
    model = cls(3, max_epochs=2, pretrain_epochs=2, random_state=0).fit(sbm)
    assert model.batch_size_ is None


def test_auto_trains_exactly_as_full_batch_when_it_resolves_to_it(sbm):
    auto = SCGCStar(3, **FAST).fit(sbm)
    full = SCGCStar(3, batch_size=None, **FAST).fit(sbm)
    np.testing.assert_array_equal(auto.labels_, full.labels_)
    np.testing.assert_array_equal(auto.embedding_, full.embedding_)


def test_auto_takes_seed_batches_when_full_batch_does_not_fit(sbm, monkeypatch):
    full, batches = _memory(sbm), _memory(sbm, batch_size=150)
    assert batches < full  # the dense positives make full batch the larger
    _probe_returning(monkeypatch, int(batches / 0.8) + 1)
    model = SCGCStar(3, **FAST).fit(sbm)
    assert model.batch_size_ == 150  # DEFAULT_MINI_BATCH capped at half the graph
    recorded = []
    monkeypatch.setattr(contrastive_module.ContrastiveClusterer, "_sampler_part",
                        lambda self, n, batch: recorded.append(batch) or RandomWalkSampler(
                            batch, order=self.order))
    SCGCStar(3, **FAST).fit(sbm)
    assert recorded == [150]


@pytest.mark.parametrize("batch_size", ["auto", None, 100])
def test_a_fit_that_cannot_fit_is_refused_before_any_work(batch_size, sbm, monkeypatch):
    _probe_returning(monkeypatch, 2**20)  # 1 MiB: below even the runtime's own cost
    _forbid_training(monkeypatch)
    model = SCGCStar(3, batch_size=batch_size, **FAST)
    with pytest.raises(TrainingMemoryError, match="available") as caught:
        model.fit(sbm)
    assert isinstance(caught.value, MemoryError)
    assert "batch_size" in str(caught.value) and "device" in str(caught.value)
    assert not hasattr(model, "labels_") and not hasattr(model, "batch_size_")


def test_explicit_settings_are_checked_as_given(sbm, monkeypatch):
    # Enough for seed batches of 100 but not for full batch: None is refused, 100 trains.
    _probe_returning(monkeypatch, int(_memory(sbm, batch_size=100) / 0.8) + 1)
    with pytest.raises(TrainingMemoryError, match="full batch"):
        SCGCStar(3, batch_size=None, **FAST).fit(sbm)
    assert SCGCStar(3, batch_size=100, **FAST).fit(sbm).batch_size_ == 100
    sampler = RandomWalkSampler(100)
    assert SCGCStar(3, sampler=sampler, **FAST).fit(sbm).batch_size_ == 100
    with pytest.raises(TrainingMemoryError, match="full batch"):
        SCGCStar(3, sampler=FullGraphSampler(), **FAST).fit(sbm)


@pytest.mark.parametrize("batch_size", [300, np.int64(300)])
def test_a_batch_as_large_as_the_graph_is_full_batch(batch_size, sbm):
    with pytest.warns(UserWarning, match="not smaller than the graph"):
        model = SCGCStar(3, batch_size=batch_size, **FAST).fit(sbm)
    assert model.batch_size_ is None


def test_a_given_sampler_reports_its_own_batch_size(sbm):
    """A sampler object is used as it is, walks included, whatever its batch size:
    ``batch_size_`` says so rather than "full batch"."""
    model = SCGCStar(3, sampler=RandomWalkSampler(batch_size=1000), **FAST).fit(sbm)
    assert model.batch_size_ == 1000
    assert model.batch_size_ >= sbm.num_nodes


def test_a_cpu_fit_leaves_every_gpu_generator_alone(sbm, monkeypatch):
    """The fit seeds the generators it restores afterwards: the CPU's, and on a GPU fit
    that GPU's; torch.manual_seed would also reseed every GPU of the caller."""
    reseeded = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: reseeded.append(seed))
    monkeypatch.setattr(torch.cuda, "manual_seed", lambda seed: reseeded.append(seed))
    SCGCStar(3, **FAST).fit(sbm)
    assert reseeded == []


@pytest.mark.parametrize("batch_size", ["auto", 100])
def test_a_device_without_a_memory_probe_is_not_checked(batch_size, sbm, monkeypatch):
    def no_probe(device):  # as available_memory_bytes on mps or xpu
        raise ValueError("Unsupported device type 'mps': no memory probe for it")

    # Seed batches had been refused there: their CSR graph's build asked for the probe.
    monkeypatch.setattr("graphclust.sampling.csr.available_memory_bytes", no_probe)
    fitted = SCGCStar(3, **{**FAST, "batch_size": batch_size}).fit(sbm)
    assert fitted.batch_size_ == (None if batch_size == "auto" else batch_size)


def test_verbose_reports_the_choice(sbm, capsys):
    SCGCStar(3, verbose=True, **FAST).fit(sbm)
    out = capsys.readouterr().out
    assert "SCGCStar: batch_size='auto' -> full batch (300 nodes" in out
    assert "estimated peak memory" in out and "GiB available on cpu" in out
    # A given sampler's batch size is what trains, not the parameter it replaces.
    SCGCStar(3, verbose=True, sampler=RandomWalkSampler(batch_size=64), **FAST).fit(sbm)
    assert "SCGCStar: RandomWalkSampler's batch size -> batch_size=64" in capsys.readouterr().out


def test_batch_size_is_saved_with_the_model(sbm, tmp_path):
    model = SCGCStar(3, batch_size=64, **FAST).fit(sbm)
    model.save(tmp_path / "m")
    assert load(tmp_path / "m").batch_size_ == 64


@pytest.mark.parametrize(("params", "message"), [
    ({"batch_size": "big"}, "'batch_size' parameter .* str among {'auto'}"),
    ({"batch_size": 0}, "'batch_size' parameter"),
    ({"batch_size": 2.5}, "'batch_size' parameter"),
    ({"knn_method": "fast"}, "'knn_method' parameter .* Got 'fast'"),
])
def test_bad_batch_size_and_knn_method(params, message, sbm, monkeypatch):
    monkeypatch.setattr(base_module, "knn_graph", None)  # validation comes first
    with pytest.raises(ValueError, match=message):
        SCGCStar(3, **{**FAST, **params}).fit(sbm.x.numpy())


@pytest.mark.parametrize("cls", [SCGCStar, SVDKMeans])
@pytest.mark.parametrize("method", ["auto", "exact"])
def test_knn_method_reaches_the_knn_graph(cls, method, monkeypatch):
    searched = []
    real = base_module.knn_graph

    def recording(x, **kwargs):
        searched.append(kwargs["method"])
        return real(x, **kwargs)

    monkeypatch.setattr(base_module, "knn_graph", recording)
    x = torch.rand(40, 6, generator=torch.Generator().manual_seed(0)).numpy()
    # SVDKMeans reads the kNN graph only where it propagates (at t = 0 none is built).
    params = {"pretrain_epochs": 2, "max_epochs": 2} if cls is SCGCStar \
        else {"propagation_steps": 1}
    cls(2, knn_method=method, random_state=0, n_neighbors=5, **params).fit(x)
    assert searched == [method]


@pytest.mark.parametrize(("params", "held_out_input", "snapshots"), [
    ({}, False, (1, True)),  # 3 steps checked every 10: the initial state alone
    ({"propagation_steps": 1}, True, (1, True)),
    ({"input_hops": 1}, True, (1, True)),
    ({"check_interval": 2}, False, (2, True)),  # the initial state and step 2's
    ({"pretrain": "contrastive", "check_interval": 1}, False, (FAST["pretrain_epochs"], False)),
    ({"propagation_steps": 1, "start_holdout": None}, False, (0, True)),
    ({"propagation_steps": 1, "pretrain": "autoencoder"}, False, (0, False)),
])
def test_the_estimate_counts_the_held_out_runs_input_and_snapshots(params, held_out_input,
                                                                   snapshots, sbm, monkeypatch):
    """A held-out start keeps a state a check to resume from, and with propagated inputs
    reads a second copy of them."""
    seen = []

    def recording(*args, **kwargs):
        seen.append((kwargs["held_out_input"], (kwargs["start_snapshots"],
                                                 kwargs["linear_start"])))
        return estimate_peak_memory(*args, **kwargs)

    monkeypatch.setattr(contrastive_module, "estimate_peak_memory", recording)
    SCGCStar(3, **{**FAST, **params}).fit(sbm)
    assert seen == [(held_out_input, snapshots)]


def test_the_batch_size_attribute_documents_the_int_as_large_as_the_graph():
    # The docstring gave "the int given" for any int: batch_size=1000 on 300 nodes records
    # None (test_a_batch_as_large_as_the_graph_is_full_batch), a distributed job its share.
    words = " ".join(SCGCStar.__doc__.split())
    assert "An int ``batch_size`` of N or more trains full batch and records ``None``" in words
    assert "at most one process's share of the N nodes" in words


@pytest.mark.parametrize(("pretrain_epochs", "counted"), [(3, True), (0, False)])
def test_the_held_out_checks_are_counted_only_where_the_start_runs_them(
        pretrain_epochs, counted, sbm, monkeypatch):
    # A start of no steps returns the encoder untouched, with no held-out run: its checks
    # (0.16 GiB on a 50k-node graph) had been counted all the same.
    parts = []

    def spy(*args, **kwargs):
        estimate = estimate_peak_memory(*args, **kwargs)
        parts.append(estimate.parts)
        return estimate

    monkeypatch.setattr(contrastive_module, "estimate_peak_memory", spy)
    SCGCStar(3, **{**FAST, "pretrain_epochs": pretrain_epochs}).fit(sbm)
    assert ("held-out checks" in parts[-1]) == counted
