"""The parts as objects: start=, objective=, sampler= (and the parameter tables)."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest

from graphclust import (
    SCGC,
    DegreeKMeans,
    GraphTransformerClusterer,
    MPNNVNClusterer,
    SCGCStar,
    SVDKMeans,
)
from graphclust.data import make_sbm
from graphclust.io import load
from graphclust.objectives import (
    ClusteringObjective,
    NeighborContrast,
    Reconstruction,
    SelfTraining,
)
from graphclust.sampling import FullGraphSampler, RandomWalkSampler
from graphclust.starts import AutoencoderStart, ContrastiveStart, LinearStart, NoStart
from graphclust.training import loop

FAST = {"max_epochs": 6, "hidden_dims": (32,), "embedding_dim": 8, "random_state": 0,
        "device": "cpu"}


@pytest.fixture(scope="module")
def sbm():
    return make_sbm(150, 3, 16, avg_degree=6, random_state=0)


def _fit(graph, **params):
    return SCGCStar(n_clusters=3, **{**FAST, **params}).fit(graph)


@pytest.mark.parametrize("flat, part", [
    ({"pretrain_epochs": 5}, {"start": LinearStart(steps=5)}),
    ({"pretrain": "contrastive", "pretrain_epochs": 5, "start_holdout": 0.2},
     {"start": ContrastiveStart(steps=5, holdout=0.2)}),
    ({"tau": 2.0, "size_prior": "uniform"},
     {"objective": ClusteringObjective(NeighborContrast(2.0), SelfTraining("uniform"))}),
    ({"batch_size": 40, "num_walks": 2}, {"sampler": RandomWalkSampler(40, num_walks=2)}),
])
def test_a_part_object_trains_as_the_flat_parameters_it_replaces(sbm, flat, part):
    by_parameters = _fit(sbm, **{"pretrain_epochs": 5, **flat})
    by_part = _fit(sbm, **({"pretrain_epochs": 5} if "start" not in part else {}), **part)
    np.testing.assert_array_equal(by_part.labels_, by_parameters.labels_)
    np.testing.assert_array_equal(by_part.embedding_, by_parameters.embedding_)


def test_swapping_the_start_changes_what_is_trained(sbm):
    started = _fit(sbm, pretrain_epochs=5)
    unstarted = _fit(sbm, start=NoStart())
    assert any(entry["phase"] == "pretrain" for entry in started.history_)
    assert not any(entry["phase"] == "pretrain" for entry in unstarted.history_)
    assert not np.array_equal(started.embedding_, unstarted.embedding_)


def test_an_objective_with_reconstruction_trains_a_decoder(sbm, tmp_path):
    plain = _fit(sbm, pretrain_epochs=5)
    model = _fit(sbm, pretrain_epochs=5,
                 objective=ClusteringObjective(reconstruction=Reconstruction()))
    assert plain.decoder_ is None and model.decoder_ is not None
    assert all("reconstruction" in e for e in model.history_ if e["phase"] == "train")
    model.save(tmp_path / "model.gc")  # part objects are saved with the parameters
    loaded = load(tmp_path / "model.gc")
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.predict(sbm), model.predict(sbm))


def test_a_custom_sampler_gives_the_batches(sbm):
    calls = []

    @dataclass(frozen=True)
    class Recording:
        inner: FullGraphSampler = FullGraphSampler()

        def batches(self, edge_index, num_nodes, seed, rank=0, world_size=1):
            calls.append(num_nodes)
            return self.inner.batches(edge_index, num_nodes, seed, rank, world_size)

        def fanouts(self, num_layers):
            return []

    custom = _fit(sbm, pretrain_epochs=5, sampler=Recording())
    assert calls == [sbm.num_nodes] * 2  # the held-out start-length run, then the training
    np.testing.assert_array_equal(custom.labels_, _fit(sbm, pretrain_epochs=5).labels_)


@pytest.mark.parametrize("batching, steps_per_epoch", [
    ({"batch_size": None}, 1), ({"batch_size": 40}, 4),  # 150 nodes: 4 batches of 40
    ({"sampler": RandomWalkSampler(40, max_batches=2)}, 2),  # an epoch of 2 of them
    ({"batch_size": 4}, 32),  # 38 batches of 4: the default sampler's epoch is 32
])
def test_the_joint_rate_is_shared_among_an_epochs_steps(sbm, monkeypatch, batching,
                                                          steps_per_epoch):
    rates = []
    real = loop.optimizer_for

    def recording(encoder, module, lr, weight_decay=0.0):
        rates.append(lr)
        return real(encoder, module, lr, weight_decay)

    monkeypatch.setattr(loop, "optimizer_for", recording)
    _fit(sbm, pretrain_epochs=5, lr=1e-3, **batching)
    assert rates == [pytest.approx(1e-3 / steps_per_epoch)]


@pytest.mark.parametrize("params", [
    {"start": "linear"}, {"start": LinearStart}, {"objective": NeighborContrast()},
    {"objective": 1.0}, {"sampler": RandomWalkSampler}, {"sampler": object()},
])
def test_a_bad_part_object_is_a_type_error(sbm, params):
    part = next(iter(params))
    with pytest.raises(TypeError, match=f"'{part}' parameter of SCGCStar|{part}= takes an object"):
        _fit(sbm, **params)


@pytest.mark.parametrize("make, error, message", [
    (lambda: NeighborContrast(tau=-2.0), ValueError, "tau must be > 0"),
    (lambda: NeighborContrast(tau=float("nan")), ValueError, "tau must be finite"),
    (lambda: SelfTraining("Start"), ValueError, "size_prior must be one of start, uniform"),
    (lambda: ClusteringObjective(alpha=-1.0), ValueError, "alpha must be >= 0"),
    (lambda: ClusteringObjective(beta="1"), TypeError, "beta must be a real number"),
])
def test_an_objective_part_checks_what_the_estimators_table_would(make, error, message):
    # objective= replaces alpha, beta, tau and size_prior, and with them their checks.
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("make, error, message", [
    # A negative holdout had held out the other 80% of the edges; 1.0 trained on none.
    (lambda: ContrastiveStart(holdout=-0.2), ValueError, r"holdout must be None or in \(0"),
    (lambda: ContrastiveStart(holdout=1.0), ValueError, r"holdout must be None or in \(0"),
    # It had divided by zero once the data were read.
    (lambda: ContrastiveStart(check_interval=0), ValueError, "check_interval must be an"),
    (lambda: ContrastiveStart(steps=-5), ValueError, "steps must be an integer >= 0"),
    (lambda: LinearStart(lr=-1.0), ValueError, "lr must be > 0"),
    (lambda: LinearStart(whitening=0.0), ValueError, "whitening must be > 0"),
    (lambda: LinearStart(init="pca"), ValueError, "init must be one of random, principal"),
    (lambda: AutoencoderStart(batch_size=0), ValueError, "batch_size must be an integer"),
    (lambda: loop.Schedule(check_interval=0), ValueError, "check_interval must be an"),
    (lambda: loop.Schedule(tol=-1.0), ValueError, "tol must be >= 0"),
    # "no" is truthy: it had read as True.
    (lambda: RandomWalkSampler(64, exclude_isolated="no"), TypeError,
     "exclude_isolated must be True or False"),
    (lambda: FullGraphSampler(positives="sum"), ValueError, "positives must be one of"),
    (lambda: RandomWalkSampler(64, num_walks=0), ValueError, "num_walks must be an integer"),
])
def test_a_start_sampler_or_schedule_checks_its_settings(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("params, replaced", [
    ({"start": NoStart(), "pretrain_epochs": 5}, "pretrain_epochs"),
    ({"objective": ClusteringObjective(), "tau": 2.0, "alpha": 0.1}, "alpha, tau"),
    ({"sampler": FullGraphSampler(), "batch_size": 10}, "batch_size"),
])
def test_a_part_beside_the_parameters_it_replaces_is_refused(sbm, params, replaced):
    with pytest.raises(ValueError, match=f"replaces {replaced}, which would be ignored"):
        _fit(sbm, **params)


@pytest.mark.parametrize("params", [
    {"objective": ClusteringObjective(), "alpha": np.float64(0.03)},
    {"sampler": RandomWalkSampler(64), "order": np.int64(2),
     "exclude_isolated": np.bool_(True)},
    {"start": NoStart(), "pretrain_epochs": np.int64(200)},
])
def test_a_part_beside_its_parameters_at_their_default_values_is_accepted(sbm, params):
    """A NumPy scalar equal to the default (a grid's or a pandas table's value) leaves the
    parameter at its default: it had been refused as a changed parameter."""
    _fit(sbm, **params)


def test_graph_encoder_parameters_beside_an_encoder_are_refused(sbm):
    from graphclust.nn import MPNNVNConfig

    with pytest.raises(ValueError, match="encoder= replaces num_layers"):
        MPNNVNClusterer(3, num_layers=3, encoder=MPNNVNConfig(16)).fit(sbm)


def test_a_decoder_on_a_model_without_hidden_dims_is_refused(sbm):
    objective = ClusteringObjective(reconstruction=Reconstruction())
    with pytest.raises(ValueError, match="mirrors hidden_dims, which MPNNVNClusterer does not"):
        MPNNVNClusterer(3, objective=objective).fit(sbm)


def _documented(cls) -> set[str]:
    """Parameter names of the numpydoc Parameters section of ``cls``'s own docstring (what
    ``help(cls)`` shows: a class's docstring is not inherited)."""
    doc = inspect.cleandoc(cls.__doc__)
    section = re.search(r"Parameters\n-+\n(.*?)(\nAttributes\n|\Z)", doc, re.S)
    names = set()
    for line in section.group(1).splitlines():
        header = re.match(r"^(\w[\w, ]*?)(?: :|$)", line)
        if header:
            names.update(name.strip() for name in header.group(1).split(","))
    return names


def test_the_estimators_import_without_docstrings():
    """``python -OO`` strips docstrings: the classes that compose theirs still import."""
    code = "from graphclust import SCGC, SCGCStar; assert SCGCStar.__doc__ is None"
    result = subprocess.run([sys.executable, "-OO", "-c", code], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("cls", [SCGC, SCGCStar, MPNNVNClusterer, GraphTransformerClusterer,
                                 SVDKMeans, DegreeKMeans])
def test_signature_constraints_and_docstring_come_from_one_table(cls):
    names = list(inspect.signature(cls.__init__).parameters)[1:]
    assert names == list(cls._parameters) == list(cls._parameter_constraints)
    assert names[0] == "n_clusters"
    assert sorted(cls().get_params()) == sorted(names)
    assert set(names) - _documented(cls) == set()
