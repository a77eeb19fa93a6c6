"""What a benchmark run scores: the four metrics under the final or the paper protocol.

Kept free of heavy imports: the ``graphclust`` command lists the protocols in ``--help``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["METRICS", "PROTOCOLS", "paper_scores"]

METRICS = ("acc", "nmi", "ari", "f1")
PROTOCOLS = ("final", "paper", "both")


def paper_scores(history: Sequence[Mapping],
                 final: Mapping[str, float] | None = None) -> dict[str, float]:
    """Per-metric best over training epochs (the optimistic paper protocol).

    An epoch's entry in ``history`` scores the labels it trained from, the model at its
    start; ``final`` (the scores of the fitted model, after the last epoch's steps) is the
    last state training reached and counts among them, so that the optimistic protocol
    never reads below the final model. NaN for every metric where no epoch was trained."""
    epochs = [entry for entry in history if entry.get("phase") == "train" and "acc" in entry]
    if not epochs:
        return {f"paper_{m}": math.nan for m in METRICS}
    states = [*epochs, *([final] if final is not None else [])]
    return {f"paper_{m}": max((state[m] for state in states if not math.isnan(state[m])),
                              default=math.nan)
            for m in METRICS}
