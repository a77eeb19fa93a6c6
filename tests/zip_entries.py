"""Edits of a zip file's central directory, where zipfile reads each member's flags and
sizes from: damage and forgeries that the readers of model files and archives refuse."""

from __future__ import annotations

import struct

#: Offsets in a central directory entry ("PK\x01\x02").
FLAGS, COMPRESSED_SIZE, SIZE = 8, 20, 24


def patch_entry(path, member: str, offset: int, value: int, fmt: str = "<I") -> None:
    """Overwrite one field of ``member``'s central directory entry in the file ``path``."""
    data = bytearray(path.read_bytes())
    start = 0
    while True:
        start = data.index(b"PK\x01\x02", start)
        name_length = struct.unpack_from("<H", data, start + 28)[0]
        if data[start + 46:start + 46 + name_length].decode() == member:
            struct.pack_into(fmt, data, start + offset, value)
            path.write_bytes(bytes(data))
            return
        start += 4
