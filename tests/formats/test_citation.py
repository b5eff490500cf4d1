"""Citations are read back with parsers someone else wrote: bibtexparser for BibTeX, rispy for RIS."""

from __future__ import annotations

import hashlib

import bibtexparser
import pytest
import rispy
from bibtexparser import middlewares

from osnode.domain import vocabularies
from osnode.formats import citation
from osnode.formats.kinds import kind_of
from osnode.services.demo import sample_records

from .conftest import BASE, MINIMAL, PUBLISHED, RICH, make_view

# CSL 1.0.2 item types, from the CSL specification (not from the code under test).
CSL_TYPES = set(
    "article article-journal article-magazine article-newspaper bill book broadcast chapter classic collection "
    "dataset document entry entry-dictionary entry-encyclopedia event figure graphic hearing interview legal_case "
    "legislation manuscript map motion_picture musical_score pamphlet paper-conference patent performance "
    "periodical personal_communication post post-weblog regulation report review review-book software song "
    "speech standard thesis treaty webpage".split()
)
BIBTEX_TYPES = {"article", "dataset", "software", "misc"}


def parse_bibtex(text: str, *extra: middlewares.Middleware) -> bibtexparser.Library:
    library = bibtexparser.parse_string(text, append_middleware=list(extra))
    assert not library.failed_blocks, library.failed_blocks
    assert len(library.entries) == 1
    return library


def parse_ris(text: str) -> dict:
    entries = rispy.loads(text)
    assert len(entries) == 1
    return entries[0]


def two_authors(**overrides):
    metadata = {
        "titles": [{"title": "Anscombe's quartet"}],
        "creators": [{"givenName": "Ana", "familyName": "Silva"}, {"givenName": "Josiah", "familyName": "Carberry"}],
        "publisher": "Open Science Node",
        "publicationYear": 2026,
        "resourceType": "Dataset",
        "version": "1.0",
    }
    return make_view(metadata | overrides)


# -- citation key -----------------------------------------------------------------------------


def test_citekey_is_readable_stable_and_ascii(rich, minimal):
    assert citation.citekey(rich) == "ngola_2026_k3x9a-b7q2m"
    assert citation.citekey(rich) == citation.citekey(make_view(RICH))
    assert citation.citekey(minimal) == "silva_2025_k3x9a-b7q2m"
    korean_first = make_view(RICH | {"creators": RICH["creators"][1:]})
    assert citation.citekey(korean_first) == "record_2026_k3x9a-b7q2m"
    org_first = make_view(RICH | {"creators": RICH["creators"][3:]})
    assert citation.citekey(org_first) == "consorcio_2026_k3x9a-b7q2m"


# -- CSL-JSON ---------------------------------------------------------------------------------


def test_csl_json_rich(rich):
    item = citation.to_csl_json(rich)
    for required in ("id", "type", "title", "author", "issued"):
        assert item[required], required
    assert item["id"] == citation.citekey(rich)
    assert item["type"] == "dataset"
    assert item["title"] == "Inquérito sobre malária em Luanda, 2024"
    assert item["author"] == [
        {"family": "Ngola", "given": "João"},
        {"family": "김", "given": "민준"},
        {"family": "محمد"},
        {"literal": "Consórcio de Saúde Pública de Angola"},
    ]
    assert item["editor"] == [{"family": "Tavares", "given": "Maria"}]
    assert item["issued"] == {"date-parts": [[2026, 3, 1]]}
    assert item["publisher"] == "Nó de Ciência Aberta de Luanda"
    assert item["DOI"] == "10.82433/B09Z-4K37"
    assert item["URL"] == "https://doi.org/10.82433/B09Z-4K37"
    assert item["version"] == "1.0"
    assert item["genre"] == "Household survey"
    assert item["keyword"] == "FOS: Health sciences, Malária, Public health"
    assert item["language"] == "pt"


