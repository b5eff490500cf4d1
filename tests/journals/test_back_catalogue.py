"""The back catalogue (a journal moving here from OJS): articles added straight into an issue as published
records, with their original DOI and URL kept; incomplete metadata changes nothing; editors only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from osnode.domain.access import ANONYMOUS, Viewer
from osnode.domain.errors import Forbidden, InvalidInput
from osnode.domain.journals import FileKind
from osnode.domain.records import Role
from osnode.services import records
from osnode.services.journals import back_catalogue, issues, publishing, submissions
from osnode.services.node import Node
from osnode.storage.catalog import records as record_table
from tests.journals.helpers import PDF, cast, make_journal

OLD = {
    "titles": [{"title": "Suelos de 1998", "lang": "es"}],
    "creators": [{"name": "Quispe, Rosa", "nameType": "Personal"}],
    "doi": "10.5281/zenodo.1234567",
    "alternateIdentifiers": [
        {"alternateIdentifier": "https://revista.example.org/article/view/12", "alternateIdentifierType": "URL"}
    ],
}


def test_an_old_article_goes_into_its_issue(node: Node) -> None:
    people = cast(node)
    make_journal(node, people)
    editor = Viewer(user_id=people.editor.id, role=Role.DEPOSITOR)
    issue = issues.create(node, editor, "suelos", {"volume": "1", "number": "1", "year": "1998"})
    galley = submissions.Upload(FileKind.GALLEY, "12.pdf", [PDF])
    record_id = back_catalogue.add_published(node, editor, "suelos", issue.id, OLD, [galley], "5", "19")
    version = records.get_version(node, record_id, ANONYMOUS)
    meta = version.metadata
    assert meta["doi"] == "10.5281/zenodo.1234567" and meta["publicationYear"] == 1998
    assert meta["alternateIdentifiers"][0]["alternateIdentifier"].endswith("/article/view/12")
    [container] = meta["relatedItems"]
    assert (container["volume"], container["issue"], container["firstPage"]) == ("1", "1", "5")
    assert [f.key for f in version.files] == ["12.pdf"]
    placed = publishing.placement_of(node, record_id)
    assert placed is not None and placed.issue_id == issue.id and placed.first_page == "5"
    facts = publishing.journal_of(node, record_id)  # what the export formats read
    assert facts is not None and facts.journal_id == "suelos" and facts.issue_url.endswith(f"/issues/{issue.id}")
    published = issues.get(node, "suelos", issue.id)  # the issue is published with it
    assert published.published is not None
    assert [e.record_id for e in issues.contents(node, published).entries] == [record_id]

    with node.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(record_table)).scalar_one()
    with pytest.raises(InvalidInput):
        back_catalogue.add_published(node, editor, "suelos", issue.id, {"titles": []}, [])
    author = Viewer(user_id=people.author.id, role=Role.DEPOSITOR)
    with pytest.raises(Forbidden):
        back_catalogue.add_published(node, author, "suelos", issue.id, OLD, [])
    with node.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(record_table)).scalar_one() == before
