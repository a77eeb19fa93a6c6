"""Seeded, bounded fuzzing (issue 17): every case ends in a correct result or a
ValueError/TypeError naming the problem; no other exception, no crash, no input changed."""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from collections import defaultdict

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from graphclust import SVDKMeans, load_dataset
from graphclust.cli import main
from graphclust.data import to_graph
from graphclust.data.formats.adgc import read_adgc
from graphclust.data.formats.safe_pickle import load_pickle
from graphclust.data.formats.sdcn import read_sdcn
from graphclust.io import load

_SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                     suppress_health_check=list(HealthCheck))
_ALLOWED = (ValueError, TypeError)


def _mutations():
    """Ways to damage bytes: flip some, cut the end, insert garbage."""
    flip = st.tuples(st.just("flip"), st.lists(st.tuples(st.integers(0, 10**6),
                                                         st.integers(1, 255)),
                                              min_size=1, max_size=8))
    cut = st.tuples(st.just("cut"), st.floats(0.0, 0.99))
    insert = st.tuples(st.just("insert"), st.tuples(st.integers(0, 10**6),
                                                    st.binary(min_size=1, max_size=16)))
    return st.one_of(flip, cut, insert)


def _mutate(data: bytes, mutation) -> bytes:
    kind, argument = mutation
    out = bytearray(data)
    if kind == "flip":
        for position, mask in argument:
            out[position % len(out)] ^= mask
    elif kind == "cut":
        out = out[: int(len(out) * argument)]
    else:
        position, junk = argument
        position %= len(out) + 1
        out[position:position] = junk
    return bytes(out)


# ---------------------------------------------------------------------------- to_graph
_dtypes = st.sampled_from([np.float32, np.float64, np.int64, np.int8, np.bool_,
                           np.complex64, np.uint16])


@seed(17)
@_SETTINGS
@given(hnp.arrays(_dtypes, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0,
                                            max_side=5)),
       st.sampled_from(["none", "square", "edges", "bad-edges"]))
def test_to_graph_refuses_or_copies(features, adjacency_kind):
    original = features.copy()
    n = features.shape[0] if features.ndim else 0
    adjacency = {"none": None, "square": np.ones((n, n)),
                 "edges": np.array([[0, max(n - 1, 0)], [max(n - 1, 0), 0]]),
                 "bad-edges": np.array([[0, n + 3], [n + 3, 0]])}[adjacency_kind]
    try:
        graph = to_graph(features, adjacency)
    except _ALLOWED:
        pass
    else:
        assert graph.x.shape == (n, features.shape[1])
        graph.x.add_(1.0)
    np.testing.assert_array_equal(features, original)


# ---------------------------------------------------------------------------- model files
@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.gc"
    SVDKMeans(2, n_components=3, random_state=0).fit(load_dataset("karate")).save(path)
    return path.read_bytes()


@seed(17)
@_SETTINGS
@given(mutation=_mutations())
def test_load_of_damaged_model_bytes(model_bytes, mutation, tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "m.gc"
    path.write_bytes(_mutate(model_bytes, mutation))
    try:
        load(path)
    except ValueError:
        pass


_json = st.recursive(st.none() | st.booleans() | st.integers(-10**12, 10**12)
                     | st.floats(allow_nan=True) | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.sampled_from(["__tuple__", "__config__", "fields",
                                                        "x"]), inner, max_size=3),
                     max_leaves=8)


@seed(17)
@_SETTINGS
@given(section=st.sampled_from(["params", "fitted"]), value=_json, data=st.data())
def test_load_of_edited_model_header(model_bytes, section, value, data, tmp_path_factory):
    with zipfile.ZipFile(io.BytesIO(model_bytes)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    header = json.loads(members["graphclust.json"])
    key = data.draw(st.sampled_from(sorted(header[section])))
    header[section][key] = value
    path = tmp_path_factory.mktemp("fuzz") / "m.gc"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("graphclust.json", json.dumps(header))
        archive.writestr("tensors.safetensors", members["tensors.safetensors"])
    try:
        model = load(path)
    except ValueError:
        return
    assert model.predict(load_dataset("karate")).shape == (34,)


# ---------------------------------------------------------------------------- loaders
def _write_sdcn(folder, features: bytes, labels: bytes, graph: bytes):
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "graph").mkdir(exist_ok=True)
    (folder / "data" / "toy.txt").write_bytes(features)
    (folder / "data" / "toy_label.txt").write_bytes(labels)
    (folder / "graph" / "toy_graph.txt").write_bytes(graph)


@seed(17)
@_SETTINGS
@given(part=st.integers(0, 2), mutation=_mutations())
def test_sdcn_reader_on_damaged_files(part, mutation, tmp_path_factory):
    files = [b"1 0 2\n0 1 0\n1 1 1\n0 0 3\n", b"1\n2\n1\n2\n", b"0 1\n1 2\n2 3\n"]
    files[part] = _mutate(files[part], mutation)
    folder = tmp_path_factory.mktemp("sdcn")
    _write_sdcn(folder, *files)
    try:
        read_sdcn(folder, "toy")
    except _ALLOWED:
        pass


def _npy(array) -> bytes:
    stream = io.BytesIO()
    np.save(stream, array)
    return stream.getvalue()


@seed(17)
@_SETTINGS
@given(member=st.integers(-1, 2), mutation=_mutations())
def test_adgc_reader_on_damaged_archives(member, mutation, tmp_path_factory):
    arrays = [_npy(np.eye(4, dtype=np.float32)), _npy(np.array([0, 1, 0, 1])),
              _npy(np.ones((4, 4)) - np.eye(4))]
    if member >= 0:
        arrays[member] = _mutate(arrays[member], mutation)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for part, data in zip(("feat", "label", "adj"), arrays, strict=True):
            archive.writestr(f"toy_{part}.npy", data)
    path = tmp_path_factory.mktemp("adgc") / "toy.zip"
    path.write_bytes(buffer.getvalue() if member >= 0 else _mutate(buffer.getvalue(),
                                                                   mutation))
    try:
        read_adgc(path)
    except _ALLOWED:
        pass


_PICKLES = [sp.csr_matrix(np.eye(3, 5, dtype=np.float32)), np.eye(3, dtype=np.int32),
            defaultdict(list, {0: [1], 1: [0, 2], 2: [1]})]


@seed(17)
@_SETTINGS
@given(which=st.integers(0, 2), mutation=_mutations())
def test_restricted_unpickler_on_damaged_pickles(which, mutation, tmp_path_factory):
    path = tmp_path_factory.mktemp("pickle") / "ind.cora.x"
    path.write_bytes(_mutate(pickle.dumps(_PICKLES[which], protocol=2), mutation))
    try:
        load_pickle(path)
    except ValueError:
        pass


# ---------------------------------------------------------------------------- CLI
_SET_VALUES = st.one_of(st.integers(-3, 40), st.floats(-2.0, 2.0), st.none(),
                        st.booleans(), st.sampled_from(["tfidf", "x", "auto", "1,2"]))


@seed(17)
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(key=st.sampled_from(["n_components", "propagation_steps", "features", "normalize",
                            "n_init", "n_neighbors", "n_clusters", "nope"]),
       value=_SET_VALUES)
def test_cli_fit_with_fuzzed_set(key, value, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli")
    code = main(["fit", "--dataset", "karate", "--model", "svd-kmeans", "--out", str(out),
                 "--quiet", "--set", f"{key}={value}"])
    assert code in (0, 2)
