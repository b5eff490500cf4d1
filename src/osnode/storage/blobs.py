"""Content-addressed blob stores: the ``BlobStore`` protocol and its local-folder implementation.

Every file's bytes live once, under their SHA-256, whatever number of records and versions point
at them. A blob is streamed into a temporary place (hashed and counted as it goes, never held in
memory), checked, and only then made visible under its hash; a crash at any moment leaves either
no blob or a whole one. Two implementations keep exactly these guarantees: ``LocalBlobStore`` (a
folder, the embedded default: fsync then an atomic rename) and ``S3BlobStore`` (storage/s3_blobs.py:
a multipart upload to a temporary key, completed and copied to the hash key only once verified).

Callers use the protocol only. Code that needs a file on disk (DuckDB, h5py, tar readers) asks for
``local_path``: the file itself for the folder, a verified copy in a bounded cache for S3.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from ..domain.errors import InvalidInput, TooLarge

CHUNK = 1024 * 1024
# A blob's name: exactly 64 lowercase hex digits (fullmatch: "$" would let a trailing newline through).
SHA256 = re.compile(r"[0-9a-f]{64}")
# Folder names under a store's root (local) or prefix (S3), beside the blobs' two-level fan-out.
PARTIAL = "partial"  # tus uploads in progress: acknowledged bytes, kept across restarts
QUARANTINE = "quarantine"  # damaged bytes moved aside by fixity, never served again


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int


def check_sha256(sha256: str) -> str:
    # The one door to a blob's name: nothing but a SHA-256 may become a path or an object key.
    if not SHA256.fullmatch(sha256):
        raise InvalidInput(f"'{sha256[:80]}' is not a SHA-256 in lowercase hex (64 digits)")
    return sha256


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in ``path`` durable (the directory entry itself is fsynced)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def quarantine_stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")


# -- the protocol -----------------------------------------------------------------------------------


class BlobWriter(Protocol):
    """One blob being written. Feed it with ``write``, then ``commit`` (verify, make visible) or ``abort``."""

    def write(self, chunk: bytes) -> None: ...
    def commit(self) -> StoredBlob: ...
    def abort(self) -> None: ...


class PieceSink(Protocol):
    """One tus piece being written at the acknowledged offset: ``keep`` makes it durable, ``discard`` drops it."""

    def write(self, data: bytes) -> None: ...
    def keep(self) -> None: ...
    def discard(self) -> None: ...


class Partials(Protocol):
    """The bytes of resumable uploads in progress (services/uploads.py keeps the offsets in the catalog)."""

    def create(self, upload_id: str) -> None: ...
    def piece(self, upload_id: str, start: int) -> PieceSink:
        """A sink for bytes from ``start`` on; whatever lies past ``start`` is dropped. FileNotFoundError if gone."""
        ...

    def size(self, upload_id: str) -> int: ...
    def chunks(self, upload_id: str) -> Iterator[bytes]: ...
    def finish(self, upload_id: str, sha256: str, size: int) -> None:
        """Make the whole upload, already verified to hash to ``sha256``, the blob ``sha256``; drop the partial."""
        ...

    def drop(self, upload_id: str) -> None: ...
    def leftovers(self) -> Iterator[tuple[str, float]]:
        """(upload id, last change as a POSIX time) of every partial upload held."""
        ...


class BlobStore(Protocol):
    partials: Partials

    def describe(self) -> str: ...
    def exists(self, sha256: str) -> bool: ...
    def size(self, sha256: str) -> int | None:
        """The stored size, or None when the blob is missing."""
        ...

    def writer(self, max_bytes: int | None = None, expected_sha256: str | None = None) -> BlobWriter: ...
    def put_stream(
        self, chunks: Iterable[bytes], max_bytes: int | None = None, expected_sha256: str | None = None
    ) -> StoredBlob: ...
    def put_file(self, source: Path, max_bytes: int | None = None) -> StoredBlob: ...
    def adopt_file(self, source: Path, sha256: str) -> StoredBlob:
        """Store a local file already verified to hash to ``sha256``, consuming it (a fetch's temp file)."""
        ...

    def open(self, sha256: str) -> BinaryIO: ...
    def read_chunks(self, sha256: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes from ``start`` up to ``end`` (exclusive; None: to the end), streamed."""
        ...

    def read_bytes(self, sha256: str) -> bytes: ...
    def hash_of(self, sha256: str) -> str:
        """Re-hash a stored blob (fixity): the digest of the bytes the store gives back now."""
        ...

    def stored(self) -> Iterator[str]: ...
    def clean_tmp(self, idle_seconds: float = 0.0) -> int: ...
    def quarantine(self, sha256: str) -> str:
        """Move damaged bytes out of the store (never served again); says where they went."""
        ...

    def local_path(self, sha256: str) -> AbstractContextManager[Path]:
        """A file on this machine holding the blob's bytes, valid inside the ``with`` block."""
        ...

    def local_file(self, sha256: str) -> Path | None:
        """The blob's own file when the store is a local folder (served with sendfile), else None."""
        ...

    def presigned_url(self, sha256: str, filename: str, mimetype: str | None) -> str | None:
        """A short-lived URL the client may fetch the bytes from directly, when the store offers them."""
        ...

    @property
    def staging_dir(self) -> Path:
        """A local folder for bytes on their way in (a peer's blob fetched with resume)."""
        ...


class StreamingMixin:
    """What both stores do the same way, on top of ``writer`` and ``read_chunks``."""

    def writer(self, max_bytes: int | None = None, expected_sha256: str | None = None) -> BlobWriter:
        raise NotImplementedError

    def read_chunks(self, sha256: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        raise NotImplementedError

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

    def read_bytes(self, sha256: str) -> bytes:
        return b"".join(self.read_chunks(sha256))

    def hash_of(self, sha256: str) -> str:
        digest = hashlib.sha256()
        for chunk in self.read_chunks(sha256):
            digest.update(chunk)
        return digest.hexdigest()


class SizeCheck:
    """The running hash, size and limit of a blob being written, shared by both stores' writers."""

    def __init__(self, max_bytes: int | None, expected_sha256: str | None) -> None:
        self.max = max_bytes
        self.expected = expected_sha256.lower() if expected_sha256 else None
        self.hash = hashlib.sha256()
        self.size = 0

    def add(self, chunk: bytes) -> bool:
        """Count ``chunk`` in; False when it takes the blob past the limit."""
        self.size += len(chunk)
        if self.max is not None and self.size > self.max:
            return False
        self.hash.update(chunk)
        return True

    def too_large(self) -> TooLarge:
        return TooLarge(f"the upload is larger than this node's limit of {self.max} bytes")

    def verified(self) -> str:
        """The digest, after checking it against the client's declared one (a damaged transfer)."""
        digest = self.hash.hexdigest()
        if self.expected and self.expected != digest:
            raise InvalidInput(f"the upload's SHA-256 is {digest}, not the declared {self.expected}: transfer damaged")
        return digest


# -- the local folder -------------------------------------------------------------------------------


class LocalBlobWriter:
    def __init__(self, store: LocalBlobStore, max_bytes: int | None, expected_sha256: str | None) -> None:
        self._store = store
        self._check = SizeCheck(max_bytes, expected_sha256)
        fd, name = tempfile.mkstemp(dir=store.tmp_dir, prefix="upload-")
        self._path = Path(name)
        self._file: BinaryIO | None = os.fdopen(fd, "wb", buffering=0)

    def write(self, chunk: bytes) -> None:
        assert self._file is not None, "writer already closed"
        if not self._check.add(chunk):
            self.abort()
            raise self._check.too_large()
        view = memoryview(chunk)
        while view:
            view = view[self._file.write(view) :]

    def commit(self) -> StoredBlob:
        assert self._file is not None, "writer already closed"
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        # The hash was taken of exactly the bytes handed to the disk; checking the size on disk
        # catches a short write, and the client's declared digest catches a damaged transfer.
        if self._path.stat().st_size != self._check.size:
            self._discard()
            raise OSError(f"short write: expected {self._check.size} bytes on disk")
        try:
            digest = self._check.verified()
        except InvalidInput:
            self._discard()
            raise
        self._store.place(self._path, digest)
        return StoredBlob(digest, self._check.size)

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._discard()

    def _discard(self) -> None:
        self._path.unlink(missing_ok=True)


class LocalPiece:
    def __init__(self, path: Path, start: int) -> None:
        self.start = start
        self._file = path.open("r+b")
        # Whatever lies past the acknowledged offset was never acknowledged: drop it.
        self._file.truncate(start)
        self._file.seek(start)

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def keep(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()

    def discard(self) -> None:
        if not self._file.closed:
            self._file.truncate(self.start)
            self._file.close()


class LocalPartials:
    """One file per upload under ``partial`` (next to ``tmp``, on the same file system, so the finished
    file is renamed into place, never copied; not in ``tmp`` itself, emptied at every start)."""

    def __init__(self, store: LocalBlobStore) -> None:
        self._store = store
        self.folder = store.root / PARTIAL
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, upload_id: str) -> Path:
        return self.folder / upload_id

    def create(self, upload_id: str) -> None:
        path = self._path(upload_id)
        with path.open("wb") as handle:
            os.fsync(handle.fileno())
        fsync_dir(path.parent)

    def piece(self, upload_id: str, start: int) -> PieceSink:
        return LocalPiece(self._path(upload_id), start)

    def size(self, upload_id: str) -> int:
        return self._path(upload_id).stat().st_size

    def chunks(self, upload_id: str) -> Iterator[bytes]:
        with self._path(upload_id).open("rb") as handle:
            yield from iter(lambda: handle.read(CHUNK), b"")

    def finish(self, upload_id: str, sha256: str, size: int) -> None:
        self._store.place(self._path(upload_id), sha256)

    def drop(self, upload_id: str) -> None:
        self._path(upload_id).unlink(missing_ok=True)

    def leftovers(self) -> Iterator[tuple[str, float]]:
        for path in self.folder.iterdir():
            yield path.name, path.stat().st_mtime


class LocalBlobStore(StreamingMixin):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp_dir = root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.partials = LocalPartials(self)

    def describe(self) -> str:
        return f"folder {self.root}"

    @property
    def staging_dir(self) -> Path:
        return self.tmp_dir

    def path(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def place(self, source: Path, sha256: str) -> None:
        """Rename a verified file into place (atomic), or drop it when the same bytes are stored already."""
        final = self.path(sha256)
        if final.exists():
            source.unlink(missing_ok=True)  # same bytes already stored: dedup
            return
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, final)
        fsync_dir(final.parent)

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def size(self, sha256: str) -> int | None:
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            return None

    def writer(self, max_bytes: int | None = None, expected_sha256: str | None = None) -> BlobWriter:
        return LocalBlobWriter(self, max_bytes, expected_sha256)

    def adopt_file(self, source: Path, sha256: str) -> StoredBlob:
        size = source.stat().st_size
        self.place(source, sha256)
        return StoredBlob(sha256, size)

    def open(self, sha256: str) -> BinaryIO:
        return self.path(sha256).open("rb")

    def read_chunks(self, sha256: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        with self.open(sha256) as handle:
            handle.seek(start)
            left = None if end is None else max(0, end - start)
            while left is None or left > 0:
                chunk = handle.read(CHUNK if left is None else min(CHUNK, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk

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

    def quarantine(self, sha256: str) -> str:
        path = self.path(sha256)
        if not path.is_file():
            return "nothing to move aside"
        folder = self.root / QUARANTINE
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{sha256}.{quarantine_stamp()}"
        os.replace(path, target)
        return f"moved aside to {target.relative_to(self.root)}"

    @contextmanager
    def local_path(self, sha256: str) -> Iterator[Path]:
        yield self.path(sha256)

    def local_file(self, sha256: str) -> Path | None:
        return self.path(sha256)

    def presigned_url(self, sha256: str, filename: str, mimetype: str | None) -> str | None:
        return None
