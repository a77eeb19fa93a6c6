"""Shared fixtures: the real data folder, a non-interactive matplotlib backend, and
hypothesis settings that hold on a busy machine."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

# Plots in tests must never need a display.
matplotlib.use("Agg")

# No test may depend on the wall clock: on a 2-core machine shared with other jobs a
# generated example can take seconds, so hypothesis neither times examples out nor
# fails its health check for slow data generation.
settings.register_profile("shared-machine", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("shared-machine")

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
