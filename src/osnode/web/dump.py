"""``GET /api/dump.jsonl.gz``: the node's records as one gzip JSON Lines download (see ``services.dump``)."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from ..services import dump
from ..services.node import Node
from .deps import NodeDep
from .problems import documented

router = APIRouter(prefix="/api", tags=["dump"], responses=documented(422))


@router.get(
    "/dump.jsonl.gz",
    summary="Every record's metadata as gzip JSON Lines; with since, only what changed (deletions included)",
    response_class=StreamingResponse,
)
def get_dump(
    since: str | None = Query(None, description="ISO 8601 date or date-time (UTC when no zone is given)"),
    after: str | None = Query(None, description="updated,id of the last line received: go on after it"),
    node: Node = NodeDep,
) -> StreamingResponse:
    moment = dump.parse_since(since)  # a bad value is a 422 before any byte is sent
    cursor = dump.parse_after(after)
    name = "dump.jsonl.gz" if moment is None else f"dump-since-{moment:%Y%m%dT%H%M%SZ}.jsonl.gz"
    return StreamingResponse(
        dump.stream(node, moment, after=cursor),
        media_type="application/gzip",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-cache"},
    )
