"""Moving a journal from OJS: harvest its OAI-PMH endpoint (``oai_dc``, with the issue in ``dc:source`` as OJS
writes it: "Journal; Vol. 12 No. 3 (2026); 101-118"), make the issues, and add each article to its issue as
a published article of the back catalogue (``back_catalogue.add_published``), keeping its DOI and its original
URL. The OAI identifier is kept too (an alternate identifier of type ``OAI``): a second run adds only what
the first did not."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import and_, select

from ...domain.access import Viewer
from ...domain.errors import InvalidInput
from ...storage.journals import journal_issues, journal_submissions
from ..harvest import OAIClient
from ..harvest.errors import PeerError
from ..node import Node
from . import back_catalogue, issues
from .common import journal_standing, require, signed_in
from .journals import get

OAI_ID = "OAI"
"""The alternateIdentifierType under which the article's OAI identifier at the old journal is kept."""


@dataclass
class ImportReport:
    issues_created: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    """Record ids of the articles added."""
    skipped: int = 0
    """Articles imported by an earlier run."""
    problems: list[str] = field(default_factory=list)
    """One line per article left out, and why."""


def _imported(node: Node, slug: str) -> set[str]:
    """The OAI identifiers of the articles already imported into the journal."""
    query = select(journal_submissions.c.metadata).where(journal_submissions.c.journal == slug)
    found: set[str] = set()
    with node.engine.connect() as conn:
        for (meta,) in conn.execute(query):
            for alt in (meta or {}).get("alternateIdentifiers") or []:
                if alt.get("alternateIdentifierType") == OAI_ID:
                    found.add(str(alt.get("alternateIdentifier")))
    return found


def _issue(node: Node, viewer: Viewer, slug: str, item: dict[str, Any], report: ImportReport) -> int:
    volume, number, year = str(item["volume"]), str(item["issue"]), str(item["publicationYear"])
    where = and_(journal_issues.c.journal == slug, journal_issues.c.volume == volume, journal_issues.c.number == number)
    with node.engine.connect() as conn:
        found = conn.execute(select(journal_issues.c.id).where(where)).scalar()
    if found is not None:
        return int(found)
    made = issues.create(node, viewer, slug, {"volume": volume, "number": number, "year": year})
    report.issues_created.append(made.label)
    return made.id


def article_of(record_id: str, meta: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the article's metadata, its journal container) from a harvested ``oai_dc`` record; ``InvalidInput``
    when dc:source does not say which issue it is in."""
    meta = dict(meta)
    containers = meta.pop("relatedItems", None) or []
    item = containers[0] if containers else {}
    missing = [k for k in ("volume", "issue", "publicationYear") if not item.get(k)]
    if missing:
        raise InvalidInput(f"dc:source does not name its issue (no {', '.join(missing)})")
    # OJS lists the article's galleys (".../article/view/12/30") as dc:relation: its own files, not references.
    own = [str(a.get("alternateIdentifier")) + "/" for a in meta.get("alternateIdentifiers") or []]
    meta["relatedIdentifiers"] = [
        r for r in meta.get("relatedIdentifiers") or [] if not str(r.get("relatedIdentifier")).startswith(tuple(own))
    ]
    meta["alternateIdentifiers"] = [
        *(meta.get("alternateIdentifiers") or []),
        {"alternateIdentifier": record_id, "alternateIdentifierType": OAI_ID},
    ]
    meta.pop("publicationYear", None)  # the issue's year
    meta.pop("publisher", None)  # the journal's publisher
    meta.pop("resourceType", None)  # a journal article
    meta.pop("rightsList", None)  # OJS writes the copyright line there; the journal's licence is set instead
    return meta, item


def import_ojs(
    node: Node, viewer: Viewer, slug: str, base_url: str, set_spec: str | None = None, http: httpx.Client | None = None
) -> ImportReport:
    """Harvest ``base_url`` (an OJS OAI-PMH endpoint, optionally one ``set_spec`` such as ``journal:slug``) into
    the journal ``slug``. The journal's managers and editors (and administrators) only."""
    signed_in(viewer, "importing a journal")
    get(node, slug)  # NotFound for a journal that does not exist
    with node.engine.connect() as conn:
        require(journal_standing(conn, viewer, slug).publishes, "only the journal's managers and editors do this")
    report = ImportReport()
    done = _imported(node, slug)
    token: str | None = None
    try:
        with OAIClient(base_url, http=http) as client:
            while True:
                page = client.list_records("oai_dc", set_spec=set_spec, token=token)
                for record in page.records:
                    if record.deleted or record.metadata is None:
                        continue
                    if record.identifier in done:
                        report.skipped += 1
                        continue
                    try:
                        meta, item = article_of(record.identifier, record.metadata)
                        issue_id = _issue(node, viewer, slug, item, report)
                        first, last = item.get("firstPage"), item.get("lastPage")
                        report.added.append(
                            back_catalogue.add_published(node, viewer, slug, issue_id, meta, [], first, last)
                        )
                        done.add(record.identifier)
                    except InvalidInput as exc:
                        details = "; ".join(f"{e.path}: {e.message}" for e in exc.errors)
                        report.problems.append(f"{record.identifier}: {exc}" + (f" ({details})" if details else ""))
                token = page.token
                if not token:
                    break
    except PeerError as exc:
        raise InvalidInput(f"the OAI-PMH endpoint {base_url} could not be harvested: {exc}") from None
    return report
