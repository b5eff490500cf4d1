"""Safe unpacking of source archives (tar.gz, tar.xz, tar.bz2, tar, zip).

Every member is checked *before* anything is written anywhere: no absolute paths, no ``..``, no links that
leave the tree, no hard links, device files or FIFOs, no duplicate entries, at most ``max_files`` members, and
declared sizes within limits. While unpacking (into a private temporary folder, never the blob store) the
actual sizes are checked against the declared ones and the total against the limit, which stops archive bombs
whose headers lie. Any violation raises ``UnsafeArchive`` and leaves nothing behind.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..domain.errors import InvalidInput

CHUNK = 1024 * 1024


class UnsafeArchive(InvalidInput):
    pass


@dataclass(frozen=True)
class Limits:
    max_files: int = 100_000
    max_total_bytes: int = 4 * 1024**3
    max_file_bytes: int = 2 * 1024**3
    max_ratio: int = 200  # uncompressed bytes per compressed byte, over the whole archive


ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tar", ".zip")


def is_archive(path: Path) -> bool:
    return path.is_file() and (zipfile.is_zipfile(path) or _is_tar(path))


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except (OSError, tarfile.TarError, EOFError):
        return False


@dataclass(frozen=True)
class Member:
    name: str  # normalized relative path
    kind: str  # file, dir, link
    size: int
    mode: int
    link: str = ""


def _normalize(raw: str, what: str) -> str:
    name = raw.replace("\\", "/") if what == "zip" else raw
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchive(f"the archive member '{raw}' has an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchive(f"the archive member '{raw}' climbs out of the tree ('..')")
    if "\0" in name:
        raise UnsafeArchive(f"the archive member '{raw}' has a NUL in its name")
    return "/".join(parts)


def _check_link(member: str, target: str) -> None:
    if target.startswith("/"):
        raise UnsafeArchive(f"the symlink '{member}' points to an absolute path ({target})")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(member), target))
    if resolved == ".." or resolved.startswith("../") or resolved.startswith("/"):
        raise UnsafeArchive(f"the symlink '{member}' points out of the tree ({target})")


def _tar_members(tar: tarfile.TarFile) -> list[Member]:
    members = []
    for info in tar:
        name = _normalize(info.name, "tar")
        if info.islnk():
            raise UnsafeArchive(f"the archive member '{info.name}' is a hard link; hard links are refused")
        if info.ischr() or info.isblk() or info.isfifo() or info.isdev():
            raise UnsafeArchive(f"the archive member '{info.name}' is a device file or FIFO")
        if info.issym():
            _check_link(name, info.linkname)
            members.append(Member(name, "link", 0, 0o777, info.linkname))
        elif info.isdir():
            members.append(Member(name, "dir", 0, info.mode))
        elif info.isreg():
            members.append(Member(name, "file", info.size, info.mode))
        else:
            raise UnsafeArchive(f"the archive member '{info.name}' has an unsupported type")
    return members


def _zip_members(archive: zipfile.ZipFile) -> list[Member]:
    members = []
    for info in archive.infolist():
        name = _normalize(info.filename, "zip")
        unix_mode = info.external_attr >> 16
        kind = stat.S_IFMT(unix_mode)
        if kind and kind not in (stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK):
            raise UnsafeArchive(f"the archive member '{info.filename}' is a device file or FIFO")
        if kind == stat.S_IFLNK:
            target = archive.read(info).decode("utf-8", "surrogateescape") if info.file_size < 4096 else ""
            if not target:
                raise UnsafeArchive(f"the symlink '{info.filename}' has no usable target")
            _check_link(name, target)
            members.append(Member(name, "link", 0, 0o777, target))
        elif info.is_dir():
            members.append(Member(name, "dir", 0, unix_mode or 0o755))
        else:
            members.append(Member(name, "file", info.file_size, unix_mode or 0o644))
    return members


def inspect(path: Path, limits: Limits) -> list[Member]:
    """Every member, checked; raises ``UnsafeArchive`` at the first problem."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                members = _zip_members(archive)
        else:
            with tarfile.open(path, "r:*") as tar:
                members = _tar_members(tar)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        if isinstance(exc, UnsafeArchive):
            raise
        raise UnsafeArchive(f"{path.name} is not a readable archive: {exc}") from None
    _check_set(path, members, limits)
    return members


