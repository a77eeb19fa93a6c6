"""What a zip member must be before a byte of it is read: the model files and the data
archives (A-DGC, ``.npz``) are read from zip files that nobody here wrote.

Only stored and deflated members are read: both writers of these files use them
(``save``, ``np.savez``), the inflation bound of the readers holds for deflate alone
(bzip2 and LZMA inflate far beyond its 1032:1), and damaged LZMA data or an encrypted
member raise errors that name neither the file nor the member. A member's declared
compressed bytes must also end before the archive's central directory: zipfile reads a
stored member by allocating its declared size first, so 826 bytes declaring a 1 TiB member
had asked for 1 TiB.
"""

from __future__ import annotations

import zipfile

__all__ = ["check_member"]

_READ_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}


def check_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> None:
    """Refuse a member of ``archive`` that is encrypted, compressed by another method
    than store or deflate, or declares more compressed bytes than the archive holds;
    ``where`` (the file and the member) leads the message."""
    if info.flag_bits & 0x1:
        raise ValueError(f"{where} is encrypted; only plain archives are read")
    if info.compress_type not in _READ_METHODS:
        raise ValueError(f"{where} is compressed with zip method {info.compress_type}; only "
                         "stored and deflated members are read")
    # start_dir: where the central directory begins, after every member's data.
    if info.header_offset + info.compress_size > archive.start_dir:
        raise ValueError(f"{where} declares {info.compress_size} compressed bytes, past the "
                         f"end of the archive's {archive.start_dir} bytes of members: the "
                         "archive is damaged")
