"""Identifier syntax and checksums.

The check characters are computed here by reference implementations written from the standards
(ISO 7064 MOD 11-2 for ORCID, MOD 97-10 over Crockford base32 for ROR, ISSN, ISBN), not by calling
the code under test, so a wrong algorithm in ``osnode`` cannot agree with itself.
"""

from __future__ import annotations

import string
import sys
import unicodedata

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from lxml import etree

from osnode.domain import identifiers as ids
from osnode.domain.errors import InvalidInput
from osnode.domain.metadata import parse_metadata

DIGITS = "0123456789"
CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
# Characters Crockford base32 leaves out, and that ROR ids therefore never contain.
NOT_CROCKFORD = "ilou"
# Decimal digits from other scripts: Python's ``\d`` matches them, identifiers must not.
UNICODE_DIGITS = st.characters(categories=("Nd",)).filter(lambda c: c not in DIGITS)
# For each value 0-9, every non-ASCII decimal digit with that value (Arabic-Indic, Devanagari...).
FOREIGN_TWINS = {
    str(value): [
        chr(code)
        for code in range(128, sys.maxunicode + 1)
        if unicodedata.category(chr(code)) == "Nd" and unicodedata.decimal(chr(code)) == value
    ]
    for value in range(10)
}


def with_foreign_digit(data: st.DataObject, text: str, positions: range) -> str:
    """``text`` with one ASCII digit replaced by another script's digit of the same value."""
    position = data.draw(st.sampled_from(positions))
    twin = data.draw(st.sampled_from(FOREIGN_TWINS[text[position]]))
    return text[:position] + twin + text[position + 1 :]


# -- reference implementations --------------------------------------------------------------------


def ref_orcid_check(base15: str) -> str:
    """ISO 7064 MOD 11-2 as ORCID documents it."""
    total = 0
    for char in base15:
        total = (total + int(char)) * 2
    remainder = total % 11
    result = (12 - remainder) % 11
    return "X" if result == 10 else str(result)


def ref_ror_check(body7: str) -> str:
    """Crockford base32 → integer (via Python's own base-32 parser), then ISO 7064 MOD 97-10."""
    standard32 = "0123456789abcdefghijklmnopqrstuv"
    value = int(body7.translate(str.maketrans(CROCKFORD, standard32)), 32)
    return str(98 - (value * 100) % 97).zfill(2)


def ref_issn_check(seven: str) -> str:
    remainder = sum(int(d) * (8 - i) for i, d in enumerate(seven)) % 11
    check = (11 - remainder) % 11
    return "X" if check == 10 else str(check)


def ref_isbn10_check(nine: str) -> str:
    check = sum(int(d) * (i + 1) for i, d in enumerate(nine)) % 11
    return "X" if check == 10 else str(check)


def ref_isbn13_check(twelve: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(twelve))
    return str((10 - total % 10) % 10)


def test_reference_implementations_agree_with_published_examples() -> None:
    # Sanity of the oracles themselves, on identifiers printed in the standards' documentation.
    assert ref_orcid_check("000000021825009") == "7"  # 0000-0002-1825-0097 (ORCID docs)
    assert ref_orcid_check("000000021694233") == "X"  # 0000-0002-1694-233X (ORCID docs)
    assert ref_ror_check("03yrm5c") == "26"
    assert ref_issn_check("0317847") == "1"  # 0317-8471 (ISSN example)
    assert ref_isbn10_check("030640615") == "2"  # 0-306-40615-2
    assert ref_isbn13_check("978030640615") == "7"  # 978-0-306-40615-7


# -- ORCID ----------------------------------------------------------------------------------------


def _hyphenate(sixteen: str) -> str:
    return "-".join(sixteen[i : i + 4] for i in range(0, 16, 4))


base15 = st.text(alphabet=DIGITS, min_size=15, max_size=15)


@given(base15)
def test_orcid_any_base_with_its_check_character_normalizes(base: str) -> None:
    full = base + ref_orcid_check(base)
    canonical = _hyphenate(full)
    assert ids.normalize_orcid(canonical) == canonical
    assert ids.normalize_orcid(full) == canonical  # without hyphens
    assert ids.normalize_orcid(canonical.lower()) == canonical  # a lower-case 'x'
    assert ids.normalize_orcid(f"  {canonical} ") == canonical
    assert ids.orcid_checksum(base) == ref_orcid_check(base)


