"""Managing a journal in the browser: an administrator creates it; its managers configure it (titles, ISSNs,
texts, licence, review mode, languages), its sections and its people; managers and editors reword the decision
letters and put issues together and publish them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from ...domain.access import Viewer
from ...domain.errors import Forbidden, InvalidInput
from ...domain.journals import STAFF_ROLES, Decision, FileKind, ReviewMode
from ...domain.records import Role
from ...services.journals import decisions, issues, publishing, standards
from ...services.journals import journals as journal_service
from ...services.journals.submissions import store
from ...services.node import Node
from .. import i18n
from ..account_pages import page
from ..deps import DbId, NodeDep
from ..sessions import SignedInDep
from . import emails
from .forms import read_form, texts, uploads

router = APIRouter(include_in_schema=False)
COVER_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def _settings_page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    context.setdefault("modes", [m.value for m in ReviewMode])
    context.setdefault("errors", [])
    return page(request, name, status, **context)


@router.get("/journals-new", response_class=HTMLResponse)
def new_form(request: Request, viewer: Viewer = SignedInDep) -> Response:
    if viewer.role is not Role.ADMIN:
        raise Forbidden("only administrators create journals")
    return _settings_page(request, "journals/new.html", values={"licence": "CC-BY-4.0"})


@router.post("/journals-new", response_class=HTMLResponse)
async def create(request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    values = texts(await read_form(request))
    try:
        done = await run_in_threadpool(journal_service.create, node, viewer, values.get("slug"), values)
    except InvalidInput as exc:
        return _settings_page(request, "journals/new.html", 422, values=values, errors=exc.errors)
    return RedirectResponse(f"/journals/{done.slug}/manage", status_code=303)


def _values(journal: journal_service.Journal) -> dict[str, Any]:
    main = journal.titles[0] if journal.titles else {}
    others = "\n".join(f"{t.get('lang', '')} | {t['title']}" for t in journal.titles[1:])
    return dict(
        title=main.get("title", ""),
        title_lang=main.get("lang", "en"),
        other_titles=others,
        issn_print=journal.issn_print or "",
        issn_online=journal.issn_online or "",
        issn_l=journal.issn_l or "",
        publisher=journal.publisher,
        licence=journal.licence,
        review_mode=journal.review_mode.value,
        languages=" ".join(journal.languages),
        **journal.texts,
    )


def _manage_context(node: Node, viewer: Viewer, slug: str) -> dict[str, Any]:
    journal = journal_service.get(node, slug)
    standing = journal_service.standing(node, viewer, slug)
    if not (standing.manages or standing.publishes):
        raise Forbidden("only the journal's managers and editors manage it")
    return dict(
        journal=journal,
        standing=standing,
        people=journal_service.people(node, slug),
        roles=[r.value for r in STAFF_ROLES],
        issues=issues.unpublished(node, viewer, slug),
        scheduled={i.id: len(issues.scheduled(node, i.id)) for i in issues.unpublished(node, viewer, slug)},
        published=issues.archive(node, slug).issues,  # the latest published issues, for their Crossref deposits
    )


def _xml(document: bytes, name: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private"}
    return Response(document, media_type="application/xml", headers=headers)


@router.get("/journals/{slug}/issues/{issue_id}/crossref.xml")
def issue_crossref(slug: str, issue_id: DbId, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    """The Crossref 5.5.0 deposit of a published issue, for the journal's managers and editors."""
    return _xml(standards.issue_deposit(node, viewer, slug, issue_id), f"{slug}-issue-{issue_id}-crossref.xml")


