"""Save/load: exact round trips, and clear refusals of foreign, corrupted or unsafe files."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np
import pytest
import safetensors.torch
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

import graphclust
from graphclust import SCGC, SCGCStar, load_dataset
from graphclust.io import FORMAT_VERSION, load, save

_TINY = {"hidden_dims": (32, 16), "embedding_dim": 4, "max_epochs": 3, "pretrain_epochs": 2}


@pytest.fixture(scope="module")
def karate():
    return load_dataset("karate")


@pytest.fixture(scope="module", params=[SCGC, SCGCStar], ids=["scgc", "scgc-star"])
def fitted(request, karate):
    return request.param(n_clusters=2, random_state=0, **_TINY).fit(karate)


@pytest.fixture()
def model_file(fitted, tmp_path):
    path = tmp_path / "model.graphclust"
    fitted.save(path)
    return path


def _rewrite(path, header_change=None, tensors_bytes=None, drop=None):
    """Copy of a model file with its header edited, its tensors replaced or a member dropped."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    if header_change is not None:
        header = json.loads(members["graphclust.json"])
        header_change(header)
        members["graphclust.json"] = json.dumps(header).encode()
    if tensors_bytes is not None:
        members["tensors.safetensors"] = tensors_bytes
    if drop is not None:
        del members[drop]
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_round_trip_predicts_identically(fitted, model_file, karate):
    loaded = load(model_file)
    assert type(loaded) is type(fitted)
    assert loaded.get_params() == fitted.get_params()
    assert loaded.get_params()["hidden_dims"] == (32, 16)  # a tuple stays a tuple
    np.testing.assert_array_equal(loaded.predict(karate), fitted.predict(karate))
    np.testing.assert_array_equal(loaded.predict_proba(karate), fitted.predict_proba(karate))
    np.testing.assert_array_equal(loaded.transform(karate), fitted.transform(karate))
    np.testing.assert_array_equal(loaded.labels_, fitted.labels_)
    np.testing.assert_array_equal(loaded.cluster_centers_, fitted.cluster_centers_)
    assert loaded.history_ == fitted.history_
    assert loaded.n_iter_ == fitted.n_iter_
    assert loaded.start_length_ == fitted.start_length_


def test_save_function_and_method_write_the_same_model(fitted, tmp_path, karate):
    save(fitted, tmp_path / "a")
    np.testing.assert_array_equal(load(tmp_path / "a").predict_proba(karate),
                                  fitted.predict_proba(karate))


def test_header_is_plain_json(model_file, fitted):
    with zipfile.ZipFile(model_file) as archive:
        header = json.loads(archive.read("graphclust.json"))
    assert header["format"] == "graphclust-model"
    assert header["format_version"] == FORMAT_VERSION
    assert header["graphclust_version"] == graphclust.__version__
    assert graphclust.MODELS[header["model"]] is type(fitted)
    assert header["params"]["random_state"] == 0


