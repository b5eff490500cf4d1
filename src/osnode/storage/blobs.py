"""Content-addressed blob store on a local folder.

Every file's bytes live once, under their SHA-256, whatever number of records and versions point
at them. A blob is streamed into a temporary file (hashed and counted as it goes, never held in
memory), fsynced, checked, and only then renamed into place; the rename is atomic, so a crash at
any moment leaves either no blob or a whole one. Leftover temporary files are removed at start.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..domain.errors import InvalidInput, TooLarge

CHUNK = 1024 * 1024
# A blob's name: exactly 64 lowercase hex digits (fullmatch: "$" would let a trailing newline through).
SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in ``path`` durable (the directory entry itself is fsynced)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobWriter:
    """One blob being written. Feed it with ``write``, then ``commit`` or ``abort``."""

    def __init__(self, store: BlobStore, max_bytes: int | None, expected_sha256: str | None) -> None:
        self._store = store
        self._max = max_bytes
        self._expected = expected_sha256.lower() if expected_sha256 else None
        self._hash = hashlib.sha256()
        self._size = 0
        fd, name = tempfile.mkstemp(dir=store.tmp_dir, prefix="upload-")
        self._path = Path(name)
        self._file: BinaryIO | None = os.fdopen(fd, "wb", buffering=0)

    def write(self, chunk: bytes) -> None:
        assert self._file is not None, "writer already closed"
        self._size += len(chunk)
        if self._max is not None and self._size > self._max:
            self.abort()
            raise TooLarge(f"the upload is larger than this node's limit of {self._max} bytes")
        self._hash.update(chunk)
        view = memoryview(chunk)
        while view:
            view = view[self._file.write(view) :]

    def commit(self) -> StoredBlob:
        assert self._file is not None, "writer already closed"
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        digest = self._hash.hexdigest()
        # The hash was taken of exactly the bytes handed to the disk; checking the size on disk
        # catches a short write, and the client's declared digest catches a damaged transfer.
        if self._path.stat().st_size != self._size:
            self._discard()
            raise OSError(f"short write: expected {self._size} bytes on disk")
        if self._expected and self._expected != digest:
            self._discard()
            raise InvalidInput(f"the upload's SHA-256 is {digest}, not the declared {self._expected}: transfer damaged")
        final = self._store.path(digest)
        if final.exists():
            self._discard()  # same bytes already stored: dedup
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._path, final)
            fsync_dir(final.parent)
        return StoredBlob(digest, self._size)

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._discard()

    def _discard(self) -> None:
        self._path.unlink(missing_ok=True)


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp_dir = root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        # The one door to a blob's file: nothing but a SHA-256 may become a path under the store.
        if not SHA256.fullmatch(sha256):
            raise InvalidInput(f"'{sha256[:80]}' is not a SHA-256 in lowercase hex (64 digits)")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def writer(self, max_bytes: int | None = None, expected_sha256: str | None = None) -> BlobWriter:
        return BlobWriter(self, max_bytes, expected_sha256)

    def put_stream(
        self, chunks: Iterable[bytes], max_bytes: int | None = None, expected_sha256: str | None = None
    ) -> StoredBlob:
        writer = self.writer(max_bytes, expected_sha256)
        try:
            for chunk in chunks:
                writer.write(chunk)
        except BaseException:
            writer.abort()
            raise
        return writer.commit()

    def put_file(self, source: Path, max_bytes: int | None = None) -> StoredBlob:
        with source.open("rb") as handle:
            return self.put_stream(iter(lambda: handle.read(CHUNK), b""), max_bytes)

    def open(self, sha256: str) -> BinaryIO:
        return self.path(sha256).open("rb")

    def read_chunks(self, sha256: str) -> Iterator[bytes]:
        with self.open(sha256) as handle:
            yield from iter(lambda: handle.read(CHUNK), b"")

    def hash_of(self, sha256: str) -> str:
        """Re-hash a stored blob (fixity): returns the digest of what is on disk now."""
        digest = hashlib.sha256()
        for chunk in self.read_chunks(sha256):
            digest.update(chunk)
        return digest.hexdigest()

    def stored(self) -> Iterator[str]:
        for path in self.root.glob("??/??/*"):
            if path.is_file():
                yield path.name

    def clean_tmp(self, idle_seconds: float = 0.0) -> int:
        """Remove uploads a crash left half-written; they were never visible. With ``idle_seconds``, only
        files untouched that long: another process sharing the store (a web worker, ``osnode worker``)
        may be writing the others right now."""
        removed = 0
        cutoff = time.time() - idle_seconds
        for leftover in self.tmp_dir.iterdir():
            try:
                if idle_seconds and leftover.stat().st_mtime > cutoff:
                    continue
            except FileNotFoundError:
                continue
            leftover.unlink(missing_ok=True)
            removed += 1
        return removed
