"""The journal rules one by one (pure: ``domain.journals``), the reviewers' reminders (a scheduled job, one a
day at most, with a new link that replaces the old one), and the service-level refusals: a galley that is not
what it claims, an issue number clash, letters rewritten per language, and input that changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from osnode.domain.access import Viewer
from osnode.domain.errors import Conflict, InvalidInput, NotFound
from osnode.domain.journals import (
    FileKind,
    JournalRole,
    ReviewMode,
    Stage,
    Standing,
    may_get_file,
    may_read_report,
    shows_author_names,
    shows_reviewer_names,
)
from osnode.domain.records import Role
from osnode.plugins.builtins import JOBS
from osnode.services.journals import decisions, issues, production, reviews, submissions
from osnode.services.node import Node
from osnode.storage.journals import journal_files, journal_issues, journal_reviews
from osnode.web.journals import emails
from tests.journals.helpers import HTML_GALLEY, PDF, cast, mails_to, make_journal, submission_form

REVIEWER = Standing(review_status="accepted")
INVITED = Standing(review_status="invited")
AUTHOR = Standing(author=True)
EDITOR = Standing(roles=frozenset({JournalRole.EDITOR}))
COPY = Standing(roles=frozenset({JournalRole.COPYEDITOR}))
NOBODY = Standing()


def test_reviewers_never_see_authors_in_double_anonymous_review() -> None:
    for who in (REVIEWER, INVITED, Standing(review_status="submitted", reviewed=True)):
        assert not shows_author_names(who, ReviewMode.DOUBLE)
        assert shows_author_names(who, ReviewMode.SINGLE) and shows_author_names(who, ReviewMode.OPEN)
    assert shows_author_names(EDITOR, ReviewMode.DOUBLE) and shows_author_names(AUTHOR, ReviewMode.DOUBLE)


def test_authors_learn_who_reviewed_only_in_open_review() -> None:
    assert not shows_reviewer_names(AUTHOR, ReviewMode.DOUBLE)
    assert not shows_reviewer_names(AUTHOR, ReviewMode.SINGLE)
    assert shows_reviewer_names(AUTHOR, ReviewMode.OPEN) and shows_reviewer_names(EDITOR, ReviewMode.DOUBLE)


def test_a_reviewer_reads_other_reports_only_after_sending_theirs() -> None:
    assert not may_read_report(REVIEWER, own=False)
    assert may_read_report(Standing(review_status="submitted", reviewed=True), own=False)
    assert may_read_report(REVIEWER, own=True) and may_read_report(EDITOR, own=False)


@pytest.mark.parametrize("kind", list(FileKind))
def test_who_gets_which_file(kind: FileKind) -> None:
    assert may_get_file(EDITOR, kind, Stage.REVIEW)
    assert not may_get_file(NOBODY, kind, Stage.PUBLISHED)
    assert not may_get_file(INVITED, kind, Stage.REVIEW)  # nothing before accepting
    assert may_get_file(REVIEWER, kind, Stage.REVIEW) == (
        kind in (FileKind.MANUSCRIPT, FileKind.SUPPLEMENTARY, FileKind.REVISION)
    )
    assert may_get_file(AUTHOR, kind, Stage.REVIEW) == (kind is not FileKind.REVIEW)
    assert not may_get_file(COPY, kind, Stage.REVIEW)
    assert may_get_file(COPY, kind, Stage.COPYEDITING) == (kind is not FileKind.REVIEW)


@pytest.fixture
def setup(node: Node) -> dict[str, object]:
    people = cast(node)
    make_journal(node, people)
    author = Viewer(user_id=people.author.id, role=Role.DEPOSITOR)
    editor = Viewer(user_id=people.editor.id, role=Role.DEPOSITOR)
    sub = submissions.submit(
        node, author, "suelos", submission_form(), [submissions.Upload(FileKind.MANUSCRIPT, "m.pdf", [PDF])]
    )
    return {"people": people, "author": author, "editor": editor, "sub": sub.id}


def test_reminders_go_once_a_day_with_a_new_link(node: Node, setup: dict) -> None:  # type: ignore[type-arg]
    editor, sub = setup["editor"], setup["sub"]
    made = reviews.invite(node, editor, sub, {"name": "Rev", "email": "rev@example.org", "days": "2"})
    assert "journal-reminders" in {job.name for job in JOBS}
    assert emails.remind(node) == 1
    [reminder] = [m for m in mails_to(node, "rev@example.org") if "Reminder" in m.subject]
    assert "/review/" in reminder.body and made.token not in reminder.body
    with pytest.raises(NotFound):
        reviews.by_token(node, made.token)  # the old link was replaced by the reminder's
    assert emails.remind(node) == 0  # not twice in a day
    with node.transaction() as tx:
        tx.execute(update(journal_reviews).values(reminded=None, due=node.today() + timedelta(days=30)))
    assert emails.remind(node) == 0  # far from its deadline


def test_bad_input_changes_nothing(node: Node, setup: dict) -> None:  # type: ignore[type-arg]
    author, editor, sub = setup["author"], setup["editor"], setup["sub"]
    with pytest.raises(InvalidInput) as caught:
        submissions.submit(
            node, author, "suelos", submission_form(checklist=["1"], authors="| 0000-0000-0000-0001"), []
        )
    paths = {e.path for e in caught.value.errors}
    assert {"checklist", "manuscript", "authors.0"} <= paths
    with pytest.raises(InvalidInput):
        reviews.invite(node, editor, sub, {"name": "Self", "email": "author@example.org"})  # the author
    with pytest.raises(InvalidInput):
        decisions.decide(node, editor, sub, "maybe", "x")
    with pytest.raises(Conflict):
        production.to_production(node, editor, sub)  # not accepted yet
    decisions.decide(node, editor, sub, "accept", "Yes.")
    production.to_production(node, editor, sub)
    with node.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(journal_files)).scalar_one()
    for claimed, body in (("pdf", HTML_GALLEY), ("html", PDF), ("jats", b"<html></html>")):
        with pytest.raises(InvalidInput, match="not the file type it claims"):
            production.add_galley(node, editor, sub, claimed, submissions.Upload(FileKind.GALLEY, "g", [body]))
    with node.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(journal_files)).scalar_one() == before
    with pytest.raises(Conflict):
        production.approve_proofs(node, author, sub)  # no galley yet


def test_issue_clash_and_letters(node: Node, setup: dict) -> None:  # type: ignore[type-arg]
    editor = setup["editor"]
    issues.create(node, editor, "suelos", {"volume": "1", "number": "1", "year": "2026"})
    with pytest.raises(Conflict, match="exists already"):
        issues.create(node, editor, "suelos", {"volume": "1", "number": "1", "year": "2027"})
    with pytest.raises(InvalidInput):
        issues.create(node, editor, "suelos", {"volume": "<b>", "number": "", "year": "26"})
    with node.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(journal_issues)).scalar_one() == 1
    decisions.set_letter(node, editor, "suelos", "decline", "fr", "Cher {author}, non. {comments}")
    assert emails.letter(node, "suelos", decisions.Decision.DECLINE, "fr").startswith("Cher {author}")
    assert emails.letter(node, "suelos", decisions.Decision.DECLINE, "es").startswith("Estimado")
    assert decisions.fill("{author} {x} {comments}", {"author": "Ana", "comments": "ok"}) == "Ana {x} ok"
    decisions.set_letter(node, editor, "suelos", "decline", "fr", "")  # back to the default
    assert emails.letter(node, "suelos", decisions.Decision.DECLINE, "fr").startswith("Chère")
