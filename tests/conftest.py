"""Shared fixtures: the real data folder, and a non-interactive matplotlib backend."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

# Plots in tests must never need a display.
matplotlib.use("Agg")

_SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real benchmark data folder (``$GRAPHCLUST_DATA`` or ``../shared/data``).

    Tests that use it are skipped, with the reason, when the folder is absent.
    """
    root = Path(os.environ.get("GRAPHCLUST_DATA") or _SHARED_DATA)
    if not root.is_dir():
        pytest.skip(f"real data folder {root} is absent (set GRAPHCLUST_DATA to use one)")
    return root
