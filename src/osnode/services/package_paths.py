"""Paths that a package, archive or manifest names, held inside that package.

A bag, a deposit folder or a manifest is written by someone else: a name in it like
``../../etc/hostname``, ``/etc/hostname`` or a symlink placed in the package would make the node
read (and ingest, or hash and report) a file of the machine it runs on. Every path the node reads
from such a package goes through ``inside``; every package is first checked by ``no_links`` so
that no library reading it (bagit hashing the payload, for one) follows a link out either.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..domain.errors import InvalidInput


def _refuse(name: str, why: str) -> InvalidInput:
    # The name as given (shortened), never anything read from where it points.
    return InvalidInput(f"refused, nothing imported: the path '{name[:200]}' {why}")


def inside(root: Path, name: str) -> Path:
    """``root / name`` when ``name`` is a relative path that stays inside ``root``, passes through
    no symlink and names a regular file; else ``InvalidInput``."""
    if not isinstance(name, str) or not name:
        raise _refuse(str(name), "is not a path")
    if "\x00" in name or "\\" in name:
        raise _refuse(name, "holds a NUL or a backslash")
    if PurePosixPath(name).is_absolute() or PureWindowsPath(name).drive or name.startswith("~"):
        raise _refuse(name, "is absolute; a package may only name files inside itself")
    parts = PurePosixPath(name).parts
    if any(part in ("..", ".") for part in parts):
        raise _refuse(name, "leaves its folder ('..'); a package may only name files inside itself")
    current = root
    for part in parts:
        current = current / part
        try:
            mode = current.lstat().st_mode
        except OSError:
            raise _refuse(name, "names no file in the package") from None
        if stat.S_ISLNK(mode):
            raise _refuse(name, "passes through a symbolic link; links are not followed out of a package")
    if not stat.S_ISREG(mode):
        raise _refuse(name, "is not a regular file")
    # Belt and braces: whatever the checks above missed (a link swapped in since), the resolved
    # path must still be under the resolved root.
    if not current.resolve().is_relative_to(root.resolve()):
        raise _refuse(name, "resolves outside the package")
    return current


def no_links(root: Path) -> None:
    """Refuse a package that holds a symbolic link, a device, a FIFO or a socket anywhere: reading
    one would read outside the package (or block forever)."""
    if root.is_symlink():
        raise _refuse(root.name, "is a symbolic link, not a package folder")
    for folder, dirs, names in os.walk(root, followlinks=False):
        for name in [*dirs, *names]:
            path = Path(folder) / name
            mode, where = path.lstat().st_mode, str(path.relative_to(root))
            if stat.S_ISLNK(mode):
                raise _refuse(where, "is a symbolic link; links are not followed out of a package")
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise _refuse(where, "is a device, FIFO or socket, not a file")
