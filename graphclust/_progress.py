"""Progress bars that suit where they are shown.

On a terminal, or in a notebook (tqdm's widget), a bar redraws up to ten times a second
and may vanish when it closes. Written to a log file or a CI console, every redraw is
another carriage-return update kept in the file (about 100 KB for ``make demo``); there
the bar redraws every :data:`LOG_REFRESH_S` seconds and its last state stays in the log
(the epochs run, the last loss), whatever ``leave`` says.
"""

from __future__ import annotations

import sys

__all__ = ["LOG_REFRESH_S", "progress_bar", "shown_live"]

#: Seconds between redraws of a bar whose output is not shown live.
LOG_REFRESH_S = 30.0
#: tqdm's own default.
LIVE_REFRESH_S = 0.1


def shown_live(stream=None) -> bool:
    """Whether ``stream`` (default: stderr) is watched as it is written: a terminal, or
    any stream of a Jupyter kernel (tqdm's widget there). No stream, or one without
    ``isatty`` (pythonw, a wrapper), is not."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return "ipykernel" in sys.modules or (callable(isatty) and bool(isatty()))


def progress_bar(**settings):
    """``tqdm.auto.tqdm(**settings)``; where its stream (``file``, else stderr) is not
    :func:`shown_live`, redrawn at most every :data:`LOG_REFRESH_S` seconds and left in
    the output when it closes. ``settings`` may name ``mininterval`` and the rest
    themselves."""
    from tqdm.auto import tqdm

    if settings.get("disable"):
        return tqdm(**settings)
    if shown_live(settings.get("file")):
        return tqdm(**{"mininterval": LIVE_REFRESH_S, "dynamic_ncols": True, **settings})
    return tqdm(**{"mininterval": LOG_REFRESH_S, "dynamic_ncols": True, **settings,
                   "leave": True})
