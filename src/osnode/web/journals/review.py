"""Reviewing from the emailed link, with or without an account: the link's token is the reviewer's key. The
page shows what the rules let a reviewer see (no author names in double-anonymous review; the other reports
only once theirs is in); answering works once; the form works until the report is sent."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from ...domain.journals import FileKind, Recommendation, shows_author_names
from ...services import access
from ...services.journals import anonymous, reviews
from ...services.journals import journals as journal_service
from ...services.node import Node
from ..account_pages import page
from ..deps import DbId, NodeDep
from ..sessions import CsrfDep
from . import emails
from .forms import read_form, texts, uploads
from .workflow import _link, _send

router = APIRouter(include_in_schema=False)


@router.get("/review/{token}", response_class=HTMLResponse)
def review_page(token: str, request: Request, node: Node = NodeDep) -> Response:
    view = reviews.by_token(node, token)
    journal = journal_service.get(node, view.submission.journal)
    context = dict(
        view=view,
        journal=journal,
        token=token,
        show_authors=shows_author_names(view.standing, view.mode),
        recommendations=[r.value for r in Recommendation],
        done=request.query_params.get("done", ""),
        # What a reviewer may download: only the files the rules give them (none before they accept).
        files=[
            f
            for f in view.submission.files
            if view.standing.reviews and f.kind in (FileKind.MANUSCRIPT, FileKind.SUPPLEMENTARY, FileKind.REVISION)
        ],
    )
    # ``page`` sends "Referrer-Policy: same-origin": the token in the address never travels to another site
    # (and not "no-referrer", with which the browser sends "Origin: null" and the CSRF check refuses the form).
    return page(request, "journals/review.html", **context)


@router.post("/review/{token}/answer", dependencies=[CsrfDep])
async def answer(token: str, request: Request, node: Node = NodeDep) -> Response:
    values = texts(await read_form(request))
    accept = values.get("answer") == "accept"
    view = await run_in_threadpool(reviews.respond, node, token, accept)
    editors = await run_in_threadpool(reviews.editors_of, node, view.submission)
    body = emails.ACCEPTED_BODY if accept else emails.DECLINED_BODY
    await run_in_threadpool(
        emails.to_accounts,
        node,
        editors,
        emails.ANSWER_SUBJECT,
        body,
        _link(node, view.submission.id),
        title=view.submission.title(),
        reviewer=view.review.name,
    )
    return RedirectResponse(f"/review/{token}?done={'accepted' if accept else 'declined'}", status_code=303)


@router.post("/review/{token}", dependencies=[CsrfDep])
async def send_review(token: str, request: Request, node: Node = NodeDep) -> Response:
    form = await read_form(request, max_files=5)
    try:
        files = uploads(form, files=FileKind.REVIEW)
        view = await run_in_threadpool(reviews.submit_review, node, token, texts(form), files)
    finally:
        await form.close()
    editors = await run_in_threadpool(reviews.editors_of, node, view.submission)
    await run_in_threadpool(
        emails.to_accounts,
        node,
        editors,
        emails.REVIEWED_SUBJECT,
        emails.REVIEWED_BODY,
        _link(node, view.submission.id),
        title=view.submission.title(),
        round=str(view.review.round),
    )
    return RedirectResponse(f"/review/{token}?done=sent", status_code=303)


@router.get("/review/{token}/files/{file_id}")
def review_file(token: str, file_id: DbId, node: Node = NodeDep) -> Response:
    view = reviews.by_token(node, token)
    found = access.submission_file(node, view.standing, view.submission, file_id)
    # Double-anonymous review: PDF and DOCX without the metadata naming their authors.
    return _send(node, anonymous.for_viewer(node, view.standing, view.mode, view.submission, file_id, found))
