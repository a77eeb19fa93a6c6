"""MkDocs hooks that put the repository's other documents into the site (``mkdocs.yml``).

The Markdown files are written to be read on a code host as well, so they link by
repository path (``../benchmarks/results/quality.md``, ``docs/user-guide.md``). The build:

- adds the front page (``README.md``, as the site's home), every results file and plot
  under ``benchmarks/results/`` (at the same path, with an index page per folder) and the
  examples gallery (``docs/gallery.py`` runs each example; its output is on its page);
- rewrites each relative link from its repository path to the site path of the page that
  carries that file; a link to a repository file the site does not carry (source code, a
  script) becomes its path as code, and a link to a file that does not exist is left for
  the strict build to fail on;
- shows the Sphinx roles of the docstrings (``:class:`SCGC```) as plain code.
"""

from __future__ import annotations

import posixpath
import re
import sys
import tempfile
from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
RESULTS = "benchmarks/results"
sys.path.insert(0, str(ROOT / "docs"))
import gallery  # noqa: E402  (a sibling module, not a package)

# Site path -> repository path of the file that page comes from, filled by on_files.
_REPO_PATH: dict[str, str] = {}
_SITE_PATH: dict[str, str] = {}
_LINK = re.compile(r"(!?\[[^\]]*\]\()([^)\s]+)(\))")
_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|obj|exc|math):(<code>)~?")
_workdir: tempfile.TemporaryDirectory | None = None


def _carry(files: Files, config, site_path: str, repo_path: str, content: str | None = None):
    """Put one repository file (or generated ``content`` standing for it) into the site."""
    if content is None:
        files.append(File.generated(config, site_path, abs_src_path=str(ROOT / repo_path)))
    else:
        files.append(File.generated(config, site_path, content=content))
    _REPO_PATH[site_path] = repo_path
    _SITE_PATH[repo_path] = site_path


def _folder_index(folder: Path) -> str:
    """An index page for a results folder: its pages, then its sub-folders."""
    relative = folder.relative_to(ROOT).as_posix()
    lines = [f"# `{relative}/`", "",
             "Written by the scripts in `benchmarks/`; each file records its command, the "
             "machine, the load and the date.", ""]
    lines += [f"- [{page.stem}]({page.name})" for page in sorted(folder.glob("*.md"))]
    lines += [f"- [{child.name}/]({child.name}/)"
              for child in sorted(folder.iterdir()) if child.is_dir() and any(child.rglob("*.md"))]
    return "\n".join(lines) + "\n"


def _add_results(files: Files, config) -> None:
    for path in sorted((ROOT / RESULTS).rglob("*")):
        repo_path = path.relative_to(ROOT).as_posix()
        if path.suffix in (".md", ".png"):
            _carry(files, config, repo_path, repo_path)
        elif (path / "README.md").is_file():  # the folder's own page stands for it
            _SITE_PATH[f"{repo_path}/"] = f"{repo_path}/README.md"
        elif path.is_dir() and any(path.rglob("*.md")):
            _carry(files, config, f"{repo_path}/index.md", f"{repo_path}/", _folder_index(path))
    _carry(files, config, f"{RESULTS}/index.md", f"{RESULTS}/", _folder_index(ROOT / RESULTS))


def _add_gallery(files: Files, config) -> None:
    global _workdir
    _workdir = tempfile.TemporaryDirectory(prefix="graphclust-gallery-")
    titles = {}
    for script in gallery.scripts():
        example = None
        if script not in gallery.NOT_RUN:
            example = gallery.run(script, Path(_workdir.name) / Path(script).stem)
            for plot in example.plots:
                files.append(File.generated(config, "examples/" + gallery.plot_uri(script, plot),
                                            abs_src_path=str(plot)))
        titles[script] = gallery.title_and_text(script)[0]
        _carry(files, config, f"examples/{Path(script).stem}.md", f"examples/{script}",
               gallery.page(script, example))
    _carry(files, config, "examples/index.md", "examples/", gallery.index(titles))


def _heading(path: Path) -> str:
    """The first Markdown heading of a file, for its navigation entry."""
    match = re.search(r"^#\s+(.+)$", path.read_text(), re.MULTILINE)
    return match.group(1).replace("`", "").strip() if match else path.stem


def on_config(config):
    """Complete the navigation: the results section lists every top-level results file, and
    the examples section every example, so a new one needs no edit of ``mkdocs.yml``."""
    nav = config["nav"]
    results = next(i for i, entry in enumerate(nav) if "Results" in entry)
    nav[results] = {"Results": [
        nav[results]["Results"],
        {"All results files": f"{RESULTS}/index.md"},
        *({_heading(path): f"{RESULTS}/{path.name}"}
          for path in sorted((ROOT / RESULTS).glob("*.md")))]}
    nav.append({"Examples": [
        "examples/index.md",
        *({gallery.title_and_text(script)[0]: f"examples/{Path(script).stem}.md"}
          for script in gallery.scripts())]})
    return config


def on_files(files: Files, config) -> Files:
    for file in files.documentation_pages():
        _REPO_PATH[file.src_uri] = f"docs/{file.src_uri}"
        _SITE_PATH[f"docs/{file.src_uri}"] = file.src_uri
    _carry(files, config, "index.md", "README.md")
    _add_results(files, config)
    _add_gallery(files, config)
    return files


def _site_link(page_site_path: str, link: re.Match) -> str:
    """A link of the page's repository file (``[text](target)``) as a link between site
    pages; a link to a repository file the site does not carry (source code, a script)
    becomes its text and path as code, since the site has nothing to link to."""
    text, target = link.group(1), link.group(2)
    repo_page = _REPO_PATH.get(page_site_path)
    if repo_page is None or re.match(r"[a-z][a-z0-9+.-]*:|#|/", target):
        return link.group(0)  # an address, an anchor on the same page, a site-absolute path
    path, hash_, fragment = target.partition("#")
    repo_target = posixpath.normpath(posixpath.join(posixpath.dirname(repo_page), path))
    if path.endswith("/") or (ROOT / repo_target).is_dir():
        repo_target += "/"
    site_target = _SITE_PATH.get(repo_target)
    if site_target is None:
        if text.startswith("!") or not (ROOT / repo_target).exists():
            return link.group(0)  # a missing file: MkDocs reports the broken link
        name = repo_target.rstrip("/")
        shown = text[1:-2]  # [text](
        return shown if posixpath.basename(name) in shown else f"{shown} (`{name}`)"
    relative = posixpath.relpath(site_target, posixpath.dirname(page_site_path) or ".")
    return text + relative + hash_ + fragment + link.group(3)


def on_page_markdown(markdown: str, page, config, files) -> str:
    return _LINK.sub(lambda link: _site_link(page.file.src_uri, link), markdown)


def on_page_content(html: str, page, config, files) -> str:
    return _ROLE.sub(r"\1", html)


def on_post_build(config) -> None:
    global _workdir
    if _workdir is not None:
        _workdir.cleanup()
        _workdir = None
