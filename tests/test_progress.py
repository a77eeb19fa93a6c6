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


def test_a_stream_without_a_terminal_check_is_a_log(monkeypatch):
    """pythonw's stderr is None, and a wrapper may have only ``write``: a log, and a
    disabled bar needs no stream at all."""
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)

    class Writer:
        def write(self, text):
            return len(text)

        def flush(self):
            pass

    assert shown_live(Writer()) is False
    monkeypatch.setattr(sys, "stderr", None)
    assert shown_live() is False
    assert list(progress_bar(iterable=range(3), disable=True)) == [0, 1, 2]
    with progress_bar(total=2, file=Writer(), mininterval=5.0) as bar:
        assert bar.mininterval == 5.0 and bar.leave


def test_a_fit_written_to_a_log_keeps_each_bars_last_state(monkeypatch, capsys):
    """Each bar of a fit in a log redraws every LOG_REFRESH_S and stays when it closes:
    the last state (the epochs run, the loss) is in the log."""
    import graphclust.estimators.base as base

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    bars = []

    def recorded(**settings):
        bars.append(progress_bar(**settings))
        return bars[-1]

    monkeypatch.setattr(base, "progress_bar", recorded)
    graph = load_dataset("karate")
    SCGCStar(2, max_epochs=40, tol=0.0, pretrain_epochs=2, random_state=0,
             verbose=True).fit(graph)
    err = capsys.readouterr().err
    assert bars and all(bar.mininterval == LOG_REFRESH_S and bar.leave for bar in bars)
    assert "SCGCStar" in err and "40/40" in err and "loss=" in err
