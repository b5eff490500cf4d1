"""Curators per community (``community_curators``): who may accept records into one community.

The global curator role keeps its meaning (a curator of the whole node curates every community); an
administrator may do everything; a depositor listed here curates that community only. The curation queue and
the community pages ask ``may_curate`` before acting.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from ..domain.access import Viewer
from ..domain.errors import Conflict, Forbidden, NotFound
from ..domain.records import Role
from ..storage.accounts import community_curators
from ..storage.catalog import users
from ..storage.communities import communities
from .node import Node


def may_curate(node: Node, viewer: Viewer, slug: str) -> bool:
    if viewer.user_id is None or viewer.read_only:
        return False
    if viewer.role in (Role.ADMIN, Role.CURATOR):
        return True
    with node.engine.connect() as conn:
        found = conn.execute(
            select(community_curators.c.user_id).where(
                community_curators.c.slug == slug, community_curators.c.user_id == viewer.user_id
            )
        ).first()
    return found is not None


def _require_admin(viewer: Viewer) -> None:
    if viewer.role is not Role.ADMIN or viewer.read_only:
        raise Forbidden("only an administrator names a community's curators")


def add(node: Node, viewer: Viewer, slug: str, user_id: int) -> None:
    _require_admin(viewer)
    with node.transaction() as tx:
        if tx.execute(select(communities.c.slug).where(communities.c.slug == slug)).first() is None:
            raise NotFound(f"no community '{slug}'")
        if tx.execute(select(users.c.id).where(users.c.id == user_id)).first() is None:
            raise NotFound(f"no user {user_id}")
        exists = tx.execute(
            select(community_curators.c.slug).where(
                community_curators.c.slug == slug, community_curators.c.user_id == user_id
            )
        ).first()
        if exists:
            raise Conflict(f"user {user_id} already curates '{slug}'")
        tx.execute(community_curators.insert().values(slug=slug, user_id=user_id))


def remove(node: Node, viewer: Viewer, slug: str, user_id: int) -> None:
    _require_admin(viewer)
    with node.transaction() as tx:
        gone = tx.execute(
            delete(community_curators).where(community_curators.c.slug == slug, community_curators.c.user_id == user_id)
        )
    if gone.rowcount != 1:
        raise NotFound(f"user {user_id} does not curate '{slug}'")


def of_community(node: Node, slug: str) -> list[tuple[int, str]]:
    """The community's own curators: (user id, name to show)."""
    with node.engine.connect() as conn:
        rows = conn.execute(
            select(users.c.id, users.c.display_name, users.c.name)
            .join(community_curators, community_curators.c.user_id == users.c.id)
            .where(community_curators.c.slug == slug)
            .order_by(users.c.id)
        ).all()
    return [(r.id, r.display_name or r.name) for r in rows]