def _check_set(path: Path, members: list[Member], limits: Limits) -> None:
    if len(members) > limits.max_files:
        raise UnsafeArchive(f"the archive has {len(members)} entries, more than the limit of {limits.max_files}")
    seen: dict[str, str] = {}
    total = 0
    for member in members:
        if not member.name:
            if member.kind == "dir":
                continue
            raise UnsafeArchive("the archive has a member with an empty name")
        if member.name in seen and not (member.kind == "dir" and seen[member.name] == "dir"):
            raise UnsafeArchive(f"the archive has '{member.name}' more than once")
        seen[member.name] = member.kind
        if member.size > limits.max_file_bytes:
            raise UnsafeArchive(
                f"'{member.name}' declares {member.size} bytes, over the limit of {limits.max_file_bytes}"
            )
        total += member.size
    if total > limits.max_total_bytes:
        raise UnsafeArchive(f"the archive declares {total} bytes in all, over the limit of {limits.max_total_bytes}")
    compressed = max(path.stat().st_size, 1)
    if total > 1024 * 1024 and total / compressed > limits.max_ratio:
        raise UnsafeArchive(
            f"the archive expands {total / compressed:.0f}-fold, over the limit of {limits.max_ratio} (archive bomb?)"
        )
    # A file and a directory (or a link) of the same path, or a member under a link or file.
    kinds = {m.name: m.kind for m in members if m.name}
    for name in kinds:
        parent = posixpath.dirname(name)
        while parent:
            if kinds.get(parent, "dir") != "dir":
                raise UnsafeArchive(f"'{name}' lies under '{parent}', which is not a directory")
            parent = posixpath.dirname(parent)
    links = {m.name: m.link for m in members if m.kind == "link"}
    for name, target in links.items():
        _resolve_inside(name, posixpath.dirname(name), target, links, 0)


MAX_LINK_DEPTH = 40


def _resolve_inside(member: str, start: str, target: str, links: dict[str, str], depth: int) -> str:
    """Where a symlink lands once the links on its way are followed too, as the file system would; a link is
    refused when any step leaves the tree (``a -> d/c/..`` with ``d/c -> ..`` looks inside but is not)."""
    if depth > MAX_LINK_DEPTH:
        raise UnsafeArchive(f"the symlink '{member}' goes through too many links (a loop?)")
    parts = [p for p in start.split("/") if p]
    for part in target.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise UnsafeArchive(f"the symlink '{member}' points out of the tree ({target})")
            parts.pop()
            continue
        parts.append(part)
        here = "/".join(parts)
        if here in links:
            parts = [
                p
                for p in _resolve_inside(member, posixpath.dirname(here), links[here], links, depth + 1).split("/")
                if p
            ]
    return "/".join(parts)


class Unpacked:
    """The checked contents of an archive in a private temporary folder; ``root`` is the tree to archive
    (the single top-level folder when there is one, as in ``name-1.0/...``). Deleted on exit."""

    def __init__(self, path: Path, limits: Limits | None = None) -> None:
        self.path = path
        self.limits = limits or Limits()
        self.tmp = Path(tempfile.mkdtemp(prefix="osnode-unpack-"))
        self.root = self.tmp / "tree"

    def __enter__(self) -> Unpacked:
        try:
            members = inspect(self.path, self.limits)
            self.root.mkdir()
            _extract(self.path, members, self.root, self.limits)
            tops = list(self.root.iterdir())
            if len(tops) == 1 and tops[0].is_dir() and not tops[0].is_symlink():
                self.root = tops[0]
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def _extract(path: Path, members: list[Member], root: Path, limits: Limits) -> None:
    by_name = {m.name: m for m in members if m.name}
    budget = [limits.max_total_bytes]
    for member in sorted(by_name.values(), key=lambda m: m.name):
        target = root / member.name
        if member.kind == "dir":
            target.mkdir(parents=True, exist_ok=True)
        elif member.kind == "link":
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(member.link, target)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                member = by_name.get(_normalize(info.filename, "zip"))
                if member is not None and member.kind == "file":
                    try:
                        with archive.open(info) as source:
                            _copy(source, root / member.name, member, budget)
                    except (zipfile.BadZipFile, EOFError, OSError) as exc:
                        # zipfile stops at the declared size and then finds the CRC wrong.
                        raise UnsafeArchive(
                            f"'{member.name}' does not hold what its header declares ({exc}): damaged or a bomb"
                        ) from None
    else:
        try:
            with tarfile.open(path, "r:*") as tar:
                for info in tar:
                    member = by_name.get(_normalize(info.name, "tar"))
                    if member is not None and member.kind == "file" and info.isreg():
                        source = tar.extractfile(info)
                        assert source is not None
                        _copy(source, root / member.name, member, budget)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise UnsafeArchive(f"{path.name} is damaged: {exc}") from None


def _copy(source, target: Path, member: Member, budget: list[int]) -> None:  # type: ignore[no-untyped-def]
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with target.open("wb") as out:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            budget[0] -= len(chunk)
            if written > member.size:
                raise UnsafeArchive(f"'{member.name}' holds more bytes than it declares (archive bomb?)")
            if budget[0] < 0:
                raise UnsafeArchive("the archive expands beyond the size limit (archive bomb?)")
            out.write(chunk)
    if written != member.size:
        raise UnsafeArchive(f"'{member.name}' holds {written} bytes, not the {member.size} it declares")
    # Only the executable bit matters to a SWHID; keep nothing else from the archive's modes.
    target.chmod(0o755 if member.mode & 0o111 else 0o644)
