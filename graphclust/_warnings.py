"""Where a warning about the user's input or fit should point: the user's own line."""

from __future__ import annotations

import os
import sys

import sklearn
import torch

__all__ = ["user_stacklevel"]

# Frames a warning must not name: ours, scikit-learn's wrappers around our methods
# (set_output wraps fit_transform and transform) and torch's no_grad decorator (around
# the inference methods).
_NO_GRAD_WRAPPER = getattr(getattr(torch.utils, "_contextlib", None), "__file__", None)
_INTERNAL_PATHS = (*(
    os.path.dirname(os.path.abspath(path)) + os.sep for path in (__file__, sklearn.__file__)
), *((os.path.abspath(_NO_GRAD_WRAPPER),) if _NO_GRAD_WRAPPER else ()))


def user_stacklevel() -> int:
    """``stacklevel`` for a warning issued by our caller that names the first frame
    outside graphclust and scikit-learn: the user's ``fit(...)`` or ``to_graph(...)``
    line, whichever of fit, fit_predict, fit_transform, a Pipeline or a subclass led
    there (a fixed number names one of ours for some of them)."""
    frame, level = sys._getframe(1), 1  # level 1 is the caller, which calls warn
    while frame is not None and frame.f_code.co_filename.startswith(_INTERNAL_PATHS):
        frame, level = frame.f_back, level + 1
    return level
