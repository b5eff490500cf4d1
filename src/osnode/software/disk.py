"""SWHIDs of a directory tree on disk, as ``swh.model.from_disk`` (and ``swh identify``) compute them.

Files are read once, in large chunks, straight into the sha1; symlinks are hashed as their target's bytes and
never followed; names stay bytes (a tree may hold names that are not UTF-8).
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..domain.errors import InvalidInput
from .swhid import PERM_DIR, PERM_EXEC, PERM_FILE, PERM_LINK, Entry, directory_manifest, object_id

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class FileRef:
    """Where a content's bytes are: a file on disk (or the link target, for a symlink)."""

    path: bytes
    size: int
    link: bytes | None = None


@dataclass
class ScannedTree:
    root: str
    directories: dict[str, list[Entry]] = field(default_factory=dict)
    contents: dict[str, FileRef] = field(default_factory=dict)
    # Every path (relative, bytes) with its entry, for lookups such as codemeta.json.
    files_by_path: dict[bytes, str] = field(default_factory=dict)


def hash_file(path: bytes | str, size: int) -> str:
    digest = hashlib.sha1(b"blob %d\0" % size)
    with open(path, "rb", buffering=0) as handle:
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        read = 0
        while True:
            count = handle.readinto(buffer)
            if not count:
                break
            digest.update(view[:count])
            read += count
    if read != size:
        raise InvalidInput(f"{os.fsdecode(path)} changed while it was read")
    return digest.hexdigest()


def scan_tree(root: Path, exclude_git: bool = False) -> ScannedTree:
    """Hash every file and directory under ``root``. Device files, FIFOs and sockets are refused."""
    if not root.is_dir():
        raise InvalidInput(f"{root} is not a directory")
    tree = ScannedTree(root="")
    tree.root = _scan(os.fsencode(root), b"", tree, exclude_git)
    return tree


def _scan(path: bytes, rel: bytes, tree: ScannedTree, exclude_git: bool) -> str:
    entries: list[Entry] = []
    with os.scandir(path) as listing:
        items = list(listing)
    for item in items:
        name = item.name
        if exclude_git and name == b".git" and not rel:
            continue
        child_rel = rel + b"/" + name if rel else name
        mode = item.stat(follow_symlinks=False).st_mode
        if stat.S_ISLNK(mode):
            target = os.readlink(item.path)
            oid = object_id("cnt", target)
            tree.contents.setdefault(oid, FileRef(item.path, len(target), link=target))
            entries.append(Entry(name, PERM_LINK, oid))
        elif stat.S_ISDIR(mode):
            entries.append(Entry(name, PERM_DIR, _scan(item.path, child_rel, tree, exclude_git)))
        elif stat.S_ISREG(mode):
            size = item.stat(follow_symlinks=False).st_size
            oid = hash_file(item.path, size)
            tree.contents.setdefault(oid, FileRef(item.path, size))
            tree.files_by_path[child_rel] = oid
            entries.append(Entry(name, PERM_EXEC if mode & 0o111 else PERM_FILE, oid))
        else:
            raise InvalidInput(f"{os.fsdecode(item.path)} is a device, FIFO or socket: not source code")
    oid = object_id("dir", directory_manifest(entries))
    tree.directories[oid] = entries
    return oid
