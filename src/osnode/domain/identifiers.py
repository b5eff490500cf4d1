"""Syntax and checksums of the persistent identifiers research metadata carries.

Each ``normalize_*`` function returns the canonical form or raises ``ValueError`` with a message a
depositor can act on. They accept the common URL forms people paste (``https://orcid.org/...``).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# re.ASCII throughout: a bare \d also matches other scripts' digits, which int() reads happily.
_ORCID = re.compile(r"^(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dX])$", re.ASCII)
_ROR = re.compile(r"^0[0-9a-hjkmnp-tv-z]{6}\d{2}$", re.ASCII)
_DOI = re.compile(r"^10\.[0-9]{4,9}/\S+$")
_SWHID_CORE = re.compile(r"^swh:1:(cnt|dir|rev|rel|snp):[0-9a-f]{40}$")
_SWHID_QUALIFIERS = {"origin", "visit", "anchor", "path", "lines"}
_ARXIV_NEW = re.compile(r"^\d{4}\.\d{4,5}(v\d+)?$", re.ASCII)
_ARXIV_OLD = re.compile(r"^[a-z][a-z\-]*(\.[A-Z]{2})?/\d{7}(v\d+)?$", re.ASCII)
_PMID = re.compile(r"^[1-9]\d{0,8}$", re.ASCII)
_HANDLE = re.compile(r"^[0-9][\w.]*/\S+$", re.ASCII)
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def _strip_prefixes(value: str, prefixes: tuple[str, ...]) -> str:
    value = value.strip()
    lowered = value.lower()
    for prefix in prefixes:
        if lowered.startswith(prefix):
            return value[len(prefix) :]
    return value


def orcid_checksum(base_digits: str) -> str:
    """ISO 7064 MOD 11-2 check character over the first 15 digits of an ORCID iD."""
    total = 0
    for digit in base_digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def normalize_orcid(value: str) -> str:
    bare = _strip_prefixes(value, ("https://orcid.org/", "http://orcid.org/", "orcid.org/"))
    match = _ORCID.match(bare.upper())
    if not match:
        raise ValueError(f"'{value}' is not an ORCID iD (expected 0000-0000-0000-000X)")
    digits = "".join(match.groups())
    if orcid_checksum(digits[:15]) != digits[15]:
        raise ValueError(f"'{value}' has a wrong ORCID check digit")
    return "-".join(match.groups())


def orcid_url(orcid: str) -> str:
    return f"https://orcid.org/{orcid}"


def ror_checksum(body: str) -> str:
    """ISO 7064 MOD 97-10 over the Crockford base32 value of a ROR id's first seven characters."""
    number = 0
    for char in body:
        number = number * 32 + _CROCKFORD.index(char)
    return f"{98 - (number * 100) % 97:02d}"


def normalize_ror(value: str) -> str:
    """Return the ROR id as its canonical URL, ``https://ror.org/0xxxxxxNN``."""
    bare = _strip_prefixes(value, ("https://ror.org/", "http://ror.org/", "ror.org/")).lower()
    if not _ROR.match(bare):
        raise ValueError(f"'{value}' is not a ROR id (expected https://ror.org/0 followed by 8 characters)")
    if ror_checksum(bare[:7]) != bare[7:]:
        raise ValueError(f"'{value}' has a wrong ROR checksum")
    return f"https://ror.org/{bare}"


def normalize_doi(value: str) -> str:
    bare = _strip_prefixes(value, ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "doi:"))
    if not _DOI.match(bare):
        raise ValueError(f"'{value}' is not a DOI (expected 10.NNNN/suffix)")
    # DOIs are case-insensitive; DataCite stores them upper-case, we keep the prefix's form and
    # lower-case the whole for comparisons elsewhere.
    return bare


def validate_swhid(value: str) -> str:
    """Check SWHID syntax, with optional qualifiers (``;origin=...;lines=...``)."""
    core, *qualifiers = value.strip().split(";")
    if not _SWHID_CORE.match(core):
        raise ValueError(f"'{value}' is not a SWHID (expected swh:1:cnt|dir|rev|rel|snp:<40 hex>)")
    for qualifier in qualifiers:
        key, sep, qvalue = qualifier.partition("=")
        if not sep or key not in _SWHID_QUALIFIERS or not qvalue:
            raise ValueError(f"'{value}' has an unknown or empty SWHID qualifier '{qualifier}'")
    return value.strip()


def normalize_arxiv(value: str) -> str:
    bare = _strip_prefixes(value, ("arxiv:", "https://arxiv.org/abs/", "http://arxiv.org/abs/"))
    if not (_ARXIV_NEW.match(bare) or _ARXIV_OLD.match(bare)):
        raise ValueError(f"'{value}' is not an arXiv identifier (e.g. 2101.00001 or hep-th/9901001)")
    return f"arXiv:{bare}"


