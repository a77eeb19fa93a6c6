"""The processed-file cache of load_dataset: private processing, atomic publication and
concurrent loaders."""

from __future__ import annotations

import pytest
from dataset_helpers import load_quietly

pytestmark = pytest.mark.usefixtures("cache_in_tmp")


def test_mirror_tolerates_a_concurrent_process_linking_first(tmp_path, monkeypatch):
    # Two loaders started together (e.g. parallel benchmark runs) both find no link, and the
    # second one's symlink call fails because the first one just made it.
    from graphclust.data.formats import _cache

    source = tmp_path / "data" / "Cora"
    (source / "raw").mkdir(parents=True)
    (source / "raw" / "x.txt").write_text("1")
    real_symlink = _cache.os.symlink

    def other_process_wins(original, link, target_is_directory=False):
        real_symlink(original, link, target_is_directory=target_is_directory)
        raise FileExistsError(17, "File exists", str(link))

    monkeypatch.setattr(_cache.os, "symlink", other_process_wins)
    target = _cache.mirror(source, ["raw"], tmp_path / "cache", "planetoid")
    assert (target / "raw" / "x.txt").read_text() == "1"


def test_mirror_copies_where_links_are_refused_and_a_concurrent_copy_wins(tmp_path,
                                                                         monkeypatch):
    from graphclust.data.formats import _cache

    source = tmp_path / "data" / "Cora"
    (source / "raw").mkdir(parents=True)
    (source / "raw" / "x.txt").write_text("1")

    def no_links(*args, **kwargs):
        raise PermissionError(1, "links not allowed")

    real_rename = _cache.os.rename

    def other_process_copies_first(private, link):
        _cache.shutil.copytree(source / "raw", link)
        (link / "winner").write_text("")
        real_rename(private, link)

    monkeypatch.setattr(_cache.os, "symlink", no_links)
    monkeypatch.setattr(_cache.os, "rename", other_process_copies_first)
    target = _cache.mirror(source, ["raw"], tmp_path / "cache", "planetoid")
    assert not (target / "raw").is_symlink() and (target / "raw" / "winner").exists()
    assert [p.name for p in target.iterdir()] == ["raw"]  # no partial copy left behind


def _raw_source(tmp_path):
    source = tmp_path / "data" / "Cora"
    (source / "raw").mkdir(parents=True)
    (source / "raw" / "x.txt").write_text("1")
    return source


def test_mirror_processes_privately_and_publishes_a_complete_folder(tmp_path):
    from graphclust.data.formats import _cache

    source = _raw_source(tmp_path)
    shared = []

    def process(private):
        shared.append(next((tmp_path / "cache").rglob("processed"), None))
        assert (private / "raw" / "x.txt").read_text() == "1"
        (private / "processed").mkdir()
        (private / "processed" / "data.pt").write_text("done")

    target = _cache.mirror(source, ["raw"], tmp_path / "cache", "planetoid", process)
    assert shared == [None]  # nothing half-made was visible while processing
    assert (target / "processed" / "data.pt").read_text() == "done"
    assert sorted(p.name for p in target.parent.iterdir()) == ["Cora"]  # private removed
    again = _cache.mirror(source, ["raw"], tmp_path / "cache", "planetoid",
                          lambda private: pytest.fail("processed twice"))
    assert again == target


def test_mirror_keeps_the_folder_a_concurrent_process_published_first(tmp_path):
    from graphclust.data.formats import _cache

    source = _raw_source(tmp_path)

    def process(private):
        (private / "processed").mkdir()
        (private / "processed" / "data.pt").write_text("ours")
        published = private.parent.parent / "Cora" / "processed"  # the other process wins
        published.mkdir()
        (published / "data.pt").write_text("theirs")
        (published / _cache.COMPLETE).touch()

    target = _cache.mirror(source, ["raw"], tmp_path / "cache", "planetoid", process)
    assert (target / "processed" / "data.pt").read_text() == "theirs"
    assert sorted(p.name for p in target.parent.iterdir()) == ["Cora"]


def test_mirror_replaces_an_incomplete_processed_folder(tmp_path):
    # Left by a process killed while writing, or by a cache from before the marker.
    from graphclust.data.formats import _cache

    source = _raw_source(tmp_path)
    target = _cache.mirror(source, ["raw"], tmp_path / "cache", "planetoid")
    (target / "processed").mkdir()
    (target / "processed" / "data.pt").write_text("half")

    def process(private):
        (private / "processed").mkdir()
        (private / "processed" / "data.pt").write_text("whole")

    again = _cache.mirror(source, ["raw"], tmp_path / "cache", "planetoid", process)
    assert (again / "processed" / "data.pt").read_text() == "whole"
    assert (again / "processed" / _cache.COMPLETE).is_file()
    assert sorted(p.name for p in again.parent.iterdir()) == ["Cora"]


def test_mirror_removes_private_folders_of_processes_that_died(tmp_path):
    import os
    import time

    from graphclust.data.formats import _cache

    source = _raw_source(tmp_path)
    target = _cache.mirror(source, ["raw"], tmp_path / "cache", "planetoid")
    old, recent = target.parent / ".processing-dead", target.parent / ".processing-busy"
    for folder in (old, recent):
        (folder / "Cora" / "processed").mkdir(parents=True)
    long_ago = time.time() - _cache._ABANDONED_AFTER_S - 60
    os.utime(old, (long_ago, long_ago))

    def process(private):
        (private / "processed").mkdir()

    _cache.mirror(source, ["raw"], tmp_path / "cache", "planetoid", process)
    assert not old.exists() and recent.exists()  # a recent one may be another live process


def test_mirror_reports_a_processing_step_that_wrote_nothing(tmp_path):
    from graphclust.data.formats import _cache

    with pytest.raises(FileNotFoundError):
        _cache.mirror(_raw_source(tmp_path), ["raw"], tmp_path / "cache", "planetoid",
                      lambda private: None)


def _load_cora_in_process(root, cache, queue):
    import os

    os.environ["GRAPHCLUST_CACHE"] = cache
    queue.put(int(load_quietly("cora", root).num_nodes))


def test_two_processes_load_cora_into_an_empty_cache_at_once(data_root, tmp_path):
    # Found when two benchmark probes started together: one read the other's half-written
    # processed file ("failed finding central directory").
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_load_cora_in_process,
                               args=(str(data_root), str(tmp_path / "shared-cache"), queue))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(600)  # a hang only: spawning two torch processes is slow on a busy machine
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert [queue.get(timeout=1), queue.get(timeout=1)] == [2708, 2708]
