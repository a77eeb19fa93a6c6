"""How far a start's held-out rank share climbs after its lowest check: a reading of
``explore.fits curve`` lines.

    python -m benchmarks.explore.rank_rise CURVES.jsonl [...]

For each line (one start's held-out run, kept from stopping): the lengths the held-out
rule as it is now picks on it, reading the loss alone (``length_by_loss``) and the loss
and the rank share (``length_by_rule``, the estimator's choice; replayed, so curves
recorded under an earlier rule read as the rule now would); the step of the held-out
loss's minimum; the step of the rank share's minimum among the checks after training
began (the check before any step is left out: on a kNN graph an untrained map can
already rank the partners well); the largest later rank share over that minimum, less
one (``rank_rise``, the rise as a share of the minimum: 0 where the minimum is the last
check, ``None`` where the minimum is 0) and less the minimum (``rank_climb``, the rise
in absolute terms); and the minimum as a share of the check before any step
(``rank_taught_share``: how far training cut the untrained map's rank share; the rule
reads the rank share only where it is at most ``START_RANK_TAUGHT``). ``--withdrawn``:
``length_by_rule`` by the rule withdrawn in 51fd802 instead (neither the halving
condition nor the floor). One JSON line per curve; ``--tiny`` reads the curve of a
20-step start on a 300-node SBM.
"""

from __future__ import annotations

import json
from contextlib import nullcontext

from benchmarks._machine import parse, script_parser
from benchmarks.explore.fits import held_out_thresholds, rule_length


def rank_rise(curve: dict) -> dict:
    """The readings above for one ``explore.fits curve`` line (``held_out_rank`` and
    ``held_out_loss``: ``[step, value]`` pairs); ``None`` readings without checks."""
    ranks = [(step, value) for step, value in curve["held_out_rank"] if step > 0]
    losses = curve["held_out_loss"]
    untrained = next((value for step, value in curve["held_out_rank"] if step == 0), None)
    if not ranks:
        return {"rank_min_step": None, "rank_rise": None, "loss_min_step": None,
                "rank_climb": None, "rank_taught_share": None}
    low_step, low = min(ranks, key=lambda point: point[1])
    later = max(value for step, value in ranks if step >= low_step)
    return {"loss_min_step": min(losses, key=lambda point: point[1])[0],
            "rank_min_step": low_step,
            "rank_rise": round(later / low - 1.0, 4) if low > 0 else None,
            "rank_climb": round(later - low, 5),
            "rank_taught_share": None if not untrained else round(low / untrained, 4)}


def main(argv=None) -> None:
    parser = script_parser(__doc__, out=None, root=False)
    parser.add_argument("curves", nargs="*", help="files of explore.fits curve lines")
    parser.add_argument("--withdrawn", action="store_true",
                        help="replay the rule withdrawn in 51fd802 (no halving condition, "
                             "no floor) as length_by_rule")
    args = parse(parser, argv, "benchmarks.explore.rank_rise")
    if args.tiny:
        from benchmarks.explore.fits import probe
        from graphclust.data import make_sbm

        graph = make_sbm(300, 3, 16, 10, random_state=0)
        lines = [{"dataset": "sbm-300", **probe("curve", graph, 0, {"pretrain_epochs": 20})}]
    else:
        lines = [json.loads(line) for path in args.curves for line in open(path) if line.strip()]
    # The withdrawn rule is today's with its two guards off: every rank share counts as
    # made by training, and any climb past 25% is erosion.
    with held_out_thresholds(START_RANK_TAUGHT=float("inf"), START_RANK_FLOOR=0.0) \
            if args.withdrawn else nullcontext():
        for line in lines:
            print(json.dumps({"dataset": line["dataset"], "edges": line.get("edges", "given"),
                              "seed": line["seed"], **replayed_lengths(line),
                              **rank_rise(line)}), flush=True)


def replayed_lengths(curve: dict) -> dict:
    """The lengths the rule as it is picks on ``curve``: on the loss alone and on the
    loss and the rank share (``None`` both where the curve has no checks)."""
    losses = curve["held_out_loss"]
    if not losses:
        return {"length_by_loss": None, "length_by_rule": None}
    interval = losses[1][0] if len(losses) > 1 else 1  # the checks' spacing
    by_loss, _ = rule_length(losses, curve["gate"], interval)
    by_rule, _ = rule_length(losses, curve["gate"], interval, curve["held_out_rank"])
    return {"length_by_loss": by_loss, "length_by_rule": by_rule}


if __name__ == "__main__":
    main()
