"""Reading records: loading versions, resolving concept ids, listing with cursors, JSON views."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, or_, select

from ..domain.access import Viewer, can_see, without_content_addresses
from ..domain.duo import data_use_of
from ..domain.errors import Gone, InvalidInput, NotFound
from ..domain.records import Access, AccessLevel, FileEntry, State, Version
from ..storage.catalog import files, records, versions
from ..storage.drafts import record_owners
from .node import Node

MAX_PAGE = 200


def version_of_row(row: Row, file_rows: list[Row]) -> Version:
    return Version(
        id=row.id,
        record_id=row.record_id,
        number=row.number,
        state=State(row.state),
        metadata=row.metadata,
        access=Access(AccessLevel(row.access_level), row.embargo_until, data_use_of(row.data_use)),
        owner_id=row.owner_id,
        created=row.created,
        updated=row.updated,
        published_at=row.published_at,
        withdrawn_at=row.withdrawn_at,
        withdrawal_reason=row.withdrawal_reason,
        origin_node=row.origin_node,
        files=[FileEntry(f.key, f.sha256, f.size, f.mimetype, f.created) for f in file_rows],
    )


def load_version(conn: Connection, version_id: str, *, for_update: bool = False) -> Version | None:
    query = select(versions).where(versions.c.id == version_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        return None
    file_rows = conn.execute(select(files).where(files.c.version_id == version_id).order_by(files.c.key)).all()
    shared = conn.execute(select(record_owners.c.user_id).where(record_owners.c.record_id == row.record_id)).scalars()
    return replace(version_of_row(row, list(file_rows)), co_owner_ids=tuple(sorted(shared)))


def record_versions(conn: Connection, record_id: str) -> list[Version]:
    rows = conn.execute(select(versions).where(versions.c.record_id == record_id).order_by(versions.c.number)).all()
    return [version_of_row(r, []) for r in rows]


def resolve(conn: Connection, any_id: str, viewer: Viewer) -> Version:
    """The version ``any_id`` names: a version id names itself; a concept id names its latest
    published version (or, for its owner, the draft when nothing is published yet).

    A draft the viewer may not see is reported as missing, so its existence does not leak.
    """
    if "\x00" in any_id:  # no id holds a NUL, and PostgreSQL refuses text that does
        raise NotFound("no record or version has an id with a NUL character")
    version = load_version(conn, any_id)
    if version is None:
        record = conn.execute(select(records).where(records.c.id == any_id)).first()
        if record is None:
            raise NotFound(f"no record or version with id '{any_id}'")
        target = record.latest_published_id or _latest_withdrawn_or_draft(conn, any_id)
        version = load_version(conn, target) if target else None
        if version is None:
            raise NotFound(f"no record or version with id '{any_id}'")
    if not can_see(version, viewer, reviewer=_reviews(conn, version, viewer)):
        raise NotFound(f"no record or version with id '{any_id}'")
    return version


def _reviews(conn: Connection, version: Version, viewer: Viewer) -> bool:
    """Whether the viewer curates a community this draft's record was submitted to (asked only when it matters)."""
    if version.state is not State.DRAFT or viewer.user_id is None or viewer.owns(version) or viewer.is_staff:
        return False
    from .curation import reviews  # curation reads records' versions too

    return reviews(conn, viewer, version.record_id)


def _latest_withdrawn_or_draft(conn: Connection, record_id: str) -> str | None:
    row = conn.execute(
        select(versions.c.id).where(versions.c.record_id == record_id).order_by(versions.c.number.desc()).limit(1)
    ).first()
    return row.id if row else None


def get_version(node: Node, any_id: str, viewer: Viewer, *, allow_withdrawn: bool = False) -> Version:
    with node.engine.connect() as conn:
        version = resolve(conn, any_id, viewer)
    if version.state is State.WITHDRAWN and not allow_withdrawn:
        raise Gone(
            f"record version {version.id} was withdrawn: {version.withdrawal_reason}",
            tombstone(node, version),
        )
    return version


def tombstone(node: Node, version: Version) -> dict[str, Any]:
    """What stays of a withdrawn version: identifier, citation and reason."""
    from ..domain.metadata import Metadata

    meta = Metadata.model_validate(version.metadata)
    creators = "; ".join(c.name or "" for c in meta.creators)
    year = meta.publicationYear or (version.published_at.year if version.published_at else "")
    url = node.record_url(version.id)
    return {
        "id": version.id,
        "record_id": version.record_id,
        "url": url,
        "title": meta.main_title(),
        "citation": f"{creators} ({year}). {meta.main_title()}. {node.settings.node_name}. {url}",
        "withdrawn_at": version.withdrawn_at.isoformat() if version.withdrawn_at else None,
        "reason": version.withdrawal_reason,
    }


