"""SWHID computation, byte for byte as Software Heritage (and, for git objects, git) computes it.

Every object's identifier is ``sha1(b"<type> <length>\\0" + manifest)``: the manifest of a content is its bytes,
of a directory the git tree format, of a revision/release the git commit/tag body, of a snapshot the format
``swh.model.git_objects.snapshot_git_object`` defines. Written by hand because swh.model is GPL and slow on large
trees; the tests check every function here against swh.model and git.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote, unquote_to_bytes

# Object type -> the header name git (and SWH) hash it under.
GIT_TYPES = {"cnt": b"blob", "dir": b"tree", "rev": b"commit", "rel": b"tag", "snp": b"snapshot"}
TYPE_OF_GIT = {"blob": "cnt", "tree": "dir", "commit": "rev", "tag": "rel"}

# Directory entry permissions (octal), as git and SWH write them.
PERM_FILE = 0o100644
PERM_EXEC = 0o100755
PERM_LINK = 0o120000
PERM_DIR = 0o040000
PERM_SUBMODULE = 0o160000
PERMS = {PERM_FILE, PERM_EXEC, PERM_LINK, PERM_DIR, PERM_SUBMODULE}
# What an entry's permission says its target is.
ENTRY_KIND = {PERM_FILE: "cnt", PERM_EXEC: "cnt", PERM_LINK: "cnt", PERM_DIR: "dir", PERM_SUBMODULE: "rev"}

# Snapshot branch target types (swh.model's names).
BRANCH_TYPES = ("content", "directory", "revision", "release", "snapshot", "alias", "dangling")
BRANCH_TYPE_OF = {"cnt": "content", "dir": "directory", "rev": "revision", "rel": "release", "snp": "snapshot"}
SWH_TYPE_OF_BRANCH = {v: k for k, v in BRANCH_TYPE_OF.items()}

QUALIFIERS = ("origin", "visit", "anchor", "path", "lines")


def object_id(kind: str, manifest: bytes) -> str:
    """The hex sha1_git of an object whose manifest is ``manifest``."""
    digest = hashlib.sha1(GIT_TYPES[kind] + b" %d\0" % len(manifest))
    digest.update(manifest)
    return digest.hexdigest()


def content_id(data: bytes) -> str:
    return object_id("cnt", data)


@dataclass(frozen=True)
class Entry:
    """One directory entry: raw name bytes, git permission and target id (hex)."""

    name: bytes
    perms: int
    target: str

    @property
    def kind(self) -> str:
        return ENTRY_KIND[self.perms]

    def sort_key(self) -> bytes:
        # git sorts a subdirectory as if its name ended in "/".
        return self.name + b"/" if self.perms == PERM_DIR else self.name


def check_entry_name(name: bytes) -> None:
    if not name or name in (b".", b"..") or b"/" in name or b"\0" in name:
        raise ValueError(f"{name!r} is not a valid directory entry name")


def directory_manifest(entries: Iterable[Entry]) -> bytes:
    parts = []
    for entry in sorted(entries, key=Entry.sort_key):
        parts.append(b"%o %s\0" % (entry.perms, entry.name) + bytes.fromhex(entry.target))
    return b"".join(parts)


def directory_id(entries: Iterable[Entry]) -> str:
    return object_id("dir", directory_manifest(entries))


def parse_tree(raw: bytes) -> list[Entry]:
    """The entries of a git tree object body."""
    entries, pos = [], 0
    while pos < len(raw):
        space = raw.index(b" ", pos)
        nul = raw.index(b"\0", space)
        perms = int(raw[pos:space], 8)
        entries.append(Entry(raw[space + 1 : nul], perms, raw[nul + 1 : nul + 21].hex()))
        pos = nul + 21
    return entries


@dataclass
class Commit:
    """The parsed headers of a git commit or tag body (kept raw: the raw bytes are what is hashed)."""

    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    message: bytes = b""

    def get(self, key: bytes) -> bytes | None:
        return next((v for k, v in self.headers if k == key), None)

    def all(self, key: bytes) -> list[bytes]:
        return [v for k, v in self.headers if k == key]


def parse_commit(raw: bytes) -> Commit:
    """Headers (continuation lines, e.g. gpgsig, folded back) and message of a commit or tag body."""
    head, sep, message = raw.partition(b"\n\n")
    parsed = Commit(message=message if sep else b"")
    for line in head.split(b"\n") if head else []:
        if line.startswith(b" ") and parsed.headers:
            key, value = parsed.headers[-1]
            parsed.headers[-1] = (key, value + b"\n" + line[1:])
        else:
            key, _, value = line.partition(b" ")
            parsed.headers.append((key, value))
    return parsed


def parse_person(value: bytes) -> tuple[bytes, int | None, bytes]:
    """``Name <email> 1700000000 +0100`` -> (b"Name <email>", timestamp, b"+0100")."""
    person, _, rest = value.rpartition(b"> ")
    if not person:
        return value, None, b""
    stamp, _, offset = rest.partition(b" ")
    try:
        return person + b">", int(stamp), offset
    except ValueError:
        return person + b">", None, offset


def snapshot_manifest(branches: dict[bytes, tuple[str, bytes] | None]) -> bytes:
    """``branches``: name -> (target_type, target) or None (dangling). Object targets are raw 20-byte ids,
    alias targets the other branch's name."""
    parts = []
    for name in sorted(branches):
        target = branches[name]
        kind, value = ("dangling", b"") if target is None else target
        if kind not in BRANCH_TYPES:
            raise ValueError(f"unknown branch target type {kind!r}")
        parts.append(kind.encode() + b" " + name + b"\0" + b"%d:" % len(value) + value)
    return b"".join(parts)


