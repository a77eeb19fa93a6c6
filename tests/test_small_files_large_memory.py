"""Small files received from someone else that had sized far more memory than their bytes,
or had ended in an exception other than a ValueError naming them (a hostile review of
the readers): a model file's JSON header, class-name labels, CiteSeer's test indices, a
``.npy`` member's negative dimensions and a run folder's ``run.json``."""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from collections import defaultdict

import numpy as np
import pytest
from numpy.lib import format as npy_format
from zip_entries import SIZE, patch_entry

from graphclust import SVDKMeans, to_graph
from graphclust.cli import main
from graphclust.data.formats import planetoid
from graphclust.data.formats.adgc import read_adgc
from graphclust.data.formats.plain import read_plain_files
from graphclust.io import load

_X = np.random.default_rng(0).random((40, 3)).astype(np.float32)


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory) -> dict[str, bytes]:
    path = tmp_path_factory.mktemp("model") / "model.gc"
    SVDKMeans(2, random_state=0).fit(_X).save(path)
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _model_with_padding(path, members: dict[str, bytes], entries: int) -> None:
    """The model file with ``entries`` empty objects under a key its reader ignores: a few
    kB deflated, ``3 * entries`` bytes inflated, 72 bytes an entry once parsed."""
    header = members["graphclust.json"].decode()
    header = '{"padding": [' + "{}," * (entries - 1) + "{}]," + header.lstrip()[1:]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("graphclust.json", header)
        archive.writestr("tensors.safetensors", members["tensors.safetensors"])


def test_a_header_is_held_to_a_sixteenth_of_max_bytes(model_bytes, tmp_path):
    path = tmp_path / "padded.gc"
    _model_with_padding(path, model_bytes, 1_000_000)  # 3 MB: 72 MB of dicts once parsed
    assert path.stat().st_size < 100_000
    with pytest.raises(ValueError, match=r"member graphclust\.json declares 3000\d+ bytes, "
                                         r"more than the limit of 1048576 \(a header's"):
        load(path, max_bytes=16 << 20)
    load(path, max_bytes=64 << 20)  # a sixteenth of it is 4 MiB: the file loads
    _model_with_padding(path, model_bytes, 1)
    assert load(path, max_bytes=16 << 20).predict(_X).shape == (40,)


def test_a_header_under_the_default_limit_is_at_most_64_mib(model_bytes, tmp_path):
    path = tmp_path / "declared.gc"
    _model_with_padding(path, model_bytes, 1)
    patch_entry(path, "graphclust.json", SIZE, 70_000_000)  # 1.7 GB once parsed
    with pytest.raises(ValueError, match=r"graphclust\.json declares 70000000 bytes, more "
                                         r"than the limit of 67108864 \(a header's"):
        load(path)


def test_a_header_limit_of_max_bytes_itself_is_not_called_a_sixteenth(model_bytes, tmp_path):
    # Under 1 MiB the header's limit is max_bytes itself: the message had called 500 bytes
    # "1/16 of max_bytes, at least 1 MiB".
    path = tmp_path / "small.gc"
    _model_with_padding(path, model_bytes, 1)
    with pytest.raises(ValueError, match=r"more than the limit of 500 \(pass a larger") as error:
        load(path, max_bytes=500)
    assert "at least 1 MiB" not in str(error.value)


def test_class_name_labels_take_memory_by_the_file_not_its_longest_line(tmp_path):
    # numpy's str arrays give every label the longest one's width: these 11 kB had made a
    # 16 MB array (a 60 kB file of 20,000 lines, 1.6 GB).
    names = ["a"] * 2000
    names[7] = "b" * 2000
    (tmp_path / "labels.txt").write_text("\n".join(names) + "\n")
    np.save(tmp_path / "x.npy", np.ones((2000, 2), dtype=np.float32))
    _, _, labels = read_plain_files(tmp_path / "x.npy", labels=tmp_path / "labels.txt")
    assert labels.tolist() == names
    assert labels.nbytes <= 8 * len(names)
    graph = to_graph(np.ones((2000, 2), dtype=np.float32), None, labels)
    assert graph.y.tolist() == [0] * 7 + [1] + [0] * 1992


def _citeseer(folder, features: int, classes: int, test_index: str) -> None:
    raw = folder / "CiteSeer" / "raw"
    raw.mkdir(parents=True)
    rows = np.zeros((2, features), np.float32)
    labels = np.eye(2, classes, dtype=np.float32)
    for suffix, value in {"x": rows, "tx": rows, "allx": rows, "y": labels, "ty": labels,
                          "ally": labels, "graph": defaultdict(list, {0: [1]})}.items():
        with open(raw / f"ind.citeseer.{suffix}", "wb") as stream:
            pickle.dump(value, stream, protocol=2)
    (raw / "ind.citeseer.test.index").write_text(test_index)


def test_citeseer_test_indices_may_not_size_the_label_rows(tmp_path, monkeypatch):
    # Zero-wide features passed the cap, and 68 kB of files whose last test index was
    # 10**7 asked for 37 GiB of 1,000-wide label rows. The cap is lowered here to 1 MiB:
    # 1,000 rows of 1,000 labels (4 MB) pass the features' 4 kB but not the labels'.
    monkeypatch.setattr(planetoid, "MAX_FEATURE_BYTES", 1 << 20)
    _citeseer(tmp_path, 1, 1000, "2\n1001\n")
    with pytest.raises(ValueError, match=r"test indices 2\.\.1001 do not fit 2 test rows"):
        planetoid.read_planetoid(tmp_path, "citeseer")


def test_citeseer_test_indices_spanning_64_bits_are_refused(tmp_path):
    # Their span overflowed int64 to 0: an IndexError from numpy, naming no file.
    _citeseer(tmp_path, 3, 2, "-9223372036854775808\n9223372036854775807\n")
    with pytest.raises(ValueError, match="test indices -9223372036854775808"):
        planetoid.read_planetoid(tmp_path, "citeseer")


def _npy(shape, descr: str, payload: bytes) -> bytes:
    stream = io.BytesIO()
    npy_format.write_array_header_1_0(
        stream, {"descr": descr, "fortran_order": False, "shape": shape})
    return stream.getvalue() + payload


@pytest.mark.parametrize("shape", [(-1, -4), (-2, -2), (4, -1)])
def test_npy_member_with_a_negative_dimension_names_the_member(tmp_path, shape):
    path = tmp_path / "neg.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("neg_feat.npy", _npy(shape, "<f4", bytes(16)))
        archive.writestr("neg_label.npy", _npy((4,), "<i8", bytes(32)))
        archive.writestr("neg_adj.npy", _npy((4, 4), "<f4", bytes(64)))
    with pytest.raises(ValueError, match=r"neg\.zip: member neg_feat\.npy declares shape "
                                         r"\(.*\), a negative dimension"):
        read_adgc(path)


def test_a_deeply_nested_run_json_is_an_unreadable_record(tmp_path, capsys):
    folder = tmp_path / "runs" / "karate-svd-kmeans-seed0"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text("[" * 100_000 + "]" * 100_000)  # RecursionError
    argv = ["fit", "--dataset", "karate", "--model", "svd-kmeans", "--out",
            str(tmp_path / "runs"), "--no-baselines", "--quiet"]
    assert main(argv) == 0, capsys.readouterr().err
    assert json.loads((folder / "run.json").read_text())["dataset"] == "karate"
