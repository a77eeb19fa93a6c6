"""The room left under the cgroup memory limits that hold this process.

The operating system's available memory ignores a cgroup's limit: a fit over it is killed
by the kernel instead of being refused with a clear message. A container sees its own
cgroup at :data:`CGROUP_ROOT`; a batch job (SLURM, a systemd slice) sits in a cgroup below
it, named in :data:`MEMBERSHIP` (``/proc/self/cgroup``), with its limit there or on any
cgroup above it. Every level from the process's cgroup up to the root is read, for cgroup
v2 (``memory.max`` and ``memory.current``) and v1 (``memory.limit_in_bytes`` and
``memory.usage_in_bytes`` under ``memory/``), and the smallest room counts. The usage
leaves out the inactive page cache the kernel reclaims before it kills (``inactive_file``
of ``memory.stat``, as ``docker stats`` and the kubelet count it). A limit of ``max``
and a missing, unreadable or garbled file mean no limit there: these are system files,
only ever parsed as integers.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

__all__ = ["CGROUP_ROOT", "MEMBERSHIP", "cgroup_room"]

CGROUP_ROOT = Path("/sys/fs/cgroup")
"""Where the cgroup file systems are mounted."""

MEMBERSHIP = Path("/proc/self/cgroup")
"""The cgroups this process belongs to, one ``id:controllers:path`` line each."""

# (folder under the root, limit file, usage file, memory.stat key of the reclaimable
# inactive page cache) of cgroup v2, then v1.
_VERSIONS = (("", "memory.max", "memory.current", "inactive_file"),
             ("memory", "memory.limit_in_bytes", "memory.usage_in_bytes",
              "total_inactive_file"))
# A cgroup figure is a decimal count of bytes: anything else (v2's "max", an empty or
# garbled file) is no figure. 20 digits hold any 64-bit value.
_NUMBER = re.compile(r"[0-9]{1,20}")


def cgroup_room(root: Path | None = None, membership: Path | None = None) -> int | None:
    """Bytes left under the tightest readable cgroup memory limit over this process, or
    ``None`` where no level has a finite limit and a usage to read (module docstring).
    ``root`` and ``membership`` default to :data:`CGROUP_ROOT` and :data:`MEMBERSHIP`."""
    root = CGROUP_ROOT if root is None else root
    paths = _member_paths(MEMBERSHIP if membership is None else membership)
    rooms = []
    for version, (folder, limit_file, usage_file, cache_key) in enumerate(_VERSIONS):
        base = root / folder if folder else root
        for level in _levels(base, paths[version]):
            limit = _number(level / limit_file)
            usage = _number(level / usage_file)
            if limit is None or usage is None:
                continue
            cache = _stat(level / "memory.stat", cache_key)
            # A usage at the limit leaves no room: 0, which the memory check then refuses.
            rooms.append(max(0, limit - max(0, usage - cache)))
    return min(rooms, default=None)


def _member_paths(membership: Path) -> tuple[PurePosixPath, PurePosixPath]:
    """The process's v2 cgroup and its v1 memory cgroup, ``/`` where not named."""
    found = [PurePosixPath("/"), PurePosixPath("/")]
    try:
        with open(membership, encoding="ascii") as file:
            lines = file.read(1 << 16).splitlines()
    except (OSError, ValueError):
        return found[0], found[1]
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        path = PurePosixPath(parts[2])
        if not path.is_absolute() or ".." in path.parts:
            continue  # not a cgroup path; never read outside the root
        if parts[0] == "0" and parts[1] == "":
            found[0] = path
        elif "memory" in parts[1].split(","):
            found[1] = path
    return found[0], found[1]


def _levels(base: Path, path: PurePosixPath) -> list[Path]:
    """``base/path`` and every folder above it up to ``base``: a limit set on a parent
    cgroup holds its children too. A container that mounts its own cgroup as the root
    lacks the deeper folders, whose files then read as missing."""
    relative = path.relative_to("/")
    return [base / parent for parent in (relative, *relative.parents)]


def _number(path: Path) -> int | None:
    """The byte count a cgroup file holds, or ``None`` (missing, unreadable, ``max``,
    anything but digits)."""
    try:
        with open(path, encoding="ascii") as file:
            text = file.read(64).strip()
    except (OSError, ValueError):  # ValueError: UnicodeDecodeError of a garbled file
        return None
    return int(text) if _NUMBER.fullmatch(text) else None


def _stat(path: Path, key: str) -> int:
    """``key``'s byte count in a cgroup ``memory.stat`` file, 0 where it cannot be read
    (the usage is then taken whole: a smaller room, never a larger one)."""
    try:
        with open(path, encoding="ascii") as file:
            lines = file.read(1 << 16).splitlines()
    except (OSError, ValueError):
        return 0
    for line in lines:
        name, _, value = line.partition(" ")
        if name == key:
            value = value.strip()
            return int(value) if _NUMBER.fullmatch(value) else 0
    return 0
