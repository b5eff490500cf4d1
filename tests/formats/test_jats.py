"""JATS 1.3: every article validates against the official Journal Publishing XSD (from commonmeta-py)."""

from __future__ import annotations

import copy

import pytest
from lxml import etree

from osnode.domain.errors import InvalidInput
from osnode.formats import RecordView, jats
from osnode.formats.articles import JournalFacts
from osnode.formats.jats import Galley
from tests.article_schemas import assert_jats
from tests.formats.conftest import ARTICLE, make_view

XLINK = "{http://www.w3.org/1999/xlink}href"
LANG = "{http://www.w3.org/XML/1998/namespace}lang"
JOURNAL = JournalFacts(
    title="Revista Angolana de Saúde Pública",
    issn_online="2049-3630",
    issn_print="0317-8471",
    publisher="Universidade Agostinho Neto",
    journal_id="rasp",
    abbreviated_title="Rev. Angol. Saúde Públ.",
)


def test_front_matter_and_references(article: RecordView) -> None:
    root = assert_jats(jats.to_xml(article))
    assert root.get("article-type") == "research-article"
    assert root.findtext("front/journal-meta/journal-title-group/journal-title") == "Revista Angolana de Saúde Pública"
    assert [(i.text, i.get("publication-format")) for i in root.iterfind("front/journal-meta/issn")] == [
        ("2049-3630", "electronic")
    ]
    meta = root.find("front/article-meta")
    assert meta.findtext("article-id[@pub-id-type='doi']") == "10.82433/jasp.2026.042"
    assert meta.findtext("title-group/article-title") == "Malaria in Luanda's households, 2024"
    assert meta.findtext("title-group/trans-title-group/trans-title") == "A malária nos domicílios de Luanda, 2024"
    contribs = meta.findall("contrib-group/contrib")
    assert contribs[0].findtext("contrib-id[@contrib-id-type='orcid']") == "https://orcid.org/0000-0001-5109-3700"
    assert contribs[0].findtext("name/surname") == "Ngola" and contribs[1].findtext("name/given-names") == "민준"
    assert contribs[2].findtext("collab") == "Angola Malaria Consortium"
    # One aff per institution, shared by both authors, with its ROR id.
    affs = meta.findall("aff")
    assert [a.findtext("institution-wrap/institution") for a in affs] == [
        "Universidade Agostinho Neto",
        "Instituto Nacional de Saúde",
    ]
    assert (
        affs[0].findtext("institution-wrap/institution-id[@institution-id-type='ror']") == "https://ror.org/02s376052"
    )
    assert [x.get("rid") for x in contribs[1].findall("xref")] == ["aart1c-le001-aff1", "aart1c-le001-aff2"]
    assert [a.get("id") for a in affs] == ["aart1c-le001-aff1", "aart1c-le001-aff2"]
    assert (meta.findtext("volume"), meta.findtext("issue"), meta.findtext("fpage"), meta.findtext("lpage")) == (
        "12",
        "3",
        "101",
        "118",
    )
    assert meta.findtext("pub-date/year") == "2026"
    assert meta.find("permissions/license").get(XLINK) == "https://spdx.org/licenses/CC-BY-4.0.html"
    assert [(s.get("content-type"), s.get(XLINK)) for s in meta.findall("self-uri")] == [
        ("pdf", "https://node.example.org/records/art1c-le001/files/article.pdf"),
        ("html", "https://node.example.org/records/art1c-le001/files/article.html"),
    ]
    abstract = meta.find("abstract")
    assert abstract.get(LANG) == "en" and [p.text for p in abstract] == [
        "We surveyed 2,000 households.",
        "Prevalence fell by 12% <p < 0.01>.",
    ]
    assert [t.get(LANG) for t in meta.findall("trans-abstract")] == ["pt", "ar"]
    assert [[k.text for k in g] for g in meta.findall("kwd-group")] == [["malaria", "household survey"], ["malária"]]
    assert [a.findtext("award-id") for a in meta.findall("funding-group/award-group")] == ["NSF-1234", None, None]
    refs = root.findall("back/ref-list/ref")
    assert len(refs) == 3  # References and Cites; not the supplementing software
    assert refs[0].findtext("mixed-citation/pub-id[@pub-id-type='doi']") == "10.1080/00031305.1973.10478966"
    assert refs[1].find("mixed-citation/ext-link").get(XLINK) == "https://example.org/report.pdf"


def test_journal_facts_give_both_issns(article: RecordView) -> None:
    root = assert_jats(jats.to_xml(article, JOURNAL))
    assert [(i.text, i.get("publication-format")) for i in root.iterfind("front/journal-meta/issn")] == [
        ("2049-3630", "electronic"),
        ("0317-8471", "print"),
    ]
    assert root.findtext("front/journal-meta/journal-id") == "rasp"


HOSTILE_HTML = b"""<!DOCTYPE html><html><head><title>x</title><script>alert(1)</script>
<style>body{}</style></head><body><header>Site header</header><main>
<p>Intro with <b>bold</b>, <em>em</em>, H<sub>2</sub>O, x<sup>2</sup> and <a href="https://example.org/x">a link</a>
and <a href="javascript:alert(1)">a trap</a> <img src=x onerror=alert(1)>
<a href="https://bad.example/%zz[x]">bad uri</a>.</p>
<h2 onclick="alert(1)">Methods</h2><p>We asked.</p>
<h3>Sampling</h3><ul><li>one <i>item</i></li><li>two<ol><li>nested</li></ol></li></ul>
<p>after the list</p><iframe src="https://evil.example"></iframe><object data="x"></object>
<h2>Results</h2><table><thead><tr><th>a</th><th colspan="2">b</th></tr></thead>
<tbody><tr><td>1</td><td colspan="9999">2</td><td rowspan="x">3</td></tr></tbody></table>
<form><input name=q></form>loose text<custom-tag>kept text</custom-tag>
</main><footer>Site footer</footer></body></html>"""