def test_csl_json_uses_the_year_alone_when_it_differs_from_publication(minimal):
    item = citation.to_csl_json(minimal)
    assert item["issued"] == {"date-parts": [[2025]]}  # publicationYear 2025, published by the node in 2026
    assert item["author"] == [{"family": "Silva", "given": "Ana"}]
    assert "DOI" not in item and item["URL"] == minimal.identifier


def test_csl_json_of_an_empty_draft_has_no_invented_author_or_date(bare):
    item = citation.to_csl_json(bare)
    assert (item["type"], item["title"]) == ("document", "(untitled)")
    assert "author" not in item and "issued" not in item


@pytest.mark.parametrize("kind", vocabularies.RESOURCE_TYPES)
def test_every_kind_maps_to_known_citation_types(kind):
    mapped = kind_of(kind)
    assert mapped.csl in CSL_TYPES
    assert mapped.bibtex in BIBTEX_TYPES
    assert mapped.ris in rispy.TYPE_OF_REFERENCE_MAPPING


# -- BibTeX -----------------------------------------------------------------------------------


def test_bibtex_rich_parses(rich):
    text = citation.to_bibtex(rich)
    library = parse_bibtex(text, middlewares.SeparateCoAuthors(), middlewares.SplitNameParts())
    entry = library.entries[0]
    assert (entry.entry_type, entry.key) == ("dataset", "ngola_2026_k3x9a-b7q2m")
    authors = entry["author"]
    assert [(a.first, a.last) for a in authors] == [
        (["João"], ["Ngola"]),
        (["민준"], ["김"]),
        ([], ["محمد"]),
        ([], ["{Consórcio de Saúde Pública de Angola}"]),  # one organization, not split into words
    ]
    assert entry["title"] == "Inquérito sobre malária em Luanda, 2024"
    assert entry["year"] == "2026"
    assert entry["publisher"] == "Nó de Ciência Aberta de Luanda"
    assert entry["version"] == "1.0"
    assert entry["doi"] == "10.82433/B09Z-4K37"
    assert entry["url"] == "https://doi.org/10.82433/B09Z-4K37"
    assert entry["keywords"] == "FOS: Health sciences, Malária, Public health"
    assert entry["language"] == "pt"


@pytest.mark.parametrize(
    ("kind", "entry_type"),
    [("Dataset", "dataset"), ("JournalArticle", "article"), ("Software", "software"), ("Image", "misc")],
)
def test_bibtex_entry_type(kind, entry_type):
    entry = parse_bibtex(citation.to_bibtex(make_view(MINIMAL | {"resourceType": kind}))).entries[0]
    assert entry.entry_type == entry_type


def test_bibtex_escapes_specials_and_keeps_braces_balanced():
    title = "Costs & benefits: 100% of $5 {approx} #1 under_score back\\slash ~tilde"
    view = make_view(
        MINIMAL
        | {
            "titles": [{"title": title}],
            "creators": [{"name": "Research and Data Office", "nameType": "Organizational"}],
        }
    )
    text = citation.to_bibtex(view)
    assert "{approx}" not in text  # the user's braces are escaped, not LaTeX groups
    raw = parse_bibtex(text).entries[0]
    assert raw["title"] == (
        r"Costs \& benefits: 100\% of \$5 \{approx\} \#1 under\_score "
        r"back\textbackslash{}slash \textasciitilde{}tilde"
    )
    decoded = parse_bibtex(text, middlewares.LatexDecodingMiddleware()).entries[0]
    assert decoded["title"] == title
    names = parse_bibtex(text, middlewares.SeparateCoAuthors()).entries[0]["author"]
    assert names == ["{Research and Data Office}"]


def test_bibtex_caret_is_escaped():
    text = citation.to_bibtex(make_view(MINIMAL | {"titles": [{"title": "x^2"}]}))
    assert parse_bibtex(text).entries[0]["title"] == r"x\textasciicircum{}2"


