"""Reading a notification: size, JSON, the COAR Notify pattern (the ``coarnotify`` library), the sender on the
allow-list, the target this node, and its URLs (``urls``). Nothing is fetched: the JSON-LD is read as JSON, its
``@context`` is checked by name and never dereferenced.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from coarnotify.core.notify import NotifyPattern
from coarnotify.exceptions import NotifyException, ValidationError
from coarnotify.factory import COARNotifyFactory

from ...domain.errors import Forbidden, NodeError, TooLarge
from ..node import Node
from . import partners, urls
from .partners import Partner

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
NOTIFY_CONTEXT = "https://coar-notify.net"
# Pattern class names (coarnotify.patterns) the inbox takes; UnprocessableNotification is a reply about our
# own malformed sending and is recorded too.
KINDS = frozenset(
    {
        "RequestReview",
        "RequestEndorsement",
        "AnnounceReview",
        "AnnounceEndorsement",
        "AnnounceRelationship",
        "AnnounceServiceResult",
        "Accept",
        "Reject",
        "TentativelyAccept",
        "TentativelyReject",
        "UndoOffer",
        "UnprocessableNotification",
    }
)


class BadNotification(NodeError):
    status = 400
    title = "Bad notification"


@dataclass(frozen=True)
class Incoming:
    id: str
    kind: str
    body: dict[str, Any]
    pattern: NotifyPattern
    sender: Partner
    in_reply_to: str | None

    def part_id(self, name: str) -> str | None:
        """``id`` of the notification's ``object``, ``context``, ``target``..., or of the bare string given."""
        value = self.body.get(name)
        if isinstance(value, dict):
            value = value.get("id")
        return value if isinstance(value, str) else None


def _errors(error: ValidationError) -> str:
    parts = []
    for prop, detail in error.errors.items():
        name = prop[0] if isinstance(prop, tuple) else prop
        found = detail.get("errors", []) if isinstance(detail, dict) else [detail]
        nested = detail.get("nested", {}) if isinstance(detail, dict) else {}
        for inner, more in nested.items():
            inner_name = inner[0] if isinstance(inner, tuple) else inner
            found = [*found, *(f"{inner_name}: {m}" for m in more.get("errors", []))]
        parts.append(f"{name}: {'; '.join(str(f) for f in found) or 'invalid'}")
    return "; ".join(parts) or "invalid notification"


def _json(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadNotification(f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadNotification("a notification is one JSON object")
    context = body.get("@context")
    contexts = context if isinstance(context, list) else [context]
    if AS_CONTEXT not in contexts or NOTIFY_CONTEXT not in contexts:
        raise BadNotification(f"@context must name {AS_CONTEXT} and {NOTIFY_CONTEXT}")
    return body


def _pattern(body: dict[str, Any]) -> tuple[str, NotifyPattern]:
    try:
        # The library takes ``@context`` out of the dict it is given: it reads a copy, the body is stored whole.
        pattern = COARNotifyFactory.get_by_object(copy.deepcopy(body))
    except ValidationError as exc:
        raise BadNotification(f"invalid notification: {_errors(exc)}") from None
    except NotifyException as exc:
        raise BadNotification(f"not a COAR Notify notification: {exc}") from None
    except (TypeError, AttributeError, ValueError):
        raise BadNotification("not a COAR Notify notification: its properties have the wrong shapes") from None
    if pattern is None:
        raise BadNotification(f"unknown notification type {body.get('type')!r}")
    kind = type(pattern).__name__
    if kind not in KINDS:
        raise BadNotification(f"this inbox does not take {kind} notifications")
    try:
        pattern.validate()
    except ValidationError as exc:
        raise BadNotification(f"invalid {kind}: {_errors(exc)}") from None
    except (NotifyException, TypeError, AttributeError, ValueError) as exc:
        raise BadNotification(f"invalid {kind}: {exc}") from None
    return kind, pattern


def parse(node: Node, raw: bytes) -> Incoming:
    """The notification in ``raw``, checked; a 400 (``BadNotification``), 403 or 413 says why not."""
    if len(raw) > node.settings.notify_max_bytes:
        raise TooLarge(f"a notification may be at most {node.settings.notify_max_bytes} bytes")
    body = _json(raw)
    kind, pattern = _pattern(body)
    # COAR Notify 1.0.1 names who acted in every pattern; the library leaves actor optional.
    actor = body.get("actor")
    if not isinstance(actor, dict) or not isinstance(actor.get("id"), str) or not actor.get("type"):
        raise BadNotification("actor is required, with an id and a type")
    sender = partners.find(node, pattern.origin.id if pattern.origin else None)
    if sender is None:
        raise Forbidden("the origin of this notification is not on this node's list of peers and services")
    target = partners.normal(pattern.target.id or "")
    own = partners.own_id(node)
    if target != own and not target.startswith(f"{own}/"):
        raise BadNotification(f"target {target!r} is not this node ({own})")
    trusted = {urls.site_of(own), urls.site_of(sender.id), urls.site_of(sender.inbox)}
    refused = urls.refusal(body, trusted)
    if refused:
        raise BadNotification(refused)
    if not isinstance(body.get("id"), str) or len(body["id"]) > 1000:
        raise BadNotification("id must be a URI of at most 1000 characters")
    return Incoming(body["id"], kind, body, pattern, sender, pattern.in_reply_to)
