"""Named locks that hold across processes and machines, kept in the catalog (table ``leases``).

A web process that writes a tus upload takes ``tus:<id>`` here, so a client that reconnects to another web
process (``osnode serve --workers N``, or another machine behind the proxy) cannot write the same partial
file at once. A lock is a lease: it runs out ``ttl`` seconds after its last renewal, so a holder that died
(kill -9, a lost machine) blocks nobody for long; one whose process is gone on this very host is taken over
at once.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import timedelta

from sqlalchemy import and_, delete, select, update
from sqlalchemy.exc import IntegrityError

from ..domain.moments import as_utc
from ..storage.queue import leases
from .node import Node, utcnow


def holder_name() -> str:
    """Who holds a lock: host, process and a random part (a pid is reused after a restart)."""
    return f"{socket.gethostname()[:150]}/{os.getpid()}/{secrets.token_hex(8)}"


def dead_here(holder: str | None) -> bool:
    """Whether ``holder`` was a process of this host that no longer runs."""
    host, _, rest = (holder or "").partition("/")
    pid = rest.partition("/")[0]
    if host != socket.gethostname()[:150] or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def acquire(node: Node, name: str, holder: str, ttl: float) -> bool:
    """Take the lock for ``holder``; False when someone else holds it."""
    now = utcnow()
    until = now + timedelta(seconds=ttl)
    try:
        with node.transaction(durable=False) as tx:
            held = tx.execute(select(leases).where(leases.c.name == name).with_for_update()).first()
            if held is None:
                tx.execute(leases.insert().values(name=name, holder=holder, expires=until))
                return True
            if held.holder != holder and as_utc(held.expires) >= now and not dead_here(held.holder):
                return False
            tx.execute(update(leases).where(leases.c.name == name).values(holder=holder, expires=until))
            return True
    except IntegrityError:  # another process inserted it between our look and our insert
        return False


def renew(node: Node, name: str, holder: str, ttl: float) -> bool:
    until = utcnow() + timedelta(seconds=ttl)
    with node.transaction(durable=False) as tx:
        mine = and_(leases.c.name == name, leases.c.holder == holder)
        return tx.execute(update(leases).where(mine).values(expires=until)).rowcount == 1


def release(node: Node, name: str, holder: str) -> None:
    with node.transaction(durable=False) as tx:
        tx.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder))