def test_bibtex_newlines_in_values_are_folded(minimal):
    view = make_view(MINIMAL | {"titles": [{"title": "Line one\nline two"}]})
    assert parse_bibtex(citation.to_bibtex(view)).entries[0]["title"] == "Line one line two"


def test_bibtex_minimal_and_empty(minimal, bare):
    entry = parse_bibtex(citation.to_bibtex(minimal)).entries[0]
    assert entry.entry_type == "misc"
    assert entry["url"] == minimal.identifier
    assert "doi" not in entry.fields_dict and "version" not in entry.fields_dict
    empty = parse_bibtex(citation.to_bibtex(bare)).entries[0]
    assert empty.key == "record_k3x9a-b7q2m"
    assert "author" not in empty.fields_dict and "year" not in empty.fields_dict


# -- RIS --------------------------------------------------------------------------------------


def test_ris_rich_parses(rich):
    text = citation.to_ris(rich)
    assert text.startswith("TY  - DATA\r\n") and text.endswith("ER  - \r\n")
    entry = parse_ris(text)
    assert entry["type_of_reference"] == "DATA"
    assert entry["authors"] == ["Ngola, João", "김, 민준", "محمد", "Consórcio de Saúde Pública de Angola"]
    assert entry["title"] == "Inquérito sobre malária em Luanda, 2024"
    assert entry["year"] == "2026"
    assert entry["date"] == "2026/03/01"
    assert entry["publisher"] == "Nó de Ciência Aberta de Luanda"
    assert entry["edition"] == "1.0"
    assert entry["type_of_work"] == "Household survey"
    assert entry["doi"] == "10.82433/B09Z-4K37"
    assert entry["urls"] == ["https://doi.org/10.82433/B09Z-4K37"]
    assert entry["abstract"] == "Inquérito domiciliar sobre a prevalência da malária."
    assert entry["keywords"] == ["FOS: Health sciences", "Malária", "Public health"]
    assert entry["language"] == "pt"


@pytest.mark.parametrize(
    ("kind", "ris_type"),
    [("Dataset", "DATA"), ("JournalArticle", "JOUR"), ("Software", "COMP"), ("Other", "GEN")],
)
def test_ris_types(kind, ris_type):
    assert parse_ris(citation.to_ris(make_view(MINIMAL | {"resourceType": kind})))["type_of_reference"] == ris_type


def test_ris_abstract_stays_on_one_line():
    view = make_view(MINIMAL | {"descriptions": [{"description": "First line.\nER  - sneaky\nThird."}]})
    entry = parse_ris(citation.to_ris(view))
    assert entry["abstract"] == "First line. ER - sneaky Third."


def test_ris_of_an_empty_draft(bare):
    entry = parse_ris(citation.to_ris(bare))
    assert entry["type_of_reference"] == "GEN"
    assert entry["title"] == "(untitled)"
    assert "authors" not in entry and "year" not in entry


# -- plain text -------------------------------------------------------------------------------


def test_text_two_authors_dataset():
    assert citation.to_text(two_authors()) == (
        "Silva, A., & Carberry, J. (2026). Anscombe's quartet (Version 1.0) [Data set]. "
        "Open Science Node. https://node.example.org/records/k3x9a-b7q2m"
    )


def test_text_rich(rich):
    assert citation.to_text(rich) == (
        "Ngola, J., 김, 민., محمد, & Consórcio de Saúde Pública de Angola. (2026). "
        "Inquérito sobre malária em Luanda, 2024 (Version 1.0) [Data set]. Nó de Ciência Aberta de Luanda. "
        "https://doi.org/10.82433/B09Z-4K37"
    )


