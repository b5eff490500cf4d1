"""Managed access over the JSON API: committees, access requests, votes and decisions, grants and their
revocation, the committee's audit log, and the machine-readable policy of a record (ODRL)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from fastapi import APIRouter, Body, Response
from starlette.concurrency import run_in_threadpool

from ..domain.access import Viewer
from ..domain.errors import FieldError, InvalidInput
from ..formats import odrl
from ..services import audit, exports, governance, records, visas
from ..services.node import Node
from . import access_mail, files
from .deps import DbId, NodeDep, ViewerDep
from .problems import documented

router = APIRouter(prefix="/api", tags=["managed access"], responses=documented(400, 401, 403, 404, 409, 422))
pages = APIRouter(include_in_schema=False)

BodyDep = Body(default_factory=dict)


def _committee_json(c: governance.Committee) -> dict[str, Any]:
    return {
        "slug": c.slug,
        "name": c.name,
        "community": c.community,
        "quorum": c.quorum,
        "agreement": c.agreement,
        "members": [{"id": m.user_id, "name": m.name, "orcid": m.orcid, "chair": m.chair} for m in c.members],
        "records": list(c.record_ids),
    }


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", [FieldError("body", "expected an object")])
    return body


@router.get("/committees", summary="Data access committees")
def committees(node: Node = NodeDep) -> dict[str, Any]:
    return {"committees": [_committee_json(c) for c in governance.list_committees(node)]}


@router.post("/committees", status_code=201, summary="Create a data access committee (administrators)")
def create_committee(body: Any = BodyDep, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    b = _object(body)
    made = governance.create_committee(
        node, viewer, b.get("slug"), b.get("name"), b.get("quorum", 2), b.get("agreement", ""), b.get("community")
    )
    return _committee_json(made)


@router.get("/committees/{slug}", summary="A data access committee")
def committee(slug: str, node: Node = NodeDep) -> dict[str, Any]:
    return _committee_json(governance.get_committee(node, slug))


@router.put("/committees/{slug}", summary="Change a committee's quorum and agreement (its chair)")
def update_committee(
    slug: str, body: Any = BodyDep, node: Node = NodeDep, viewer: Viewer = ViewerDep
) -> dict[str, Any]:
    b = _object(body)
    return _committee_json(governance.update_committee(node, viewer, slug, b.get("quorum"), b.get("agreement", "")))


@router.post("/committees/{slug}/members", summary="Add a member (email or user id) to a committee")
def add_member(slug: str, body: Any = BodyDep, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    b = _object(body)
    return _committee_json(governance.set_member(node, viewer, slug, b.get("member"), b.get("chair", False)))


@router.delete("/committees/{slug}/members/{user_id}", summary="Remove a member from a committee")
def remove_member(slug: str, user_id: DbId, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    return _committee_json(governance.remove_member(node, viewer, slug, user_id))


@router.post("/committees/{slug}/records", summary="Put a record under a committee")
def govern(slug: str, body: Any = BodyDep, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    record_id = _object(body).get("record_id")
    if not isinstance(record_id, str):
        raise InvalidInput("record_id is required", [FieldError("record_id", "a record id")])
    return _committee_json(governance.govern(node, viewer, slug, record_id))


@router.get("/committees/{slug}/requests", summary="A committee's access requests (its members)")
def committee_requests(slug: str, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    _, items = governance.queue(node, viewer, slug)
    return {"requests": [_listed(i) for i in items]}


@router.get("/committees/{slug}/audit", summary="The audit log of a committee's records (CSV or JSON)")
def committee_audit(slug: str, format: str = "json", node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    entries = governance.committee_audit(node, viewer, slug)
    if format == "csv":
        headers = {"Content-Disposition": f'attachment; filename="audit-{slug}.csv"'}
        return Response(audit.as_csv(entries), media_type="text/csv; charset=utf-8", headers=headers)
    if format != "json":
        raise InvalidInput("format is csv or json", [FieldError("format", "csv or json")])
    return Response(audit.as_json(entries), media_type="application/json")


def _listed(i: governance.Listed) -> dict[str, Any]:
    return {
        "id": i.id,
        "record_id": i.record_id,
        "requester": i.requester,
        "state": i.state,
        "purpose_code": i.purpose_code,
        "created": i.created.isoformat(),
    }


def _ethics(b: dict[str, Any]) -> tuple[str, bytes] | None:
    doc = b.get("ethics_document")
    if doc is None:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("content_base64"), str):
        raise InvalidInput("invalid ethics document", [FieldError("ethics_document", "{name, content_base64}")])
    try:
        data = base64.b64decode(doc["content_base64"], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("invalid ethics document", [FieldError("ethics_document", "not base64")]) from None
    return str(doc.get("name") or "ethics.pdf"), data


@router.post("/records/{record_id}/access-requests", status_code=201, summary="Ask for access to a managed record")
async def request_access(
    record_id: str, body: Any = BodyDep, node: Node = NodeDep, viewer: Viewer = ViewerDep
) -> dict[str, Any]:
    b = _object(body)
    found, notices = await run_in_threadpool(governance.submit, node, viewer, record_id, b, _ethics(b))
    await run_in_threadpool(access_mail.send, node, notices)
    return found.as_json()


@router.get("/access-requests", summary="Your access requests")
def my_requests(node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    return {"requests": [_listed(i) for i in governance.mine(node, viewer)]}


@router.get("/access-requests/{request_id}", summary="An access request, with its pre-check, votes and comments")
def get_request(request_id: DbId, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    return governance.get_request(node, viewer, request_id).as_json()


@router.put("/access-requests/{request_id}", summary="Change your open access request")
async def change_request(
    request_id: DbId, body: Any = BodyDep, node: Node = NodeDep, viewer: Viewer = ViewerDep
) -> dict[str, Any]:
    b = _object(body)
    found, notices = await run_in_threadpool(governance.update_request, node, viewer, request_id, b, _ethics(b))
    await run_in_threadpool(access_mail.send, node, notices)
    return found.as_json()


@router.post("/access-requests/{request_id}/comments", summary="Comment on an access request")
async def comment(request_id: DbId, body: Any = BodyDep, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Any:
    found, notices = await run_in_threadpool(governance.comment, node, viewer, request_id, _object(body).get("body"))
    await run_in_threadpool(access_mail.send, node, notices)
    return found.as_json()


@router.post("/access-requests/{request_id}/votes", summary="Vote on an access request (committee members)")
async def vote(request_id: DbId, body: Any = BodyDep, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Any:
    b = _object(body)
    found, notices = await run_in_threadpool(
        governance.vote, node, viewer, request_id, b.get("approve"), b.get("reason", ""), b.get("days")
    )
    await run_in_threadpool(access_mail.send, node, notices)
    return found.as_json()


@router.post("/access-requests/{request_id}/decision", summary="Ask for more information, or record a decision")
async def decide(request_id: DbId, body: Any = BodyDep, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Any:
    b = _object(body)
    found, notices = await run_in_threadpool(
        governance.decide, node, viewer, request_id, b.get("decision"), b.get("reason", "")
    )
    await run_in_threadpool(access_mail.send, node, notices)
    return found.as_json()


@router.get("/access-requests/{request_id}/ethics", summary="The request's ethics document (its committee)")
def ethics(request_id: DbId, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    name, sha256 = governance.ethics_document(node, viewer, request_id)
    return files.stored_response(node, sha256, "application/pdf", {"Cache-Control": "private"}, name)


@router.get("/grants/revocations", summary="Revoked grants, oldest first (what replicas harvest)")
def revocations(since: str | None = None, node: Node = NodeDep) -> list[dict[str, Any]]:
    try:
        return visas.revocations(node, since)
    except ValueError:
        raise InvalidInput("since is an ISO 8601 date-time", [FieldError("since", "ISO 8601")]) from None


@router.get("/grants/{grant_id}/visa", summary="Your grant as a signed GA4GH Passport visa (JWT)")
def visa(grant_id: DbId, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    return {
        "visa": visas.issue(node, viewer, grant_id),
        "jwks_uri": f"{node.settings.public_url}/.well-known/jwks.json",
    }


@router.post("/grants/{grant_id}/revoke", summary="Revoke a grant (its committee, administrators)")
async def revoke(grant_id: DbId, body: Any = BodyDep, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Any:
    found, notices = await run_in_threadpool(governance.revoke, node, viewer, grant_id, _object(body).get("reason"))
    await run_in_threadpool(access_mail.send, node, notices)
    return found.as_json()


@pages.get("/.well-known/jwks.json", summary="The keys this node signs visas with")
def jwks(node: Node = NodeDep) -> Response:
    return Response(json.dumps(visas.jwks(node)), media_type="application/jwk-set+json")


@pages.get("/records/{any_id}/policy.jsonld", summary="The record's usage policy as ODRL JSON-LD")
def policy(any_id: str, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    version = records.get_version(node, any_id, viewer)
    view = exports.record_view(node, version, viewer)
    body = json.dumps(odrl.policy(view, node.settings.public_url), ensure_ascii=False, indent=1)
    return Response(body, media_type="application/ld+json", headers={"Cache-Control": "public, max-age=3600"})
