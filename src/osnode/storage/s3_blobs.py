"""Content-addressed blobs on S3-compatible object storage (AWS S3, SeaweedFS, MinIO, Ceph RGW, Garage...).

The local folder's guarantees, with the object store's own primitives:

- never visible before verified: bytes stream into a multipart upload while they are hashed; an
  upload is invisible until ``CompleteMultipartUpload``. When the client declared the SHA-256 the
  parts go straight to the hash key and are completed only if the digest matches (no copy); otherwise
  they go to ``tmp/`` and are copied server-side to the hash key once the digest is known, then the
  temporary object is deleted. Aborted uploads and old ``tmp/`` objects are swept at start.
- stored once: an object already under the hash key is never rewritten (the upload is aborted).
- streamed both ways: at most ``IN_FLIGHT`` parts of ``PART`` bytes are held while uploading; reads
  are ranged GETs streamed in chunks.
- tus uploads keep each acknowledged piece as an object under ``partial/<id>/<offset>``; finishing
  composes them server-side (UploadPartCopy) when every piece but the last is at least 5 MiB (S3's
  smallest part), else streams them once through the node into the hash key's multipart upload.

boto3 is used (not obstore): it is the reference client, maintained by AWS, speaks every S3 dialect
the node meets, and exposes multipart, UploadPartCopy and presigning directly; its threads fit the
node's synchronous services.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..domain.errors import InvalidInput, NodeError, NotFound
from .blobs import (
    CHUNK,
    PARTIAL,
    QUARANTINE,
    SHA256,
    BlobWriter,
    PieceSink,
    SizeCheck,
    StoredBlob,
    StreamingMixin,
    check_sha256,
    quarantine_stamp,
)

PART = 8 * 1024 * 1024  # bytes per uploaded part (S3's smallest is 5 MiB, but for the last)
MIN_PART = 5 * 1024 * 1024
IN_FLIGHT = 8  # parts uploading at once: memory held by one upload is at most (IN_FLIGHT + 1) * PART
COPY_PART = 1024**3  # server-side copies go in parts of at most this (S3 allows 5 GiB)
STALE_SECONDS = 3600  # temporaries older than this belong to no live upload (any process, any machine)
CACHE_GRACE_SECONDS = 600  # a cached copy used this recently is never evicted


class BlobStoreUnavailable(NodeError):
    """The object store did not answer (down, unreachable, refusing our credentials)."""

    status = 503
    title = "Service Unavailable"


class DamagedBlob(NodeError):
    """The object store returned bytes that do not hash to the blob's name."""

    status = 502
    title = "Bad Gateway"


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound", "NoSuchUpload")


@contextmanager
def _answering(what: str) -> Iterator[None]:
    """Turn the client's failures into one clear line (503), never a traceback."""
    try:
        yield
    except ClientError as exc:
        if _missing(exc):
            raise NotFound(f"{what}: not in the object store") from None
        raise BlobStoreUnavailable(f"{what}: the object store refused: {exc}") from None
    except BotoCoreError as exc:
        raise BlobStoreUnavailable(f"{what}: the object store is unreachable: {exc}") from None