@given(base15, st.sampled_from(["https://orcid.org/", "http://orcid.org/", "orcid.org/", "HTTPS://ORCID.ORG/"]))
def test_orcid_url_forms_are_accepted(base: str, prefix: str) -> None:
    canonical = _hyphenate(base + ref_orcid_check(base))
    assert ids.normalize_orcid(prefix + canonical) == canonical


@given(base15, st.integers(min_value=0, max_value=15), st.sampled_from(DIGITS + "X"))
def test_orcid_changing_any_single_character_fails(base: str, position: int, replacement: str) -> None:
    full = base + ref_orcid_check(base)
    assume(full[position] != replacement)
    damaged = full[:position] + replacement + full[position + 1 :]
    with pytest.raises(ValueError):
        ids.normalize_orcid(_hyphenate(damaged))


@given(base15, st.data())
def test_orcid_rejects_digits_of_other_scripts(base: str, data: st.DataObject) -> None:
    full = base + ref_orcid_check(base)
    # The same value written with another script's digit: int() would read it the same.
    with pytest.raises(ValueError):
        ids.normalize_orcid(with_foreign_digit(data, full, range(15)))


def test_orcid_all_foreign_digits_with_x_check_is_rejected() -> None:
    # 000000000000001X is valid in ASCII; the same in Arabic-Indic digits must not pass as an ORCID.
    assert ref_orcid_check("000000000000001") == "X"
    arabic = "".join("٠١٢٣٤٥٦٧٨٩"[int(d)] for d in "000000000000001")
    with pytest.raises(ValueError):
        ids.normalize_orcid(arabic + "X")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "0000-0002-1825-009",  # too short
        "0000-0002-1825-00977",  # too long
        "0000-0002-1825-0098",  # wrong check digit
        "X000-0002-1825-0097",  # X only as the check character
        "0000 0002 1825 0097",
        "https://example.org/0000-0002-1825-0097",
    ],
)
def test_orcid_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        ids.normalize_orcid(bad)


def test_orcid_url() -> None:
    assert ids.orcid_url("0000-0002-1825-0097") == "https://orcid.org/0000-0002-1825-0097"


# -- ROR ------------------------------------------------------------------------------------------

REAL_RORS = ["03yrm5c26", "05dxps055", "04wxnsj81", "02mhbdp94"]


@pytest.mark.parametrize("ror", REAL_RORS)
def test_ror_real_ids_pass_in_every_form(ror: str) -> None:
    url = f"https://ror.org/{ror}"
    for form in (ror, ror.upper(), url, f"http://ror.org/{ror}", f"ror.org/{ror}", f" {url} "):
        assert ids.normalize_ror(form) == url
    assert ref_ror_check(ror[:7]) == ror[7:]


@pytest.mark.parametrize("ror", REAL_RORS)
def test_ror_any_one_character_change_fails(ror: str) -> None:
    for position, original in enumerate(ror):
        for replacement in CROCKFORD + NOT_CROCKFORD:
            if replacement == original:
                continue
            damaged = ror[:position] + replacement + ror[position + 1 :]
            with pytest.raises(ValueError):
                ids.normalize_ror(damaged)


ror_bodies = st.text(alphabet=CROCKFORD, min_size=6, max_size=6).map(lambda tail: "0" + tail)


@given(ror_bodies)
def test_ror_random_bodies_with_computed_checksum_pass(body: str) -> None:
    ror = body + ref_ror_check(body)
    assert ids.normalize_ror(ror) == f"https://ror.org/{ror}"
    assert ids.normalize_ror(ror.upper()) == f"https://ror.org/{ror}"
    assert ids.ror_checksum(body) == ref_ror_check(body)


@given(ror_bodies, st.integers(min_value=0, max_value=99))
def test_ror_random_bodies_with_any_other_checksum_fail(body: str, wrong: int) -> None:
    assume(f"{wrong:02d}" != ref_ror_check(body))
    with pytest.raises(ValueError):
        ids.normalize_ror(body + f"{wrong:02d}")


@given(ror_bodies, st.integers(min_value=7, max_value=8), UNICODE_DIGITS)
def test_ror_rejects_foreign_digits_in_checksum(body: str, position: int, foreign: str) -> None:
    ror = body + ref_ror_check(body)
    with pytest.raises(ValueError):
        ids.normalize_ror(ror[:position] + foreign + ror[position + 1 :])