def version_json(node: Node, version: Version, latest_id: str | None, *, viewer: Viewer) -> dict[str, Any]:
    """The API's view of one version, as ``viewer`` may see it (see ``file_json``)."""
    base = f"/records/{version.id}"
    readable = files_readable(node, version, viewer)
    body: dict[str, Any] = {
        "id": version.id,
        "record_id": version.record_id,
        "version": version.number,
        "state": version.state.value,
        "is_latest": latest_id == version.id,
        "url": node.record_url(version.id),
        "metadata": version.metadata if readable else without_content_addresses(version.metadata),
        "access": version.access.as_dict(),
        "origin_node": version.origin_node,
        "created": version.created.isoformat(),
        "updated": version.updated.isoformat(),
        "published_at": version.published_at.isoformat() if version.published_at else None,
        "links": {
            "self": node.api_url(base),
            "html": node.record_url(version.id),
            "record": node.api_url(f"/records/{version.record_id}"),
            "versions": node.api_url(f"/records/{version.record_id}/versions"),
            "files": node.api_url(f"{base}/files"),
        },
    }
    if version.state is State.WITHDRAWN:
        body["withdrawal"] = {
            "withdrawn_at": version.withdrawn_at.isoformat() if version.withdrawn_at else None,
            "reason": version.withdrawal_reason,
        }
    else:
        body["files"] = [file_json(node, version, f, readable=readable) for f in version.files]
    return body


def files_readable(node: Node, version: Version, viewer: Viewer) -> bool:
    from . import access  # the one access module, which reads versions through this one

    return access.files_allowed(node, version, viewer)


def file_json(node: Node, version: Version, entry: FileEntry, *, readable: bool) -> dict[str, Any]:
    """One file as the API lists it. A reader who may not get the bytes (``readable`` false) sees
    its name, size and media type, never its checksum or download URL (docs/security.md): a
    checksum confirms guesses about the content and names where the blob lives."""
    if not readable:
        return {"key": entry.key, "size": entry.size, "mimetype": entry.mimetype}
    return {
        "key": entry.key,
        "size": entry.size,
        "checksum": f"sha256:{entry.sha256}",
        "mimetype": entry.mimetype,
        "url": node.api_url(f"/records/{version.id}/files/{entry.key}"),
    }


def latest_published_id(conn: Connection, record_id: str) -> str | None:
    row = conn.execute(select(records.c.latest_published_id).where(records.c.id == record_id)).first()
    return row.latest_published_id if row else None


def describe(node: Node, version: Version, viewer: Viewer) -> dict[str, Any]:
    with node.engine.connect() as conn:
        latest = latest_published_id(conn, version.record_id)
    return version_json(node, version, latest, viewer=viewer)


def list_versions(node: Node, any_id: str, viewer: Viewer) -> list[dict[str, Any]]:
    with node.engine.connect() as conn:
        version = resolve(conn, any_id, viewer)
        latest = latest_published_id(conn, version.record_id)
        found = [v for v in record_versions(conn, version.record_id) if can_see(v, viewer)]
    return [
        {
            "id": v.id,
            "version": v.number,
            "state": v.state.value,
            "is_latest": v.id == latest,
            "published_at": v.published_at.isoformat() if v.published_at else None,
            "url": node.record_url(v.id),
            "links": {"self": node.api_url(f"/records/{v.id}")},
        }
        for v in found
    ]


# -- listing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def _encode_cursor(moment: datetime, version_id: str) -> str:
    raw = json.dumps([moment.isoformat(), version_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, version_id = json.loads(raw)
        # The id goes to the database: refuse what no id holds (and PostgreSQL would choke on).
        if not isinstance(version_id, str) or "\x00" in version_id:
            raise ValueError("bad version id")
        version_id.encode()  # a lone surrogate raises UnicodeEncodeError, a ValueError
        return datetime.fromisoformat(moment), version_id
    except (ValueError, TypeError) as exc:
        raise InvalidInput("the cursor is not one this node handed out") from exc


def list_records(
    node: Node, viewer: Viewer, *, size: int = 20, cursor: str | None = None, state: str = "published"
) -> Page:
    """Newest first, one entry per record (its latest published version), keyset-paginated so page
    1,000 costs what page 1 does. ``state="draft"`` lists the viewer's drafts (staff see all)."""
    if not 1 <= size <= MAX_PAGE:
        raise InvalidInput(f"size must be between 1 and {MAX_PAGE}")
    if state == "published":
        query = select(versions).join(records, records.c.latest_published_id == versions.c.id)
        order_col = versions.c.published_at
    elif state == "draft":
        if viewer.user_id is None:
            raise InvalidInput("listing drafts needs an API token")
        query = select(versions).where(versions.c.state == State.DRAFT.value)
        if not viewer.is_staff:
            query = query.where(versions.c.owner_id == viewer.user_id)
        order_col = versions.c.updated
    else:
        raise InvalidInput(f"unknown state '{state}'; expected 'published' or 'draft'")
    if cursor:
        moment, last_id = _decode_cursor(cursor)
        query = query.where(or_(order_col < moment, and_(order_col == moment, versions.c.id < last_id)))
    query = query.order_by(order_col.desc(), versions.c.id.desc()).limit(size + 1)
    with node.engine.connect() as conn:
        rows = conn.execute(query).all()
        page = rows[:size]
        items = []
        for row in page:
            version = load_version(conn, row.id)
            assert version is not None
            items.append(version_json(node, version, row.id if state == "published" else None, viewer=viewer))
    next_cursor = None
    if len(rows) > size:
        last = page[-1]
        next_cursor = _encode_cursor(last.published_at if state == "published" else last.updated, last.id)
    return Page(items, next_cursor)
