"""Every zip member is checked before a byte of it is read (``graphclust._zip``): model
files and the data archives (A-DGC here; ``.npz`` shares the reader) alike."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from zip_entries import COMPRESSED_SIZE, FLAGS, SIZE, patch_entry

from graphclust import SVDKMeans, load_dataset
from graphclust.data.formats.adgc import read_adgc
from graphclust.io import load


def _model_file(folder):
    path = folder / "model.gc"
    SVDKMeans(2, random_state=0).fit(load_dataset("karate")).save(path)
    return path


def _adgc_archive(folder):
    def npy(array) -> bytes:
        stream = io.BytesIO()
        np.save(stream, array)
        return stream.getvalue()

    path = folder / "toy.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("toy_feat.npy", npy(np.eye(3, dtype=np.float32)))
        archive.writestr("toy_label.npy", npy(np.array([0, 1, 0])))
        archive.writestr("toy_adj.npy", npy(np.ones((3, 3)) - np.eye(3)))
    return path


#: Reader -> (the file's maker, its reader, the member damaged, its name in messages).
READERS = {
    "model file": (_model_file, load, "graphclust.json", r"model\.gc: member graphclust\.json"),
    "A-DGC archive": (_adgc_archive, read_adgc, "toy_feat.npy", r"toy\.zip: member toy_feat\.npy"),
}


def _rewritten(path, compression) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


@pytest.mark.parametrize("reader", READERS)
def test_a_member_declaring_more_bytes_than_the_archive_is_refused(tmp_path, reader):
    # zipfile reads a stored member by allocating its declared size first: 826 bytes
    # declaring 1 TiB had asked for 1 TiB. Here 4 GiB, the most without zip64.
    make, read, member, named = READERS[reader]
    path = make(tmp_path)
    for field in (COMPRESSED_SIZE, SIZE):
        patch_entry(path, member, field, 0xFFFFFF00)
    with pytest.raises(ValueError, match=named + " declares 4294967040 compressed bytes, "
                                                 "past the end"):
        read(path)


@pytest.mark.parametrize("damage", ["encrypted", "lzma", "bzip2"])
@pytest.mark.parametrize("reader", READERS)
def test_encrypted_members_and_other_methods_are_refused_naming_them(tmp_path, reader,
                                                                    damage):
    # zipfile's RuntimeError and lzma's LZMAError had named no file; bzip2 and LZMA also
    # inflate past the deflate bound the readers rely on.
    make, read, member, named = READERS[reader]
    path = make(tmp_path)
    if damage == "encrypted":
        patch_entry(path, member, FLAGS, 0x1, "<H")
        message = named + " is encrypted"
    else:
        method = zipfile.ZIP_LZMA if damage == "lzma" else zipfile.ZIP_BZIP2
        _rewritten(path, method)
        message = named + f" is compressed with zip method {method}"
    with pytest.raises(ValueError, match=message):
        read(path)