def test_html_galley_becomes_a_safe_valid_body(article: RecordView) -> None:
    root = assert_jats(jats.to_xml(article, galley=Galley("html", HOSTILE_HTML)))
    body = root.find("body")
    text = etree.tostring(body, encoding="unicode")
    for bad in ("script", "alert", "javascript", "iframe", "evil", "img", "onerror", "onclick", "Site header", "form"):
        assert bad not in text, bad
    intro = body.find("p")
    assert [e.tag for e in intro] == ["bold", "italic", "sub", "sup", "ext-link"]
    assert intro.find("ext-link").get(XLINK) == "https://example.org/x"
    methods, results = body.findall("sec")
    assert methods.findtext("title") == "Methods" and methods.findtext("p") == "We asked."
    sampling = methods.find("sec")
    assert sampling.findtext("title") == "Sampling"
    items = sampling.findall("list/list-item")
    assert items[1].find("list").get("list-type") == "order"
    assert sampling.findall("p")[-1].text == "after the list"
    cells = results.findall("table-wrap/table/tbody/tr")
    assert [c.get("colspan") for c in cells[0]] == [None, "2"]
    assert [(c.get("colspan"), c.get("rowspan")) for c in cells[1]] == [(None, None), (None, None), (None, None)]
    assert "loose text" in text and "kept text" in text
    assert "bad.example" not in text and "bad uri" in text  # a link the schema would refuse: its text only


JATS_GALLEY = b"""<?xml version="1.0"?>
<!DOCTYPE article [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<article xmlns:xlink="http://www.w3.org/1999/xlink"><front/><body>
<p>Opening &xxe; paragraph.</p>
<sec><title>Intro</title><p>See <ext-link xlink:href="https://example.org">this</ext-link>.</p>
<sec><title>Deeper</title><p>deep</p></sec><p>after deeper</p></sec>
<sec><title>Figures</title><fig><graphic xlink:href="f.png"/></fig><p onload="x">fine</p>
<unknown-element>survives as text</unknown-element></sec>
</body></article>"""


def test_jats_galley_body_is_taken_through_the_allow_list(article: RecordView) -> None:
    root = assert_jats(jats.to_xml(article, galley=Galley("jats", JATS_GALLEY)))
    body = root.find("body")
    text = etree.tostring(body, encoding="unicode")
    assert "root:" not in text and "passwd" not in text and "graphic" not in text and "onload" not in text
    intro, figures = body.findall("sec")
    assert intro.find("sec").findtext("title") == "Deeper"
    assert intro.find("sec").findall("p")[-1].text == "after deeper"  # no block after a subsection
    assert "survives as text" in text


@pytest.mark.parametrize("data", [b"", b"not xml <", b"<html><body>x</body></html>", b"<article/>"])
def test_a_galley_without_a_body_gives_an_article_without_one(article: RecordView, data: bytes) -> None:
    root = assert_jats(jats.to_xml(article, galley=Galley("jats", data)))
    assert root.find("body") is None


def test_a_record_that_is_not_in_a_journal_is_refused(article: RecordView) -> None:
    meta = copy.deepcopy(ARTICLE)
    del meta["relatedItems"]
    with pytest.raises(InvalidInput) as caught:
        jats.to_xml(make_view(meta))
    assert [e.path for e in caught.value.errors] == ["relatedItems"]


def test_a_journal_without_an_issn_is_refused() -> None:
    meta = copy.deepcopy(ARTICLE)
    del meta["relatedItems"][0]["relatedItemIdentifier"]
    with pytest.raises(InvalidInput, match="ISSN"):
        jats.to_xml(make_view(meta))


def test_an_issn_with_a_bad_checksum_is_refused() -> None:
    with pytest.raises(InvalidInput, match="ISSN") as caught:
        JournalFacts(title="J", issn_online="2049-3631")
    assert caught.value.errors[0].path == "issn_online"
    meta = copy.deepcopy(ARTICLE)
    meta["relatedItems"][0]["relatedItemIdentifier"]["relatedItemIdentifier"] = "2049-3631"
    with pytest.raises(InvalidInput) as caught:
        make_view(meta)
    assert "not a valid ISSN" in caught.value.errors[0].message


def test_closed_files_are_not_linked(article: RecordView) -> None:
    from dataclasses import replace

    from osnode.domain.records import AccessLevel

    closed = replace(article, access_level=AccessLevel.RESTRICTED)
    root = assert_jats(jats.to_xml(closed))
    assert root.find("front/article-meta/self-uri") is None


def test_absurdly_deep_galleys_do_not_break_the_export(article: RecordView) -> None:
    deep_html = b"<html><body>" + b"<div>" * 20_000 + b"<p>x</p>" + b"</div>" * 20_000 + b"</body></html>"
    deep_jats = b"<article><front/><body>" + b"<sec>" * 5_000 + b"<p>x</p>" + b"</sec>" * 5_000 + b"</body></article>"
    nested = (
        b"<article><front/><body>"
        + b"<sec><title>t</title>" * 100
        + b"<p>x</p>"
        + b"</sec>" * 100
        + b"</body></article>"
    )
    for galley in (Galley("html", deep_html), Galley("jats", deep_jats), Galley("jats", nested)):
        assert_jats(jats.to_xml(article, galley=galley))