@pytest.mark.parametrize("bad", ["", "13yrm5c26", "03yrm5c2", "03yrm5c266", "03yrm5cu6", "https://ror.org/"])
def test_ror_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        ids.normalize_ror(bad)


# -- DOI ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_value", "expected"),
    [
        ("10.5281/zenodo.1234", "10.5281/zenodo.1234"),
        ("https://doi.org/10.1000/xyz(123)", "10.1000/xyz(123)"),
        ("http://doi.org/10.1000/abc", "10.1000/abc"),
        ("https://dx.doi.org/10.1000/abc", "10.1000/abc"),
        ("doi:10.123456789/ABC", "10.123456789/ABC"),
        ("DOI:10.1000/abc", "10.1000/abc"),
        ("  10.1000/abc  ", "10.1000/abc"),
        ("10.1000/sub/with/slashes", "10.1000/sub/with/slashes"),
    ],
)
def test_doi_accepts(given_value: str, expected: str) -> None:
    assert ids.normalize_doi(given_value) == expected


@pytest.mark.parametrize(
    "bad",
    ["", "10.123/abc", "10.1234567890/abc", "11.1234/abc", "10.1234/", "10.1234/has space", "10.1234", "doi.org"],
)
def test_doi_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        ids.normalize_doi(bad)


doi_suffix = st.text(
    alphabet=st.characters(categories=("L", "N", "P", "S"), exclude_characters="\x85\xa0"), min_size=1, max_size=40
)


@given(st.text(alphabet=DIGITS, min_size=4, max_size=9), doi_suffix)
def test_doi_any_registrant_and_suffix(registrant: str, suffix: str) -> None:
    doi = f"10.{registrant}/{suffix}"
    assert ids.normalize_doi(doi) == doi
    assert ids.normalize_doi(f"https://doi.org/{doi}") == doi
    assert ids.normalize_doi(ids.normalize_doi(doi)) == doi


@given(st.text(alphabet=UNICODE_DIGITS, min_size=4, max_size=9))
def test_doi_registrant_must_be_ascii_digits(registrant: str) -> None:
    with pytest.raises(ValueError):
        ids.normalize_doi(f"10.{registrant}/abc")


# -- SWHID ----------------------------------------------------------------------------------------

HEX40 = st.text(alphabet="0123456789abcdef", min_size=40, max_size=40)
SWH_TYPES = st.sampled_from(["cnt", "dir", "rev", "rel", "snp"])


@given(SWH_TYPES, HEX40)
def test_swhid_core_accepted(kind: str, digest: str) -> None:
    swhid = f"swh:1:{kind}:{digest}"
    assert ids.validate_swhid(swhid) == swhid
    assert ids.validate_swhid(f" {swhid}\n") == swhid


@given(SWH_TYPES, HEX40, HEX40)
def test_swhid_with_all_qualifiers_accepted(kind: str, digest: str, other: str) -> None:
    swhid = (
        f"swh:1:{kind}:{digest};origin=https://github.com/example/repo;visit=swh:1:snp:{other}"
        f";anchor=swh:1:rev:{other};path=/src/main.py;lines=9-15"
    )
    assert ids.validate_swhid(swhid) == swhid


@pytest.mark.parametrize(
    "qualifier",
    [";foo=bar", ";lines=", ";origin", ";", ";Origin=https://x.org", ";=x"],
)
def test_swhid_bad_qualifier_fails(qualifier: str) -> None:
    with pytest.raises(ValueError):
        ids.validate_swhid("swh:1:cnt:" + "a" * 40 + qualifier)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "swh:1:cnt:" + "a" * 39,
        "swh:1:cnt:" + "a" * 41,
        "swh:1:cnt:" + "A" * 40,  # hex digits are lower-case
        "swh:1:cnt:" + "g" * 40,
        "swh:2:cnt:" + "a" * 40,
        "swh:1:obj:" + "a" * 40,
        "swh:1:" + "a" * 40,
        "https://archive.softwareheritage.org/swh:1:cnt:" + "a" * 40,
    ],
)
def test_swhid_bad_core_fails(bad: str) -> None:
    with pytest.raises(ValueError):
        ids.validate_swhid(bad)


