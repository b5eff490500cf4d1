"""The editorial workflow in the browser: submit, the journal's queue, and one page per submission on which
each role finds the step that is theirs (desk check, reviewers, decision, revision, copyediting, galleys,
proofs, scheduling). Every step is a plain form with CSRF, and every transition sends its email."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from ...domain.access import Viewer
from ...domain.errors import InvalidInput
from ...domain.journals import (
    Decision,
    FileKind,
    JournalRole,
    Recommendation,
    Stage,
    may_get_file,
    shows_author_names,
)
from ...services import access, accounts
from ...services.journals import anonymous, decisions, issues, production, publishing, reviews, submissions
from ...services.journals import journals as journal_service
from ...services.journals.common import small_int
from ...services.node import Node
from .. import files
from ..account_pages import page
from ..deps import DbId, NodeDep
from ..sessions import SignedInDep
from . import emails
from .forms import read_form, texts, uploads

router = APIRouter(include_in_schema=False)


def _link(node: Node, submission_id: str) -> str:
    return f"{node.settings.public_url}/submissions/{submission_id}"


@router.get("/journals/{slug}/submit", response_class=HTMLResponse)
def submit_form(slug: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    journal = journal_service.get(node, slug)
    return page(request, "journals/submit.html", journal=journal, values={}, errors=[])


@router.post("/journals/{slug}/submit", response_class=HTMLResponse)
async def submit(slug: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    journal = await run_in_threadpool(journal_service.get, node, slug)
    form = await read_form(request, max_files=submissions.MAX_FILES, max_fields=40)
    values = texts(form, "checklist")
    try:
        files = uploads(form, manuscript=FileKind.MANUSCRIPT, supplementary=FileKind.SUPPLEMENTARY)
        done = await run_in_threadpool(submissions.submit, node, viewer, slug, values, files)
    except InvalidInput as exc:
        return page(request, "journals/submit.html", 422, journal=journal, values=values, errors=exc.errors)
    finally:
        await form.close()
    author = await run_in_threadpool(accounts.get, node, viewer.user_id)
    link = _link(node, done.id)
    variables = dict(title=done.title(), journal=journal.title())
    if author is not None:
        await run_in_threadpool(
            emails.to_accounts, node, [author], emails.SUBMITTED_SUBJECT, emails.SUBMITTED_BODY, link, **variables
        )
    editors = await run_in_threadpool(journal_service.holders, node, slug, JournalRole.EDITOR, JournalRole.MANAGER)
    await run_in_threadpool(emails.to_accounts, node, editors, emails.NEW_SUBJECT, emails.NEW_BODY, link, **variables)
    return RedirectResponse(f"/submissions/{done.id}?done=submitted", status_code=303)


@router.get("/journals/{slug}/submissions", response_class=HTMLResponse)
def queue(slug: str, request: Request, stage: str = "", node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    journal = journal_service.get(node, slug)
    items = submissions.queue(node, viewer, slug, stage or None)
    return page(
        request, "journals/queue.html", journal=journal, items=items, stages=[s.value for s in Stage], stage=stage
    )


@router.get("/submissions", response_class=HTMLResponse)
def mine(request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    return page(request, "journals/mine.html", items=submissions.mine(node, viewer))


# -- one submission ----------------------------------------------------------------------------------------


@router.get("/submissions/{submission_id}", response_class=HTMLResponse)
def submission_page(
    submission_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep
) -> Response:
    sub, standing, mode = submissions.open_submission(node, viewer, submission_id)
    journal = journal_service.get(node, sub.journal)
    context: dict[str, Any] = dict(
        sub=sub,
        standing=standing,
        journal=journal,
        show_authors=shows_author_names(standing, mode),
        reviews=reviews.shown_reviews(node, standing, mode, sub.id),
        decisions=decisions.decisions_of(node, sub.id),
        done=request.query_params.get("done", ""),
        decision_names=[d.value for d in Decision],
        galley_types=list(production.GALLEY_TYPES),
        files=[f for f in sub.files if may_get_file(standing, f.kind, sub.stage)],
    )
    if standing.edits:
        context["editors"] = [
            p
            for p in journal_service.people(node, sub.journal)
            if p.role in (JournalRole.SECTION_EDITOR, JournalRole.EDITOR, JournalRole.MANAGER)
        ]
        author = accounts.get(node, sub.author_id)
        author_lang = emails.language_of(author)
        comments = "\n\n".join(
            r.review.for_author
            for r in context["reviews"]
            if r.review.status == "submitted" and r.review.round == sub.round
        )
        values = dict(author=sub.author_name, title=sub.title(author_lang), journal=journal.title(author_lang))
        # The letter starts in the author's language, with the round's comments for the author (no names).
        context["letters"] = {
            d.value: decisions.fill(emails.letter(node, sub.journal, d, author_lang), {**values, "comments": comments})
            for d in Decision
        }
    if standing.publishes:
        context["open_issues"] = issues.unpublished(node, viewer, sub.journal)
    return page(request, "journals/submission.html", **context)


@router.get("/submissions/{submission_id}/files/{file_id}")
def get_file(submission_id: str, file_id: DbId, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    sub, standing, mode = submissions.open_submission(node, viewer, submission_id)
    found = access.submission_file(node, standing, sub, file_id)
    # A reviewer with an account reaches the files here too: the same anonymous copy as from the review link.
    return _send(node, anonymous.for_viewer(node, standing, mode, sub, file_id, found))


def _send(node: Node, found: submissions.FileDownload) -> Response:
    # Users' files are hostile: always a download, never rendered by the browser in the node's origin.
    headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox", "Cache-Control": "private"}
    return files.blob_response(node, found.sha256, found.size, found.media_type, headers, found.name, redirect=False)


async def _form(request: Request, files: int = 0) -> tuple[dict[str, Any], Any]:
    form = await read_form(request, max_files=files)
    return texts(form), form


@router.post("/submissions/{submission_id}/assign")
async def assign(submission_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    values, _ = await _form(request)
    editor = small_int(values.get("editor"))
    if editor is None:
        raise InvalidInput("choose an editor")
    account = await run_in_threadpool(reviews.assign_editor, node, viewer, submission_id, editor)
    sub, _, _ = await run_in_threadpool(submissions.open_submission, node, viewer, submission_id)
    journal = await run_in_threadpool(journal_service.get, node, sub.journal)
    await run_in_threadpool(
        emails.to_accounts,
        node,
        [account],
        emails.ASSIGNED_SUBJECT,
        emails.ASSIGNED_BODY,
        _link(node, submission_id),
        title=sub.title(),
        journal=journal.title(),
    )
    return RedirectResponse(f"/submissions/{submission_id}?done=assigned", status_code=303)


@router.post("/submissions/{submission_id}/invite")
async def invite(submission_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    values, _ = await _form(request)
    made = await run_in_threadpool(reviews.invite, node, viewer, submission_id, values)
    journal = await run_in_threadpool(journal_service.get, node, made.submission.journal)
    r = made.review
    link = f"{node.settings.public_url}/review/{made.token}"
    await run_in_threadpool(
        emails.send,
        node,
        r.email,
        r.name,
        r.language,
        emails.INVITE_SUBJECT,
        emails.INVITE_BODY,
        link,
        title=made.submission.title(r.language),
        journal=journal.title(r.language),
        due=r.due.isoformat(),
    )
    return RedirectResponse(f"/submissions/{submission_id}?done=invited", status_code=303)


@router.post("/submissions/{submission_id}/decide")
async def decide(submission_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    values, _ = await _form(request)
    sub, author = await run_in_threadpool(
        decisions.decide, node, viewer, submission_id, values.get("decision"), values.get("letter")
    )
    journal = await run_in_threadpool(journal_service.get, node, sub.journal)
    link = _link(node, submission_id)
    if author is not None and author.email:
        lang = emails.language_of(author)
        await run_in_threadpool(
            emails.send_decision, node, author, journal.title(lang), sub.title(lang), values.get("letter", ""), link
        )
    if sub.stage is Stage.COPYEDITING:
        people = await run_in_threadpool(journal_service.holders, node, sub.journal, JournalRole.COPYEDITOR)
        await run_in_threadpool(
            emails.to_accounts,
            node,
            people,
            emails.COPYEDIT_SUBJECT,
            emails.COPYEDIT_BODY,
            link,
            title=sub.title(),
            journal=journal.title(),
        )
    return RedirectResponse(f"/submissions/{submission_id}?done=decided", status_code=303)


@router.post("/submissions/{submission_id}/revise")
async def revise(submission_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    form = await read_form(request, max_files=10)
    try:
        files = uploads(form, revision=FileKind.REVISION)
        sub = await run_in_threadpool(decisions.revise, node, viewer, submission_id, texts(form).get("note"), files)
    finally:
        await form.close()
    editors = await run_in_threadpool(reviews.editors_of, node, sub)
    await run_in_threadpool(
        emails.to_accounts,
        node,
        editors,
        emails.REVISED_SUBJECT,
        emails.REVISED_BODY,
        _link(node, submission_id),
        title=sub.title(),
        round=str(sub.round),
    )
    return RedirectResponse(f"/submissions/{submission_id}?done=revised", status_code=303)


@router.post("/submissions/{submission_id}/copyedit")
async def copyedit(
    submission_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep
) -> Response:
    form = await read_form(request, max_files=1)
    try:
        found = uploads(form, file=FileKind.COPYEDIT)
        if not found:
            raise InvalidInput("choose a file to upload")
        await run_in_threadpool(production.add_copyedit, node, viewer, submission_id, found[0])
    finally:
        await form.close()
    return RedirectResponse(f"/submissions/{submission_id}?done=copyedited", status_code=303)


@router.post("/submissions/{submission_id}/to-production")
async def to_production(submission_id: str, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    sub = await run_in_threadpool(production.to_production, node, viewer, submission_id)
    people = await run_in_threadpool(journal_service.holders, node, sub.journal, JournalRole.PRODUCTION_EDITOR)
    await run_in_threadpool(
        emails.to_accounts,
        node,
        people,
        emails.PRODUCTION_SUBJECT,
        emails.PRODUCTION_BODY,
        _link(node, submission_id),
        title=sub.title(),
    )
    return RedirectResponse(f"/submissions/{submission_id}?done=production", status_code=303)


@router.post("/submissions/{submission_id}/galleys")
async def galley(submission_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    form = await read_form(request, max_files=1)
    try:
        found = uploads(form, file=FileKind.GALLEY)
        if not found:
            raise InvalidInput("choose a file to upload")
        await run_in_threadpool(production.add_galley, node, viewer, submission_id, texts(form).get("type"), found[0])
    finally:
        await form.close()
    return RedirectResponse(f"/submissions/{submission_id}?done=galley", status_code=303)


@router.post("/submissions/{submission_id}/proofs")
async def ask_proofs(submission_id: str, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    sub, standing, _ = await run_in_threadpool(submissions.open_submission, node, viewer, submission_id)
    if not standing.produces or not sub.files_of(FileKind.GALLEY):
        raise InvalidInput("upload a galley first")
    author = await run_in_threadpool(accounts.get, node, sub.author_id)
    if author is not None:
        await run_in_threadpool(
            emails.to_accounts,
            node,
            [author],
            emails.PROOFS_SUBJECT,
            emails.PROOFS_BODY,
            _link(node, submission_id),
            title=sub.title(emails.language_of(author)),
        )
    return RedirectResponse(f"/submissions/{submission_id}?done=proofs", status_code=303)


@router.post("/submissions/{submission_id}/approve")
async def approve(submission_id: str, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    sub = await run_in_threadpool(production.approve_proofs, node, viewer, submission_id)
    editors = await run_in_threadpool(reviews.editors_of, node, sub)
    await run_in_threadpool(
        emails.to_accounts,
        node,
        editors,
        emails.APPROVED_SUBJECT,
        emails.APPROVED_BODY,
        _link(node, submission_id),
        title=sub.title(),
    )
    return RedirectResponse(f"/submissions/{submission_id}?done=approved", status_code=303)


@router.post("/submissions/{submission_id}/schedule")
async def schedule(
    submission_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep
) -> Response:
    values, _ = await _form(request)
    await run_in_threadpool(publishing.schedule, node, viewer, submission_id, values)
    return RedirectResponse(f"/submissions/{submission_id}?done=scheduled", status_code=303)


@router.post("/submissions/{submission_id}/publish")
async def publish_now(submission_id: str, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    record_id = await run_in_threadpool(publishing.publish_now, node, viewer, submission_id)
    sub, _, _ = await run_in_threadpool(submissions.open_submission, node, viewer, submission_id)
    journal = await run_in_threadpool(journal_service.get, node, sub.journal)
    author = await run_in_threadpool(accounts.get, node, sub.author_id)
    if author is not None:
        lang = emails.language_of(author)
        await run_in_threadpool(
            emails.to_accounts,
            node,
            [author],
            emails.PUBLISHED_SUBJECT,
            emails.PUBLISHED_BODY,
            node.record_url(record_id),
            title=sub.title(lang),
            journal=journal.title(lang),
        )
    return RedirectResponse(node.record_url(record_id), status_code=303)


# Labels shown through the ``t`` filter: listed so `make messages` extracts them.
LABELS = [r.value for r in Recommendation]