def test_loading_never_unpickles(model_file, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("load must not unpickle anything")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    load(model_file)


_TRIGGERED = []


def _trigger():
    _TRIGGERED.append(True)
    return {}


class _Trap:
    """Unpickling this object would run ``_trigger``; weights_only must refuse it."""

    def __reduce__(self):
        return (_trigger, ())


def test_pickled_code_is_never_run(model_file):
    payload = io.BytesIO()
    torch.save({"encoder.weight": torch.zeros(1), "trap": _Trap()}, payload)
    _rewrite(model_file, tensors_bytes=payload.getvalue())
    with pytest.raises(ValueError, match="not a safetensors file"):
        load(model_file)
    assert _TRIGGERED == []


def test_other_graphclust_version_is_refused(model_file):
    _rewrite(model_file, header_change=lambda h: h.update(graphclust_version="0.0.1"))
    with pytest.raises(ValueError, match=r"saved by graphclust 0\.0\.1.*refit"):
        load(model_file)


def test_other_format_version_is_refused(model_file):
    _rewrite(model_file, header_change=lambda h: h.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(ValueError, match="format version"):
        load(model_file)


def test_truncated_file_is_refused(model_file):
    data = model_file.read_bytes()
    model_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a graphclust model file|corrupted"):
        load(model_file)


def test_corrupted_tensors_are_refused(model_file):
    _rewrite(model_file, tensors_bytes=b"\x00garbage" * 100)
    with pytest.raises(ValueError, match="corrupted"):
        load(model_file)


def test_corrupted_header_is_refused(model_file):
    with zipfile.ZipFile(model_file) as archive:
        tensors = archive.read("tensors.safetensors")
    with zipfile.ZipFile(model_file, "w") as archive:
        archive.writestr("graphclust.json", "{not json")
        archive.writestr("tensors.safetensors", tensors)
    with pytest.raises(ValueError, match="corrupted"):
        load(model_file)


def test_missing_tensor_is_refused(model_file):
    def drop_centres(payload: bytes) -> bytes:
        tensors = safetensors.torch.load(payload)
        del tensors["cluster_centers_"]
        return safetensors.torch.save(tensors)

    with zipfile.ZipFile(model_file) as archive:
        payload = archive.read("tensors.safetensors")
    _rewrite(model_file, tensors_bytes=drop_centres(payload))
    with pytest.raises(ValueError, match="tensors.safetensors.*missing: cluster_centers_"):
        load(model_file)


def test_missing_member_is_refused(model_file):
    _rewrite(model_file, drop="tensors.safetensors")
    with pytest.raises(ValueError, match="no member tensors.safetensors"):
        load(model_file)


def test_unknown_model_name_is_refused(model_file):
    _rewrite(model_file, header_change=lambda h: h.update(model="no-such-model"))
    with pytest.raises(ValueError, match="'no-such-model'.*registered"):
        load(model_file)


@pytest.mark.parametrize("content", [b"hello, not a model", b""], ids=["text", "empty"])
def test_unrelated_file_is_refused(tmp_path, content):
    path = tmp_path / "other.bin"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a graphclust model file"):
        load(path)


def test_plain_torch_checkpoint_is_refused(tmp_path):
    path = tmp_path / "checkpoint.pt"
    torch.save({"weight": torch.ones(2)}, path)  # also a zip archive, but not ours
    with pytest.raises(ValueError, match="not a graphclust model file"):
        load(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load(tmp_path / "absent.graphclust")


def test_unfitted_estimator_cannot_be_saved(tmp_path):
    with pytest.raises(NotFittedError):
        SCGCStar().save(tmp_path / "m")


def test_unregistered_class_cannot_be_saved(karate, tmp_path):
    class Custom(SCGCStar):
        pass

    model = Custom(n_clusters=2, random_state=0, **_TINY).fit(karate)
    with pytest.raises(ValueError, match="not a registered model"):
        model.save(tmp_path / "m")


class _NoHooks(BaseEstimator):
    """A registered, fitted estimator that lacks the persistence hooks."""

    def __init__(self, n_clusters: int = 2) -> None:
        self.n_clusters = n_clusters


def test_class_without_persistence_hooks_is_refused(tmp_path, monkeypatch):
    monkeypatch.setitem(graphclust.MODELS, "no-hooks", _NoHooks)
    model = _NoHooks()
    model.cluster_centers_ = np.zeros((2, 2))
    with pytest.raises(TypeError, match="does not support saving: it lacks _fitted_tensors"):
        save(model, tmp_path / "m")


def test_parameter_without_json_form_is_refused(karate, tmp_path):
    model = SCGCStar(n_clusters=2, random_state=np.random.RandomState(0), **_TINY).fit(karate)
    with pytest.raises(TypeError, match="random_state"):
        model.save(tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_refused(fitted, tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        fitted.save(tmp_path / "absent" / "m")


def test_numpy_scalars_and_a_torch_device_are_saved_as_the_numbers_and_string(tmp_path, karate):
    """Parameters fit accepts (n_clusters=y.max() + 1 is a NumPy integer; device takes a
    torch.device) are saved as the plain values they equal, not refused after the fit."""
    fitted = SCGCStar(n_clusters=np.int64(2), tau=np.float32(0.5), device=torch.device("cpu"),
                      random_state=0, hidden_dims=np.array([8]), embedding_dim=4, max_epochs=2,
                      pretrain_epochs=1).fit(karate)
    save(fitted, tmp_path / "m.gc")
    loaded = load(tmp_path / "m.gc")
    assert (loaded.n_clusters, loaded.tau, loaded.device) == (2, 0.5, "cpu")
    assert loaded.hidden_dims == (8,)
    assert type(loaded.n_clusters) is int
    np.testing.assert_array_equal(loaded.predict(karate), fitted.predict(karate))


def test_loading_a_folder_says_it_is_a_folder(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder, not a model file"):
        load(tmp_path)
