"""Model files as an attacker writes them: no code runs, no memory is sized by the file,
and every tensor is checked against the saved parameters (issue 17)."""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import pickle
import pkgutil
import struct
import zipfile

import numpy as np
import psutil
import pytest
import safetensors.torch
import torch
from zip_entries import SIZE, patch_entry

from graphclust import SCGCStar, SVDKMeans, load_dataset
from graphclust.benchmark.measure import peak_resident_bytes, reset_peak_resident
from graphclust.io import load
from graphclust.io_params import CONFIG_CLASSES, decode_param, encode_param
from graphclust.nn import MLPConfig
from graphclust.sampling.contrastive import RandomWalkSampler

_TINY = {"embedding_dim": 4, "max_epochs": 2, "pretrain_epochs": 1}


@pytest.fixture(scope="module")
def karate():
    return load_dataset("karate")


@pytest.fixture(scope="module")
def fitted(karate):
    return SCGCStar(2, random_state=0, encoder=MLPConfig((16,)), **_TINY).fit(karate)


@pytest.fixture()
def model_file(fitted, tmp_path):
    path = tmp_path / "model.gc"
    fitted.save(path)
    return path


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write(path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _edit_header(path, change) -> None:
    members = _members(path)
    header = json.loads(members["graphclust.json"])
    change(header)
    members["graphclust.json"] = json.dumps(header).encode()
    _write(path, members)


def _edit_tensors(path, change) -> None:
    members = _members(path)
    tensors = safetensors.torch.load(members["tensors.safetensors"])
    change(tensors)
    members["tensors.safetensors"] = safetensors.torch.save(tensors)
    _write(path, members)


# ---------------------------------------------------------------------------- code
def test_the_reported_payload_does_not_run_the_command_line(model_file, tmp_path):
    marker = tmp_path / "overwritten.gc"
    argv = ["fit", "--dataset", "karate", "--model", "svd-kmeans", "--save", str(marker),
            "--out", str(tmp_path / "runs")]
    _edit_header(model_file, lambda h: h["params"].update(
        encoder={"__config__": "graphclust.cli:main", "fields": {"argv": argv}}))
    with pytest.raises(ValueError, match=r"model\.gc.*'graphclust\.cli:main' is not one of"):
        load(model_file)
    assert not marker.exists() and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("name", ["graphclust.io:Path", "graphclust.data:load_dataset",
                                  "os:system", "builtins:eval", "graphclust.nn.config:MLP"])
def test_no_callable_outside_the_allow_list_is_called(model_file, name, monkeypatch):
    monkeypatch.setattr(importlib, "import_module", _refuse_import)
    _edit_header(model_file, lambda h: h["params"].update(
        encoder={"__config__": name, "fields": {}}))
    with pytest.raises(ValueError, match="is not one of graphclust's encoder configurations"):
        load(model_file)


def test_an_integer_too_long_to_read_names_the_member(model_file):
    # Python refuses to read integers of over 4,300 digits with a ValueError of its own,
    # which had reached the caller naming neither the file nor the member.
    members = _members(model_file)
    header = json.loads(members["graphclust.json"])
    header["params"]["n_clusters"] = "HUGE"
    members["graphclust.json"] = json.dumps(header).replace('"HUGE"', "9" * 5000).encode()
    _write(model_file, members)
    with pytest.raises(ValueError, match=r"model\.gc is corrupted: member graphclust\.json "
                                         "is not UTF-8 JSON"):
        load(model_file)


@pytest.mark.parametrize("change, message", [
    (lambda h: h["params"].update(lr="abc"), "'lr' parameter"),
    (lambda h: h["params"].update(max_epochs=-5), "'max_epochs' parameter"),
    (lambda h: h["fitted"].update(n_iter_=-7), "n_iter_"),
    # A thread count the OpenMP runtime would end the process allocating for.
    (lambda h: h["params"].update(n_jobs=10**9), "n_jobs=1000000000 asks for more than"),
    # predict propagates the rows it is given this many times: a busy loop for ever.
    (lambda h: h["params"].update(propagation_steps=2**40),
     r"'propagation_steps' parameter of SCGCStar must be an int in the range \[0, 256\]"),
])
def test_a_tampered_header_is_named_as_the_member_at_fault(model_file, change, message):
    _edit_header(model_file, change)
    with pytest.raises(ValueError, match=rf"model\.gc: member graphclust\.json: .*{message}"):
        load(model_file)


def _refuse_import(name, *args, **kwargs):
    raise AssertionError(f"a file made load import {name}")


def test_allowed_configuration_with_unknown_field_is_refused(model_file):
    _edit_header(model_file, lambda h: h["params"]["encoder"]["fields"].update(
        __class__="x"))
    with pytest.raises(ValueError, match="MLPConfig has no field.*__class__"):
        load(model_file)


def test_a_configuration_missing_a_field_is_refused_not_defaulted():
    # A file from before RandomWalkSampler had max_batches: today's default (32 batches an
    # epoch) is not what its model was trained with.
    encoded = encode_param("sampler", RandomWalkSampler(256, max_batches=None))
    assert decode_param("sampler", encoded) == RandomWalkSampler(256, max_batches=None)
    del encoded["fields"]["max_batches"]
    with pytest.raises(ValueError, match="no RandomWalkSampler field.*'max_batches'.*refit"):
        decode_param("sampler", encoded)


def test_a_field_whose_default_is_the_older_behaviour_may_be_missing():
    """LinearStart's whiten_untaught and init came after files were written without
    them; their defaults (True, "random") are what those models did, so such a file
    loads. Other fields stay required."""
    from graphclust.starts import LinearStart

    encoded = encode_param("start", LinearStart(steps=30, whiten_untaught=True))
    del encoded["fields"]["whiten_untaught"], encoded["fields"]["init"]
    assert decode_param("start", encoded) == LinearStart(steps=30)
    del encoded["fields"]["lr"]
    with pytest.raises(ValueError, match="no LinearStart field.*'lr'.*refit"):
        decode_param("start", encoded)


@pytest.mark.parametrize("value", [{"a": 1}, {"__tuple__": "abc"},
                                   {"__config__": 1, "fields": {}}])
def test_untagged_or_malformed_objects_are_refused(value):
    with pytest.raises(ValueError, match="parameter p"):
        decode_param("p", value)


def test_deep_nesting_is_refused():
    value = 1
    for _ in range(50):
        value = [value]
    with pytest.raises(ValueError, match="nested deeper"):
        decode_param("p", value)


def _configuration_classes():
    """Every frozen dataclass of the parts' packages that builds a module (``build``), is
    called as a factory or a part (``__call__``), or gives batches (``batches``)."""
    found = set()
    for package in ("graphclust.nn", "graphclust.extras", "graphclust.starts",
                    "graphclust.objectives", "graphclust.sampling"):
        root = importlib.import_module(package)
        for info in pkgutil.iter_modules(root.__path__, f"{package}."):
            module = importlib.import_module(info.name)
            for value in vars(module).values():
                if isinstance(value, type) and value.__module__ == info.name \
                        and dataclasses.is_dataclass(value) \
                        and value.__dataclass_params__.frozen \
                        and any(name in vars(cls) for cls in value.__mro__[:-1]
                                for name in ("build", "__call__", "batches")):
                    found.add(f"{value.__module__}:{value.__qualname__}")
    return found


def test_allow_list_names_exactly_the_configuration_classes():
    assert set(CONFIG_CLASSES) == _configuration_classes()


# ---------------------------------------------------------------------------- memory
def _set_declared_size(path, member: str, size: int) -> None:
    patch_entry(path, member, SIZE, size)


def test_member_declaring_4_gib_is_refused_before_reading(model_file, monkeypatch):
    _set_declared_size(model_file, "tensors.safetensors", 0xFFFFFFF0)
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open",
                        lambda self, name, *a, **k: opened.append(getattr(name, "filename",
                                                                          name))
                        or real_open(self, name, *a, **k))
    with pytest.raises(ValueError, match=r"model\.gc: member tensors\.safetensors declares "
                                         r"4294967280 bytes, more than the limit"):
        load(model_file)
    assert "tensors.safetensors" not in opened


