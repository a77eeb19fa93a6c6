r"""The held-out rule: how a start's checks on held-out edges decide its length.

A start with ``holdout`` trains on the other edges and scores the held-out ones every
``check_interval`` steps (:class:`graphclust.objectives.HeldOutEdges`). The edges teach
the encoder something once the held-out loss has stayed under its first check by the
gate (:func:`start_gate`: :data:`START_MIN_FALL` of the fall still possible down to a
code of the clusters) at two checks in a row. A taught start erodes once the loss has
risen above its minimum by :data:`START_EROSION` of its fall so far, or the held-out
partners' rank share, once training has cut it to :data:`START_RANK_TAUGHT` of the
untrained map's, has climbed :data:`START_RANK_EROSION` above its lowest check (and by
at least :data:`START_RANK_FLOOR`); its length is then the step of the loss's minimum.
A loss that never passes the gate in a start of at least :data:`START_VERDICT_STEPS`
steps says the edges teach nothing (:meth:`HeldOutReading.teaches_nothing`).
:class:`HeldOutReading` reads the checks one at a time, as
:mod:`graphclust.starts.contrastive` takes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphclust.objectives.held_out import cluster_code_fall

__all__ = ["START_EROSION", "START_MIN_FALL", "START_MIN_ROOM", "START_RANK_EROSION",
           "START_RANK_FLOOR", "START_RANK_TAUGHT", "START_VERDICT_STEPS", "HeldOutReading",
           "held_out_checks", "held_out_summary", "kept_check", "start_gate"]

#: The start stops once its held-out loss has risen above its minimum by this share of
#: the fall from the first check to that minimum: a clear rise, not a plateau's noise
#: (benchmarks/results/notes.md, "A label-free length for the start").
START_EROSION = 0.1
#: ... or once the held-out partners' rank share (:meth:`HeldOutEdges.scores`, which does
#: not depend on ``tau``) has climbed this share above its lowest check after training
#: began (where :data:`START_RANK_TAUGHT` lets it count). On a sparse graph with wide
#: features the start can erode slowly: on Cora's 2,000-node sample (Citeseer's density)
#: the start alone loses 0.11 ACC between step 50 and 200 while its loss rises only 3-7%
#: of its fall, and its rank share climbs 18-47% (8 seeds); on the full development
#: graphs it climbs at most 18% (DBLP; 70 curves,
#: benchmarks/results/rank_rule_taught/rank_rise.jsonl).
START_RANK_EROSION = 0.25
#: The rank share counts only where training has cut it to this share of the untrained
#: map's (the check before any step) or less. On a kNN graph of wide features (iris,
#: wine, digits, blobs: ``fit(X)``'s graph) the untrained map already ranks the partners
#: about as well as training does (the best trained check is 0.9-1.6 of it), and the
#: start trades a little of that ranking for sharper clusters, so the rank share climbs
#: while the start is healthy; on Cora's 2,000-node sample training cuts it from 0.34 to
#: 0.07. The condition does not single out every graph made from features (training
#: cuts it to 0.43-0.54 on Cora's features as a plain matrix and to 0.12-0.15 on two
#: moons in the plane): there the climb's thresholds decide
#: (benchmarks/results/notes_part10.md).
START_RANK_TAUGHT = 0.5
#: ... and the climb must also be at least this much in absolute terms, so that a rank
#: share near 0 does not make its noise count as erosion (on two moons in the plane,
#: where training cuts the rank share from 0.04 to 0.005, its later climbs are under
#: 0.0001).
START_RANK_FLOOR = 0.01
#: The share of the fall still possible at the first check (:func:`start_gate`: down to
#: the loss of a code of the ``n_clusters`` clusters) that the held-out loss must fall by
#: for the edges to count as teaching the encoder something. Measured falls, as shares of
#: :func:`graphclust.objectives.held_out.cluster_code_fall`: 4-12% on the air-traffic
#: graphs and a weak-feature SBM, 33-74% on the other graphs and SBMs measured
#: (benchmarks/results/notes_part4.md, "Edges that teach nothing").
START_MIN_FALL = 0.2
#: The least room :func:`start_gate` assumes, as a share of ``cluster_code_fall``: where
#: the first check is already near (or past) a code of the clusters, the gate stays at
#: 0.1 of the yardstick (0.06-0.09 nats), well above the held-out loss's noise between
#: checks (about 0.002-0.005 nats on the plateaus measured), so that neither a flat loss
#: nor a blip counts as a lesson (benchmarks/results/notes_part6.md).
START_MIN_ROOM = 0.5
#: Fewer steps than this cannot tell edges that teach nothing from a start that has not
#: learnt yet (the slowest measured fall past the gate took 50 steps): a shorter start
#: passes no verdict and keeps the joint stage.
START_VERDICT_STEPS = 100


@dataclass
class HeldOutReading:
    """The held-out rule's reading of a start's checks, one at a time (module docstring):
    the lowest loss and rank share so far, whether the edges have taught the encoder
    anything yet, and whether a check shows erosion. ``gate``: the fall in nats that counts
    (:func:`start_gate`); ``first``: the loss before any step; ``first_rank``: the rank
    share before any step (``None``: the rank share is not read)."""

    gate: float
    first: float
    first_rank: float | None = None
    best: float = field(init=False)
    best_step: int = field(init=False, default=0)
    best_rank: float | None = field(init=False, default=None)  # the lowest after step 0
    taught: bool = field(init=False, default=False)
    eroded: str | None = field(init=False, default=None)  # the witness: "loss", "rank share"
    below: bool = field(init=False, default=False)  # the last check was under the gate

    def __post_init__(self) -> None:
        self.best = self.first

    @property
    def fall(self) -> float:
        """How far the lowest check so far is under the first."""
        return self.first - self.best

    def read(self, step: int, loss: float, rank: float | None = None) -> bool:
        """Take the check at ``step`` (its held-out loss, and its rank share where known);
        ``True`` where it shows erosion (the length is then :attr:`best_step`)."""
        # The edges teach the encoder something once the loss stays under the gate for
        # two checks in a row: the lowest of many noisy checks overstates the fall, and a
        # one-check dip followed by a climb past the first check is a transient.
        was_below, self.below = self.below, self.first - loss >= self.gate
        self.taught = self.taught or (was_below and self.below)
        fall = self.fall
        # The check before any step is left out: on a kNN graph an untrained map can
        # already rank the partners better than the first steps do.
        if rank is not None and step > 0:
            self.best_rank = rank if self.best_rank is None else min(self.best_rank, rank)
        if loss < self.best:
            self.best, self.best_step = loss, step
            return False
        # Eroding: the map now fits the training edges at the others' cost. (Before the
        # edges have taught anything, a rise erodes nothing: the run goes on.)
        if not self.taught:
            return False
        if loss - self.best > START_EROSION * fall:
            self.eroded = "loss"
        elif self._rank_eroded(rank):
            self.eroded = "rank share"
        return self.eroded is not None

    def _rank_eroded(self, rank: float | None) -> bool:
        """Whether ``rank`` has climbed past its lowest by the rank thresholds, where
        training made the ranking (:data:`START_RANK_TAUGHT`)."""
        if rank is None or self.best_rank is None or self.first_rank is None:
            return False
        # Written so that an untrained rank share of 0 (nothing left for training to
        # make) or NaN reads as "not made by training". A NaN at a later check is never
        # a new lowest (min keeps the lowest before it; a NaN at the first trained check
        # stays the lowest and so turns the rank reading off for the run: the loss
        # alone decides, the safe side).
        if not (self.first_rank > 0 and self.best_rank <= START_RANK_TAUGHT * self.first_rank):
            return False
        return rank - self.best_rank > max(START_RANK_EROSION * self.best_rank,
                                           START_RANK_FLOOR)

    def teaches_nothing(self, steps: int, check_interval: int) -> bool:
        """After a start of ``steps`` checked every ``check_interval``: whether the edges
        taught the encoder nothing. A verdict needs a long start with at least two checks
        after the first."""
        return not self.taught and steps >= max(START_VERDICT_STEPS, 2 * check_interval)


def start_gate(n_clusters: int, tau: float, first: float, uninformative: float) -> float:
    """How far the held-out loss must fall below its ``first`` check for the edges to
    teach the encoder something: :data:`START_MIN_FALL` of the fall still possible, from
    the first check down to the loss of a code of ``n_clusters`` clusters
    (``uninformative``, the loss of an embedding that tells no node apart, less
    :func:`~graphclust.objectives.held_out.cluster_code_fall`). Where the features already
    predict the held-out edges (a kNN graph built from them), the first check is part of
    the way down, and less is left to learn (benchmarks/results/notes_part6.md); the room
    counted is at least :data:`START_MIN_ROOM` of the yardstick."""
    yardstick = cluster_code_fall(n_clusters, tau)
    room = first - (uninformative - yardstick)
    return START_MIN_FALL * max(room, START_MIN_ROOM * yardstick)


def held_out_checks(history: list[dict]) -> list[dict]:
    """The start's held-out checks in order: its ``"start-length"`` entries that carry a
    held-out loss. Empty where the start held no edges out, or where the graph had no
    edges (its one ``"start-length"`` entry, ``{"edges": 0}``, is a verdict, not a check).
    """
    return [entry for entry in history
            if entry.get("phase") == "start-length" and "held_out_loss" in entry]


def kept_check(history: list[dict]) -> dict | None:
    """The held-out check a fit's start kept (the last ``"start-length"`` entry marked
    ``"kept"``), or ``None`` where the start had no held-out run."""
    return next((entry for entry in reversed(history) if entry.get("phase") == "start-length"
                 and entry.get("kept") is True), None)


def held_out_summary(history: list[dict]) -> str | None:
    """One line on the length the held-out rule chose, read from a fit's ``history``
    (its ``"start-length"`` checks); ``None`` where the start had no held-out run.
    Histories from before the checks named their witness (``"eroded"``) give the step
    of erosion without it."""
    kept = kept_check(history)
    if kept is None:
        return None
    if kept.get("edges") == 0:
        return "start: the graph has no edges to learn from, so it kept an untrained map"
    if kept.get("untaught") is True:
        return ("start: the held-out edges showed that the edges teach the encoder "
                "nothing, so it kept an untrained map (graphclust.starts.start_gate)")
    checks = held_out_checks(history)
    if checks[-1] is kept:
        return f"start: {kept['epoch']} steps, the bound (no erosion on the held-out edges)"
    witness = f"the held-out {checks[-1]['eroded']}" if "eroded" in checks[-1] else "it"
    return (f"start: {kept['epoch']} steps, the held-out loss's lowest check ({witness} "
            f"showed erosion at step {checks[-1]['epoch']})")