def snapshot_id(branches: dict[bytes, tuple[str, bytes] | None]) -> str:
    return object_id("snp", snapshot_manifest(branches))


# -- identifiers with qualifiers -----------------------------------------------------------------


@dataclass(frozen=True)
class SWHID:
    kind: str
    hex: str
    qualifiers: tuple[tuple[str, str], ...] = ()

    @property
    def core(self) -> str:
        return f"swh:1:{self.kind}:{self.hex}"

    def qualifier(self, name: str) -> str | None:
        return next((v for k, v in self.qualifiers if k == name), None)

    def with_qualifiers(self, **values: str | None) -> SWHID:
        merged = dict(self.qualifiers)
        merged.update({k: v for k, v in values.items() if v is not None})
        return SWHID(self.kind, self.hex, tuple((k, merged[k]) for k in QUALIFIERS if k in merged))

    def __str__(self) -> str:
        return self.core + "".join(f";{k}={_escape(k, v)}" for k, v in self.qualifiers)


def _escape(name: str, value: str) -> str:
    # Qualifier values may not hold ';' (the separator) nor '%' unescaped; paths and origins are
    # percent-encoded as SWH does, keeping the characters URLs and paths use.
    if name in ("origin", "path"):
        return quote(value.encode("utf-8", "surrogateescape"), safe="/:@!$&'()*+,=-._~")
    return value


def core(kind: str, hex_id: str) -> SWHID:
    return SWHID(kind, hex_id)


def parse_swhid(text: str) -> SWHID:
    """Parse ``swh:1:<type>:<40 hex>[;qualifier=value]*``; raises ValueError with a readable reason."""
    head, *rest = text.strip().split(";")
    parts = head.split(":")
    if len(parts) != 4 or parts[0] != "swh" or parts[1] != "1":
        raise ValueError(f"'{text}' is not a SWHID (expected swh:1:<type>:<40 hex digits>)")
    kind, hex_id = parts[2], parts[3]
    if kind not in GIT_TYPES:
        raise ValueError(f"'{kind}' is not a SWHID object type (cnt, dir, rev, rel, snp)")
    if len(hex_id) != 40 or any(c not in "0123456789abcdef" for c in hex_id):
        raise ValueError(f"'{hex_id}' is not a 40-digit lowercase hexadecimal sha1")
    qualifiers: dict[str, str] = {}
    for item in rest:
        key, sep, value = item.partition("=")
        if not sep or key not in QUALIFIERS or not value:
            raise ValueError(f"'{item}' is not a SWHID qualifier (origin, visit, anchor, path, lines)")
        if key in qualifiers:
            raise ValueError(f"the qualifier '{key}' appears twice")
        # Paths may name bytes that are not UTF-8: they round-trip as surrogate escapes.
        qualifiers[key] = (
            unquote_to_bytes(value).decode("utf-8", "surrogateescape") if key in ("origin", "path") else value
        )
    for key in ("visit", "anchor"):
        if key in qualifiers:
            parse_swhid(qualifiers[key])
    if "lines" in qualifiers:
        parse_lines(qualifiers["lines"])
    return SWHID(kind, hex_id, tuple((k, qualifiers[k]) for k in QUALIFIERS if k in qualifiers))


def parse_lines(value: str) -> tuple[int, int]:
    """``12`` or ``12-20`` -> (first, last), 1-based and inclusive."""
    first, _, last = value.partition("-")
    try:
        start, end = int(first), int(last or first)
    except ValueError:
        raise ValueError(f"'{value}' is not a line range (e.g. 12 or 12-20)") from None
    if start < 1 or end < start:
        raise ValueError(f"'{value}' is not a line range (e.g. 12 or 12-20)")
    return start, end
