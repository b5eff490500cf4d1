"""The link from a record version to the software it archived (``swh_deposits``), and who may follow it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from ...domain.access import Viewer
from ...domain.errors import Forbidden, NotFound
from ...domain.records import Version
from ...storage.software import swh_deposits
from .. import access, records
from ..node import Node
from .ingest import ArchiveResult


@dataclass(frozen=True)
class DepositLink:
    swhid: str
    origin: str
    visit: int
    head_revision: str | None
    root_directory: str
    visit_swhid: str | None


def deposit_link(conn: Connection, version_id: str) -> DepositLink | None:
    row = conn.execute(select(swh_deposits).where(swh_deposits.c.version_id == version_id)).first()
    if row is None:
        return None
    visit = row.swhid if row.swhid.startswith("swh:1:snp:") else None
    return DepositLink(row.swhid, row.origin, row.visit, row.head_revision, row.root_directory, visit)


def deposit_for(node: Node, any_id: str, viewer: Viewer) -> tuple[Version, DepositLink]:
    """The archived software of a record version, if the viewer may read its files."""
    version = records.get_version(node, any_id, viewer)
    with node.engine.connect() as conn:
        link = deposit_link(conn, version.id)
    if link is None:
        raise NotFound(f"record {any_id} holds no archived software")
    refusal = access.refusal(node, version, viewer)
    if refusal:
        raise Forbidden(refusal)
    return version, link


def link_version(tx: Connection, version_id: str, result: ArchiveResult) -> None:
    """Make a record version point at what an archive run stored (replacing any earlier link)."""
    tx.execute(swh_deposits.delete().where(swh_deposits.c.version_id == version_id))
    tx.execute(
        swh_deposits.insert().values(
            version_id=version_id,
            swhid=result.swhid,
            origin=result.origin,
            visit=result.visit,
            head_revision=result.head_revision,
            root_directory=result.root_directory,
        )
    )
