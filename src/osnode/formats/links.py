"""Resolvable URLs for the identifiers DataCite names by type.

Standards without typed identifiers (schema.org, Dublin Core, RIS) want a link; an identifier
with no resolver of its own is left out of those rather than shown as a bare string nobody can follow.
"""

from __future__ import annotations

from urllib.parse import quote

from ..domain.licences import spdx_url
from ..domain.metadata import FundingReference, Rights

_RESOLVERS = {
    "DOI": "https://doi.org/{}",
    "Handle": "https://hdl.handle.net/{}",
    "PMID": "https://pubmed.ncbi.nlm.nih.gov/{}/",
    "SWHID": "https://archive.softwareheritage.org/{}",
    "ARK": "https://n2t.net/{}",
    "bibcode": "https://ui.adsabs.harvard.edu/abs/{}",
    "ISSN": "https://portal.issn.org/resource/ISSN/{}",
    "EISSN": "https://portal.issn.org/resource/ISSN/{}",
    "LISSN": "https://portal.issn.org/resource/ISSN/{}",
    "RRID": "https://scicrunch.org/resolver/{}",
    "IGSN": "https://igsn.org/{}",
}


def identifier_url(identifier_type: str, value: str) -> str | None:
    """The URL that resolves ``value``, or None when the type has no resolver."""
    if value.startswith(("https://", "http://")):
        return value
    if identifier_type == "arXiv":
        return f"https://arxiv.org/abs/{value.removeprefix('arXiv:')}"
    if identifier_type == "RRID" and not value.startswith("RRID:"):
        value = f"RRID:{value}"
    template = _RESOLVERS.get(identifier_type)
    return template.format(value) if template else None


def rights_url(rights: Rights) -> str | None:
    """Where a licence is stated: the URL given, else the SPDX page of a single SPDX licence."""
    if rights.rightsUri:
        return rights.rightsUri
    if rights.rightsIdentifier and rights.rightsIdentifierScheme == "SPDX":
        return spdx_url(rights.rightsIdentifier)
    return None


def funder_url(funding: FundingReference) -> str | None:
    """A funder identifier as a URL: ROR ids already are; Crossref Funder IDs are DOIs."""
    ident = funding.funderIdentifier
    if not ident:
        return None
    if funding.funderIdentifierType == "Crossref Funder ID" and not ident.startswith("http"):
        return f"https://doi.org/{ident}"
    return ident if ident.startswith(("https://", "http://")) else None


_URI_SAFE = ":/?#[]@!$&'()*+,;=%~"


def as_uri(url: str) -> str:
    """A URL safe inside ``<...>`` (a Link header, Turtle) and quotes: depositors' URLs may hold
    non-ASCII characters (an IRI) or ``<>"``, which are percent-encoded; existing escapes are kept."""
    return quote(url, safe=_URI_SAFE)