def test_text_variants():
    single = two_authors(creators=[{"givenName": "Francis J.", "familyName": "Anscombe"}])
    assert citation.to_text(single).startswith("Anscombe, F. J. (2026). ")
    hyphen = two_authors(creators=[{"givenName": "Jean-Paul", "familyName": "Sartre"}])
    assert citation.to_text(hyphen).startswith("Sartre, J.-P. (2026). ")
    article = two_authors(resourceType="JournalArticle", version=None)
    assert citation.to_text(make_view(article.metadata, version_number=1)).startswith(
        "Silva, A., & Carberry, J. (2026). Anscombe's quartet. Open Science Node. "
    )
    question = two_authors(titles=[{"title": "Why?"}], resourceType="JournalArticle", version=None)
    assert " (2026). Why? Open Science Node. " in citation.to_text(make_view(question.metadata, version_number=1))
    second = make_view(two_authors(version=None).metadata, version_number=2)
    assert "(Version 2) [Data set]" in citation.to_text(second)
    org = two_authors(creators=[{"name": "Open Science Node", "nameType": "Organizational"}])
    assert citation.to_text(org) == (
        "Open Science Node. (2026). Anscombe's quartet (Version 1.0) [Data set]. "
        "https://node.example.org/records/k3x9a-b7q2m"
    )
    software = two_authors(resourceType="Software")
    assert "[Computer software]" in citation.to_text(software)


def test_text_many_authors_and_no_authors(bare):
    many = two_authors(creators=[{"givenName": "A", "familyName": f"Author{i}"} for i in range(25)])
    text = citation.to_text(many)
    assert "Author18, A., . . . Author24, A. (2026)." in text and "Author19" not in text
    assert citation.to_text(bare) == (
        "(untitled). (n.d.). Luanda Open Science Node. https://node.example.org/records/k3x9a-b7q2m"
    )


# -- the demo records, in every format --------------------------------------------------------


def test_demo_records_cite_in_every_format():
    for number, (metadata, files) in enumerate(sample_records()):
        view = make_view(
            metadata,
            identifier=f"{BASE}/records/demo{number}",
            files=[
                (k, len(d), hashlib.sha256(d).hexdigest(), "application/octet-stream", f"{BASE}/{k}") for k, d in files
            ],
        )
        title = metadata["titles"][0]["title"]
        year = str(PUBLISHED.year)
        entry = parse_bibtex(citation.to_bibtex(view), middlewares.LatexDecodingMiddleware()).entries[0]
        assert (entry["title"], entry["year"]) == (title, year)
        ris = parse_ris(citation.to_ris(view))
        assert (ris["title"], ris["year"], ris["urls"]) == (title, year, [view.identifier])
        item = citation.to_csl_json(view)
        assert item["title"] == title and item["issued"] == {"date-parts": [[2026, 3, 1]]} and item["author"]
        assert citation.to_text(view).endswith(view.identifier)
        assert f"({year}). {title}" in citation.to_text(view)


def test_an_article_is_cited_with_its_journal(article):
    csl = citation.to_csl_json(article)
    assert (csl["type"], csl["container-title"], csl["volume"], csl["issue"], csl["page"], csl["ISSN"]) == (
        "article-journal",
        "Revista Angolana de Saúde Pública",
        "12",
        "3",
        "101-118",
        "2049-3630",
    )
    entry = parse_bibtex(citation.to_bibtex(article)).entries[0]
    assert entry.entry_type == "article"
    fields = {f.key: f.value for f in entry.fields}
    assert (fields["journal"], fields["volume"], fields["number"], fields["pages"]) == (
        "Revista Angolana de Saúde Pública",
        "12",
        "3",
        "101--118",
    )
    ris = rispy.loads(citation.to_ris(article))[0]
    assert ris["type_of_reference"] == "JOUR"
    assert (ris["secondary_title"], ris["volume"], ris["number"], ris["start_page"], ris["end_page"]) == (
        "Revista Angolana de Saúde Pública",
        "12",
        "3",
        "101",
        "118",
    )
    assert citation.to_text(article) == (
        "Ngola, J., 김, 민., & Angola Malaria Consortium. (2026). Malaria in Luanda's households, 2024. "
        "Revista Angolana de Saúde Pública, 12(3), 101\u2013118. https://doi.org/10.82433/jasp.2026.042"
    )