def parse_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> (bucket, ``some/prefix/``)."""
    if not url.startswith("s3://"):
        raise ValueError(f"blob_store must be empty (the data folder) or s3://bucket/prefix, not {url!r}")
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not bucket:
        raise ValueError(f"blob_store {url!r} names no bucket")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


class _Multipart:
    """Bytes streamed into one object: a single PUT when small, else a multipart upload, invisible
    until ``complete``; parts upload ``IN_FLIGHT`` at a time so the network stays busy while reading."""

    def __init__(self, store: S3BlobStore, key: str) -> None:
        self._store = store
        self.key = key
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[Future[dict[str, Any]]] = []
        self._pool: ThreadPoolExecutor | None = None

    def write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= PART:
            part = bytes(self._buffer[:PART])
            del self._buffer[:PART]
            self._send(part)

    def _send(self, part: bytes) -> None:
        s = self._store
        if self._upload_id is None:
            with _answering(f"starting an upload to {self.key}"):
                self._upload_id = s.client.create_multipart_upload(Bucket=s.bucket, Key=self.key)["UploadId"]
            self._pool = ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="s3-part")
        # Bound the memory: wait for the oldest part before queueing one more than IN_FLIGHT.
        pending = [f for f in self._parts if not f.done()]
        if len(pending) >= IN_FLIGHT:
            pending[0].result()
        number = len(self._parts) + 1
        assert self._pool is not None
        self._parts.append(self._pool.submit(self._upload_part, number, part))

    def _upload_part(self, number: int, data: bytes) -> dict[str, Any]:
        s = self._store
        with _answering(f"uploading part {number} of {self.key}"):
            answer = s.client.upload_part(
                Bucket=s.bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=data
            )
        return {"PartNumber": number, "ETag": answer["ETag"]}

    def complete(self) -> None:
        s = self._store
        if self._upload_id is None:
            with _answering(f"storing {self.key}"):
                s.client.put_object(Bucket=s.bucket, Key=self.key, Body=bytes(self._buffer))
            self._buffer.clear()
            return
        if self._buffer:
            self._send(bytes(self._buffer))
            self._buffer.clear()
        parts = [f.result() for f in self._parts]
        with _answering(f"completing {self.key}"):
            s.client.complete_multipart_upload(
                Bucket=s.bucket, Key=self.key, UploadId=self._upload_id, MultipartUpload={"Parts": parts}
            )
        self._upload_id = None
        self._close_pool()

    def abort(self) -> None:
        self._buffer.clear()
        if self._upload_id is not None:
            for future in self._parts:
                future.cancel()
            self._close_pool()
            # The store may be down: the start-up sweep aborts the upload later.
            with suppress(ClientError, BotoCoreError):
                self._store.client.abort_multipart_upload(
                    Bucket=self._store.bucket, Key=self.key, UploadId=self._upload_id
                )
            self._upload_id = None

    def _close_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class S3BlobWriter:
    def __init__(self, store: S3BlobStore, max_bytes: int | None, expected_sha256: str | None) -> None:
        self._store = store
        self._check = SizeCheck(max_bytes, expected_sha256)
        expected = self._check.expected
        self._direct = expected is not None and SHA256.fullmatch(expected) is not None
        # With the digest declared, the parts go to the hash key itself: invisible until completed, and
        # completed only once the bytes hash to it. Bytes already stored are only hashed, not sent again.
        self._skip = self._direct and store.exists(expected or "")
        key = store.key(expected) if self._direct and expected else store.tmp_key(f"upload-{secrets.token_hex(12)}")
        self._sink: _Multipart | None = None if self._skip else _Multipart(store, key)
        self._closed = False

    def write(self, chunk: bytes) -> None:
        assert not self._closed, "writer already closed"
        if not self._check.add(chunk):
            self.abort()
            raise self._check.too_large()
        if self._sink is not None:
            try:
                self._sink.write(chunk)
            except BaseException:
                self.abort()
                raise

    def commit(self) -> StoredBlob:
        assert not self._closed, "writer already closed"
        try:
            digest = self._check.verified()
        except BaseException:
            self.abort()
            raise
        self._closed = True
        store, sink = self._store, self._sink
        if sink is not None:
            if self._direct:
                try:
                    sink.complete()
                except BaseException:
                    sink.abort()
                    raise
            elif store.exists(digest):
                sink.abort()  # same bytes already stored: dedup, nothing was made visible
            else:
                try:
                    sink.complete()
                    store.copy(sink.key, store.key(digest))
                finally:
                    store.delete(sink.key)
        return StoredBlob(digest, self._check.size)

    def abort(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._sink is not None:
            self._sink.abort()


class _Body:
    """A readable file over a GET's streamed body (tarfile and friends call ``read(n)``)."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def read(self, size: int | None = -1) -> bytes:
        return self._body.read(None if size is None or size < 0 else size)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._body.close()

    def __enter__(self) -> _Body:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class S3Piece:
    def __init__(self, partials: S3Partials, upload_id: str, start: int) -> None:
        self._sink = _Multipart(partials.store, partials.piece_key(upload_id, start))

    def write(self, data: bytes) -> None:
        self._sink.write(data)

    def keep(self) -> None:
        self._sink.complete()

    def discard(self) -> None:
        self._sink.abort()


