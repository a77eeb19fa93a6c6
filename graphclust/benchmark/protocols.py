"""What a benchmark run scores: the four metrics under the final or the paper protocol.

Kept free of heavy imports: the ``graphclust`` command lists the protocols in ``--help``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["METRICS", "PROTOCOLS", "paper_scores"]

METRICS = ("acc", "nmi", "ari", "f1")
PROTOCOLS = ("final", "paper", "both")


def paper_scores(history: Sequence[Mapping]) -> dict[str, float]:
    """Per-metric best over training epochs (the optimistic paper protocol)."""
    epochs = [entry for entry in history if entry.get("phase") == "train" and "acc" in entry]
    if not epochs:
        return {f"paper_{m}": math.nan for m in METRICS}
    return {f"paper_{m}": max(entry[m] for entry in epochs) for m in METRICS}
