"""Gzip for text responses (pages, JSON, XML, feeds, linksets), so pages stay small on a 2G link.

Written as plain ASGI rather than Starlette's GZipMiddleware because that one compresses every
content type, users' files included: a gzipped download breaks Range requests (offsets would point
into the compressed stream), changes the bytes behind a strong ETag and the Digest header, and
wastes CPU on data that is usually compressed already. Here a response is compressed only when:

- the client accepts gzip,
- its media type is text (HTML, JSON, XML, CSS, JavaScript, linkset, Atom, citation formats),
- it is not a file transfer: no Content-Range or Accept-Ranges header, not a 206, not under a
  ``/files/`` path, and not already encoded,
- it is at least ``minimum_size`` bytes (or streamed, when its size is unknown up front).
"""

from __future__ import annotations

import re
import zlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MINIMUM_SIZE = 500
LEVEL = 6
# Media types worth compressing; anything else (images, archives, octet-stream...) is left alone.
TEXT_TYPES = re.compile(
    r"^(text/(?!event-stream)[-+.\w]+"
    r"|application/([-.\w]+\+)?(json|xml)"
    r"|application/(javascript|ecmascript|linkset|x-bibtex|x-research-info-systems|problem\+json))$"
)
# Routes that serve users' bytes as they are: /records/{id}/files/{key}, /api/records/{id}/files/{key},
# /api/blobs/{sha256}.
FILE_PATH = re.compile(r"/(files|blobs)(/|$)")
# Pages and JSON derived from a file live under its path too (a key is one path segment): the table
# and atlas pages, profiles, atlas summaries, gene lists and expression tables. They are text like
# any page (plots and subsets are not text, so the media type leaves them alone).
DERIVED_PATH = re.compile(r"/files/[^/]+/(explore|profile|atlas(/(genes|expression))?)$")


def serves_file_bytes(path: str) -> bool:
    """Whether ``path`` is one of the routes that send users' bytes as they are."""
    return bool(FILE_PATH.search(path)) and not DERIVED_PATH.search(path)


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (RFC 9110 12.5.3).

    ``q=0`` refuses a coding; a named ``gzip`` (or ``x-gzip``) decides over ``*``, which stands
    for any coding not named; other parameters (``gzip;level=1``) are ignored."""
    named: float | None = None
    wildcard: float | None = None
    for item in header.split(","):
        coding, _, params = item.strip().partition(";")
        coding = coding.strip().lower()
        if coding not in ("gzip", "x-gzip", "*"):
            continue
        quality = re.search(r"(?:^|;)\s*q\s*=\s*([^\s;,]*)", params)
        try:
            weight = 1.0 if quality is None else float(quality.group(1))
        except ValueError:
            weight = 0.0
        if coding == "*":
            wildcard = weight if wildcard is None else max(wildcard, weight)
        else:
            named = weight if named is None else max(named, weight)
    chosen = named if named is not None else wildcard
    return chosen is not None and chosen > 0


def compressible(headers: Headers, status: int) -> bool:
    """Whether a response's headers let it be gzipped (the size is decided later)."""
    if status in (204, 206, 304) or status < 200:
        return False
    if "content-encoding" in headers or "content-range" in headers or "accept-ranges" in headers:
        return False
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    return bool(TEXT_TYPES.match(media_type))


def add_vary(headers: MutableHeaders, token: str = "Accept-Encoding") -> None:
    present = [v.strip().lower() for v in headers.get("vary", "").split(",") if v.strip()]
    if token.lower() not in present and "*" not in present:
        headers["Vary"] = ", ".join([*filter(None, [headers.get("vary", "").strip()]), token])


def weaken_etag(headers: MutableHeaders) -> None:
    # The compressed bytes differ from the identity ones, so a strong validator must not be shared.
    etag = headers.get("etag")
    if etag and not etag.startswith("W/"):
        headers["ETag"] = f"W/{etag}"


class TextCompression:
    """ASGI middleware: gzip text responses for clients that accept it, never files."""

    def __init__(self, app: ASGIApp, minimum_size: int = MINIMUM_SIZE, level: int = LEVEL) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.level = level

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or serves_file_bytes(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        wants_gzip = accepts_gzip(Headers(scope=scope).get("accept-encoding", ""))
        await self.app(scope, receive, _Responder(send, wants_gzip, self.minimum_size, self.level).send)


class _Responder:
    """Holds back the response start until the first body part shows whether to compress."""

    def __init__(self, send: Send, wants_gzip: bool, minimum_size: int, level: int) -> None:
        self._send = send
        self._wants_gzip = wants_gzip
        self._minimum_size = minimum_size
        self._level = level
        self._start: Message | None = None
        self._compressor: zlib._Compress | None = None
        self._passthrough = False

    async def send(self, message: Message) -> None:
        if self._passthrough:
            await self._send(message)
        elif message["type"] == "http.response.start":
            headers = Headers(raw=message["headers"])
            if compressible(headers, message["status"]):
                self._start = message
            else:
                self._passthrough = True
                await self._send(message)
        elif message["type"] == "http.response.body" and not (self._start is None and self._compressor is None):
            await self._body(message)
        else:  # a body sent another way (pathsend), trailers...: let the response through as it is
            if self._start is not None:
                start, self._start = self._start, None
                self._passthrough = True
                await self._send(start)
            await self._send(message)

    async def _body(self, message: Message) -> None:
        body: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        if self._compressor is None:
            start, self._start = self._start, None
            assert start is not None
            headers = MutableHeaders(raw=start["headers"])
            small = not more and len(body) < self._minimum_size
            if not small:
                # The answer depends on Accept-Encoding whenever it could have been compressed.
                add_vary(headers)
            if small or not self._wants_gzip:
                self._passthrough = True
                await self._send(start)
                await self._send(message)
                return
            self._compressor = zlib.compressobj(self._level, zlib.DEFLATED, 31)  # 31: gzip container
            headers["Content-Encoding"] = "gzip"
            weaken_etag(headers)
            if more:
                del headers["content-length"]
                await self._send(start)
            else:
                compressed = self._compressor.compress(body) + self._compressor.flush()
                headers["Content-Length"] = str(len(compressed))
                await self._send(start)
                await self._send({"type": "http.response.body", "body": compressed})
                return
        await self._send({"type": "http.response.body", "body": self._chunk(body, more), "more_body": more})

    def _chunk(self, body: bytes, more: bool) -> bytes:
        assert self._compressor is not None
        data = self._compressor.compress(body)
        return data if more else data + self._compressor.flush()
