"""A journal's back catalogue: articles published elsewhere before (an OJS journal moving here), added straight
into an issue as published articles, without the editorial workflow. The OJS import (issue 17, §5) calls this
for each harvested article; the original URLs and DOIs stay in the metadata it passes (``doi``,
``alternateIdentifiers``, ``relatedIdentifiers``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from ...domain.access import Viewer
from ...domain.errors import FieldError, InvalidInput
from ...domain.journals import FileKind, Stage
from ...domain.metadata import parse_metadata, publication_errors
from ...domain.records import Role, new_id
from ...storage.blobs import StoredBlob
from ...storage.journals import journal_issues, journal_submissions
from .. import deposit
from ..node import Node, utcnow
from . import issues
from .common import journal_standing, require, signed_in
from .journals import get
from .publishing import article_metadata
from .submissions import Upload, add_file_row, store


def add_published(
    node: Node,
    viewer: Viewer,
    slug: str,
    issue_id: int,
    metadata: dict[str, Any],
    galleys: list[Upload],
    first_page: str | None = None,
    last_page: str | None = None,
) -> str:
    """One article of the back catalogue, published in issue ``issue_id`` (which is then published, if it was
    not); its record id. The journal's managers and editors only; the metadata is checked in full first."""
    user_id = signed_in(viewer, "importing articles")
    journal = get(node, slug)
    issue = issues.get(node, slug, issue_id, viewer)
    with node.engine.connect() as conn:
        require(journal_standing(conn, viewer, slug).publishes, "only the journal's managers and editors do this")
    meta = article_metadata(journal, metadata, issue, issue.year, first_page, last_page)
    try:
        parsed = parse_metadata(meta)
    except InvalidInput as exc:
        raise InvalidInput("the article's metadata is not valid", exc.errors) from None
    missing = [FieldError(f"metadata.{e.path}", e.message) for e in publication_errors(parsed)]
    if missing:
        raise InvalidInput("the article's metadata is not complete", missing)
    stored = [store(node, g) for g in galleys]
    owner = Viewer(user_id=user_id, role=Role.DEPOSITOR)
    draft = deposit.create_draft(node, owner, meta, {"level": "open" if stored else "metadata-only"})
    for name, sha256, size, media_type in stored:
        deposit.attach_blob(node, draft.id, name, StoredBlob(sha256, size), owner, media_type)
    deposit.publish(node, draft.id, owner)
    now = utcnow()
    submission_id = new_id()
    with node.transaction() as tx:
        values = dict(id=submission_id, journal=slug, author_id=user_id, stage=Stage.PUBLISHED.value, round=1)
        values |= dict(metadata=meta, details={"imported": True}, record_id=draft.record_id, issue_id=issue.id)
        values |= dict(first_page=first_page, last_page=last_page, published=now, created=now, updated=now)
        tx.execute(insert(journal_submissions).values(**values))
        for blob in stored:
            add_file_row(tx, submission_id, 1, FileKind.GALLEY, blob, uploaded_by=user_id)
        unpublished = select(journal_issues.c.published).where(journal_issues.c.id == issue.id)
        if tx.execute(unpublished).scalar() is None:
            tx.execute(update(journal_issues).where(journal_issues.c.id == issue.id).values(published=now))
    return draft.record_id
