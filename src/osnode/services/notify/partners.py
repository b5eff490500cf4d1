"""The allow-list: who may write to the node's inbox and whom the node writes to.

Two sources: the node's peers (another osnode, whose inbox is its site + ``/inbox``) and the services an
operator configured (``notify_services``: a review service, an overlay journal...). A notification whose
``origin.id`` is on neither is refused with 403. Replies always go to the inbox configured here, never to
the inbox a notification claims, so nobody can make the node post to an address of their choosing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ...storage.peers import peers
from ..harvest.peers import origin_of
from ..node import Node


@dataclass(frozen=True)
class Partner:
    id: str
    inbox: str
    name: str
    peer: bool


def normal(service_id: str) -> str:
    """Service ids compared without a trailing slash: ``https://x.org/`` and ``https://x.org`` are one service."""
    return service_id.strip().rstrip("/")


def own_id(node: Node) -> str:
    return normal(node.settings.public_url)


def own_inbox(node: Node) -> str:
    return f"{own_id(node)}/inbox"


def partners(node: Node) -> list[Partner]:
    found = [
        Partner(normal(values["id"]), values["inbox"], values.get("label") or name, False)
        for name, table in node.settings.notify_services
        for values in [dict(table)]
    ]
    with node.engine.connect() as conn:
        rows = conn.execute(select(peers.c.name, peers.c.base_url).order_by(peers.c.name)).all()
    for row in rows:
        site = normal(origin_of(row.base_url))
        found.append(Partner(site, f"{site}/inbox", row.name, True))
    return found


def find(node: Node, service_id: str | None) -> Partner | None:
    if not service_id:
        return None
    wanted = normal(service_id)
    return next((p for p in partners(node) if p.id == wanted), None)
