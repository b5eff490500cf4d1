"""Open peer review: when the journal says so, each submitted report is published with the article as a record
of its own (PeerReview, in the reviewer's name) that ``Reviews`` the article, which ``IsReviewedBy`` it; the
comments for the editor stay private. Without the setting, or in anonymous review, nothing of it is published."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from osnode.domain.access import ANONYMOUS, Viewer
from osnode.domain.journals import FileKind
from osnode.domain.records import Role
from osnode.services import records
from osnode.services.journals import decisions, production, publishing, reviews, submissions
from osnode.services.node import Node
from osnode.storage.journals import journal_reviews
from tests.journals.helpers import PDF, cast, make_journal, submission_form


def _through_review(node: Node, slug: str) -> tuple[str, str]:
    people = cast(node)
    make_journal(
        node, people, slug=slug, review_mode="open" if slug == "open" else "double-anonymous", publish_reviews="yes"
    )
    author = Viewer(user_id=people.author.id, role=Role.DEPOSITOR)
    editor = Viewer(user_id=people.editor.id, role=Role.DEPOSITOR)
    sub = submissions.submit(
        node, author, slug, submission_form(), [submissions.Upload(FileKind.MANUSCRIPT, "m.pdf", [PDF])]
    )
    made = reviews.invite(node, editor, sub.id, {"name": "Rosa Parda", "email": "rosa@example.org"})
    reviews.respond(node, made.token, True)
    form = {"recommendation": "accept", "for_author": "A careful study.", "for_editor": "Private note."}
    reviews.submit_review(node, made.token, form, [])
    decisions.decide(node, editor, sub.id, "accept", "Yes.")
    production.to_production(node, editor, sub.id)
    production.add_galley(node, editor, sub.id, "pdf", submissions.Upload(FileKind.GALLEY, "a.pdf", [PDF]))
    production.approve_proofs(node, author, sub.id)
    return publishing.publish_now(node, editor, sub.id), sub.id


@pytest.mark.parametrize("slug", ["open", "anonymous"])
def test_reports_are_published_in_open_review_only(node: Node, slug: str) -> None:
    article_id, _ = _through_review(node, slug)
    with node.engine.connect() as conn:
        report_ids = [r for r in conn.execute(select(journal_reviews.c.record_id)).scalars() if r]
    article = records.get_version(node, article_id, ANONYMOUS)
    reviewed_by = [r for r in article.metadata.get("relatedIdentifiers", []) if r["relationType"] == "IsReviewedBy"]
    if slug != "open":
        assert report_ids == [] and reviewed_by == []
        return
    [report_id] = report_ids
    report = records.get_version(node, report_id, ANONYMOUS)
    meta = report.metadata
    assert meta["resourceType"]["resourceTypeGeneral"] == "PeerReview"
    assert meta["creators"][0]["name"] == "Rosa Parda"
    assert "A careful study." in meta["descriptions"][0]["description"]
    assert "Private note." not in str(meta)
    assert meta["relatedIdentifiers"][0]["relationType"] == "Reviews"
    assert meta["relatedIdentifiers"][0]["relatedIdentifier"].endswith(article_id)
    assert reviewed_by and reviewed_by[0]["relatedIdentifier"].endswith(report_id)
