"""Streaming file transfer over HTTP: uploads straight to the blob store, downloads with Range and ETag."""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Mapping
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable
from starlette.types import Receive, Scope, Send

from ..domain.access import Viewer
from ..domain.errors import InvalidInput, NotFound, TooLarge
from ..domain.records import FileEntry
from ..services import access, deposit
from ..services.node import BlobStore, Node
from . import problems, usage

# Hand the disk bigger pieces than the network delivers (~64 KB) so thread hops stay rare.
WRITE_BATCH = 1024 * 1024


def declared_sha256(request: Request) -> str | None:
    """The SHA-256 a client declared (RFC 9530 Content-Digest, or RFC 3230 Digest), as hex."""
    for header, wrapped in (("content-digest", True), ("digest", False)):
        value = request.headers.get(header)
        if not value:
            continue
        for item in value.split(","):
            algorithm, _, encoded = item.strip().partition("=")
            if algorithm.strip().lower() != "sha-256":
                continue
            encoded = encoded.strip().strip(":") if wrapped else encoded.strip()
            try:
                raw = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raw = b""
            if len(raw) != 32:
                raise InvalidInput(f"the {header} header's sha-256 value is not base64 of 32 bytes")
            return raw.hex()
    return None


async def receive_upload(node: Node, request: Request, version_id: str, key: str, viewer: Viewer) -> FileEntry:
    await run_in_threadpool(deposit.check_draft_for_upload, node, version_id, key, viewer)
    # The catalog keeps a media type of up to 200 characters; refuse longer before storing bytes.
    if len(request.headers.get("content-type", "")) > 200:
        raise InvalidInput("the Content-Type header is longer than 200 characters")
    limit = node.settings.max_upload_bytes
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise TooLarge(f"the upload ({length} bytes) is larger than this node's limit of {limit} bytes")
    writer = deposit.upload_writer(node, declared_sha256(request))
    buffer = bytearray()
    try:
        async for chunk in request.stream():
            buffer += chunk
            if len(buffer) >= WRITE_BATCH:
                await run_in_threadpool(writer.write, bytes(buffer))
                buffer.clear()
        if buffer:
            await run_in_threadpool(writer.write, bytes(buffer))
        blob = await run_in_threadpool(writer.commit)
    except BaseException:
        writer.abort()
        raise
    mimetype = request.headers.get("content-type")
    if mimetype in (None, "", "application/octet-stream"):
        mimetype = None
    return await run_in_threadpool(deposit.attach_blob, node, version_id, key, blob, viewer, mimetype)


_RANGE_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


def _valid_range(header: str) -> bool:
    """Whether a Range header is well formed (RFC 9110 14.1.1); a malformed one must be ignored."""
    unit, sep, specs = header.partition("=")
    if unit.strip().lower() != "bytes" or not sep:
        return False
    for spec in specs.split(","):
        match = _RANGE_SPEC.match(spec)
        if not match or match.groups() == ("", ""):
            return False
        first, last = match.groups()
        if first and last and int(last) < int(first):
            return False
    return True


