"""Replay recorded held-out curves under two gates: the one they were recorded with, and a
fixed share of ``cluster_code_fall`` (the gate before ``start_gate`` measured the fall
still possible).

    python -m benchmarks.explore.gate_replay benchmarks/results/room_gate/curves.jsonl ...

Reads the lines of ``python -m benchmarks.explore.fits curve`` (each holds its held-out
curve, its ``gate`` and its ``cluster_code_fall``) and prints one line per curve: the
length the fit's rule read (``length_by_rule``, from unrounded losses), the start's
length replayed under the recorded gate and under ``START_MIN_FALL * cluster_code_fall``
(0: the edges teach nothing, the untaught fallback), and the two gates as shares of
``cluster_code_fall``. ``--tiny`` replays a curve made up in the script.
"""

from __future__ import annotations

import argparse
import json

from benchmarks.explore.fits import rule_length
from graphclust.starts.held_out_rule import START_MIN_FALL

_TINY = {"dataset": "made-up", "seed": 0, "gate": 0.02, "cluster_code_fall": 0.9,
         "held_out_loss": [[step, 7.0 - 0.01 * step ** 0.5] for step in range(0, 210, 10)]}


def replay(row: dict) -> dict:
    """Both gates' lengths for one recorded curve, beside the length the fit's own rule
    read off its unrounded losses (``length_by_rule``)."""
    if "gate" not in row:
        raise ValueError(f"{row.get('dataset')} seed {row.get('seed')}: the curve line has no "
                         "gate (made before start_gate); rerun the curve probe")
    fixed = START_MIN_FALL * row["cluster_code_fall"]
    return {"dataset": row["dataset"], "params": row.get("params", {}),
            "edges": row.get("edges", "given"), "seed": row["seed"],
            "gate_share": round(row["gate"] / row["cluster_code_fall"], 3),
            "fixed_gate_share": START_MIN_FALL,
            "length_by_rule": row.get("length_by_rule"),
            "length": rule_length(row["held_out_loss"], row["gate"])[0],
            "length_fixed_gate": rule_length(row["held_out_loss"], fixed)[0]}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="explore.fits curve output (JSON lines)")
    parser.add_argument("--tiny", action="store_true", help="replay a made-up curve")
    args = parser.parse_args(argv)
    rows = [_TINY] if args.tiny else [json.loads(line) for path in args.files
                                       for line in open(path) if line.strip()]
    for row in rows:
        print(json.dumps(replay(row)), flush=True)


if __name__ == "__main__":
    main()
