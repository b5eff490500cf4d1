"""Running the node's people from the browser: accounts (paged, searched), roles, status, invitations.

Every function checks that the viewer is an administrator, so the web layer cannot forget to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update

from ..domain.access import Viewer
from ..domain.errors import Forbidden, InvalidInput, NotFound
from ..domain.records import Role
from ..storage.accounts import invitations
from ..storage.accounts import outbox as outbox_table
from ..storage.catalog import users
from . import accounts, jobs, mail, queue
from .node import Node, utcnow

PAGE = 50
MAX_QUERY = 200


def require_admin(viewer: Viewer) -> None:
    if viewer.role is not Role.ADMIN or viewer.read_only or viewer.user_id is None:
        raise Forbidden("only an administrator may do this")


@dataclass(frozen=True)
class Invitation:
    key: str  # the code's SHA-256: names the invitation without being the code
    email: str
    created: datetime
    expires: datetime


def find_accounts(node: Node, viewer: Viewer, query: str = "", page: int = 1) -> tuple[list[accounts.Account], int]:
    """One page of accounts whose email or name contains ``query``, and how many match in all."""
    require_admin(viewer)
    query = query.strip()[:MAX_QUERY].lower()
    where = []
    if query:
        like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            or_(
                func.lower(users.c.email).like(like, escape="\\"),
                func.lower(users.c.display_name).like(like, escape="\\"),
                func.lower(users.c.name).like(like, escape="\\"),
            )
        )
    page = max(page, 1)
    with node.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(users).where(*where)).scalar_one()
        rows = conn.execute(
            select(users).where(*where).order_by(users.c.id).limit(PAGE).offset((page - 1) * PAGE)
        ).all()
    return [accounts._account(r) for r in rows], total


def set_role(node: Node, viewer: Viewer, user_id: int, role: str) -> None:
    require_admin(viewer)
    try:
        checked = Role(role)
    except ValueError:
        raise InvalidInput("choose one of the roles offered") from None
    if user_id == viewer.user_id and checked is not Role.ADMIN:
        raise InvalidInput("you cannot take the administrator role from yourself")
    with node.transaction() as tx:
        done = tx.execute(update(users).where(users.c.id == user_id).values(role=checked.value))
    if done.rowcount != 1:
        raise NotFound(f"no user {user_id}")


def set_status(node: Node, viewer: Viewer, user_id: int, status: str) -> None:
    require_admin(viewer)
    if user_id == viewer.user_id:
        raise InvalidInput("you cannot disable your own account")
    accounts.set_status(node, viewer, user_id, status)


def pending_invitations(node: Node, viewer: Viewer) -> list[Invitation]:
    require_admin(viewer)
    with node.engine.connect() as conn:
        rows = conn.execute(
            select(invitations)
            .where(invitations.c.used.is_(None), invitations.c.expires > utcnow())
            .order_by(invitations.c.created.desc())
        ).all()
    return [Invitation(r.token_hash, r.email, r.created, r.expires) for r in rows]


def revoke_invitation(node: Node, viewer: Viewer, key: str) -> None:
    require_admin(viewer)
    with node.transaction() as tx:
        done = tx.execute(delete(invitations).where(invitations.c.token_hash == key[:64], invitations.c.used.is_(None)))
    if done.rowcount != 1:
        raise NotFound("no such pending invitation")


def counts(node: Node, viewer: Viewer) -> dict[str, int]:
    """What the dashboard shows: accounts, accounts waiting, pending invitations, mail queued and failed."""
    require_admin(viewer)
    with node.engine.connect() as conn:

        def count(table, *where) -> int:  # type: ignore[no-untyped-def]
            return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()

        return {
            "users": count(users),
            "waiting": count(users, users.c.status == accounts.PENDING),
            "invitations": count(invitations, invitations.c.used.is_(None), invitations.c.expires > utcnow()),
            "mail_queued": count(outbox_table, outbox_table.c.state == "queued"),
            "mail_failed": count(outbox_table, outbox_table.c.state == "failed"),
        }


def outbox(node: Node, viewer: Viewer) -> list[mail.Message]:
    require_admin(viewer)
    return mail.listing(node)


def retry_mail(node: Node, viewer: Viewer, message_id: int) -> None:
    require_admin(viewer)
    mail.retry(node, message_id)


def job_statuses(node: Node, viewer: Viewer) -> list[jobs.JobStatus]:
    require_admin(viewer)
    return jobs.statuses(node)


@dataclass(frozen=True)
class QueueView:
    """The durable queue as the jobs page shows it: how it is set up, counts, dead letters, the latest jobs."""

    mode: str  # embedded | database
    counts: dict[str, int]
    dead: list[queue.QueuedJob]
    latest: list[queue.QueuedJob]


def queue_view(node: Node, viewer: Viewer) -> QueueView:
    require_admin(viewer)
    dead = queue.listing(node, (queue.DEAD,), limit=100)
    latest = queue.listing(node, (queue.QUEUED, queue.RUNNING, queue.DONE), limit=20)
    return QueueView(node.settings.queue, queue.counts(node), dead, latest)


def retry_job(node: Node, viewer: Viewer, job_id: int) -> None:
    require_admin(viewer)
    queue.retry(node, job_id)


def discard_job(node: Node, viewer: Viewer, job_id: int) -> None:
    require_admin(viewer)
    queue.discard(node, job_id)
