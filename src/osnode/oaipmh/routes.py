"""``/oai``: the OAI-PMH endpoint, GET with a query string or POST with a form body."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from .provider import Provider

router = APIRouter(tags=["oai-pmh"])

FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 64 * 1024
MAX_FIELDS = 20


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
            if content_type != FORM:
                refusal = f"a POST request carries its arguments as {FORM}"
            elif len(body) > MAX_FORM_BYTES:
                refusal = "the request is too large"
            else:
                pairs = _pairs(body.decode("utf-8"))
        else:
            pairs = _pairs(request.url.query)
    except (UnicodeDecodeError, ValueError):
        refusal = "the arguments are not UTF-8 form encoded, or too many"
    content = await run_in_threadpool(Provider(node).respond, pairs, refusal)
    return Response(content, media_type="text/xml; charset=utf-8")
