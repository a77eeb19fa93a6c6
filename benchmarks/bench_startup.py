"""Start-up time: ``import graphclust``, ``graphclust --help`` and an estimator's import,
before and after issue 15, against torch's own import (issue 15).

Each figure is the wall time of a fresh ``python`` process (interpreter start included),
the commands taken in turn round after round so that a change in the machine's load hits
all of them alike; the table gives the median of ``--rounds``. The "before" commands run
the package as it was at ``--before`` (a git revision, exported to a temporary folder and
put first on ``PYTHONPATH``), with this environment's torch and dependencies.

Usage::

    python benchmarks/bench_startup.py --rounds 7 --out benchmarks/results/startup.md
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import LOAD_NOTE, load_average, machine_info, write_results  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
HELP = "from graphclust.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
COMMANDS = {
    "python (interpreter alone)": "pass",
    "import torch": "import torch",
    "import graphclust": "import graphclust",
    "graphclust --help": HELP,
    "from graphclust import SCGCStar": "from graphclust import SCGCStar",
}


def _export(revision: str, folder: Path) -> None:
    archive = subprocess.run(["git", "archive", revision, "graphclust"], cwd=REPO,
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--before", default="b93d742", help="git revision before the change")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/startup.md"))
    args = parser.parse_args()

    load_start = load_average()
    with tempfile.TemporaryDirectory() as old, tempfile.TemporaryDirectory() as empty:
        _export(args.before, Path(old))
        check = "import graphclust, sys; sys.exit(graphclust.__file__.startswith(sys.argv[1]) - 1)"
        subprocess.run([sys.executable, "-c", check, old], env={**os.environ, "PYTHONPATH": old},
                       cwd=empty, check=True)  # the "before" rows do import the old package
        variants = [(f"{name} (before, {args.before})", code, old)
                    for name, code in COMMANDS.items() if "graphclust" in name]
        variants += [(name, code, None) for name, code in COMMANDS.items()]
        times: dict[str, list[float]] = {name: [] for name, _, _ in variants}
        for _ in range(args.rounds):
            for name, code, path in variants:
                times[name].append(_seconds(code, path, empty))
    medians = {name: statistics.median(values) for name, values in times.items()}
    torch_s = medians["import torch"]

    command = "python benchmarks/bench_startup.py " + " ".join(sys.argv[1:])
    machine = machine_info("cpu")
    lines = [
        "# Start-up time (issue 15)",
        "",
        f"Command: `{command}`",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()
                                if k not in ("torch threads", "device")),
        "",
        f"Load average (1 / 5 / 15 min): {load_start} at the start, {load_average()} at the "
        f"end. {LOAD_NOTE}",
        "",
        f"Wall seconds of a fresh `python -c CODE` process, median of {args.rounds} rounds "
        "(all commands in turn each round).",
        "",
        "| command | median (s) | min - max (s) | minus `import torch` (s) |",
        "|---|---|---|---|",
    ]
    for name, values in times.items():
        lines.append(f"| {name} | {medians[name]:.2f} | {min(values):.2f} - "
                     f"{max(values):.2f} | {medians[name] - torch_s:+.2f} |")
    write_results(args.out, lines + [""])
    for line in lines[-len(times):]:
        print(line)


if __name__ == "__main__":
    main()
