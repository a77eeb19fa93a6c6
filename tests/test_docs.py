"""The documentation cannot drift from the code: the API reference and the README's
command transcripts are regenerated here and compared with what is committed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_api_reference_is_current():
    make_api = _script("make_api")
    assert make_api.OUT.read_text() == make_api.render(), (
        "docs/api.md is stale: run python docs/make_api.py")


def test_readme_links_to_documentation_that_exists():
    readme = (DOCS.parent / "README.md").read_text()
    for page in ("user-guide.md", "api.md", "models.md", "results.md", "data.md",
                 "scale.md", "extras.md", "design.md"):
        assert f"docs/{page}" in readme and (DOCS / page).is_file(), page
    assert len(readme.splitlines()) <= 250  # a front page, not a lab notebook


@pytest.mark.slow
def test_readme_transcripts_match_a_fresh_run():
    transcripts = _script("transcripts")
    blocks = transcripts.transcripts(transcripts.README.read_text())
    assert blocks, "README.md has no transcript block"
    for command, body in blocks:
        fresh = transcripts.run(command)
        assert transcripts.without_timings(body) == transcripts.without_timings(fresh), (
            f"README transcript of {command!r} is stale: run python docs/transcripts.py")
