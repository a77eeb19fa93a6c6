"""Start-up time: ``import graphclust``, ``graphclust --help`` and an estimator's import,
before and after issue 15, against torch's own import (issue 15).

Each figure is the wall time of a fresh ``python`` process (interpreter start included),
the commands taken in turn round after round so that a change in the machine's load hits
all of them alike; the table gives the median of ``--rounds``. The "before" commands run
the package as it was at ``--before`` (a git revision, exported to a temporary folder and
put first on ``PYTHONPATH``), with this environment's torch and dependencies.

Usage::

    python -m benchmarks.bench_startup --rounds 7 --out benchmarks/results/startup.md

``--tiny`` times only the commands that do not import torch, one round, against this
checkout's ``HEAD``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._machine import (
    export_package,
    load_average,
    parse,
    results_header,
    script_parser,
    write_results,
)

HELP = "from graphclust.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
COMMANDS = {
    "python (interpreter alone)": "pass",
    "import torch": "import torch",
    "import graphclust": "import graphclust",
    "graphclust --help": HELP,
    "from graphclust import SCGCStar": "from graphclust import SCGCStar",
}
#: The commands of a --tiny run: those that start in a fraction of a second.
TINY_COMMANDS = ("python (interpreter alone)", "import graphclust", "graphclust --help")


def _seconds(code: str, pythonpath: str | None, cwd: str) -> float:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    start = time.perf_counter()
    # From an empty folder: `python -c` puts the working directory first on sys.path, so
    # run from the checkout it would import this checkout's package, not the old one.
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=cwd,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/startup.md", root=False)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--before", default="b93d742", help="git revision before the change")
    args = parse(parser, argv, "benchmarks.bench_startup")
    commands = COMMANDS
    if args.tiny:
        args.rounds, args.before = 1, "HEAD"
        commands = {name: COMMANDS[name] for name in TINY_COMMANDS}

    load_start = load_average()
    with tempfile.TemporaryDirectory() as old, tempfile.TemporaryDirectory() as empty:
        export_package(args.before, Path(old))
        check = "import graphclust, sys; sys.exit(graphclust.__file__.startswith(sys.argv[1]) - 1)"
        subprocess.run([sys.executable, "-c", check, old], env={**os.environ, "PYTHONPATH": old},
                       cwd=empty, check=True)  # the "before" rows do import the old package
        variants = [(f"{name} (before, {args.before})", code, old)
                    for name, code in commands.items() if "graphclust" in name]
        variants += [(name, code, None) for name, code in commands.items()]
        times: dict[str, list[float]] = {name: [] for name, _, _ in variants}
        for _ in range(args.rounds):
            for name, code, path in variants:
                times[name].append(_seconds(code, path, empty))
    medians = {name: statistics.median(values) for name, values in times.items()}
    # The reference: torch's import, or the bare interpreter where torch was not timed.
    reference = "import torch" if "import torch" in medians else "python (interpreter alone)"

    lines = [
        *results_header("Start-up time (issue 15)", args.command),
        f"Load average (1 / 5 / 15 min) at the start: {load_start}.",
        "",
        f"Wall seconds of a fresh `python -c CODE` process, median of {args.rounds} rounds "
        "(all commands in turn each round).",
        "",
        f"| command | median (s) | min - max (s) | minus `{reference}` (s) |",
        "|---|---|---|---|",
    ]
    for name, values in times.items():
        lines.append(f"| {name} | {medians[name]:.2f} | {min(values):.2f} - "
                     f"{max(values):.2f} | {medians[name] - medians[reference]:+.2f} |")
    write_results(args.out, lines)
    for line in lines[-len(times):]:
        print(line)


if __name__ == "__main__":
    main()