@router.get("/journals/{slug}/articles/{record_id}/crossref.xml")
def article_crossref(slug: str, record_id: str, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    """The Crossref 5.5.0 deposit of one published article."""
    return _xml(standards.article_deposit(node, viewer, slug, record_id), f"{slug}-{record_id}-crossref.xml")


@router.get("/journals/{slug}/manage", response_class=HTMLResponse)
def manage(slug: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    context = _manage_context(node, viewer, slug)
    done = request.query_params.get("done", "")
    return _settings_page(request, "journals/manage.html", values=_values(context["journal"]), done=done, **context)


@router.post("/journals/{slug}/manage", response_class=HTMLResponse)
async def save(slug: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    values = texts(await read_form(request))
    try:
        await run_in_threadpool(journal_service.edit, node, viewer, slug, values)
    except InvalidInput as exc:
        context = await run_in_threadpool(_manage_context, node, viewer, slug)
        return _settings_page(request, "journals/manage.html", 422, values=values, errors=exc.errors, **context)
    return RedirectResponse(f"/journals/{slug}/manage?done=saved", status_code=303)


@router.post("/journals/{slug}/sections")
async def add_section(slug: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    values = texts(await read_form(request))
    await run_in_threadpool(journal_service.add_section, node, viewer, slug, values.get("section"))
    return RedirectResponse(f"/journals/{slug}/manage?done=saved#sections", status_code=303)


@router.post("/journals/{slug}/sections/{section_id}/remove")
async def remove_section(slug: str, section_id: DbId, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    await run_in_threadpool(journal_service.remove_section, node, viewer, slug, section_id)
    return RedirectResponse(f"/journals/{slug}/manage?done=saved#sections", status_code=303)


@router.post("/journals/{slug}/people")
async def grant(slug: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    values = texts(await read_form(request))
    await run_in_threadpool(journal_service.grant, node, viewer, slug, values.get("email"), values.get("role"))
    return RedirectResponse(f"/journals/{slug}/manage?done=saved#people", status_code=303)


@router.post("/journals/{slug}/people/{user_id}/remove")
async def revoke(
    slug: str, user_id: DbId, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep
) -> Response:
    values = texts(await read_form(request))
    await run_in_threadpool(journal_service.revoke, node, viewer, slug, user_id, values.get("role"))
    return RedirectResponse(f"/journals/{slug}/manage?done=saved#people", status_code=303)


# -- decision letters --------------------------------------------------------------------------------------


@router.get("/journals/{slug}/letters", response_class=HTMLResponse)
def letters(slug: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    journal = journal_service.get(node, slug)
    if not journal_service.standing(node, viewer, slug).publishes:
        raise Forbidden("only the journal's managers and editors do this")
    lang = request.query_params.get("language") or i18n.request_language(request)
    lang = lang if lang in i18n.LANGUAGES else i18n.DEFAULT
    bodies = {d.value: emails.letter(node, slug, d, lang) for d in Decision}
    done = request.query_params.get("done", "")
    context = dict(journal=journal, bodies=bodies, language=lang, languages=list(i18n.LANGUAGES), done=done)
    return page(request, "journals/letters.html", **context)


@router.post("/journals/{slug}/letters")
async def save_letter(slug: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    v = texts(await read_form(request))
    await run_in_threadpool(
        decisions.set_letter, node, viewer, slug, v.get("decision"), v.get("language"), v.get("body")
    )
    return RedirectResponse(f"/journals/{slug}/letters?language={v.get('language', '')}&done=saved", status_code=303)


# -- issues ------------------------------------------------------------------------------------------------


def _cover(node: Node, form: Any) -> tuple[str, str] | None:
    found = uploads(form, cover=FileKind.GALLEY)
    if not found:
        return None
    name, sha256, size, _ = store(node, found[0])
    with node.blobs.open(sha256) as f:
        head = f.read(8)
    kind = next((t for magic, t in COVER_TYPES.items() if head.startswith(magic)), None)
    if kind is None:
        raise InvalidInput("the cover must be a PNG or JPEG image")
    return sha256, kind


@router.post("/journals/{slug}/issues")
async def new_issue(slug: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    form = await read_form(request, max_files=1)
    try:
        if not journal_service.standing(node, viewer, slug).publishes:
            raise Forbidden("only the journal's managers and editors make issues")
        cover = await run_in_threadpool(_cover, node, form)
        issue = await run_in_threadpool(issues.create, node, viewer, slug, texts(form), cover)
    finally:
        await form.close()
    return RedirectResponse(f"/journals/{slug}/manage?done=issue-{issue.id}#issues", status_code=303)


@router.post("/journals/{slug}/issues/{issue_id}/publish")
async def publish_issue(slug: str, issue_id: DbId, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    issue, published = await run_in_threadpool(publishing.publish_issue, node, viewer, slug, issue_id)
    journal = await run_in_threadpool(journal_service.get, node, slug)
    from ...services import accounts

    for sub in published:
        author = await run_in_threadpool(accounts.get, node, sub.author_id)
        if author is not None and sub.record_id:
            lang = emails.language_of(author)
            link = node.record_url(sub.record_id)
            await run_in_threadpool(
                emails.to_accounts,
                node,
                [author],
                emails.PUBLISHED_SUBJECT,
                emails.PUBLISHED_BODY,
                link,
                title=sub.title(lang),
                journal=journal.title(lang),
            )
    return RedirectResponse(f"/journals/{slug}/issues/{issue.id}", status_code=303)
