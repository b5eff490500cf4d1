"""The notifications this node writes, shaped as COAR Notify 1.0.1's examples and checked with the
``coarnotify`` library before they are queued: the node never sends what a receiver would have to refuse.
"""

from __future__ import annotations

import copy
from typing import Any

from coarnotify.exceptions import ValidationError
from coarnotify.factory import COARNotifyFactory

from ...domain.errors import Conflict
from ..node import Node
from . import partners
from .outbox import new_id
from .parsing import AS_CONTEXT, NOTIFY_CONTEXT
from .partners import Partner

OFFER_TYPES = {"RequestReview": "coar-notify:ReviewAction", "RequestEndorsement": "coar-notify:EndorsementAction"}
ANNOUNCE_FOR = {"RequestReview": "AnnounceReview", "RequestEndorsement": "AnnounceEndorsement"}
_ANNOUNCE_TYPES = {"AnnounceReview": "coar-notify:ReviewAction", "AnnounceEndorsement": "coar-notify:EndorsementAction"}
_OBJECT_TYPES = {"AnnounceReview": ["Page", "sorg:Review"], "AnnounceEndorsement": ["Page", "sorg:WebPage"]}


def _service(partner: Partner) -> dict[str, str]:
    return {"id": partner.id, "inbox": partner.inbox, "type": "Service"}


def _envelope(node: Node, kind_types: list[str] | str, target: Partner) -> dict[str, Any]:
    own = partners.own_id(node)
    return {
        "@context": [AS_CONTEXT, NOTIFY_CONTEXT],
        "id": new_id(),
        "type": kind_types,
        "actor": {"id": own, "name": node.settings.node_name, "type": "Service"},
        "origin": {"id": own, "inbox": partners.own_inbox(node), "type": "Service"},
        "target": _service(target),
    }


def checked(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` once ``coarnotify`` finds it a valid notification of its pattern (else a bug of ours)."""
    # The library takes ``@context`` out of the dict it is given: it reads a copy.
    pattern = COARNotifyFactory.get_by_object(copy.deepcopy(body))
    if pattern is None:
        raise ValueError(f"not a COAR Notify pattern: {body.get('type')}")
    try:
        pattern.validate()
    except ValidationError as exc:
        # What we put in comes from the node's settings and its records: the likely cause is a base_url that
        # is no full host name (e.g. http://localhost), which receivers would refuse too.
        raise Conflict(
            f"cannot write a valid {type(pattern).__name__} (is base_url a full public address?): {exc.errors}"
        ) from None
    return body


def offer(
    node: Node, kind: str, target: Partner, landing: str, cite_as: str, item: tuple[str, str] | None
) -> dict[str, Any]:
    """Request Review or Request Endorsement of the record at ``landing``; ``item`` is (file URL, media type)."""
    body = _envelope(node, ["Offer", OFFER_TYPES[kind]], target)
    obj: dict[str, Any] = {"id": landing, "ietf:cite-as": cite_as, "type": ["Page", "sorg:AboutPage"]}
    if item is not None:
        obj["ietf:item"] = {"id": item[0], "mediaType": item[1], "type": ["Object", "sorg:Dataset"]}
    body["object"] = obj
    return checked(body)


def answer(node: Node, accept: bool, target: Partner, request: dict[str, Any], summary: str) -> dict[str, Any]:
    """Accept or Reject of ``request`` (the offer as it arrived)."""
    body = _envelope(node, "Accept" if accept else "Reject", target)
    body["object"] = request
    body["inReplyTo"] = request["id"]
    if summary and not accept:
        body["summary"] = summary
    return checked(body)


def announcement(node: Node, kind: str, target: Partner, request: dict[str, Any], result_url: str) -> dict[str, Any]:
    """Announce Review/Endorsement of what ``request`` offered, the review itself being at ``result_url``."""
    body = _envelope(node, ["Announce", _ANNOUNCE_TYPES[kind]], target)
    context = {"id": request["object"]["id"]}
    if request["object"].get("ietf:cite-as"):
        context["ietf:cite-as"] = request["object"]["ietf:cite-as"]
    body["context"] = context
    body["object"] = {"id": result_url, "type": _OBJECT_TYPES[kind]}
    body["inReplyTo"] = request["id"]
    return checked(body)


def undo(node: Node, target: Partner, earlier: dict[str, Any]) -> dict[str, Any]:
    """Undo of a notification this node sent before (``earlier``, as sent)."""
    body = _envelope(node, "Undo", target)
    body["object"] = earlier
    body["inReplyTo"] = earlier["id"]
    return checked(body)
