"""Nothing invalid is published: before an article becomes a record, its JATS (with the HTML galley's body) and,
when the journal registers DOIs with Crossref, its Crossref deposit are built and checked; the JATS is kept as
the record's ``article.xml``. An article whose export would be invalid is refused and nothing changes."""

from __future__ import annotations

import pytest
from lxml import etree
from sqlalchemy import func, select

from osnode.domain.access import ANONYMOUS, Viewer
from osnode.domain.errors import InvalidInput
from osnode.domain.journals import FileKind
from osnode.domain.records import Role
from osnode.services import records
from osnode.services.journals import decisions, issues, production, publishing, standards, submissions
from osnode.services.node import Node
from osnode.storage.catalog import records as record_table
from osnode.storage.journals import journal_submissions
from tests.article_schemas import assert_crossref, assert_jats
from tests.journals.helpers import (
    HTML,
    HTML_GALLEY,
    PDF,
    Browsers,
    cast,
    make_journal,
    publish_article,
    submission_form,
)
from tests.schemas import safe_parser

BODY = b"<!DOCTYPE html><html><body><h1>Results</h1><p>Carbon stocks doubled.</p><script>x()</script></body></html>"


def test_the_jats_is_kept_and_the_doi_given(node: Node) -> None:
    people = cast(node)
    make_journal(node, people, doi_prefix="10.55555", crossref_email="crossref@example.org")
    record_id = publish_article(node, people, galleys=(("pdf", "a.pdf", PDF), ("html", "a.html", BODY)))
    version = records.get_version(node, record_id, ANONYMOUS)
    assert version.metadata["doi"].lower() == f"10.55555/suelos.{record_id}".lower()
    [xml] = [f for f in version.files if f.key == "article.xml"]
    assert xml.mimetype == "application/jats+xml"
    document = node.blobs.read_bytes(xml.sha256)
    root = etree.fromstring(document, safe_parser())
    assert root.findtext(".//body/sec/title") == "Results" and b"script" not in document
    assert_jats(document)


def _in_production(node: Node, slug: str, **settings: str) -> tuple[str, Viewer]:
    people = cast(node)
    make_journal(node, people, slug=slug, issn_online="", issn_print="", **settings)
    author = Viewer(user_id=people.author.id, role=Role.DEPOSITOR)
    editor = Viewer(user_id=people.editor.id, role=Role.DEPOSITOR)
    files = [submissions.Upload(FileKind.MANUSCRIPT, "m.pdf", [PDF])]
    done = submissions.submit(node, author, slug, submission_form(), files)
    decisions.decide(node, editor, done.id, "accept", "Accepted.")
    production.to_production(node, editor, done.id)
    production.add_galley(node, editor, done.id, "html", submissions.Upload(FileKind.GALLEY, "a.html", [HTML_GALLEY]))
    production.approve_proofs(node, author, done.id)
    return done.id, editor


def _counts(node: Node, submission_id: str) -> tuple[int, str]:
    with node.engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(record_table)).scalar_one()
        stage = conn.execute(
            select(journal_submissions.c.stage).where(journal_submissions.c.id == submission_id)
        ).scalar_one()
    return n, stage


def test_an_article_crossref_cannot_describe_is_not_published(node: Node) -> None:
    # Crossref needs the journal's ISSN: a journal registering DOIs without one publishes nothing.
    submission_id, editor = _in_production(node, "noissn", doi_prefix="10.55555", crossref_email="c@example.org")
    before = _counts(node, submission_id)
    with pytest.raises(InvalidInput) as refused:
        publishing.publish_now(node, editor, submission_id)
    assert "ISSN" in str(refused.value) and "Crossref" in str(refused.value)
    assert _counts(node, submission_id) == before == (before[0], "production")


def test_a_journal_without_an_issn_yet_publishes_without_jats(node: Node) -> None:
    # An ISSN is given to a journal once it has published: until then its articles have no JATS (not refused).
    submission_id, editor = _in_production(node, "young")
    record_id = publishing.publish_now(node, editor, submission_id)
    keys = [f.key for f in records.get_version(node, record_id, ANONYMOUS).files]
    assert keys == ["a.html"]


