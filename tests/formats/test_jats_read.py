"""Reading JATS back: the node's own JATS round-trips, and an OJS-shaped JATS (namespaced, as served over OAI-PMH)
becomes valid metadata with its journal as the container."""

from __future__ import annotations

from osnode.domain.metadata import parse_metadata
from osnode.formats import RecordView, jats
from osnode.formats.jats_read import from_jats


def test_the_nodes_own_jats_round_trips(article: RecordView) -> None:
    read = parse_metadata(from_jats(jats.to_xml(article)))
    original = article.metadata
    assert read.main_title() == original.main_title()
    assert [t.title for t in read.titles] == [t.title for t in original.titles]
    assert [(c.familyName, c.givenName, c.orcid) for c in read.creators] == [
        (c.familyName, c.givenName, c.orcid) for c in original.creators
    ]
    assert [[(a.name, a.ror) for a in c.affiliations] for c in read.creators] == [
        [(a.name, a.ror) for a in c.affiliations] for c in original.creators
    ]
    assert read.doi == original.doi and read.publicationYear == 2026 and read.kind == "JournalArticle"
    assert [(d.lang, d.description) for d in read.descriptions] == [
        ("en", "We surveyed 2,000 households.\n\nPrevalence fell by 12% <p < 0.01>."),
        ("pt", "Inquirimos 2.000 domicílios."),
        ("ar", "لقد شملنا 2000 أسرة."),
    ]
    assert [(s.subject, s.lang) for s in read.subjects] == [(s.subject, s.lang) for s in original.subjects]
    assert [f.funderName for f in read.fundingReferences] == [f.funderName for f in original.fundingReferences]
    assert read.rightsList[0].rightsUri == "https://spdx.org/licenses/CC-BY-4.0.html"
    item, expected = read.container(), original.container()
    assert (item.volume, item.issue, item.firstPage, item.lastPage) == ("12", "3", "101", "118")
    assert item.relatedItemIdentifier == expected.relatedItemIdentifier
    assert item.titles[0].title == expected.titles[0].title
    assert [r.relatedIdentifier for r in read.relatedIdentifiers] == [
        "10.1080/00031305.1973.10478966",
        "https://example.org/report.pdf",
        "arXiv:2101.00001",
    ]


OJS = """<?xml version="1.0" encoding="UTF-8"?>
<article xmlns="https://jats.nlm.nih.gov/publishing/1.1/" xmlns:xlink="http://www.w3.org/1999/xlink"
 xml:lang="pt" article-type="research-article"><front><journal-meta>
<journal-id journal-id-type="ojs">rasp</journal-id><journal-title-group><journal-title xml:lang="pt">Revista Angolana
 de Saúde Pública</journal-title></journal-title-group><issn pub-type="ppub">0317-8471</issn>
<issn pub-type="epub">2049-3630</issn><publisher><publisher-name>UAN</publisher-name></publisher></journal-meta>
<article-meta><article-id pub-id-type="doi">10.82433/rasp.7</article-id><title-group>
<article-title>Malária em Luanda</article-title></title-group><contrib-group>
<contrib contrib-type="author"><name name-style="western"><surname>Ngola</surname><given-names>Ana</given-names></name>
<aff>Universidade Agostinho Neto</aff></contrib><contrib contrib-type="editor"><string-name>Ed</string-name></contrib>
</contrib-group><pub-date date-type="pub" publication-format="epub"><day>02</day><month>05</month><year>2019</year>
</pub-date><volume>4</volume><issue>1</issue><fpage>1</fpage><lpage>9</lpage>
<permissions><license xlink:href="https://creativecommons.org/licenses/by/4.0"><license-p>CC BY</license-p></license>
</permissions><abstract><p>Resumo.</p></abstract></article-meta></front></article>"""


def test_an_ojs_article_becomes_valid_metadata() -> None:
    meta = parse_metadata(from_jats(OJS.encode()))
    assert meta.main_title() == "Malária em Luanda" and meta.language == "pt"
    assert [(c.familyName, [a.name for a in c.affiliations]) for c in meta.creators] == [
        ("Ngola", ["Universidade Agostinho Neto"])
    ]
    item = meta.container()
    assert item.relatedItemIdentifier.relatedItemIdentifier == "2049-3630"  # the online ISSN first
    assert item.relatedItemIdentifier.relatedItemIdentifierType == "EISSN"
    assert (item.volume, item.issue, item.publicationYear) == ("4", "1", 2019)
    assert meta.publisher.name == "UAN" and meta.doi == "10.82433/rasp.7"
    assert meta.descriptions[0].description == "Resumo." and meta.descriptions[0].lang == "pt"


def test_what_is_not_a_jats_article_reads_as_nothing() -> None:
    assert from_jats(b"<notes><front/></notes>") == {}