def normalize_pmid(value: str) -> str:
    bare = _strip_prefixes(value, ("pmid:",))
    if not _PMID.match(bare):
        raise ValueError(f"'{value}' is not a PubMed id (digits only)")
    return bare


_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_AUTHORITY = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.\-]*:)?//([^/?#]*)")
_REG_NAME = "[A-Za-z0-9\\-._~!$&'()*+,;=%\u0080-\U0010ffff]*"
_USERINFO = "[A-Za-z0-9\\-._~!$&'()*+,;=%:\u0080-\U0010ffff]*@"
_AUTHORITY_PARTS = re.compile(rf"(?:{_USERINFO})?(?:\[[0-9A-Za-z:.]+\]|{_REG_NAME})(?::[0-9]+)?")


def is_uri_reference(value: str) -> bool:
    """Whether XML Schema's anyURI (as libxml2 checks it, so as the DataCite XSD does) takes the
    value: a percent sign starts two hex digits, one '#' at most, a scheme (text before a first
    ':' that comes before any '/', '?' or '#') is a letter then letters, digits, '+', '-' or '.',
    an authority ('//' on) is [userinfo@]host[:port] with brackets only around an IP literal host.
    Spaces and other characters an IRI escapes are allowed elsewhere."""
    if _BAD_PERCENT.search(value) or value.count("#") > 1:
        return False
    head = re.split(r"[/?#]", value, maxsplit=1)[0]
    if ":" in head and not _URI_SCHEME.fullmatch(head.split(":", 1)[0]):
        return False
    authority = _AUTHORITY.match(value)
    rest = value
    if authority is not None:
        if not _AUTHORITY_PARTS.fullmatch(authority.group(1)):
            return False
        rest = value[authority.end() :]
    return "[" not in rest and "]" not in rest


def validate_uri(value: str) -> str:
    """A URI reference (scheme URIs, value URIs, classification codes: anyURI in DataCite)."""
    if not value.strip() or not value.isprintable() or not is_uri_reference(value.strip()):
        raise ValueError(f"'{value}' is not a URI")
    return value.strip()


def validate_url(value: str) -> str:
    parts = urlsplit(value.strip())
    # urlsplit silently drops tabs and newlines, so check the text itself: a newline in a URL
    # would split the HTTP Link headers it ends up in.
    # Every whitespace character but the ASCII space is also unprintable, so two C-level tests
    # say what a per-character scan did (that scan was a visible share of a harvest's CPU).
    stripped = value.strip()
    bad_char = " " in stripped or not stripped.isprintable()
    if parts.scheme not in ("http", "https") or not parts.netloc or bad_char or not is_uri_reference(stripped):
        raise ValueError(f"'{value}' is not an http(s) URL")
    return value.strip()


def validate_handle(value: str) -> str:
    bare = _strip_prefixes(value, ("https://hdl.handle.net/", "http://hdl.handle.net/", "hdl:"))
    if not _HANDLE.match(bare):
        raise ValueError(f"'{value}' is not a Handle (expected prefix/suffix)")
    return bare


def _issn_ok(digits: str) -> bool:
    total = sum(int(d) * w for d, w in zip(digits[:7], range(8, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return digits[7] == ("X" if check == 10 else str(check))


def validate_issn(value: str) -> str:
    bare = value.strip().upper().replace("-", "")
    if not re.match(r"^\d{7}[\dX]$", bare, re.ASCII) or not _issn_ok(bare):
        raise ValueError(f"'{value}' is not a valid ISSN")
    return f"{bare[:4]}-{bare[4:]}"


def validate_isbn(value: str) -> str:
    bare = value.strip().upper().replace("-", "").replace(" ", "")
    if re.match(r"^97[89]\d{10}$", bare, re.ASCII):  # ISBN-13s live in the 978/979 ranges
        total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(bare))
        if total % 10 == 0:
            return bare
    elif re.match(r"^\d{9}[\dX]$", bare, re.ASCII):
        total = sum((10 - i) * (10 if d == "X" else int(d)) for i, d in enumerate(bare))
        if total % 11 == 0:
            return bare
    raise ValueError(f"'{value}' is not a valid ISBN")


# relatedIdentifierType -> checker. Types without a checker only need to be non-empty: their
# syntax is too loose (LSID, URN...) for a check to catch real mistakes.
CHECKERS = {
    "DOI": normalize_doi,
    "URL": validate_url,
    "PURL": validate_url,
    "w3id": validate_url,
    "arXiv": normalize_arxiv,
    "PMID": normalize_pmid,
    "SWHID": validate_swhid,
    "Handle": validate_handle,
    "ISSN": validate_issn,
    "EISSN": validate_issn,
    "LISSN": validate_issn,
    "ISBN": validate_isbn,
}


def normalize_identifier(kind: str, value: str) -> str:
    if not value or not value.strip():
        raise ValueError("the identifier is empty")
    checker = CHECKERS.get(kind)
    return checker(value) if checker else value.strip()