class RangeFileResponse(FileResponse):
    """A file response that ignores a malformed Range header and serves the whole file (200),
    as HTTP asks, instead of refusing the request, and answers an unsatisfiable range with a
    problem+json 416 (Starlette's own is plain text) carrying ``Content-Range: bytes */SIZE``."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ranges = [v.decode("latin-1") for k, v in scope["headers"] if k == b"range"]
        if ranges and not all(_valid_range(r) for r in ranges):
            scope = dict(scope, headers=[(k, v) for k, v in scope["headers"] if k != b"range"])
        elif ranges and scope["method"].upper() in ("GET", "HEAD"):
            refusal = self._unsatisfiable(scope, ranges[0])
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def _unsatisfiable(self, scope: Scope, http_range: str) -> Response | None:
        stat_result = os.stat(self.path)
        self.set_stat_headers(stat_result)  # If-Range compares with these validators
        size = stat_result.st_size
        if_range = Headers(scope=scope).get("if-range")
        if if_range is not None and not self._should_use_range(if_range):
            return None  # the validator changed: the whole file is sent, whatever the range
        try:
            self._parse_range_header(http_range, size)
        except RangeNotSatisfiable:
            refusal = problems.problem(
                416, f"the range '{http_range}' lies outside this file of {size} bytes", scope.get("path")
            )
            refusal.headers["Content-Range"] = f"bytes */{size}"
            return refusal
        except MalformedRangeHeader:
            return None
        return None


class BlobStreamResponse(Response):
    """A blob streamed from a store that is not a local folder (S3), with the same Range, If-Range,
    416 and malformed-Range behaviour as ``RangeFileResponse``: one range is a 206 with Content-Range,
    several a 206 ``multipart/byteranges`` (each part a ranged GET on the store)."""

    def __init__(
        self,
        store: BlobStore,
        sha256: str,
        size: int,
        media_type: str | None,
        headers: Mapping[str, str],
        filename: str | None = None,
    ) -> None:
        super().__init__(media_type=media_type or "application/octet-stream", headers=dict(headers))
        self.store, self.sha256, self.size = store, sha256, size
        self.headers["accept-ranges"] = "bytes"
        if filename is not None:
            self.headers.setdefault("content-disposition", _disposition(filename))

    def _spans(self, scope: Scope) -> list[tuple[int, int]] | Response | None:
        """The ranges to send, a 416 refusal, or None for the whole blob."""
        request_headers = Headers(scope=scope)
        http_range = request_headers.get("range")
        if http_range is None or scope["method"].upper() not in ("GET", "HEAD") or not _valid_range(http_range):
            return None
        if_range = request_headers.get("if-range")
        if if_range is not None and if_range != self.headers.get("etag"):
            return None  # the validator changed: the whole file is sent, whatever the range
        try:
            ranges = FileResponse._parse_range_header(http_range, self.size)
        except RangeNotSatisfiable:
            refusal = problems.problem(
                416, f"the range '{http_range}' lies outside this file of {self.size} bytes", scope.get("path")
            )
            refusal.headers["Content-Range"] = f"bytes */{self.size}"
            return refusal
        except MalformedRangeHeader:
            return None
        return ranges or None

    async def _stream(self, send: Send, start: int, end: int) -> None:
        if end > start:
            async for chunk in iterate_in_threadpool(self.store.read_chunks(self.sha256, start, end)):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        spans = self._spans(scope)
        if isinstance(spans, Response):
            await spans(scope, receive, send)
            return
        head_only = scope["method"].upper() == "HEAD"
        if spans is not None and len(spans) > 1:
            boundary = secrets.token_hex(13)
            # Starlette's own part framing (it uses none of FileResponse's state), so both stores agree.
            length, part_head = FileResponse.generate_multipart(
                self,  # type: ignore[arg-type]
                spans,
                boundary,
                self.size,
                self.headers["content-type"],
            )
            headers = self.headers.mutablecopy()
            headers["content-type"] = f"multipart/byteranges; boundary={boundary}"
            headers["content-length"] = str(length)
            await send({"type": "http.response.start", "status": 206, "headers": headers.raw})
            if not head_only:
                for start, end in spans:
                    await send({"type": "http.response.body", "body": part_head(start, end), "more_body": True})
                    await self._stream(send, start, end)
                    await send({"type": "http.response.body", "body": b"\r\n", "more_body": True})
            await send({"type": "http.response.body", "body": f"--{boundary}--".encode() if not head_only else b""})
            return
        span = spans[0] if spans else None
        start, end = span if span is not None else (0, self.size)
        headers = self.headers.mutablecopy()
        headers["content-length"] = str(end - start)
        if span is not None:
            headers["content-range"] = f"bytes {start}-{end - 1}/{self.size}"
        status = 206 if span is not None else 200
        await send({"type": "http.response.start", "status": status, "headers": headers.raw})
        if not head_only:
            await self._stream(send, start, end)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _disposition(filename: str) -> str:
    # As Starlette's FileResponse writes it, so both stores name a download alike.
    quoted = quote(filename)
    return f"attachment; filename*=utf-8''{quoted}" if quoted != filename else f'attachment; filename="{filename}"'


def blob_response(
    node: Node,
    sha256: str,
    size: int,
    media_type: str | None,
    headers: Mapping[str, str],
    filename: str | None = None,
    redirect: bool = True,
) -> Response:
    """A blob's bytes as the store serves them best: the local file (sendfile, Range), a redirect to a
    presigned URL when the object store offers them (the node then moves no bytes), else a stream."""
    store = node.blobs
    local = store.local_file(sha256)
    if local is not None:
        response = RangeFileResponse(
            local, media_type=media_type, filename=filename, headers=dict(headers), stat_result=None
        )
        prefix = node.settings.accel_redirect
        if not prefix:
            return response
        # Behind nginx: the access decision was ours, the bytes (Range included) are nginx's, read from an
        # ``internal`` location over the blob folder, so no web process is held by a long download.
        relative = local.relative_to(node.settings.blob_dir).as_posix()
        kept = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "accept-ranges")}
        return Response(status_code=200, headers=kept | {"X-Accel-Redirect": f"{prefix}/{relative}"})
    url = store.presigned_url(sha256, filename or sha256, media_type) if redirect else None
    if url is not None:
        # 307 keeps the method (HEAD stays HEAD); the access decision was made before this point.
        return RedirectResponse(url, status_code=307, headers={"Cache-Control": "private, no-store"})
    return BlobStreamResponse(store, sha256, size, media_type, headers, filename)


def stored_response(
    node: Node, sha256: str, media_type: str | None, headers: Mapping[str, str], filename: str | None = None
) -> Response:
    """A blob the caller has already decided the viewer may have (a cover, an ethics document), from whichever
    store holds it; never by presigned URL (only record files anyone may read leave that way)."""
    size = node.blobs.size(sha256)
    if size is None:
        raise NotFound("the bytes of this file are missing from this node's store (fixity problem)")
    return blob_response(node, sha256, size, media_type, headers, filename, redirect=False)


def _matches(if_none_match: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def send_file(node: Node, request: Request, any_id: str, key: str, viewer: Viewer) -> Response:
    found = access.download(node, any_id, key, viewer)
    # The content hash is the strongest validator there is: the bytes behind it never change.
    # Access can change (a withdrawal), so shared caches keep open files for an hour only.
    etag = f'"{found.entry.sha256}"'
    public = found.version.state.value == "published" and found.version.access.level.value == "open"
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=3600" if public else "private, no-cache",
        "Digest": f"sha-256={base64.b64encode(bytes.fromhex(found.entry.sha256)).decode()}",
    }
    inm = request.headers.get("if-none-match")
    if inm and _matches(inm, etag):
        return Response(status_code=304, headers=headers)
    # A download is a COUNTER request once: the first (or only) range of it, not every piece of a resumed one.
    if request.method == "GET" and request.headers.get("range", "bytes=0-").startswith("bytes=0-"):
        usage.note(request, node, found.version.record_id, usage.events.REQUEST, viewer)
    # Only files anyone may read leave by presigned URL: such a URL is a bearer credential until it expires,
    # so restricted or embargoed bytes are streamed through the node, which decided this very request.
    return blob_response(
        node, found.entry.sha256, found.size, found.entry.mimetype, headers, found.entry.key, redirect=public
    )
