"""The journals and the article standards wired together: an article published in an issue exports, on its own
(``/records/{id}/export/jats``, ``doaj``, OAI-PMH ``jats``), the journal facts its record cannot hold (both
ISSNs), because ``services.exports.record_view`` gives the view the journal service's ``JournalFacts``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lxml import etree

from osnode.domain.access import Viewer
from osnode.domain.records import Role
from osnode.services.journals import issues
from osnode.services.node import Node
from tests.article_schemas import assert_jats
from tests.journals.helpers import Browsers, browsers, cast, make_journal, publish_article
from tests.schemas import safe_parser

ONLINE, PRINT = "2049-3630", "0317-8471"


@pytest.fixture
def web(node: Node) -> Iterator[Browsers]:
    yield from browsers(node)


def _published_in_issue(node: Node) -> tuple[str, int]:
    people = cast(node)
    make_journal(node, people)
    editor = Viewer(user_id=people.editor.id, role=Role.DEPOSITOR)
    issue = issues.create(node, editor, "suelos", {"volume": "3", "number": "2", "year": "2026", "title": "Páramos"})
    return publish_article(node, people, issue_id=issue.id), issue.id


def test_exports_carry_both_issns(node: Node, web: Browsers) -> None:
    record_id, _ = _published_in_issue(node)
    reader = web()
    jats = reader.get(f"/records/{record_id}/export/jats")
    assert jats.status_code == 200, jats.text
    root = etree.fromstring(jats.content, safe_parser())
    issns = {e.get("pub-type") or e.get("publication-format"): e.text for e in root.iter("issn")}
    assert set(issns.values()) == {ONLINE, PRINT}
    assert root.findtext(".//journal-meta/journal-id") == "suelos"
    assert_jats(jats.content)

    doaj = reader.get(f"/records/{record_id}/export/doaj")
    assert doaj.status_code == 200, doaj.text
    ids = {i["type"]: i["id"] for i in doaj.json()["bibjson"]["identifier"]}
    assert ids["eissn"] == ONLINE and ids["pissn"] == PRINT

    oai = reader.get(
        "/oai", params={"verb": "GetRecord", "metadataPrefix": "jats", "identifier": f"oai:testserver:{record_id}"}
    )
    assert oai.status_code == 200
    assert ONLINE.encode() in oai.content and PRINT.encode() in oai.content, oai.text


def test_the_view_holds_the_issue_title(node: Node) -> None:
    from osnode.domain.access import ANONYMOUS
    from osnode.services import exports, records

    record_id, _ = _published_in_issue(node)
    view = exports.record_view(node, records.get_version(node, record_id, ANONYMOUS), ANONYMOUS)
    assert view.journal is not None and view.journal.issue_title == "Páramos"
    assert view.journal.issn_print == PRINT