class S3Partials:
    """A tus upload as objects: ``partial/<id>/created`` marks it, ``partial/<id>/<offset:020d>`` are its
    acknowledged pieces. A piece becomes an object only when whole (a multipart upload completes), so a
    cut PATCH leaves nothing; pieces past the acknowledged offset are deleted before the next is written."""

    def __init__(self, store: S3BlobStore) -> None:
        self.store = store

    def _folder(self, upload_id: str) -> str:
        return f"{self.store.prefix}{PARTIAL}/{upload_id}/"

    def piece_key(self, upload_id: str, start: int) -> str:
        return f"{self._folder(upload_id)}{start:020d}"

    def create(self, upload_id: str) -> None:
        with _answering(f"starting upload {upload_id}"):
            self.store.client.put_object(Bucket=self.store.bucket, Key=f"{self._folder(upload_id)}created", Body=b"")

    def _pieces(self, upload_id: str) -> list[tuple[int, int, str]]:
        """(offset, size, key) of the pieces held, by offset; FileNotFoundError when the upload is gone."""
        found, created = [], False
        for obj in self.store.list(self._folder(upload_id)):
            name = obj["Key"].rsplit("/", 1)[1]
            if name == "created":
                created = True
            elif name.isdigit():
                found.append((int(name), obj["Size"], obj["Key"]))
        if not created:
            raise FileNotFoundError(upload_id)
        return sorted(found)

    def _chain(self, upload_id: str) -> list[tuple[int, int, str]]:
        """The pieces that follow each other from offset 0 (anything else was never acknowledged)."""
        chain, end = [], 0
        for offset, size, key in self._pieces(upload_id):
            if offset == end and size > 0:
                chain.append((offset, size, key))
                end += size
        return chain

    def piece(self, upload_id: str, start: int) -> PieceSink:
        for offset, _, key in self._pieces(upload_id):
            if offset >= start:
                self.store.delete(key)
        return S3Piece(self, upload_id, start)

    def size(self, upload_id: str) -> int:
        return sum(size for _, size, _ in self._chain(upload_id))

    def chunks(self, upload_id: str) -> Iterator[bytes]:
        for _, _, key in self._chain(upload_id):
            yield from self.store.read_key(key)

    def finish(self, upload_id: str, sha256: str, size: int) -> None:
        store = self.store
        chain = self._chain(upload_id)
        if not store.exists(sha256):
            final = store.key(sha256)
            if len(chain) > 1 and all(s >= MIN_PART for _, s, _ in chain[:-1]):
                store.compose([(key, 0, s) for _, s, key in chain], final)
            elif len(chain) == 1:
                store.copy(chain[0][2], final)
            else:
                sink = _Multipart(store, final)  # small pieces: once through the node, invisible until whole
                try:
                    for chunk in self.chunks(upload_id):
                        sink.write(chunk)
                    sink.complete()
                except BaseException:
                    sink.abort()
                    raise
        self.drop(upload_id)

    def drop(self, upload_id: str) -> None:
        for obj in self.store.list(self._folder(upload_id)):
            self.store.delete(obj["Key"])
        self.store.abort_uploads(self._folder(upload_id), older_than=0)

    def leftovers(self) -> Iterator[tuple[str, float]]:
        newest: dict[str, float] = {}
        for obj in self.store.list(f"{self.store.prefix}{PARTIAL}/"):
            upload_id = obj["Key"][len(self.store.prefix) + len(PARTIAL) + 1 :].split("/", 1)[0]
            newest[upload_id] = max(newest.get(upload_id, 0.0), obj["LastModified"].timestamp())
        yield from newest.items()


