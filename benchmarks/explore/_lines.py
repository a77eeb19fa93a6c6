"""What the explore scripts with a ``record`` and a ``read`` step share: their first two
arguments, the one data set ``record`` takes, the JSON lines ``read`` reads back, and
what a line keeps of a fit's start (its held-out checks)."""

from __future__ import annotations

import argparse
import json

from benchmarks._machine import TINY_DATASET, script_parser
from graphclust.starts.held_out_rule import held_out_checks, kept_check


def record_read_parser(doc: str) -> argparse.ArgumentParser:
    """``ACTION INPUTS...`` (``record DATASET`` or ``read FILES...``), ``--seeds`` (3)
    and the options every script shares."""
    parser = script_parser(doc, out=None, seeds=3)
    parser.add_argument("action", choices=("record", "read"))
    parser.add_argument("inputs", nargs="+",
                        help="record: one data set (name, name:N for a sample); read: "
                             "the files record wrote")
    return parser


def recorded_dataset(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    """The data set ``record`` runs on (karate with ``--tiny``)."""
    if len(args.inputs) != 1:
        parser.error("record takes one data set")
    return TINY_DATASET if args.tiny else args.inputs[0]


def json_lines(paths: list[str]) -> list[dict]:
    """The JSON lines of ``paths``, in order, blank lines left out."""
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as lines:
            rows.extend(json.loads(line) for line in lines if line.strip())
    return rows


def kept_held_out(history: list[dict]) -> list[float] | None:
    """The held-out loss and rank share at the check the start kept
    (:func:`~graphclust.starts.held_out_rule.kept_check`: the step of the length the rule
    chose, or step 0 where it found the start untaught), or ``None`` where the start held
    no edges out (or the graph had none)."""
    kept = kept_check(history)
    if kept is None or "held_out_loss" not in kept:
        return None
    return [round(kept["held_out_loss"], 4), round(kept["held_out_rank"], 4)]


def checks_line(history: list[dict]) -> dict | None:
    """The start's held-out checks: the gate its loss must fall by (read at the first
    check) and ``[step, held-out loss]`` at each check, or ``None`` where the start held
    no edges out (or the graph had none)."""
    checks = held_out_checks(history)
    if not checks:
        return None
    return {"gate": round(checks[0]["gate"], 4),
            "losses": [[entry["epoch"], round(entry["held_out_loss"], 4)] for entry in checks]}