def test_a_crossref_deposit_that_would_be_invalid_stops_publication(node: Node) -> None:
    people = cast(node)
    make_journal(node, people, doi_prefix="10.55555")  # no Crossref email, and the node has no admin email
    author = Viewer(user_id=people.author.id, role=Role.DEPOSITOR)
    editor = Viewer(user_id=people.editor.id, role=Role.DEPOSITOR)
    done = submissions.submit(
        node, author, "suelos", submission_form(), [submissions.Upload(FileKind.MANUSCRIPT, "m.pdf", [PDF])]
    )
    decisions.decide(node, editor, done.id, "accept", "Accepted.")
    production.to_production(node, editor, done.id)
    production.add_galley(node, editor, done.id, "pdf", submissions.Upload(FileKind.GALLEY, "a.pdf", [PDF]))
    production.approve_proofs(node, author, done.id)
    before = _counts(node, done.id)
    with pytest.raises(InvalidInput) as refused:
        publishing.publish_now(node, editor, done.id)
    assert "crossref" in str(refused.value).lower() and "email" in str(refused.value).lower()
    assert _counts(node, done.id) == before


def test_the_deposit_of_a_published_article_is_valid(node: Node) -> None:
    people = cast(node)
    make_journal(node, people, doi_prefix="10.55555", crossref_email="crossref@example.org")
    record_id = publish_article(node, people)
    editor = Viewer(user_id=people.editor.id, role=Role.DEPOSITOR)
    document = standards.article_deposit(node, editor, "suelos", record_id)
    assert_crossref(document)
    assert f"10.55555/suelos.{record_id}".encode() in document.lower() or record_id.encode() in document


def test_managers_download_crossref_deposits(node: Node) -> None:
    people = cast(node)
    make_journal(node, people, doi_prefix="10.55555", crossref_email="crossref@example.org")
    editor = Viewer(user_id=people.editor.id, role=Role.DEPOSITOR)
    issue = issues.create(node, editor, "suelos", {"volume": "4", "number": "1", "year": "2026", "title": "Andes"})
    first = publish_article(node, people, title="First", issue_id=issue.id)
    with Browsers(node) as web:
        manager = web("manager@example.org")
        page = manager.get("/journals/suelos/manage", headers=HTML)
        link = f"/journals/suelos/issues/{issue.id}/crossref.xml"
        assert link in page.text
        batch = manager.get(link)
        assert batch.status_code == 200 and "attachment" in batch.headers["content-disposition"]
        assert_crossref(batch.content)
        assert b"Andes" in batch.content and f"suelos.{first}".lower().encode() in batch.content.lower()
        one = manager.get(f"/journals/suelos/articles/{first}/crossref.xml")
        assert one.status_code == 200
        assert_crossref(one.content)
        author = web("author@example.org")  # not an editor: refused, told nothing
        assert author.get(link, headers=HTML).status_code in (403, 404)
        api = author.get(f"/journals/suelos/articles/{first}/crossref.xml")
        assert api.status_code in (403, 404) and api.headers["content-type"].startswith("application/problem+json")


def test_an_issue_with_an_article_that_would_be_invalid_publishes_nothing(node: Node) -> None:
    submission_id, editor = _in_production(node, "noissn", doi_prefix="10.55555", crossref_email="c@example.org")
    issue = issues.create(node, editor, "noissn", {"volume": "1", "number": "1", "year": "2026"})
    publishing.schedule(node, editor, submission_id, {"issue": str(issue.id)})
    before = _counts(node, submission_id)
    with pytest.raises(InvalidInput, match="ISSN"):
        publishing.publish_issue(node, editor, "noissn", issue.id)
    assert _counts(node, submission_id) == before
    assert issues.get(node, "noissn", issue.id, editor).published is None
