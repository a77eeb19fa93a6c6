"""Helpers for the tests of the `graphclust` command."""

from __future__ import annotations

from graphclust.cli import main

#: Settings that make a command's fit take a second.
TINY = ["--set", "max_epochs=3", "--set", "pretrain_epochs=2", "--set", "hidden_dims=32,16",
        "--set", "embedding_dim=4"]


def run(argv, capsys):
    """Exit code, stdout and stderr of ``graphclust argv`` (argparse errors exit directly)."""
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err
