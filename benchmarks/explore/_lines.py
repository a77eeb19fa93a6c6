"""What the explore scripts with a ``record`` and a ``read`` step share: their first two
arguments, the one data set ``record`` takes, and the JSON lines ``read`` reads back."""

from __future__ import annotations

import argparse
import json

from benchmarks._machine import TINY_DATASET, script_parser


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
