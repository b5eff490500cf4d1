"""Request bodies read with a limit: the declared length is checked before a byte is read, and the stream is
counted as it arrives (a body sent without a length, in chunks, is cut off at the limit too). Answers
``TooLarge`` (413) either way, which ``web/problems.py`` turns into problem+json or the node's error page."""

from __future__ import annotations

from fastapi import Request

from ..domain.errors import TooLarge


def check_length(request: Request, limit: int, what: str = "the request") -> None:
    """Refuse, unread, a body that declares more than ``limit`` bytes."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise TooLarge(f"{what} is larger than {limit} bytes")


async def read_limited(request: Request, limit: int, what: str = "the request") -> bytes:
    """The whole body, at most ``limit`` bytes (the declared length checked first)."""
    check_length(request, limit, what)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge(f"{what} is larger than {limit} bytes")
    return bytes(body)