# -- arXiv ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_value", "expected"),
    [
        ("2101.00001", "arXiv:2101.00001"),
        ("0704.0001", "arXiv:0704.0001"),  # 2007-2014: four digits after the dot
        ("2101.00001v3", "arXiv:2101.00001v3"),
        ("arXiv:2101.00001", "arXiv:2101.00001"),
        ("arxiv:2101.00001", "arXiv:2101.00001"),
        ("https://arxiv.org/abs/2101.00001", "arXiv:2101.00001"),
        ("http://arxiv.org/abs/2101.00001v2", "arXiv:2101.00001v2"),
        ("hep-th/9901001", "arXiv:hep-th/9901001"),
        ("math.GT/0309136", "arXiv:math.GT/0309136"),
        ("cond-mat/0102536v1", "arXiv:cond-mat/0102536v1"),
        ("arXiv:astro-ph/0001001", "arXiv:astro-ph/0001001"),
    ],
)
def test_arxiv_accepts(given_value: str, expected: str) -> None:
    assert ids.normalize_arxiv(given_value) == expected


@pytest.mark.parametrize(
    "bad",
    ["", "2101.001", "21010.00001", "2101.000001", "2101-00001", "hep-th/990100", "HEP-TH/9901001", "9901001"],
)
def test_arxiv_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        ids.normalize_arxiv(bad)


@given(
    st.text(alphabet=DIGITS, min_size=4, max_size=4),
    st.text(alphabet=DIGITS, min_size=4, max_size=5),
    st.none() | st.integers(min_value=1, max_value=99),
)
def test_arxiv_new_style_property(yymm: str, number: str, version: int | None) -> None:
    arxiv = f"{yymm}.{number}" + (f"v{version}" if version else "")
    assert ids.normalize_arxiv(arxiv) == f"arXiv:{arxiv}"
    assert ids.normalize_arxiv(ids.normalize_arxiv(arxiv)) == f"arXiv:{arxiv}"


@given(st.text(alphabet=UNICODE_DIGITS, min_size=4, max_size=4))
def test_arxiv_rejects_foreign_digits(yymm: str) -> None:
    with pytest.raises(ValueError):
        ids.normalize_arxiv(f"{yymm}.00001")


# -- PMID -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("given_value", "expected"), [("1", "1"), ("31452104", "31452104"), ("PMID:123", "123")])
def test_pmid_accepts(given_value: str, expected: str) -> None:
    assert ids.normalize_pmid(given_value) == expected


@pytest.mark.parametrize("bad", ["", "0", "0123", "1234567890", "12a", "-1", "12 34"])
def test_pmid_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        ids.normalize_pmid(bad)


@given(st.text(alphabet=st.characters(categories=("Nd",)), min_size=1, max_size=9))
def test_pmid_accepts_exactly_ascii_digits_without_leading_zero(value: str) -> None:
    valid = value.isascii() and value[0] != "0"
    if valid:
        assert ids.normalize_pmid(value) == value
    else:
        with pytest.raises(ValueError):
            ids.normalize_pmid(value)


# -- ISSN -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_value", "expected"),
    [("0317-8471", "0317-8471"), ("03178471", "0317-8471"), ("2434-561x", "2434-561X"), (" 1050-124X ", "1050-124X")],
)
def test_issn_accepts(given_value: str, expected: str) -> None:
    assert ids.validate_issn(given_value) == expected


@pytest.mark.parametrize("bad", ["", "0317-8472", "0317-847", "0317-84711", "X317-8471", "abcd-efgh"])
def test_issn_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        ids.validate_issn(bad)


seven = st.text(alphabet=DIGITS, min_size=7, max_size=7)


@given(seven)
def test_issn_property(digits: str) -> None:
    issn = digits + ref_issn_check(digits)
    assert ids.validate_issn(issn) == f"{issn[:4]}-{issn[4:]}"


@given(seven, st.integers(min_value=0, max_value=7), st.sampled_from(DIGITS + "X"))
def test_issn_single_change_fails(digits: str, position: int, replacement: str) -> None:
    issn = digits + ref_issn_check(digits)
    assume(issn[position] != replacement)
    with pytest.raises(ValueError):
        ids.validate_issn(issn[:position] + replacement + issn[position + 1 :])


@given(seven, st.data())
def test_issn_rejects_foreign_digits(digits: str, data: st.DataObject) -> None:
    issn = digits + ref_issn_check(digits)
    with pytest.raises(ValueError):
        ids.validate_issn(with_foreign_digit(data, issn, range(7)))