def test_member_inflating_past_its_declared_size_is_refused(model_file):
    _set_declared_size(model_file, "tensors.safetensors", 100)
    with pytest.raises(ValueError, match="corrupted: member tensors.safetensors cannot be read"):
        load(model_file)


def test_max_bytes_limits_every_member(model_file):
    with pytest.raises(ValueError, match="member graphclust.json declares .* limit of 64"):
        load(model_file, max_bytes=64)
    with pytest.raises(ValueError, match="max_bytes must be an integer >= 1"):
        load(model_file, max_bytes=0)


def test_tensor_header_declaring_a_huge_tensor_is_refused(model_file):
    header = json.dumps({"cluster_centers_": {"dtype": "F32", "shape": [1 << 20, 1 << 20],
                                              "data_offsets": [0, 16]}}).encode()
    members = _members(model_file)
    members["tensors.safetensors"] = struct.pack("<Q", len(header)) + header + bytes(16)
    _write(model_file, members)
    with pytest.raises(ValueError, match="tensors.safetensors is not a safetensors file"):
        load(model_file)


def test_more_layers_than_the_file_has_tensors_are_refused_as_they_are_built(model_file):
    # One Python module a layer, even on the meta device: 10**5 layers named by a 64 kB
    # file took 83 s and 2.7 GB before the tensors were compared with them.
    _edit_header(model_file, lambda h: h["params"]["encoder"]["fields"].update(
        hidden_dims={"__tuple__": [16] * 10_000}))
    with pytest.raises(ValueError, match=r"describe networks of more than \d+ tensors, "
                                         "more than the file holds"):
        load(model_file)


