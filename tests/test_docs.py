"""The documentation cannot drift from the code: the site builds in strict mode with an API
reference that covers every public name, the docstring examples pass as doctests, and
the README's command transcripts match a fresh run."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import re
import sys
import warnings
from pathlib import Path

import pytest

import graphclust

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


def _modules_with_examples() -> list[str]:
    return sorted(".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                  for path in (ROOT / "graphclust").rglob("*.py") if ">>>" in path.read_text())


@pytest.mark.parametrize("module_name", _modules_with_examples())
def test_docstring_examples_pass(module_name):
    module = importlib.import_module(module_name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    failed, attempted = doctest.testmod(module, optionflags=flags, verbose=False)
    assert attempted > 0 and failed == 0, f"{failed} of {attempted} doctests failed (see stdout)"


@pytest.mark.slow
def test_site_builds_with_the_reference_results_and_gallery(built_site):
    assert (built_site / "index.html").is_file()  # the README as the front page
    reference = "".join(path.read_text() for path in (built_site / "api").glob("*.html"))
    for name in (name for name in graphclust.__all__ if not name.startswith("_")):
        assert f'id="{name}"' in reference or f'.{name}"' in reference, (
            f"graphclust.{name} is missing from the API reference (docs/api/)")
    assert "n_clusters" in reference and ":class:" not in reference
    # Results pages with their plots: every image a page shows is in the site.
    pages = list((built_site / "benchmarks" / "results").rglob("*.html"))
    images = [(page, src) for page in pages
              for src in re.findall(r'<img [^>]*src="([^"]+)"', page.read_text())]
    assert images, "no benchmark plot is shown in the site"
    for page, src in images:
        assert (page.parent / src).is_file(), f"{page.name} shows a missing image {src}"
    gallery = (built_site / "examples" / "index.html").read_text()
    assert all(f"{Path(s).stem}.html" in gallery for s in _script("gallery").scripts())


def test_readme_links_to_documentation_that_exists():
    readme = (ROOT / "README.md").read_text()
    for page in ("user-guide.md", "api/index.md", "models.md", "results.md", "data.md",
                 "scale.md", "extras.md", "design.md"):
        assert f"docs/{page}" in readme and (DOCS / page).is_file(), page
    assert "make docs" in readme
    assert len(readme.splitlines()) <= 250  # a front page, not a lab notebook


@pytest.mark.slow
def test_readme_quick_start_runs_as_written(tmp_path, monkeypatch):
    """Every name the quick start uses is defined in it: a reader can paste it whole."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Quick start"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)  # it saves model.gc in the working directory
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a random graph's input report, said by design
        exec(compile(code, "README.md quick start", "exec"), {})
    assert (tmp_path / "model.gc").is_file()


@pytest.mark.slow
def test_readme_transcripts_match_a_fresh_run():
    transcripts = _script("transcripts")
    blocks = transcripts.transcripts(transcripts.README.read_text())
    assert blocks, "README.md has no transcript block"
    for command, body in blocks:
        fresh = transcripts.run(command)
        assert transcripts.without_timings(body) == transcripts.without_timings(fresh), (
            f"README transcript of {command!r} is stale: run python docs/transcripts.py")


def test_site_links_follow_the_repository_paths():
    hooks = _script("hooks")
    hooks._REPO_PATH.update({"results.md": "docs/results.md", "index.md": "README.md"})
    hooks._SITE_PATH.update({"docs/results.md": "results.md",
                             "benchmarks/results/quality.md": "benchmarks/results/quality.md"})

    def link(page: str, markdown: str) -> str:
        return hooks._LINK.sub(lambda match: hooks._site_link(page, match), markdown)

    assert link("index.md", "[r](docs/results.md#dblp)") == "[r](results.md#dblp)"
    assert (link("results.md", "[q](../benchmarks/results/quality.md)")
            == "[q](benchmarks/results/quality.md)")
    assert link("results.md", "[the loader](../graphclust/io.py)") == (
        "the loader (`graphclust/io.py`)")  # source code: not in the site
    assert link("results.md", "[gone](../nosuch.md)") == "[gone](../nosuch.md)"  # fails the build
    assert link("results.md", "[web](https://example.org)") == "[web](https://example.org)"


def test_readme_results_table_is_the_quality_summary():
    """README's results table is quality.md's summary, as benchmarks.quality_table wrote it."""
    quality = (ROOT / "benchmarks" / "results" / "quality.md").read_text()
    section = quality.split("## Summary (README's results table)", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|"))
    assert table.count("\n") >= 9, "quality.md's summary table is missing"
    assert table in (ROOT / "README.md").read_text(), (
        "README's results table differs from benchmarks/results/quality.md's summary: "
        "copy it from there")

