"""Crossref 5.5.0 deposits: valid against the official XSD 1.1 schema (``xmlschema``), or refused whole."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from lxml import etree

from osnode.domain.errors import InvalidInput
from osnode.formats import RecordView, crossref
from osnode.formats.articles import JournalFacts
from tests.article_schemas import assert_crossref
from tests.formats.conftest import ARTICLE, ARTICLE_URL, make_view
from tests.schemas import safe_parser

NS = {"c": crossref.NAMESPACE, "jats": "http://www.ncbi.nlm.nih.gov/JATS1", "ai": crossref.AI, "fr": crossref.FR}
DEPOSIT = crossref.Deposit(
    depositor_name="Revista Angolana de Saúde Pública",
    email="editor@rasp.example.org",
    registrant="Universidade Agostinho Neto",
    batch_id="rasp-2026-12-3",
    timestamp=datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=UTC),
)
JOURNAL = JournalFacts(
    title="Revista Angolana de Saúde Pública",
    issn_online="2049-3630",
    issn_print="0317-8471",
    abbreviated_title="Rev. Angol. Saúde Públ.",
    issue_title="Malaria in cities",
)


def test_one_article(article: RecordView) -> None:
    data = crossref.to_xml(article, JOURNAL, DEPOSIT)
    assert_crossref(data)
    root = etree.fromstring(data, safe_parser())
    assert root.findtext("c:head/c:timestamp", namespaces=NS) == "20260301093000123"
    assert root.findtext("c:head/c:depositor/c:email_address", namespaces=NS) == "editor@rasp.example.org"
    journal = root.find("c:body/c:journal", NS)
    assert [(i.text, i.get("media_type")) for i in journal.findall("c:journal_metadata/c:issn", NS)] == [
        ("2049-3630", "electronic"),
        ("0317-8471", "print"),
    ]
    issue = journal.find("c:journal_issue", NS)
    assert issue.findtext("c:titles/c:title", namespaces=NS) == "Malaria in cities"
    assert (issue.findtext("c:journal_volume/c:volume", namespaces=NS), issue.findtext("c:issue", namespaces=NS)) == (
        "12",
        "3",
    )
    item = journal.find("c:journal_article", NS)
    people = item.findall("c:contributors/c:person_name", NS)
    assert people[0].findtext("c:ORCID", namespaces=NS) == "https://orcid.org/0000-0001-5109-3700"
    assert people[0].get("sequence") == "first" and people[1].get("sequence") == "additional"
    assert (
        people[1].findtext("c:affiliations/c:institution/c:institution_id[@type='ror']", namespaces=NS)
        == "https://ror.org/02s376052"
    )
    assert item.findtext("c:contributors/c:organization", namespaces=NS) == "Angola Malaria Consortium"
    assert [a.get("{http://www.w3.org/XML/1998/namespace}lang") for a in item.findall("jats:abstract", NS)] == [
        "en",
        "pt",
        "ar",
    ]
    assert item.findtext("c:pages/c:first_page", namespaces=NS) == "101"
    assert item.findtext("ai:program/ai:license_ref", namespaces=NS) == "https://spdx.org/licenses/CC-BY-4.0.html"
    assert item.find("ai:program/ai:free_to_read", NS) is not None
    funders = item.findall("fr:program/fr:assertion", NS)
    assert len(funders) == 3
    assert item.findtext("c:doi_data/c:doi", namespaces=NS) == "10.82433/jasp.2026.042"
    assert item.findtext("c:doi_data/c:resource", namespaces=NS) == ARTICLE_URL
    assert item.findtext("c:citation_list/c:citation/c:doi", namespaces=NS) == "10.1080/00031305.1973.10478966"


def test_journal_facts_from_the_container_alone(article: RecordView) -> None:
    assert_crossref(crossref.to_xml(article, None, DEPOSIT))


def _article(number: int, **container: str) -> RecordView:
    meta = copy.deepcopy(ARTICLE)
    meta["doi"] = f"10.82433/jasp.2026.{number:03d}"
    meta["titles"] = [{"title": f"Article {number}"}]
    meta["relatedItems"][0] |= {"firstPage": str(number * 10), "lastPage": str(number * 10 + 9)} | container
    return make_view(meta, identifier=f"{ARTICLE_URL}{number}", files=[])


def test_a_whole_issue() -> None:
    views = [_article(n) for n in range(1, 6)]
    issue = replace(JOURNAL, issue_doi="10.82433/rasp.12.3", issue_url="https://node.example.org/journals/rasp/12/3")
    data = crossref.issue_to_xml(views, issue, DEPOSIT)
    assert_crossref(data)
    root = etree.fromstring(data, safe_parser())
    assert root.findtext(".//c:journal_issue/c:doi_data/c:doi", namespaces=NS) == "10.82433/rasp.12.3"
    dois = [d.text for d in root.iterfind(".//c:journal_article/c:doi_data/c:doi", NS)]
    assert dois == [f"10.82433/jasp.2026.{n:03d}" for n in range(1, 6)]
    assert len(root.findall(".//c:journal_issue", NS)) == 1


def test_articles_of_two_issues_are_refused() -> None:
    with pytest.raises(InvalidInput, match="one issue"):
        crossref.issue_to_xml([_article(1), _article(2, issue="4")], JOURNAL, DEPOSIT)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda m: m.pop("doi"), "doi"),
        (lambda m: m.pop("relatedItems"), "relatedItems"),
        (lambda m: m["relatedItems"][0].pop("relatedItemIdentifier"), "relatedItems.0.relatedItemIdentifier"),
    ],
)
def test_an_article_crossref_would_refuse_is_refused(change, path: str) -> None:  # noqa: ANN001
    meta = copy.deepcopy(ARTICLE)
    change(meta)
    with pytest.raises(InvalidInput) as caught:
        crossref.to_xml(make_view(meta), None, DEPOSIT)
    assert path in [e.path for e in caught.value.errors]


def test_a_deposit_without_a_depositor_is_refused(article: RecordView) -> None:
    bad = crossref.Deposit(depositor_name=" ", email="nobody", registrant="", batch_id="b", timestamp=DEPOSIT.timestamp)
    with pytest.raises(InvalidInput) as caught:
        crossref.to_xml(article, JOURNAL, bad)
    assert {e.path for e in caught.value.errors} == {
        "deposit.depositor_name",
        "deposit.email",
        "deposit.registrant",
        "deposit.batch_id",  # "b": Crossref takes 4 to 100 characters
    }


def test_the_refused_output_would_really_be_invalid(article: RecordView) -> None:
    """What the checks refuse is what the schema refuses: a batch written without them fails validation."""
    data = crossref.to_xml(article, JOURNAL, DEPOSIT)
    root = etree.fromstring(data, safe_parser())
    for issn in root.findall(".//c:issn", NS):
        issn.getparent().remove(issn)
    for doi in root.findall(".//c:doi_data", NS):
        doi.getparent().remove(doi)
    with pytest.raises(AssertionError):
        assert_crossref(etree.tostring(root))


def test_values_longer_than_crossref_takes_are_refused() -> None:
    meta = copy.deepcopy(ARTICLE)
    meta["relatedItems"][0]["volume"] = "v" * 33
    meta["creators"][0]["familyName"] = "N" * 201
    long_name = crossref.Deposit("d" * 131, "e@x.org", "r", "b" * 3, DEPOSIT.timestamp)
    with pytest.raises(InvalidInput) as caught:
        crossref.to_xml(make_view(meta), None, long_name)
    assert {e.path for e in caught.value.errors} == {
        "relatedItems.0.volume",
        "creators.0.familyName",
        "deposit.depositor_name",
        "deposit.batch_id",
    }


@pytest.mark.parametrize(
    ("lang", "expected"), [("pt-BR", "pt"), ("en", "en"), ("por", None), ("zz", None), (None, None)]
)
def test_only_languages_crossref_knows_are_written(lang: str | None, expected: str | None) -> None:
    assert crossref.crossref_language(lang) == expected
    meta = copy.deepcopy(ARTICLE)
    meta["language"] = lang
    if lang is None:
        del meta["language"]
    data = crossref.to_xml(make_view(meta), JOURNAL, DEPOSIT)
    assert_crossref(data)
    item = etree.fromstring(data, safe_parser()).find(".//c:journal_article", NS)
    assert item.get("language") == expected


def test_a_doi_too_long_for_crossref() -> None:
    meta = copy.deepcopy(ARTICLE)
    meta["doi"] = "10.82433/" + "x" * 201
    meta["relatedIdentifiers"][0]["relatedIdentifier"] = "10.1080/" + "y" * 201
    with pytest.raises(InvalidInput) as caught:
        crossref.to_xml(make_view(meta), JOURNAL, DEPOSIT)
    assert [e.path for e in caught.value.errors] == ["doi"]
    meta["doi"] = "10.82433/ok"
    data = crossref.to_xml(make_view(meta), JOURNAL, DEPOSIT)
    assert_crossref(data)  # the long reference DOI is written as an unstructured citation
    assert b"y" * 201 in data
