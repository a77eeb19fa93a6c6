"""Rerun the command transcripts of README.md and write their output in place.

A transcript is a block between ``<!-- transcript: COMMAND -->`` and
``<!-- end transcript -->``; this script runs COMMAND (``graphclust`` is this checkout's
command) in an empty folder and writes ``$ COMMAND`` and its output into the block.
``tests/test_docs.py`` reruns every transcript and compares it with the README (timings
aside), so a transcript cannot go stale: after a change that moves the output, run
``python docs/transcripts.py``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"(<!-- transcript: (?P<command>.+?) -->\n)(?P<body>.*?)"
                   r"(<!-- end transcript -->)", re.DOTALL)
# Wall-clock figures differ from run to run and machine to machine; everything else in a
# transcript must match.
_SECONDS = re.compile(r"\d+(\.\d+)? s\b")


def run(command: str) -> str:
    """``$ command`` and what it printed on stdout, as a console block."""
    argv = shlex.split(command)
    if argv[0] != "graphclust":
        raise ValueError(f"a transcript runs the graphclust command, got {command!r}")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run([sys.executable, "-m", "graphclust.cli", *argv[1:]],
                                cwd=folder, env=env, capture_output=True, text=True,
                                check=True)
    return f"```console\n$ {command}\n{result.stdout.rstrip()}\n```\n"


def transcripts(text: str) -> list[tuple[str, str]]:
    """(command, body) of every transcript block in ``text``."""
    return [(match["command"], match["body"]) for match in BLOCK.finditer(text)]


def without_timings(text: str) -> str:
    return _SECONDS.sub("<seconds> s", text)


def main() -> int:
    text = README.read_text()
    text = BLOCK.sub(lambda m: m.group(1) + run(m["command"]) + m.group(4), text)
    README.write_text(text)
    print(f"rewrote {len(transcripts(text))} transcript(s) in {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
