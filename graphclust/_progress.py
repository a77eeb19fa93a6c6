"""Progress bars that suit where they are shown.

On a terminal, or in a notebook (tqdm's widget), a bar redraws up to ten times a second.
Written to a log file or a CI console, every redraw is another carriage-return update
kept in the file (about 100 KB for ``make demo``); there the bar redraws every
:data:`LOG_REFRESH_S` seconds, and still shows its first and its last state.
"""

from __future__ import annotations

import sys

__all__ = ["LOG_REFRESH_S", "progress_bar", "shown_live"]

#: Seconds between redraws of a bar whose output is not shown live.
LOG_REFRESH_S = 30.0
#: tqdm's own default.
LIVE_REFRESH_S = 0.1


def shown_live() -> bool:
    """Whether stderr is watched as it is written: a terminal or a Jupyter kernel."""
    return sys.stderr.isatty() or "ipykernel" in sys.modules


def progress_bar(**settings):
    """``tqdm.auto.tqdm(**settings)``, redrawn at most every :data:`LOG_REFRESH_S`
    seconds where it is not :func:`shown_live`."""
    from tqdm.auto import tqdm

    interval = LIVE_REFRESH_S if shown_live() else LOG_REFRESH_S
    return tqdm(mininterval=interval, dynamic_ncols=True, **settings)
