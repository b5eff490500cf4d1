"""The CSRF token of a multipart form, read before the form is: an upload is checked for its size and its
token before a byte of its files is parsed or spooled to disk.

A browser sends a form's fields in the order of the page, and every form puts ``{{ csrf_field() }}`` first; so
the token is in the first few hundred bytes. ``peek_token`` checks the declared length against the node's
upload limit (413 if larger, or if no length is declared), reads the body only up to the token (and never past
the first file part, or ``PEEK_LIMIT`` bytes), then puts what it read back in front of the stream, so the
handler parses the whole form as if nothing had been read; the stream is also cut off past the declared length.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from ..domain.errors import TooLarge

PEEK_LIMIT = 64 * 1024
FORM_SLACK = 64 * 1024  # a form's own fields and part headers, beyond its files
MAX_TOKEN = 200


class LengthRequired(TooLarge):
    status = 411
    title = "Length Required"


def check_declared_length(request: Request, limit: int) -> int:
    """The body's declared length; refused if missing (chunked) or over ``limit`` + the form's slack."""
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        raise LengthRequired("an upload form must be sent with its length (Content-Length)")
    if int(length) > limit + FORM_SLACK:
        raise TooLarge(f"the upload is larger than this node's limit of {limit} bytes")
    return int(length)


class _FirstFields:
    """python-multipart callbacks that keep the value of the field named ``wanted`` and stop at a file."""

    def __init__(self, wanted: str) -> None:
        self.wanted = wanted.encode()
        self.value: bytes | None = None
        self.stop = False
        self._header: bytearray = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._field: bytearray = bytearray()
        self._name: bytes | None = None
        self._data = bytearray()

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda d, s, e: self._field.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self._header.extend(d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_done,
            "on_part_data": self._part_data,
            "on_part_end": self._end,
        }

    def _begin(self) -> None:
        self._headers, self._name, self._data = {}, None, bytearray()

    def _header_end(self) -> None:
        self._headers[bytes(self._field).lower()] = bytes(self._header)
        self._field, self._header = bytearray(), bytearray()

    def _headers_done(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if b"filename" in options:  # the files begin: the token should have come before them
            self.stop = True
        self._name = options.get(b"name")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._name == self.wanted and len(self._data) <= MAX_TOKEN:
            self._data.extend(data[start:end])

    def _end(self) -> None:
        if self._name == self.wanted and self.value is None:
            self.value = bytes(self._data[: MAX_TOKEN + 1])
            self.stop = True


async def peek_token(request: Request, field: str, limit: int) -> str:
    """The value of ``field`` among the leading fields of this multipart request ("" if not there)."""
    declared = check_declared_length(request, limit)
    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if not boundary or len(boundary) > 200:
        return ""
    fields = _FirstFields(field)
    parser = MultipartParser(boundary, fields.callbacks())
    receive = request.receive
    read: list[dict[str, Any]] = []
    seen = 0
    try:
        while not fields.stop and seen < PEEK_LIMIT:
            message = await receive()
            read.append(message)
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            seen += len(chunk)
            parser.write(chunk)
            if not message.get("more_body", False):
                break
    except Exception:  # a malformed body: no token (the handler's own parse reports what is wrong)
        fields.value = None
    _replay(request, read, receive, declared)
    value = fields.value or b""
    return value.decode("ascii", "replace") if len(value) <= MAX_TOKEN else ""


def _replay(request: Request, read: list[dict[str, Any]], receive: Any, declared: int) -> None:
    """Put the messages already read back in front of the request's stream, counting the body as it goes."""
    queue = list(read)
    counted = 0

    async def again() -> dict[str, Any]:
        nonlocal counted
        message = queue.pop(0) if queue else await receive()
        if message["type"] == "http.request":
            counted += len(message.get("body", b""))
            if counted > declared:
                raise TooLarge("the body is longer than its declared length")
        return message

    request._receive = again  # Starlette reads the body through this; nothing has been marked consumed
