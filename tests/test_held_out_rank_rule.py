"""The held-out rule's second witness: the held-out partners' rank share
(``graphclust.starts.held_out_rule``)."""

from __future__ import annotations

import pytest

from graphclust import SCGCStar
from graphclust.data import make_sbm
from graphclust.objectives.held_out import HeldOutEdges
from graphclust.starts import (
    START_EROSION,
    START_RANK_EROSION,
    START_RANK_FLOOR,
    START_RANK_TAUGHT,
)
from graphclust.starts.held_out_rule import HeldOutReading

# Loss 5 -> 3, then level (3.05: a rise of 2.5% of the fall, under START_EROSION).
LOSSES = [5.0, 4.0, 3.0, 3.05, 3.05, 3.05]


def _reading(ranks, losses=LOSSES, gate=0.5):
    """The step each check is read at, and where the reading first shows erosion."""
    reading = HeldOutReading(gate, losses[0], ranks[0])
    for step, (loss, rank) in enumerate(zip(losses[1:], ranks[1:], strict=True), start=1):
        if reading.read(10 * step, loss, rank):
            return 10 * step, reading.best_step
    return None, reading.best_step


def test_a_rank_share_climbing_past_its_threshold_is_erosion_at_the_loss_minimum():
    assert 3.05 - 3.0 < START_EROSION * (5.0 - 3.0)  # the loss alone would run on
    best = 0.1
    climbed = best * (1 + START_RANK_EROSION) * 1.04
    assert _reading([0.3, 0.2, best, 0.11, climbed, climbed]) == (40, 20)
    # Under the threshold: no erosion; the length is the bound's business.
    under = best * (1 + START_RANK_EROSION) * 0.96
    assert _reading([0.3, 0.2, best, under, under, under]) == (None, 20)


def test_the_check_before_training_is_not_the_rank_share_to_beat():
    """An untrained map that ranks the partners well (a kNN graph of the features) does
    not make every trained check look like erosion."""
    assert _reading([0.01, 0.2, 0.1, 0.11, 0.12, 0.12]) == (None, 20)


@pytest.mark.parametrize("untrained", [0.19, 0.12])
def test_a_ranking_that_training_did_not_make_is_not_read(untrained):
    """Where training has not cut the rank share to START_RANK_TAUGHT of the untrained
    map's (the features made the edges, as in fit(X)'s kNN graph), its climb while the
    start sharpens the clusters is no erosion; from the threshold on, it is."""
    best = 0.1
    climbed = best * (1 + START_RANK_EROSION) * 1.2
    assert best > START_RANK_TAUGHT * untrained
    assert _reading([untrained, 0.11, best, climbed, climbed, climbed]) == (None, 20)
    assert _reading([best / START_RANK_TAUGHT, 0.11, best, climbed, climbed, climbed]) \
        == (30, 20)


def test_a_climb_under_the_floor_is_not_erosion():
    """Near 0 a rank share's noise is a large share of it: the climb must also pass
    START_RANK_FLOOR."""
    best = 0.01
    small = best + 0.9 * START_RANK_FLOOR  # 90% above the best, but under the floor
    assert small > (1 + START_RANK_EROSION) * best
    assert _reading([0.3, 0.02, best, small, small, small]) == (None, 20)
    large = best + 1.1 * START_RANK_FLOOR
    assert _reading([0.3, 0.02, best, large, large, large]) == (30, 20)


def test_a_rank_climb_before_the_edges_taught_anything_is_not_erosion():
    # The gate (3 nats) is never passed twice in a row: nothing was taught.
    assert _reading([0.3, 0.2, 0.1, 0.5, 0.5, 0.5], gate=3.0) == (None, 20)


def test_no_rank_share_reads_the_loss_alone():
    assert _reading([None] * 6) == (None, 20)
    assert _reading([None] * 6, losses=[5.0, 4.0, 3.0, 3.1, 3.5, 3.5]) == (40, 20)


