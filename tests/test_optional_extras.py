"""The core package never imports graphclust.extras (optional means optional)."""

import subprocess
import sys


def test_core_imports_no_extras():
    code = (
        "import sys, graphclust, graphclust.cli, graphclust.benchmark, graphclust.io, "
        "graphclust.nn, graphclust.estimators, graphclust.sampling, graphclust.plotting\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('graphclust.extras'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
