"""Parts written by a user from the docstrings alone: what the estimator does with the
ones that break a rule (review h50e)."""

from __future__ import annotations

import signal
from dataclasses import dataclass

import pytest
from torch import nn

from graphclust import MPNNVNClusterer, SCGCStar
from graphclust.data import make_sbm
from graphclust.objectives import ClusteringObjective, NeighborContrast
from graphclust.sampling.contrastive import FullGraphBatches
from graphclust.starts import ContrastiveStart, NoStart

FAST = {"max_epochs": 3, "hidden_dims": (8,), "embedding_dim": 4, "random_state": 0,
        "device": "cpu"}


@pytest.fixture(scope="module")
def sbm():
    return make_sbm(120, 2, 8, avg_degree=6, random_state=0)


@dataclass(frozen=True)
class OneShotSampler:
    """batches() gives a generator: one pass, then nothing (and no length)."""

    def batches(self, edge_index, num_nodes, seed, rank=0, world_size=1):
        return (batch for batch in FullGraphBatches(edge_index, num_nodes, 2, "influence"))

    def fanouts(self, num_layers):
        return []


class _NoBatches:
    def __len__(self):
        return 1

    def __iter__(self):
        return iter(())


@dataclass(frozen=True)
class EmptySampler:
    """A length of one, but no batch when iterated."""

    def batches(self, edge_index, num_nodes, seed, rank=0, world_size=1):
        return _NoBatches()

    def fanouts(self, num_layers):
        return []


@pytest.fixture()
def deadline():
    """Fail a fit that loops instead of raising (no pytest-timeout here)."""
    def expire(signum, frame):
        raise TimeoutError("the fit looped on the batches")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("sampler, error, match", [
    (OneShotSampler(), TypeError, "OneShotSampler.*iterator"),
    (EmptySampler(), ValueError, "EmptySampler.*no batch"),
])
@pytest.mark.parametrize("start", [None, NoStart()], ids=["linear start", "no start"])
def test_batches_that_cannot_be_cycled_are_refused_not_looped_on(sbm, sampler, error, match,
                                                                  start, deadline):
    # The start cycles over the batches: a generator had looped forever after its pass.
    model = SCGCStar(2, sampler=sampler, start=start, **FAST,
                     **({} if start else {"pretrain_epochs": 5}))
    with pytest.raises(error, match=match):
        model.fit(sbm)
    assert not hasattr(model, "labels_")


@dataclass(frozen=True)
class WiderEncoder:
    """Ignores ``out_channels``: three columns too many."""

    uses_graph = False

    def build(self, in_channels, out_channels):
        return nn.Linear(in_channels, out_channels + 3)


def test_an_encoder_of_the_wrong_width_is_named(sbm):
    with pytest.raises(ValueError, match=r"WiderEncoder.*7 columns.*embedding_dim=4"):
        SCGCStar(2, encoder=WiderEncoder(), start=NoStart(),
                 **{**FAST, "hidden_dims": (256,)}).fit(sbm)


def _contrast(views, batch):
    return NeighborContrast(1.0)(views, batch)


@pytest.mark.parametrize("start", [None, ContrastiveStart(steps=20)],
                         ids=["flat", "object"])
def test_a_contrastive_term_without_tau_is_named_before_the_start(sbm, start):
    objective = ClusteringObjective(contrastive=_contrast)
    model = SCGCStar(2, objective=objective, start=start, **FAST,
                     **({} if start else {"pretrain_epochs": 20}))
    with pytest.raises(TypeError, match="function.*tau.*holdout"):
        model.fit(sbm)
    # Without a held-out run the term needs no tau.
    unheld = ContrastiveStart(steps=20, holdout=None)
    SCGCStar(2, objective=objective, start=unheld, **FAST).fit(sbm)


@dataclass(frozen=True)
class DecoderStart:
    """Trains nothing, but asks for the decoder as the Start docstring offers."""

    needs_decoder = True

    def check(self, config, embedding_dim):
        pass

    def __call__(self, encoder, run, *, config, contrastive, decoder):
        decoder()
        return encoder


@dataclass(frozen=True)
class UndeclaredDecoderStart(DecoderStart):
    needs_decoder = False


@pytest.mark.parametrize("start", [DecoderStart(), UndeclaredDecoderStart()],
                         ids=["declared", "undeclared"])
def test_a_start_asking_for_a_decoder_where_none_is_defined_is_told_why(sbm, start):
    model = MPNNVNClusterer(2, start=start, max_epochs=2, random_state=0, device="cpu")
    with pytest.raises(ValueError, match="hidden_dims, which MPNNVNClusterer does not have"):
        model.fit(sbm)


class PlainStart:
    def check(self, config, embedding_dim):
        pass

    def __call__(self, encoder, run, *, config, contrastive, decoder):
        return encoder


@dataclass(frozen=True)
class DataclassTerm:
    tau: float = 1.0

    def __call__(self, views, batch):
        return NeighborContrast(self.tau)(views, batch)


@pytest.mark.parametrize("params, name", [
    ({"start": PlainStart()}, "start: PlainStart"),
    ({"objective": ClusteringObjective(contrastive=DataclassTerm())},
     "objective.contrastive: DataclassTerm"),
])
def test_saving_a_custom_part_says_why_it_cannot(sbm, tmp_path, params, name):
    model = SCGCStar(2, **{**FAST, "max_epochs": 1}, **params).fit(sbm)
    with pytest.raises(TypeError, match=f"parameter {name} is not one of graphclust's own"
                                        r"(.|\n)*never names code"):
        model.save(tmp_path / "model.gc")
    assert not (tmp_path / "model.gc").exists()
