"""Processing folders outside the data root, for readers whose libraries write next to raw.

OGB's ``PygNodePropPredDataset`` saves a ``processed/`` folder beside the raw files.
graphclust treats the data root as read-only input (it may be a shared or mounted folder),
so those libraries are pointed at a mirror in the cache instead: the mirror links to the
original raw entries and receives the processed files.

Several processes may load the same data set at once (parallel benchmark runs). The libraries
write ``processed/`` in place, and one that finds a half-written file reads it as corrupt, so
processing happens in a private mirror whose finished ``processed/`` folder is then renamed
into the shared one: readers see no folder or a complete one.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

__all__ = ["load_processed", "mirror"]


def _fingerprint(source: Path, entries: list[str]) -> str:
    """Hash of the source path and the size and mtime of every file below ``entries``.

    A changed or replaced raw file gives a new mirror, so stale processed files are
    never reused.
    """
    digest = hashlib.sha1(str(source.resolve()).encode())
    for entry in sorted(entries):
        top = source / entry
        files = sorted(top.rglob("*")) if top.is_dir() else [top]
        for file in files:
            if file.is_file():
                stat = file.stat()
                digest.update(f"{file.relative_to(source)}|{stat.st_size}|"
                              f"{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def mirror(
    source: Path,
    entries: list[str],
    cache_root: Path,
    layout: str,
    process: Callable[[Path], object] | None = None,
) -> Path:
    """Mirror ``source/<entry>`` for each entry into the cache and return the mirror folder.

    Parameters
    ----------
    source : Path
        Folder holding the raw entries, e.g. ``<root>/ogb/ogbn_arxiv``.
    entries : list of str
        Names inside ``source`` to link (files or folders), e.g. ``["raw"]``.
    cache_root : Path
        graphclust's cache folder.
    layout : str
        Sub-folder of the cache for this reader.
    process : callable, optional
        Called with a private mirror folder (same name, same entries) when the shared
        mirror has no complete ``processed/`` folder (one holding :data:`COMPLETE`); it
        must write ``processed/`` inside the folder it is given. That folder is marked
        complete and renamed into the shared mirror (if another process published one
        first, theirs is kept and ours removed; an incomplete one is replaced). Private
        folders left by processes that died are removed after some hours.

    Returns
    -------
    Path
        ``<cache_root>/<layout>/<fingerprint>/<source.name>``, holding a symbolic link
        (or, where links are not allowed, a copy) of every entry, and ``processed/`` when
        ``process`` was given.
    """
    base = cache_root / layout / _fingerprint(source, entries)
    target = base / source.name
    _link_entries(source, entries, target)
    if process is not None and not (target / "processed" / COMPLETE).is_file():
        _remove_abandoned(base)
        private_base = Path(tempfile.mkdtemp(prefix=".processing-", dir=base))
        try:
            private = private_base / source.name
            _link_entries(source, entries, private)
            process(private)
            (private / "processed" / COMPLETE).touch()  # fails if nothing was written
            _publish(private / "processed", target / "processed")
        finally:
            shutil.rmtree(private_base, ignore_errors=True)
    return target


#: What reading a damaged processed file raises (torch.load, zip and pickle errors).
_DAMAGE = (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError)


def load_processed(source: Path, entries: list[str], cache_root: Path, layout: str,
                   process: Callable[[Path], object], read: Callable[[Path], T]) -> T:
    """:func:`mirror` with ``process``, then ``read(mirror folder)``; a processed folder
    that ``read`` finds damaged (a truncated file: full disk, a killed copy) is moved
    aside and rebuilt once, instead of failing every later load until removed by hand.

    Raises
    ------
    ValueError
        The rebuilt folder cannot be read either; the message names it.
    """
    target = mirror(source, entries, cache_root, layout, process)
    try:
        return read(target)
    except _DAMAGE:
        _discard(target / "processed")
    target = mirror(source, entries, cache_root, layout, process)
    try:
        return read(target)
    except _DAMAGE as error:
        raise ValueError(f"{target / 'processed'} cannot be read even after rebuilding it "
                         f"from {source} ({type(error).__name__}: {error}); check the raw "
                         "files") from error


def _discard(processed: Path) -> bool:
    """Move a processed folder aside, then delete it (readers see it whole or not at all);
    false when another process moved it first."""
    aside = processed.with_name(f".stale-{os.getpid()}-{processed.name}")
    try:
        os.rename(processed, aside)
    except OSError:
        return False
    shutil.rmtree(aside, ignore_errors=True)
    return True


#: Written into ``processed/`` once processing finished; a folder without it (an
#: interrupted run, or a cache from before this marker) is processed again.
COMPLETE = ".graphclust-complete"
#: Private folders older than this belong to a process that died (killed, out of memory).
_ABANDONED_AFTER_S = 6 * 3600


def _publish(new: Path, shared: Path) -> None:
    """Rename the finished ``new`` folder to ``shared``; keep a complete one another process
    published first, and move an incomplete one aside."""
    for _ in range(3):
        try:
            os.rename(new, shared)
            return
        except OSError:
            if (shared / COMPLETE).is_file():
                return  # another process published first
            if not shared.exists():
                raise  # not a lost race: report it
        _discard(shared)  # incomplete; if another process moved it first, try again
    raise OSError(f"could not publish {new} as {shared}")


def _remove_abandoned(base: Path) -> None:
    """Delete private folders of processes that died long ago (they can be large)."""
    now = time.time()
    for folder in [*base.glob(".processing-*"), *base.glob(".stale-*")]:
        try:
            if now - folder.stat().st_mtime > _ABANDONED_AFTER_S:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue  # removed by another process meanwhile


def _link_entries(source: Path, entries: list[str], target: Path) -> None:
    """Link (or copy) every ``source/<entry>`` into ``target``, tolerating concurrent
    processes doing the same."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        link, original = target / entry, (source / entry).resolve()
        if link.exists() or link.is_symlink():
            continue
        try:
            os.symlink(original, link, target_is_directory=original.is_dir())
        except FileExistsError:
            continue  # another process mirrored it between our check and our link
        except OSError:
            _copy_atomically(original, link)


def _copy_atomically(original: Path, link: Path) -> None:
    """Copy to a private name, then rename into place: a process mirroring the same entry
    at the same time never sees a half-made copy, and the loser of the rename keeps the
    winner's."""
    private = link.with_name(f"{link.name}.{os.getpid()}.partial")
    if original.is_dir():
        shutil.copytree(original, private)
    else:
        shutil.copy2(original, private)
    try:
        os.rename(private, link)  # a directory onto an existing one fails: already mirrored
    except OSError:
        if not link.exists():
            raise
        if private.is_dir():
            shutil.rmtree(private)
        else:
            private.unlink()