# -- ISBN -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_value", "expected"),
    [
        ("0-306-40615-2", "0306406152"),
        ("0 8044 2957 x", "080442957X"),
        ("978-0-306-40615-7", "9780306406157"),
        ("979-10-90636-07-1", "9791090636071"),
    ],
)
def test_isbn_accepts(given_value: str, expected: str) -> None:
    assert ids.validate_isbn(given_value) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "0-306-40615-3",
        "978-0-306-40615-8",
        "978030640615X",  # X is never an ISBN-13 check digit
        "X306406152",
        "030640615",
        "4006381333931",  # a valid EAN-13, but not in the 978/979 "Bookland" ranges
    ],
)
def test_isbn_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        ids.validate_isbn(bad)


nine = st.text(alphabet=DIGITS, min_size=9, max_size=9)
isbn13_body = st.tuples(st.sampled_from(["978", "979"]), st.text(alphabet=DIGITS, min_size=9, max_size=9)).map("".join)


@given(nine)
def test_isbn10_property(digits: str) -> None:
    isbn = digits + ref_isbn10_check(digits)
    assert ids.validate_isbn(isbn) == isbn


@given(nine, st.integers(min_value=0, max_value=9), st.sampled_from(DIGITS + "X"))
def test_isbn10_single_change_fails(digits: str, position: int, replacement: str) -> None:
    isbn = digits + ref_isbn10_check(digits)
    assume(isbn[position] != replacement)
    with pytest.raises(ValueError):
        ids.validate_isbn(isbn[:position] + replacement + isbn[position + 1 :])


@given(isbn13_body)
def test_isbn13_property(twelve: str) -> None:
    isbn = twelve + ref_isbn13_check(twelve)
    assert ids.validate_isbn(isbn) == isbn
    assert ids.validate_isbn(f"{isbn[:3]}-{isbn[3]}-{isbn[4:7]}-{isbn[7:12]}-{isbn[12]}") == isbn


@given(isbn13_body, st.integers(min_value=3, max_value=12), st.sampled_from(DIGITS))
def test_isbn13_single_change_fails(twelve: str, position: int, replacement: str) -> None:
    isbn = twelve + ref_isbn13_check(twelve)
    assume(isbn[position] != replacement)
    with pytest.raises(ValueError):
        ids.validate_isbn(isbn[:position] + replacement + isbn[position + 1 :])


@given(nine, st.data())
def test_isbn10_rejects_foreign_digits(digits: str, data: st.DataObject) -> None:
    isbn = digits + ref_isbn10_check(digits)
    with pytest.raises(ValueError):
        ids.validate_isbn(with_foreign_digit(data, isbn, range(9)))


@given(isbn13_body, st.data())
def test_isbn13_rejects_foreign_digits(twelve: str, data: st.DataObject) -> None:
    isbn = twelve + ref_isbn13_check(twelve)
    with pytest.raises(ValueError):
        ids.validate_isbn(with_foreign_digit(data, isbn, range(3, 12)))


@given(ror_bodies, st.data())
def test_ror_rejects_foreign_digits_anywhere(body: str, data: st.DataObject) -> None:
    ror = body + ref_ror_check(body)
    digit_positions = [i for i, char in enumerate(ror) if char in DIGITS]
    with pytest.raises(ValueError):
        ids.normalize_ror(with_foreign_digit(data, ror, digit_positions))


# -- URL ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["https://example.org", "http://localhost:8000/a?b=c#d", "https://ex.org/path%20with%20escapes", " https://a.b/ "],
)
def test_url_accepts(url: str) -> None:
    assert ids.validate_url(url) == url.strip()


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "example.org",
        "ftp://example.org/file",
        "javascript:alert(1)",
        "https://",
        "http:///path-only",
        "https://exa mple.org/",
        "https://example.org/a\nb",  # a newline would split an HTTP Link header
        "https://example.org/a\rb",
        "https://exa\tmple.org/",
        "https://example.org/\x00",
    ],
)
def test_url_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        ids.validate_url(bad)


@given(st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=20), st.text(max_size=30))
def test_an_accepted_url_never_contains_whitespace_or_control_characters(host: str, path: str) -> None:
    try:
        url = ids.validate_url(f"https://{host}.org/{path}")
    except ValueError:
        return
    assert not any(char.isspace() or not char.isprintable() for char in url), repr(url)