def test_the_tensor_count_of_a_load_ignores_modules_other_threads_build():
    # The registration hooks are global: a module built in another thread during a load
    # had counted against the file, and raised the load's error in that thread.
    import threading

    from torch import nn

    from graphclust.io_checks import tensors_at_most

    errors = []

    def build():
        try:
            nn.Sequential(*[nn.Linear(2, 2) for _ in range(5)])
        except ValueError as error:
            errors.append(error)

    with tensors_at_most(1):
        other = threading.Thread(target=build)
        other.start()
        other.join()
        with pytest.raises(ValueError, match="more than 1 tensors"):
            nn.Linear(2, 2)  # a weight and a bias: two
    assert errors == []


def test_huge_sizes_in_the_header_allocate_nothing(model_file):
    # Building this 10^9 x 16 encoder for real would take 64 GB: the expected shapes are
    # computed on the meta device, and the file's tensors refute them.
    _edit_header(model_file, lambda h: h["fitted"].update(n_features_in_=10**9))
    # The peak since a reset: pytest's own peak so far would hide any growth under it.
    if not reset_peak_resident():
        pytest.skip("the peak resident memory cannot be reset here (Linux's clear_refs)")
    before = psutil.Process().memory_info().rss
    with pytest.raises(ValueError, match=r"tensor transform\.scale has shape \(34,\), "
                                         r"expected \(1000000000,\)"):
        load(model_file)
    assert peak_resident_bytes() - before < 200 * 2**20


# ---------------------------------------------------------------------------- tensors
@pytest.mark.parametrize("change, message", [
    (lambda t: t["cluster_centers_"].fill_(float("nan")), "cluster_centers_ holds NaN"),
    (lambda t: t.update(cluster_centers_=torch.zeros(3, 4)),
     r"cluster_centers_ has shape \(3, 4\), expected \(2, 4\)"),
    (lambda t: t.update(cluster_centers_=torch.zeros(2, 4, dtype=torch.float64)),
     "cluster_centers_ has dtype torch.float64, expected torch.float32"),
    (lambda t: t["labels_"].fill_(7), r"labels_ holds values outside 0\.\.1"),
    (lambda t: t.update(labels_=t["labels_"][:5]), r"embedding_ has shape \(34, 4\)"),
    (lambda t: t["encoder.layers.0.weight"].fill_(float("inf")), "weight holds NaN or inf"),
    (lambda t: t.update(extra=torch.zeros(1)), "unexpected: extra"),
], ids=["nan", "shape", "dtype", "labels", "rows", "encoder-inf", "extra"])
def test_bad_tensors_are_refused_naming_file_member_and_tensor(model_file, change, message):
    _edit_tensors(model_file, change)
    with pytest.raises(ValueError, match=r"model\.gc: member tensors\.safetensors .*" + message):
        load(model_file)


