"""Streaming file transfer over HTTP: uploads straight to the blob store, downloads with Range and ETag."""

from __future__ import annotations

import base64
import binascii
import os
import re

from fastapi import Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable
from starlette.types import Receive, Scope, Send

from ..domain.access import Viewer
from ..domain.errors import InvalidInput, TooLarge
from ..domain.records import FileEntry
from ..services import access, deposit
from ..services.node import Node
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
    return RangeFileResponse(
        found.path, media_type=found.entry.mimetype, filename=found.entry.key, headers=headers, stat_result=None
    )
