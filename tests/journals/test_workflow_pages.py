"""The whole editorial workflow in the browser (no JavaScript), double-anonymous: an author submits; the editor
assigns a section editor and invites two reviewers (one without an account, answering from the emailed link);
both review; major revisions; a second round; accept; copyediting; galleys (a false one refused); proofs
approved by the author; an issue (a number clash refused) is published; the article is a record with its
galleys and a citation. Emails at every step; no page or file a reviewer reaches carries the author's name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from osnode.services.node import Node
from osnode.storage.journals import journal_submissions, journals
from tests.journals.helpers import (
    AUTHOR_NAME,
    HTML,
    HTML_GALLEY,
    PDF,
    SETTINGS,
    Browsers,
    Cast,
    browsers,
    cast,
    mails_to,
    make_journal,
    post,
    review_link,
    submission_form,
)
from tests.web.accounts_helpers import local_account


@pytest.fixture
def people(node: Node) -> Cast:
    found = cast(node)
    make_journal(node, found)
    return found


@pytest.fixture
def web(node: Node) -> Iterator[Browsers]:
    yield from browsers(node)


def _stage(node: Node, submission_id: str) -> str:
    with node.engine.connect() as conn:
        return conn.execute(
            select(journal_submissions.c.stage).where(journal_submissions.c.id == submission_id)
        ).scalar_one()


def _submit(web: Browsers, node: Node) -> str:
    author = web("author@example.org")
    files = [
        ("manuscript", ("paper.pdf", PDF, "application/pdf")),
        ("supplementary", ("table.csv", b"a,b\n1,2\n", "text/csv")),
    ]
    done = post(author, "/journals/suelos/submit", submission_form(), files)
    assert done.status_code == 303, done.text
    return done.headers["location"].split("/submissions/")[1].split("?")[0]


def _review(web: Browsers, link: str, recommendation: str, comment: str) -> None:
    reviewer = web()
    page = reviewer.get(link, headers=HTML)
    assert page.status_code == 200 and AUTHOR_NAME not in page.text
    sent = post(reviewer, link, {"recommendation": recommendation, "for_author": comment, "for_editor": "confidential"})
    assert sent.status_code == 303, sent.text


def test_the_whole_workflow_to_a_published_issue(node: Node, people: Cast, web: Browsers) -> None:
    local_account(node, "rev1@example.org")  # one reviewer has an account; the other has none
    submission_id = _submit(web, node)
    assert _stage(node, submission_id) == "submitted"
    assert mails_to(node, "author@example.org"), "the author hears their submission arrived"
    assert mails_to(node, "editor@example.org") and mails_to(node, "manager@example.org")

    editor = web("editor@example.org")
    page = editor.get(f"/submissions/{submission_id}", headers=HTML)
    assert page.status_code == 200 and AUTHOR_NAME in page.text  # editors know who wrote it
    assert len(page.content) <= 30_000
    assigned = post(
        editor,
        f"/submissions/{submission_id}/assign",
        {"editor": people.section_editor.id},
        page=f"/submissions/{submission_id}",
    )
    assert assigned.status_code == 303, assigned.text
    assert mails_to(node, "section@example.org")

    section = web("section@example.org")
    for name, email in (("Rev One", "rev1@example.org"), ("Rev Two", "rev2@example.org")):
        invited = post(
            section,
            f"/submissions/{submission_id}/invite",
            {"name": name, "email": email, "days": "14"},
            page=f"/submissions/{submission_id}",
        )
        assert invited.status_code == 303, invited.text
    links = [review_link(node, "rev1@example.org"), review_link(node, "rev2@example.org")]

    # Answering from the link, without signing in; a second answer changes nothing.
    for link in links:
        anonymous = web()
        before = anonymous.get(link, headers=HTML)
        assert before.status_code == 200 and AUTHOR_NAME not in before.text
        assert "/files/" not in before.text  # nothing to download before accepting
        assert post(anonymous, f"{link}/answer", {"answer": "accept"}, page=link).status_code == 303
        again = post(anonymous, f"{link}/answer", {"answer": "decline"}, page=link)
        assert again.status_code == 409
    assert len(mails_to(node, "section@example.org")) >= 3  # assigned + two answers

    # A reviewer's files: the manuscript and supplement, with no author name in the served bytes.
    reviewer = web()
    page = reviewer.get(links[0], headers=HTML)
    file_links = [part.split('"')[0] for part in page.text.split(f'href="{links[0]}/files/')[1:]]
    assert len(file_links) == 2
    for file_id in file_links:
        served = reviewer.get(f"{links[0]}/files/{file_id}")
        assert served.status_code == 200 and AUTHOR_NAME.encode() not in served.content
        assert served.headers["content-disposition"].startswith("attachment")

    # The first reviewer sees no other report before sending theirs; after it, they see the one already in.
    _review(web, links[1], "major-revisions", "Please add the 2019 sites.")
    first = web().get(links[0], headers=HTML)
    assert "Please add the 2019 sites." not in first.text
    _review(web, links[0], "minor-revisions", "Clear and careful.")
    after = web().get(links[0], headers=HTML)
    assert "Please add the 2019 sites." in after.text and "Rev Two" not in after.text
    assert len(mails_to(node, "section@example.org")) >= 5

    # Major revisions: the letter goes to the author with the comments, no reviewer names and no editor-only notes.
    decided = post(
        section,
        f"/submissions/{submission_id}/decide",
        {"decision": "major-revisions", "letter": "Dear author,\n\nPlease revise.\n\nClear and careful."},
        page=f"/submissions/{submission_id}",
    )
    assert decided.status_code == 303, decided.text
    assert _stage(node, submission_id) == "revisions"
    letter = mails_to(node, "author@example.org")[-1]
    assert "Please revise." in letter.body
    author = web("author@example.org")
    seen = author.get(f"/submissions/{submission_id}", headers=HTML)
    assert "Clear and careful." in seen.text
    assert "Rev One" not in seen.text and "Rev Two" not in seen.text and "confidential" not in seen.text

    revised = post(
        author,
        f"/submissions/{submission_id}/revise",
        {"note": "Added the sites."},
        [("revision", ("paper-v2.pdf", PDF, "application/pdf"))],
        page=f"/submissions/{submission_id}",
    )
    assert revised.status_code == 303, revised.text
    assert _stage(node, submission_id) == "review"
    assert any("round 2" in m.body for m in mails_to(node, "section@example.org"))

    # Round two: the same two reviewers, with new links; then accept.
    for name, email in (("Rev One", "rev1@example.org"), ("Rev Two", "rev2@example.org")):
        assert (
            post(
                section,
                f"/submissions/{submission_id}/invite",
                {"name": name, "email": email},
                page=f"/submissions/{submission_id}",
            ).status_code
            == 303
        )
    for email in ("rev1@example.org", "rev2@example.org"):
        link = review_link(node, email)
        assert post(web(), f"{link}/answer", {"answer": "accept"}, page=link).status_code == 303
        _review(web, link, "accept", "Ready now.")
    accepted = post(
        section,
        f"/submissions/{submission_id}/decide",
        {"decision": "accept", "letter": "Accepted."},
        page=f"/submissions/{submission_id}",
    )
    assert accepted.status_code == 303 and _stage(node, submission_id) == "copyediting"
    assert mails_to(node, "copy@example.org")

    copy = web("copy@example.org")
    assert (
        post(
            copy,
            f"/submissions/{submission_id}/copyedit",
            {},
            [("file", ("paper-ce.docx", b"PK\x03\x04docx", "application/octet-stream"))],
            page=f"/submissions/{submission_id}",
        ).status_code
        == 303
    )
    assert (
        post(copy, f"/submissions/{submission_id}/to-production", {}, page=f"/submissions/{submission_id}").status_code
        == 303
    )
    assert _stage(node, submission_id) == "production" and mails_to(node, "prod@example.org")

    prod = web("prod@example.org")
    false = post(
        prod,
        f"/submissions/{submission_id}/galleys",
        {"type": "pdf"},
        [("file", ("paper.pdf", HTML_GALLEY, "application/pdf"))],
        page=f"/submissions/{submission_id}",
    )
    assert false.status_code == 422 and "claims" in false.text
    for kind, name, body in (("pdf", "paper.pdf", PDF), ("html", "paper.html", HTML_GALLEY)):
        assert (
            post(
                prod,
                f"/submissions/{submission_id}/galleys",
                {"type": kind},
                [("file", (name, body, "x/y"))],
                page=f"/submissions/{submission_id}",
            ).status_code
            == 303
        )
    assert (
        post(prod, f"/submissions/{submission_id}/proofs", {}, page=f"/submissions/{submission_id}").status_code == 303
    )
    assert "proofs" in mails_to(node, "author@example.org")[-1].subject.lower()
    assert (
        post(author, f"/submissions/{submission_id}/approve", {}, page=f"/submissions/{submission_id}").status_code
        == 303
    )
    assert any("approved" in m.subject.lower() for m in mails_to(node, "section@example.org"))

    # An issue; the same volume and number again is refused.
    manager = web("manager@example.org")
    issue = post(
        manager,
        "/journals/suelos/issues",
        {"volume": "3", "number": "2", "year": "2026", "title": "Páramos"},
        page="/journals/suelos/manage",
    )
    assert issue.status_code == 303, issue.text
    issue_id = int(issue.headers["location"].split("issue-")[1].split("#")[0])
    clash = post(
        manager,
        "/journals/suelos/issues",
        {"volume": "3", "number": "2", "year": "2026"},
        page="/journals/suelos/manage",
    )
    assert clash.status_code == 409 and "exists already" in clash.text
    scheduled = post(
        manager,
        f"/submissions/{submission_id}/schedule",
        {"issue": issue_id, "first_page": "1", "last_page": "14"},
        page=f"/submissions/{submission_id}",
    )
    assert scheduled.status_code == 303, scheduled.text
    published = post(manager, f"/journals/suelos/issues/{issue_id}/publish", {}, page="/journals/suelos/manage")
    assert published.status_code == 303, published.text
    assert _stage(node, submission_id) == "published"
    assert "Published" in mails_to(node, "author@example.org")[-1].subject

    with node.engine.connect() as conn:
        record_id = conn.execute(
            select(journal_submissions.c.record_id).where(journal_submissions.c.id == submission_id)
        ).scalar_one()
    reader = web()
    article = reader.get(f"/records/{record_id}", headers=HTML)
    assert article.status_code == 200
    assert "paper.pdf" in article.text and "paper.html" in article.text
    assert "Revista de Suelos" in article.text or "Soil Journal" in article.text
    record = reader.get(f"/api/records/{record_id}").json()
    meta = record["metadata"]
    assert meta["resourceType"]["resourceTypeGeneral"] == "JournalArticle"
    [container] = meta["relatedItems"]
    assert container["relatedItemIdentifier"] == {
        "relatedItemIdentifier": "2049-3630",
        "relatedItemIdentifierType": "EISSN",
    }
    assert (container["volume"], container["issue"], container["firstPage"], container["lastPage"]) == (
        "3",
        "2",
        "1",
        "14",
    )
    relations = {(r["relatedIdentifierType"], r["relationType"]) for r in meta["relatedIdentifiers"]}
    assert ("SWHID", "IsSupplementedBy") in relations and ("DOI", "References") in relations
    assert {d["lang"] for d in meta["descriptions"]} == {"en", "es"}
    assert meta["creators"][0]["affiliations"][0]["ror"] == "https://ror.org/02mhbdp94"
    pdf = reader.get(f"/api/records/{record_id}/files/paper.pdf")
    assert pdf.status_code == 200 and pdf.content == PDF

    home = reader.get("/journals/suelos", headers=HTML)
    assert home.status_code == 200 and "Carbon in Andean" in home.text and len(home.content) <= 30_000
    toc = reader.get(f"/journals/suelos/issues/{issue_id}", headers=HTML)
    assert toc.status_code == 200 and f"/records/{record_id}" in toc.text
    archive = reader.get("/journals/suelos/archive", headers=HTML)
    assert "Vol. 3 No. 2 (2026)" in archive.text
    feed = reader.get("/journals/suelos/feed.atom")
    assert feed.status_code == 200 and b"Carbon in Andean" in feed.content


def test_a_bad_issn_is_refused_and_nothing_is_made(node: Node, people: Cast, web: Browsers) -> None:
    admin = web("admin@example.org")
    refused = post(admin, "/journals-new", {**SETTINGS, "slug": "other", "issn_online": "2049-3631"})
    assert refused.status_code == 422 and "ISSN" in refused.text
    with node.engine.connect() as conn:
        assert conn.execute(select(journals.c.slug).where(journals.c.slug == "other")).first() is None
    made = post(admin, "/journals-new", {**SETTINGS, "slug": "other"})
    assert made.status_code == 303, made.text[made.text.find("errors") :][:600]
