"""A journal's public pages: the list of journals, a journal's home (its current issue), an issue's table of
contents, the archive by issue (paged), the about page and the Atom feed of its latest articles."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from ...domain.access import Viewer
from ...domain.errors import NotFound
from ...domain.records import Version
from ...formats import atom
from ...services.journals import issues, publishing
from ...services.journals import journals as journal_service
from ...services.node import Node
from .. import files, i18n
from ..deps import DbId, NodeDep, ViewerDep
from ..panels import Panel
from ..templating import templates
from .forms import PageNo

router = APIRouter(include_in_schema=False)
HOME_ENTRIES = 20  # the home page shows the start of the current issue; its page shows the rest


def render(request: Request, name: str, **context: Any) -> Response:
    context.setdefault("node", request.app.state.node)
    context.setdefault("lang", i18n.reader_language(request))
    return templates.TemplateResponse(request, name, context)


@router.get("/journals", response_class=HTMLResponse)
def index(request: Request, node: Node = NodeDep) -> Response:
    return render(request, "journals/list.html", journals=journal_service.list_all(node))


@router.get("/journals/{slug}", response_class=HTMLResponse)
def home(slug: str, request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    journal = journal_service.get(node, slug)
    issue = issues.current(node, slug)
    toc = issues.contents(node, issue, 1, HOME_ENTRIES) if issue else None
    entries = toc.entries if toc else []
    latest = [] if entries else issues.latest(node, slug, HOME_ENTRIES)
    standing = journal_service.standing(node, viewer, slug)
    context = dict(journal=journal, issue=issue, entries=entries, toc=toc, latest=latest, standing=standing)
    return render(request, "journals/home.html", **context)


@router.get("/journals/{slug}/issues/{issue_id}", response_class=HTMLResponse)
def issue_page(
    slug: str, issue_id: DbId, request: Request, page: PageNo = 1, node: Node = NodeDep, viewer: Viewer = ViewerDep
) -> Response:
    journal = journal_service.get(node, slug)
    issue = issues.get(node, slug, issue_id, viewer)
    toc = issues.contents(node, issue, page)
    return render(request, "journals/issue.html", journal=journal, issue=issue, entries=toc.entries, toc=toc)


@router.get("/journals/{slug}/issues/{issue_id}/cover")
def cover(slug: str, issue_id: DbId, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    issue = issues.get(node, slug, issue_id, viewer)
    if not issue.cover_sha256:
        raise NotFound("this issue has no cover")
    headers = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}
    return files.stored_response(node, issue.cover_sha256, issue.cover_type, headers)


@router.get("/journals/{slug}/archive", response_class=HTMLResponse)
def archive(slug: str, request: Request, page: PageNo = 1, node: Node = NodeDep) -> Response:
    journal = journal_service.get(node, slug)
    return render(request, "journals/archive.html", journal=journal, archive=issues.archive(node, slug, page))


@router.get("/journals/{slug}/about", response_class=HTMLResponse)
def about(slug: str, request: Request, node: Node = NodeDep) -> Response:
    journal = journal_service.get(node, slug)
    return render(request, "journals/about.html", journal=journal, people=journal_service.people(node, slug))


@router.get("/journals/{slug}/feed.atom")
def feed(slug: str, node: Node = NodeDep) -> Response:
    journal = journal_service.get(node, slug)
    base = node.settings.public_url
    entries = [
        atom.Entry(
            id=node.record_url(e.record_id),
            title=next((t.get("title", "") for t in e.titles), ""),
            updated=e.published,
            published=e.published,
            link=node.record_url(e.record_id),
            authors=e.creators,
            summary=e.abstract[:2000],
        )
        for e in issues.latest(node, slug, 30)
    ]
    url = f"{base}/journals/{slug}/feed.atom"
    body = atom.feed(url, journal.title(), url, f"{base}/journals/{slug}", journal.publisher, journal.created, entries)
    return Response(body, media_type=atom.MEDIA_TYPE)


def journal_panel(request: Request, node: Node, version: Version, _viewer: Viewer) -> Panel | None:
    """On an article's landing page: the journal and issue it was published in (from the node's journals)."""
    facts = publishing.placement_of(node, version.record_id)
    return Panel("panels/journal.html", {"facts": facts}) if facts else None
