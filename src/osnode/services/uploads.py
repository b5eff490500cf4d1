"""Resumable uploads (tus 1.0): a file arrives in pieces, over as many connections as it takes.

The bytes received so far live in the blob store's partials (``node.blobs.partials``: one file per
upload in the local folder, one object per piece on S3; storage/blobs.py). Each piece is written,
made durable, and only then acknowledged by moving ``offset`` in the catalog: a crash, or an object
store that goes down mid-piece, loses at most a piece the client was never told had arrived. Bytes
past the acknowledged offset are dropped before the next piece is written. On the last byte the
upload is hashed, checked, made the blob of its SHA-256 (renamed, or assembled on the object store)
and attached to the draft like any upload.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, delete, select, update

from ..domain.access import Viewer
from ..domain.errors import Conflict, InvalidInput, NodeError, NotFound, TooLarge, Unauthorized
from ..domain.records import FileEntry, Role
from ..storage.blobs import StoredBlob
from ..storage.uploads import uploads
from . import deposit
from .jobs import Job
from .node import Node, failpoint, utcnow

# An upload nobody touches for this long is dropped with its bytes (the expiration extension).
EXPIRY = timedelta(hours=24)


class ChecksumMismatch(NodeError):
    """tus checksum extension: the piece's bytes do not match its Upload-Checksum (status 460)."""

    status = 460
    title = "Checksum Mismatch"


class UploadGone(NodeError):
    status = 410
    title = "Gone"


@dataclass(frozen=True)
class Upload:
    id: str
    version_id: str
    key: str
    owner_id: int
    length: int
    offset: int
    mimetype: str | None
    expected_sha256: str | None
    created: datetime
    expires: datetime

    @property
    def complete(self) -> bool:
        return self.offset >= self.length


def _upload(row: Row) -> Upload:
    expires = row.expires if row.expires.tzinfo else row.expires.replace(tzinfo=utcnow().tzinfo)
    return Upload(
        row.id,
        row.version_id,
        row.key,
        row.owner_id,
        row.length,
        row.offset,
        row.mimetype,
        row.expected_sha256,
        row.created,
        expires,
    )


# -- Upload-Metadata and Upload-Checksum headers -------------------------------------------------