@pytest.mark.parametrize(("climb", "kept"), [(1.3, 20), (1.1, 50)])
def test_the_start_stops_where_its_rank_share_erodes(monkeypatch, capsys, climb, kept):
    """Through a fit: a level loss and a climbing rank share stop the held-out run at
    the loss's minimum; a smaller climb runs to the bound."""
    checks = iter(zip(LOSSES, [0.3, 0.2, 0.1, 0.1 * climb, 0.1 * climb, 0.1 * climb],
                      strict=True))
    monkeypatch.setattr(HeldOutEdges, "scores", lambda self, z: next(checks))
    graph = make_sbm(120, 3, 8, avg_degree=6, random_state=0)
    model = SCGCStar(n_clusters=3, hidden_dims=(32,), embedding_dim=8, max_epochs=0,
                     pretrain_epochs=50, start_holdout=0.1, random_state=0,
                     verbose=True).fit(graph)
    assert [e["epoch"] for e in model.history_ if e.get("kept")] == [kept]
    # The check that showed erosion names its witness; a run to the bound has none.
    assert [(e["epoch"], e["eroded"]) for e in model.history_ if "eroded" in e] == \
        ([(30, "rank share")] if kept == 20 else [])
    # verbose says why the start has its length.
    said = {20: "SCGCStar: start: 20 steps, the held-out loss's lowest check (the held-out "
                "rank share showed erosion at step 30)",
            50: "SCGCStar: start: 50 steps, the bound (no erosion on the held-out edges)"}
    assert said[kept] in capsys.readouterr().out


@pytest.mark.parametrize("untrained", [0.0, float("nan")])
def test_an_untrained_rank_share_of_zero_or_nan_turns_the_rank_reading_off(untrained):
    """Nothing left for training to make (0), or nothing known (NaN): the loss alone
    decides, however far the rank share climbs."""
    assert _reading([untrained, 0.0, 0.0, 0.5, 0.5, 0.5]) == (None, 20)


def test_the_reading_names_the_witness_that_showed_erosion():
    by_loss = HeldOutReading(0.5, 5.0, 0.3)
    assert not any(by_loss.read(10 * i, loss, 0.1) for i, loss in enumerate([4.0, 3.0], 1))
    assert by_loss.eroded is None
    assert by_loss.read(30, 3.5, 0.3) and by_loss.eroded == "loss"  # both: the loss named
    by_rank = HeldOutReading(0.5, 5.0, 0.3)
    for step, (loss, rank) in enumerate([(4.0, 0.2), (3.0, 0.1), (3.05, 0.14)], 1):
        eroded = by_rank.read(10 * step, loss, rank)
    assert eroded and by_rank.eroded == "rank share"


def test_the_summary_of_an_untaught_start_and_of_a_start_without_held_out_edges():
    from graphclust.starts import held_out_summary

    assert held_out_summary([{"phase": "pretrain", "epoch": 200}]) is None
    untaught = [{"phase": "start-length", "epoch": 0, "kept": True, "untaught": True},
                {"phase": "start-length", "epoch": 10}]
    assert "the edges teach the encoder nothing, so it kept an untrained map" in \
        held_out_summary(untaught)


def test_held_out_checks_are_the_start_length_entries_with_a_held_out_loss():
    from graphclust.starts.held_out_rule import held_out_checks

    checks = [{"phase": "start-length", "epoch": step, "held_out_loss": 5.0 - step / 10}
              for step in (0, 10)]
    history = [*checks, {"phase": "pretrain", "epoch": 1, "loss": 3.0},
               {"phase": "train", "epoch": 1, "held_out_loss": 1.0}]
    assert held_out_checks(history) == checks
    # A graph without edges records one verdict and no check.
    assert held_out_checks([{"phase": "start-length", "epoch": 0, "kept": True,
                             "untaught": True, "edges": 0}]) == []


def test_the_summary_names_the_witness_and_reads_histories_from_before_it():
    from graphclust.starts import held_out_summary

    def checks(last: dict) -> list[dict]:
        return [{"phase": "start-length", "epoch": 10, "held_out_loss": 5.0},
                {"phase": "start-length", "epoch": 20, "held_out_loss": 4.0, "kept": True},
                {"phase": "start-length", "epoch": 30, "held_out_loss": 4.5, **last},
                {"phase": "train", "epoch": 1}]

    assert held_out_summary(checks({"eroded": "loss"})) == (
        "start: 20 steps, the held-out loss's lowest check (the held-out loss showed "
        "erosion at step 30)")
    # A model saved before the checks named their witness: still not "the bound".
    assert held_out_summary(checks({})) == (
        "start: 20 steps, the held-out loss's lowest check (it showed erosion at step 30)")