@pytest.mark.parametrize("change, message", [
    (lambda f: f.update(n_features_in_="34"), "'n_features_in_' parameter of the model file"),
    (lambda f: f.update(history_="x"), "'history_' parameter .* must be an instance of 'list'"),
    (lambda f: f.update(history_=[1]), "history_ must be a list of objects"),
    (lambda f: f.update(history_=[{"phase": "pretrain", "epoch": "1e9"}]),
     "history_'s start entries need whole, non-negative 'epoch' values"),
    (lambda f: f.update(transform_kind="auto"), "'transform_kind' parameter .* Got 'auto'"),
    (lambda f: f.update(fit_time_=float("nan")), "'fit_time_' parameter .* Got nan"),
    (lambda f: f.update(knn_rows="cosine"), "'knn_rows' parameter .* Got 'cosine'"),
])
def test_bad_fitted_attributes_are_refused(model_file, change, message):
    _edit_header(model_file, lambda h: change(h["fitted"]))
    with pytest.raises(ValueError, match=message):
        load(model_file)


def test_a_model_saved_before_knn_rows_keeps_its_raw_row_graph(tmp_path, monkeypatch):
    # Until 2026-12-06 the kNN graph of a plain matrix read the raw rows; a file without
    # "knn_rows" must predict on the graph it was trained on, and save it so again.
    import graphclust.estimators.base as base_module

    x = (np.random.default_rng(0).random((40, 5)) * [1, 1, 1, 1, 500]).astype(np.float32)
    path = tmp_path / "old.gc"
    SVDKMeans(2, propagation_steps=1, random_state=0).fit(x).save(path)
    _edit_header(path, lambda h: h["fitted"].pop("knn_rows"))
    seen, search = [], base_module.knn_graph
    monkeypatch.setattr(base_module, "knn_graph",
                        lambda rows, *a, **kw: seen.append(rows) or search(rows, *a, **kw))
    legacy = load(path)
    legacy.predict(x)
    torch.testing.assert_close(seen[-1], torch.from_numpy(x))
    legacy.save(tmp_path / "again.gc")
    load(tmp_path / "again.gc").predict(x)
    torch.testing.assert_close(seen[-1], torch.from_numpy(x))
    load(tmp_path / "old.gc").fit(x).predict(x)  # a new fit reads the transformed rows
    assert not torch.equal(seen[-1], torch.from_numpy(x))
    # A pickle from before has no _knn_rows_ either: the raw rows too.
    pickled = SVDKMeans(2, propagation_steps=1, random_state=0).fit(x)
    del pickled._knn_rows_
    pickle.loads(pickle.dumps(pickled)).predict(x)
    torch.testing.assert_close(seen[-1], torch.from_numpy(x))


def test_svd_kmeans_files_record_their_directions(tmp_path):
    # Files saved before n_components_ was recorded hold min(n_components, features - 1).
    x = np.random.default_rng(0).random((60, 3)).astype(np.float32)
    model = SVDKMeans(2, random_state=0).fit(x)
    model.components_, model.embedding_ = model.components_[:2], model.embedding_[:, :2]
    model.cluster_centers_ = model.cluster_centers_[:, :2]
    model.save(tmp_path / "old.gc")
    _edit_header(tmp_path / "old.gc", lambda h: h["fitted"].pop("n_components_"))
    assert load(tmp_path / "old.gc").components_.shape == (2, 3)
    SVDKMeans(2, random_state=0).fit(x).save(tmp_path / "new.gc")
    _edit_header(tmp_path / "new.gc", lambda h: h["fitted"].update(n_components_=9))
    with pytest.raises(ValueError, match="n_components_ must be a whole number from 1 to 3"):
        load(tmp_path / "new.gc")


def test_svd_kmeans_tensors_are_checked(karate, tmp_path):
    path = tmp_path / "svd.gc"
    SVDKMeans(2, n_components=4, random_state=0).fit(karate).save(path)
    load(path)  # the untouched file loads
    _edit_tensors(path, lambda t: t.update(components_=torch.zeros(5, 34)))
    with pytest.raises(ValueError, match=r"components_ has shape \(5, 34\), expected \(4, 34\)"):
        load(path)


# ---------------------------------------------------------------------------- format
def test_format_version_1_is_refused_with_the_remedy(model_file):
    _edit_header(model_file, lambda h: h.update(format_version=1))
    with pytest.raises(ValueError, match="format version 1.*torch.save.*Refit"):
        load(model_file)


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_saved_file_mode_follows_the_umask(fitted, tmp_path, umask):
    previous = os.umask(umask)
    try:
        fitted.save(tmp_path / "m.gc")
    finally:
        os.umask(previous)
    assert (tmp_path / "m.gc").stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["m.gc"]