def parse_metadata_header(value: str | None) -> dict[str, str]:
    """``key base64,key2 base64`` (tus creation extension) as a dict of text values."""
    result: dict[str, str] = {}
    if not value or not value.strip():
        return result
    for pair in value.split(","):
        parts = pair.strip().split(" ")
        key = parts[0]
        if not key or len(parts) > 2 or key in result:
            raise InvalidInput(f"Upload-Metadata is malformed near '{pair.strip()[:40]}'")
        raw = parts[1] if len(parts) == 2 else ""
        try:
            result[key] = base64.b64decode(raw, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise InvalidInput(f"Upload-Metadata value of '{key}' is not base64 of UTF-8 text") from None
    return result


def parse_checksum_header(value: str | None) -> bytes | None:
    """The SHA-256 digest an Upload-Checksum header declares for one piece."""
    if value is None:
        return None
    algorithm, _, encoded = value.strip().partition(" ")
    if algorithm.lower() != "sha256":
        raise InvalidInput(f"checksum algorithm '{algorithm}' is not supported; use sha256")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 32:
        raise InvalidInput("Upload-Checksum: the sha256 value is not base64 of 32 bytes")
    return digest


# The running SHA-256 of each upload's acknowledged bytes, so the last piece needs no re-read.
_hashes: dict[str, tuple[int, Any]] = {}


# -- use cases -----------------------------------------------------------------------------------


def create(
    node: Node,
    viewer: Viewer,
    version_id: str,
    key: str,
    length: int,
    mimetype: str | None = None,
    expected_sha256: str | None = None,
) -> Upload:
    if viewer.user_id is None:
        raise Unauthorized("depositing needs an API token")
    if length < 0:
        raise InvalidInput("Upload-Length must be a whole number of bytes")
    limit = node.settings.max_upload_bytes
    if length > limit:
        raise TooLarge(f"the upload ({length} bytes) is larger than this node's limit of {limit} bytes")
    if mimetype is not None and len(mimetype) > 200:
        raise InvalidInput("the file type is longer than 200 characters")
    if expected_sha256 is not None:
        expected_sha256 = expected_sha256.strip().lower()
        if len(expected_sha256) != 64 or any(c not in "0123456789abcdef" for c in expected_sha256):
            raise InvalidInput("the sha256 in Upload-Metadata is not 64 hex digits")
    deposit.check_draft_for_upload(node, version_id, key, viewer)
    upload_id = secrets.token_hex(16)
    node.blobs.partials.create(upload_id)
    now = utcnow()
    values = dict(
        id=upload_id,
        version_id=version_id,
        key=key,
        owner_id=viewer.user_id,
        length=length,
        offset=0,
        mimetype=mimetype,
        expected_sha256=expected_sha256,
        created=now,
        expires=now + EXPIRY,
    )
    with node.transaction() as tx:
        tx.execute(uploads.insert().values(**values))
    _hashes[upload_id] = (0, hashlib.sha256())
    return Upload(**values)  # type: ignore[arg-type]


def get(node: Node, upload_id: str, viewer: Viewer) -> Upload:
    """The upload, if it exists, has not expired, and ``viewer`` started it (or is an administrator)."""
    with node.engine.connect() as conn:
        row = conn.execute(select(uploads).where(uploads.c.id == upload_id)).first()
    if row is None or not (viewer.user_id == row.owner_id or viewer.role is Role.ADMIN):
        raise NotFound(f"no upload '{upload_id}'")
    upload = _upload(row)
    if upload.expires <= utcnow():
        raise UploadGone(f"upload '{upload_id}' expired at {upload.expires.isoformat()}; start it again")
    return upload


def terminate(node: Node, upload_id: str, viewer: Viewer) -> None:
    get(node, upload_id, viewer)
    _drop(node, upload_id)


def _drop(node: Node, upload_id: str) -> None:
    with node.transaction() as tx:
        tx.execute(delete(uploads).where(uploads.c.id == upload_id))
    node.blobs.partials.drop(upload_id)
    _hashes.pop(upload_id, None)


class PieceWriter:
    """One PATCH: bytes appended at the acknowledged offset; ``acknowledge`` makes them count."""

    def __init__(self, node: Node, upload: Upload, checksum: bytes | None) -> None:
        self.node = node
        self.upload = upload
        self.start = upload.offset
        self.received = 0
        self._checksum = checksum
        self._piece_hash = hashlib.sha256() if checksum is not None else None
        cached = _hashes.get(upload.id)
        self._file_hash = cached[1].copy() if cached and cached[0] == upload.offset else None
        try:
            # Whatever lies past the acknowledged offset was never acknowledged: the sink drops it.
            self._sink = node.blobs.partials.piece(upload.id, self.start)
        except FileNotFoundError:
            raise UploadGone(f"the bytes of upload '{upload.id}' are gone from this node; start it again") from None

    def write(self, data: bytes) -> None:
        if self.start + self.received + len(data) > self.upload.length:
            raise InvalidInput(f"the upload's bytes run past its Upload-Length of {self.upload.length}")
        self._sink.write(data)
        self.received += len(data)
        if self._piece_hash is not None:
            self._piece_hash.update(data)
        if self._file_hash is not None:
            self._file_hash.update(data)

    def acknowledge(self) -> Upload:
        """Check the piece's checksum, make it durable, and move the offset; returns the upload as it now is."""
        if self._piece_hash is not None and self._piece_hash.digest() != self._checksum:
            self.discard()
            raise ChecksumMismatch("the piece does not match its Upload-Checksum; it was discarded, send it again")
        try:
            self._sink.keep()
        except BaseException:
            self.discard()
            raise
        failpoint("tus.after_fsync")
        offset = self.start + self.received
        expires = utcnow() + EXPIRY
        with self.node.transaction() as tx:
            moved = tx.execute(
                update(uploads)
                .where(uploads.c.id == self.upload.id, uploads.c.offset == self.start)
                .values(offset=offset, expires=expires)
            ).rowcount
        if moved != 1:
            raise Conflict("the upload moved on while this piece arrived; ask for its offset (HEAD) and resume")
        if self._file_hash is not None:
            _hashes[self.upload.id] = (offset, self._file_hash)
        return dataclasses.replace(self.upload, offset=offset, expires=expires)

    def discard(self) -> None:
        self._sink.discard()


def _file_digest(node: Node, upload: Upload) -> str:
    cached = _hashes.get(upload.id)
    if cached and cached[0] == upload.offset:
        return cached[1].hexdigest()
    digest = hashlib.sha256()  # the server restarted mid-upload (or another process took pieces): re-hash
    for chunk in node.blobs.partials.chunks(upload.id):
        digest.update(chunk)
    return digest.hexdigest()


def finish(node: Node, upload: Upload, viewer: Viewer) -> FileEntry:
    """The last byte arrived: verify, move the bytes into the blob store, attach them to the draft."""
    try:
        size = node.blobs.partials.size(upload.id)
    except FileNotFoundError:
        raise UploadGone(f"the bytes of upload '{upload.id}' are gone from this node; start it again") from None
    if size != upload.length:
        raise Conflict(f"upload '{upload.id}' holds {size} bytes on disk, not {upload.length}; resume it")
    digest = _file_digest(node, upload)
    if upload.expected_sha256 and digest != upload.expected_sha256:
        _drop(node, upload.id)
        raise InvalidInput(
            f"the upload's SHA-256 is {digest}, not the declared {upload.expected_sha256}: transfer damaged"
        )
    node.blobs.partials.finish(upload.id, digest, size)  # dedup when the same bytes are stored already
    entry = deposit.attach_blob(node, upload.version_id, upload.key, StoredBlob(digest, size), viewer, upload.mimetype)
    # The row stays (offset == length) until it expires, so a client whose last answer was lost
    # learns from HEAD that the upload is whole.
    _hashes.pop(upload.id, None)
    return entry


def clean_expired(node: Node) -> int:
    """Drop expired uploads and their bytes, and partial files no upload owns (a job)."""
    now = utcnow()
    with node.transaction() as tx:
        gone = [r.id for r in tx.execute(select(uploads.c.id).where(uploads.c.expires <= now)).all()]
        if gone:
            tx.execute(delete(uploads).where(uploads.c.id.in_(gone)))
        live = {r.id for r in tx.execute(select(uploads.c.id)).all()}
    removed = 0
    # A file younger than a minute may belong to an upload whose row is being written right now.
    young = now.timestamp() - 60
    for upload_id, changed in list(node.blobs.partials.leftovers()):
        if upload_id in gone or (upload_id not in live and changed < young):
            node.blobs.partials.drop(upload_id)
            _hashes.pop(upload_id, None)
            removed += 1
    return removed


# Every ten minutes: expired uploads go, with their bytes.
# What this module gives the server's scheduler (registered by the built-in plugin, osnode.plugins).
JOBS: list[Job] = [Job("expired-uploads", lambda node: 600.0, clean_expired)]
