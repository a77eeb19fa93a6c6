"""Progress bars: live on a terminal or in a notebook, throttled in a log file."""

from __future__ import annotations

import sys

import pytest

from graphclust import SCGCStar, load_dataset
from graphclust._progress import LIVE_REFRESH_S, LOG_REFRESH_S, progress_bar, shown_live


@pytest.mark.parametrize(("terminal", "kernel", "live"), [
    (True, False, True), (False, True, True), (False, False, False)])
def test_bars_redraw_slowly_only_where_nobody_watches(terminal, kernel, live, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: terminal)
    if kernel:
        monkeypatch.setitem(sys.modules, "ipykernel", sys.modules["sys"])
    else:
        monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    assert shown_live() is live
    with progress_bar(total=3, desc="x", disable=False, file=sys.stderr) as bar:
        assert bar.mininterval == (LIVE_REFRESH_S if live else LOG_REFRESH_S)


def test_a_fit_written_to_a_log_shows_its_bar_without_a_redraw_per_epoch(monkeypatch, capsys):
    """The fit's bar in a log: its first and its last state (the loss), not one
    carriage-return update per epoch."""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    graph = load_dataset("karate")
    SCGCStar(2, max_epochs=40, tol=0.0, pretrain_epochs=2, random_state=0,
             verbose=True).fit(graph)
    err = capsys.readouterr().err
    assert "SCGCStar" in err and "40/40" in err and "loss=" in err and err.count("\r") < 10
