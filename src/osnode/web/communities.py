"""``/api/communities``: curated collections of records (see ``services.communities``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict

from ..domain.access import Viewer
from ..services import communities
from ..services.node import Node
from .deps import NodeDep, ViewerDep
from .problems import documented

router = APIRouter(prefix="/api/communities", tags=["communities"], responses=documented(400, 401, 403, 404, 409, 422))


class CommunityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slug: str
    title: str
    description: str = ""


@router.get("", summary="List communities")
def list_(node: Node = NodeDep) -> dict[str, Any]:
    return {"items": [c.as_dict(node) for c in communities.list_all(node)]}


@router.post("", status_code=201, summary="Create a community (curators and administrators)")
def create(body: CommunityIn, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    return communities.create(node, viewer, body.slug, body.title, body.description).as_dict(node)


@router.get("/{slug}", summary="A community; curators also see pending inclusion requests")
def get(slug: str, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    body = communities.get(node, slug).as_dict(node)
    if viewer.is_staff:
        body["requests"] = communities.requests(node, viewer, slug)
    return body


@router.put(
    "/{slug}/records/{record_id}",
    summary="Include a record (curators), or ask for one's own record to be included (its owner)",
)
def include(slug: str, record_id: str, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, str]:
    return communities.include(node, viewer, slug, record_id).as_dict()


@router.delete("/{slug}/records/{record_id}", status_code=204, summary="Take a record out of a community")
def remove(slug: str, record_id: str, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    communities.remove(node, viewer, slug, record_id)
    return Response(status_code=204)
