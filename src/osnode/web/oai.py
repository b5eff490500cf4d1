"""``/oai``: the OAI-PMH endpoint, GET with a query string or POST with a form body.

Responses are gzipped here, at a fast level, when the client accepts it: list pages are large
and a harvest is thousands of them, so compressing at the general middleware's level would cost
the provider more CPU than building the pages (a response that carries Content-Encoding is left
alone by the middleware).
"""

from __future__ import annotations

import zlib
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from ..oaipmh.provider import Provider
from .compression import accepts_gzip

router = APIRouter(tags=["oai-pmh"])

FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 64 * 1024
MAX_FIELDS = 20
GZIP_LEVEL = 1
GZIP_MINIMUM = 1024


def gzip(data: bytes) -> bytes:
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # 16+: a gzip wrapper
    return compressor.compress(data) + compressor.flush()


def _pairs(text: str) -> list[tuple[str, str]]:
    return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)


@router.api_route("/oai", methods=["GET", "POST"], include_in_schema=False)
async def oai_pmh(request: Request) -> Response:
    node = request.app.state.node
    pairs: list[tuple[str, str]] | None = None
    refusal: str | None = None
    try:
        if request.method == "POST":
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            body = await request.body()
            if not body:  # no arguments at all, so no verb: the protocol's answer is badVerb
                pairs = []
            elif content_type != FORM:
                refusal = f"a POST request carries its arguments as {FORM}"
            elif len(body) > MAX_FORM_BYTES:
                refusal = "the request is too large"
            else:
                pairs = _pairs(body.decode("utf-8"))
        else:
            pairs = _pairs(request.url.query)
    except (UnicodeDecodeError, ValueError):
        refusal = "the arguments are not UTF-8 form encoded, or too many"
    compress = accepts_gzip(request.headers.get("accept-encoding", ""))

    def answer() -> tuple[bytes, bool]:
        content = Provider(node).respond(pairs, refusal)
        if compress and len(content) >= GZIP_MINIMUM:
            return gzip(content), True
        return content, False

    content, compressed = await run_in_threadpool(answer)
    headers = {"Vary": "Accept-Encoding"}
    if compressed:
        headers["Content-Encoding"] = "gzip"
    return Response(content, media_type="text/xml; charset=utf-8", headers=headers)