class S3BlobStore(StreamingMixin):
    def __init__(
        self,
        url: str,
        *,
        endpoint: str = "",
        region: str = "",
        access_key: str = "",
        secret_key: str = "",
        presign_seconds: int = 0,
        cache_dir: Path,
        cache_bytes: int = 2 * 1024**3,
    ) -> None:
        self.url = url
        self.bucket, self.prefix = parse_url(url)
        self.endpoint = endpoint
        self.presign_seconds = presign_seconds
        # Path-style addressing when an endpoint is given (most S3-compatible servers); AWS picks its own.
        config = Config(
            s3={"addressing_style": "path" if endpoint else "auto"},
            signature_version="s3v4",
            retries={"max_attempts": 3, "mode": "standard"},
            max_pool_connections=IN_FLIGHT * 4,
            connect_timeout=5,
            read_timeout=60,
        )
        try:
            self.client = boto3.session.Session().client(
                "s3",
                endpoint_url=endpoint or None,
                region_name=region or None,
                aws_access_key_id=access_key or None,
                aws_secret_access_key=secret_key or None,
                config=config,
            )
        except (BotoCoreError, ValueError) as exc:
            raise InvalidInput(f"the S3 settings for {url} are incomplete or wrong: {exc}") from None
        self.cache_dir = cache_dir
        self.cache_bytes = cache_bytes
        (cache_dir / "tmp").mkdir(parents=True, exist_ok=True)
        self._staging = cache_dir.parent / "s3-staging"
        self._staging.mkdir(parents=True, exist_ok=True)
        self._pinned: dict[str, int] = {}
        self._lock = threading.Lock()
        self.partials = S3Partials(self)

    def describe(self) -> str:
        return f"{self.url} at {self.endpoint or 'AWS'}"

    def check(self) -> None:
        """One clear line when the bucket cannot be reached (``osnode check``, start-up)."""
        with _answering(f"bucket {self.bucket}"):
            self.client.head_bucket(Bucket=self.bucket)

    @property
    def staging_dir(self) -> Path:
        return self._staging

    # -- keys and plain object operations --------------------------------------------------------

    def key(self, sha256: str) -> str:
        check_sha256(sha256)
        return f"{self.prefix}{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def tmp_key(self, name: str) -> str:
        return f"{self.prefix}tmp/{name}"

    def list(self, prefix: str) -> Iterator[dict[str, Any]]:
        with _answering(f"listing {prefix or '/'}"):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                yield from page.get("Contents", [])

    def head(self, key: str) -> dict[str, Any] | None:
        try:
            with _answering(f"looking up {key}"):
                return self.client.head_object(Bucket=self.bucket, Key=key)
        except NotFound:
            return None

    def delete(self, key: str) -> None:
        with _answering(f"deleting {key}"):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def copy(self, source: str, target: str) -> None:
        """Server-side copy (the managed copy splits big objects into UploadPartCopy parts)."""
        with _answering(f"copying {source} to {target}"):
            self.client.copy({"Bucket": self.bucket, "Key": source}, self.bucket, target)

    def compose(self, pieces: list[tuple[str, int, int]], target: str) -> None:
        """Concatenate byte ranges (key, start, length) of stored objects into ``target``, server-side."""
        c, bucket = self.client, self.bucket
        with _answering(f"assembling {target}"):
            upload_id = c.create_multipart_upload(Bucket=bucket, Key=target)["UploadId"]
            try:
                parts = []
                for key, start, length in pieces:
                    # Equal slices of at most COPY_PART: each stays above S3's 5 MiB smallest part.
                    count = -(-length // COPY_PART)
                    step = -(-length // count)
                    for first in range(start, start + length, step):
                        last = min(first + step, start + length) - 1
                        answer = c.upload_part_copy(
                            Bucket=bucket,
                            Key=target,
                            UploadId=upload_id,
                            PartNumber=len(parts) + 1,
                            CopySource={"Bucket": bucket, "Key": key},
                            CopySourceRange=f"bytes={first}-{last}",
                        )
                        parts.append({"PartNumber": len(parts) + 1, "ETag": answer["CopyPartResult"]["ETag"]})
                c.complete_multipart_upload(
                    Bucket=bucket, Key=target, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
            except BaseException:
                c.abort_multipart_upload(Bucket=bucket, Key=target, UploadId=upload_id)
                raise

    def abort_uploads(self, prefix: str, older_than: float) -> int:
        """Abort multipart uploads under ``prefix`` started more than ``older_than`` seconds ago."""
        aborted = 0
        now = time.time()
        with _answering(f"listing uploads under {prefix}"):
            for page in self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=prefix):
                for upload in page.get("Uploads", []):
                    if now - upload["Initiated"].timestamp() >= older_than:
                        try:
                            self.client.abort_multipart_upload(
                                Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                            )
                            aborted += 1
                        except ClientError as exc:
                            if not _missing(exc):
                                raise
        return aborted

    def read_key(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        if end is not None and end <= start:
            return
        span = f"bytes={start}-{'' if end is None else end - 1}"
        with _answering(f"reading {key}"):
            body = self.client.get_object(Bucket=self.bucket, Key=key, Range=span)["Body"]
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

    # -- the protocol -----------------------------------------------------------------------------

    def exists(self, sha256: str) -> bool:
        return self.head(self.key(sha256)) is not None

    def size(self, sha256: str) -> int | None:
        found = self.head(self.key(sha256))
        return None if found is None else int(found["ContentLength"])

    def writer(self, max_bytes: int | None = None, expected_sha256: str | None = None) -> BlobWriter:
        return S3BlobWriter(self, max_bytes, expected_sha256)

    def adopt_file(self, source: Path, sha256: str) -> StoredBlob:
        with source.open("rb") as handle:
            stored = self.put_stream(iter(lambda: handle.read(CHUNK), b""), expected_sha256=sha256)
        source.unlink(missing_ok=True)
        return stored

    def open(self, sha256: str) -> BinaryIO:
        with _answering(f"reading blob {sha256}"):
            body = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))["Body"]
        return _Body(body)  # type: ignore[return-value]

    def read_chunks(self, sha256: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        return self.read_key(self.key(sha256), start, end)

    def stored(self) -> Iterator[str]:
        for obj in self.list(self.prefix):
            name = obj["Key"][len(self.prefix) :]
            parts = name.split("/")
            if len(parts) == 3 and SHA256.fullmatch(parts[2]) and parts[0] == parts[2][:2]:
                yield parts[2]

    def clean_tmp(self, idle_seconds: float = STALE_SECONDS) -> int:
        """Sweep temporaries no live upload can own: old ``tmp/`` objects and abandoned multipart uploads.
        Only old ones: another web process, maybe on another machine, may be uploading right now."""
        removed = 0
        now = time.time()
        for obj in self.list(self.tmp_key("")):
            if now - obj["LastModified"].timestamp() >= idle_seconds:
                self.delete(obj["Key"])
                removed += 1
        # Uploads to hash keys (declared digests) and to tus pieces live outside tmp/: sweep the prefix.
        removed += self.abort_uploads(self.prefix, older_than=idle_seconds)
        for leftover in (self.cache_dir / "tmp").iterdir():
            leftover.unlink(missing_ok=True)
        return removed

    def quarantine(self, sha256: str) -> str:
        key = self.key(sha256)
        if self.head(key) is None:
            return "nothing to move aside"
        target = f"{self.prefix}{QUARANTINE}/{sha256}.{quarantine_stamp()}"
        self.copy(key, target)
        self.delete(key)
        (self.cache_dir / sha256).unlink(missing_ok=True)
        return f"moved aside to {target}"

    def local_file(self, sha256: str) -> Path | None:
        return None

    def presigned_url(self, sha256: str, filename: str, mimetype: str | None) -> str | None:
        if self.presign_seconds <= 0:
            return None
        params = {
            "Bucket": self.bucket,
            "Key": self.key(sha256),
            # The same headers the node itself would send, so the browser saves the file by its name.
            "ResponseContentDisposition": _attachment(filename),
            "ResponseContentType": mimetype or "application/octet-stream",
        }
        with _answering(f"signing a URL for {sha256}"):
            return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=self.presign_seconds)

    # -- the local cache, for readers that need a file (DuckDB, h5py, tar) --------------------------

    @contextmanager
    def local_path(self, sha256: str) -> Iterator[Path]:
        """A verified copy of the blob in the cache folder, kept while the block runs.

        The cache holds at most ``cache_bytes`` (least recently used copies go first); a copy in use
        (pinned here) or used in the last ``CACHE_GRACE_SECONDS`` is never evicted, so a path handed to
        an explore worker process stays valid for its job."""
        check_sha256(sha256)
        with self._lock:
            self._pinned[sha256] = self._pinned.get(sha256, 0) + 1
        try:
            path = self.cache_dir / sha256
            if path.is_file():
                os.utime(path)
            else:
                self._download(sha256, path)
                self._evict()
            yield path
        finally:
            with self._lock:
                self._pinned[sha256] -= 1
                if not self._pinned[sha256]:
                    del self._pinned[sha256]

    def _download(self, sha256: str, path: Path) -> None:
        tmp = self.cache_dir / "tmp" / f"{sha256}.{secrets.token_hex(4)}"
        digest = hashlib.sha256()
        try:
            with tmp.open("wb") as handle:
                for chunk in self.read_chunks(sha256):
                    digest.update(chunk)
                    handle.write(chunk)
            if digest.hexdigest() != sha256:
                raise DamagedBlob(f"the object store returned bytes for {sha256} that hash to {digest.hexdigest()}")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def _evict(self) -> None:
        copies = []
        for entry in os.scandir(self.cache_dir):
            if entry.is_file():
                info = entry.stat()
                copies.append((info.st_mtime, info.st_size, entry.name, Path(entry.path)))
        total = sum(c[1] for c in copies)
        young = time.time() - CACHE_GRACE_SECONDS
        for mtime, size, name, path in sorted(copies):
            if total <= self.cache_bytes:
                break
            with self._lock:
                if name in self._pinned or mtime > young:
                    continue
            path.unlink(missing_ok=True)
            total -= size


def _attachment(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