# -- Handle ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_value", "expected"),
    [
        ("20.500.12345/abc", "20.500.12345/abc"),
        ("hdl:1839/00-0000-0000-0001-6D93-1", "1839/00-0000-0000-0001-6D93-1"),
        ("https://hdl.handle.net/10.1000/1", "10.1000/1"),
        ("http://hdl.handle.net/2027/mdp.39015", "2027/mdp.39015"),
    ],
)
def test_handle_accepts(given_value: str, expected: str) -> None:
    assert ids.validate_handle(given_value) == expected


@pytest.mark.parametrize("bad", ["", "abc/def", "20.500", "1234/", "1234/has space", "١٢٣٤/abc"])
def test_handle_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        ids.validate_handle(bad)


# -- dispatch -------------------------------------------------------------------------------------


def test_normalize_identifier_dispatches_by_type() -> None:
    assert ids.normalize_identifier("DOI", "https://doi.org/10.1000/x") == "10.1000/x"
    assert ids.normalize_identifier("arXiv", "2101.00001") == "arXiv:2101.00001"
    assert ids.normalize_identifier("ISSN", "03178471") == "0317-8471"
    with pytest.raises(ValueError):
        ids.normalize_identifier("DOI", "not-a-doi")
    with pytest.raises(ValueError):
        ids.normalize_identifier("URL", "not a url")


@pytest.mark.parametrize("kind", ["DOI", "LSID", "URN", "ARK"])
@pytest.mark.parametrize("empty", ["", "   "])
def test_normalize_identifier_rejects_empty(kind: str, empty: str) -> None:
    with pytest.raises(ValueError):
        ids.normalize_identifier(kind, empty)


def test_unchecked_types_are_stripped_only() -> None:
    assert ids.normalize_identifier("LSID", "  urn:lsid:ubio.org:namebank:11815 ") == "urn:lsid:ubio.org:namebank:11815"


_ANY_URI = etree.XMLSchema(
    etree.fromstring(
        b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="u" type="xs:anyURI"/></xs:schema>'
    )
)


def _xsd_any_uri(value: str) -> bool:
    element = etree.Element("u")
    element.text = value
    return _ANY_URI.validate(etree.ElementTree(element))


@settings(max_examples=2000)
@given(
    st.sampled_from(["", "https://", "//", "urn:", "https://[::1]"]),
    st.text(alphabet="ab0:/?#[]%@.-+ 4fZ|{}é=;!$'(),~_&", max_size=20),
)
def test_a_uri_the_domain_takes_is_an_xsd_any_uri(start: str, rest: str) -> None:
    """What the domain accepts as a URI, XML Schema's anyURI accepts too (checked by libxml2, as
    the DataCite XSD's schemeURI, valueURI and classificationCode are), so the XML validates."""
    value = start + rest
    if ids.is_uri_reference(value):
        assert _xsd_any_uri(value), value


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("https://example.org/terms", True),
        ("000", True),  # a Dewey class as classificationCode: a relative reference
        ("urn:nbn:de:101", True),
        ("https://[::1]/x", True),
        ("https://example.org/caf\u00e9", True),
        (":", False),
        ("0:", False),
        ("https://example.org/[", False),
        ("https://example.org/a]b", False),
        ("https://example.org/%zz", False),
    ],
)
def test_uri_references(value: str, ok: bool) -> None:
    assert ids.is_uri_reference(value) is ok
    assert _xsd_any_uri(value) is ok  # the same verdict as the XSD's


def test_scheme_and_value_uris_are_checked() -> None:
    base = {"titles": [{"title": "t"}]}
    with pytest.raises(InvalidInput):
        parse_metadata(base | {"subjects": [{"subject": "s", "classificationCode": ":"}]})
    with pytest.raises(InvalidInput):
        parse_metadata(base | {"subjects": [{"subject": "s", "valueUri": "https://example.org/["}]})
    with pytest.raises(InvalidInput):
        parse_metadata(base | {"fundingReferences": [{"funderName": "F", "awardUri": "https://example.org/%zz"}]})
    meta = parse_metadata(
        base | {"subjects": [{"subject": "s", "classificationCode": "551.5", "valueUri": "https://x.org/1"}]}
    )
    assert meta.subjects[0].classificationCode == "551.5"
