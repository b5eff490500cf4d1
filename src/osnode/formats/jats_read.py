"""Reading JATS front matter back into the node's metadata JSON: importing a journal's back catalogue (OJS and
PubMed Central serve JATS over OAI-PMH) and checking that ``jats.to_xml`` says what the record says.

The reverse of ``formats.jats``: titles, authors (ORCID, affiliations with ROR), the DOI, the date, abstracts per
language, keywords, licence, funding, references, and the journal with its ISSN, volume, issue and pages as the
record's one ``relatedItems`` entry. Namespaces of JATS itself are ignored (JATS has none; OAI-PMH feeds put it in
one of their choosing). The result is unchecked: the caller validates it (``domain.metadata.parse_metadata``).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from .articles import ARTICLE
from .xmltext import XML_LANG, safe_parser

XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
ALI = "http://www.niso.org/schemas/ali/1.0/"
_KEPT_NAMESPACES = ("http://www.w3.org/1999/xlink", ALI, "http://www.w3.org/1998/Math/MathML")
_ISSN_TYPES = {"electronic": "EISSN", "epub": "EISSN", "online": "EISSN", "print": "ISSN", "ppub": "ISSN"}


def _plain(root: etree._Element) -> etree._Element:
    """A copy whose JATS elements have no namespace (xlink, ALI and MathML keep theirs)."""
    root = etree.fromstring(etree.tostring(root), safe_parser())
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            namespace, local = element.tag[1:].split("}", 1)
            if namespace not in _KEPT_NAMESPACES:
                element.tag = local
    return root


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None


def _lang(element: etree._Element, default: str | None = None) -> dict[str, str]:
    lang = element.get(XML_LANG) or default
    return {"lang": lang} if lang else {}


def _aff(aff: etree._Element) -> dict[str, str] | None:
    name = _text(aff.find(".//institution")) or _text(aff)  # OJS writes the affiliation as the aff's own text
    ror = next((_text(i) for i in aff.iter("institution-id") if i.get("institution-id-type") == "ror"), None)
    return {"name": name} | ({"ror": ror} if ror else {}) if name else None


def _affiliations(meta: etree._Element) -> dict[str, dict[str, str]]:
    """The affiliations contributors point at (``xref rid``), by id."""
    return {aff.get("id"): entry for aff in meta.iter("aff") if aff.get("id") and (entry := _aff(aff))}


def _creator(contrib: etree._Element, affiliations: dict[str, dict[str, str]]) -> dict[str, Any] | None:
    creator: dict[str, Any] = {}
    name = contrib.find("name")
    if name is not None and _text(name.find("surname")):
        creator["familyName"] = _text(name.find("surname"))
        if _text(name.find("given-names")):
            creator["givenName"] = _text(name.find("given-names"))
    elif _text(contrib.find("collab")):
        creator |= {"name": _text(contrib.find("collab")), "nameType": "Organizational"}
    elif _text(contrib.find("string-name")):
        creator |= {"name": _text(contrib.find("string-name")), "nameType": "Personal"}
    else:
        return None
    for ident in contrib.iter("contrib-id"):
        if ident.get("contrib-id-type") == "orcid" and _text(ident):
            creator["orcid"] = _text(ident)
    linked = [affiliations[x.get("rid")] for x in contrib.iter("xref") if x.get("rid") in affiliations]
    inline = [a for aff in contrib.iter("aff") if (a := _aff(aff)) is not None]
    if linked or inline:
        creator["affiliations"] = list({a["name"]: a for a in [*linked, *inline]}.values())
    return creator


def _journal(front: etree._Element, meta: etree._Element, year: int | None) -> dict[str, Any] | None:
    journal_meta = front.find("journal-meta")
    title = _text(journal_meta.find(".//journal-title")) if journal_meta is not None else None
    if title is None:
        return None
    item: dict[str, Any] = {"relatedItemType": "Journal", "relationType": "IsPublishedIn", "titles": [{"title": title}]}
    issns = [(i.get("publication-format") or i.get("pub-type") or "", _text(i)) for i in journal_meta.iter("issn")]
    issns = [(_ISSN_TYPES.get(kind, "ISSN"), value) for kind, value in issns if value]
    # The contract: the online ISSN, else the print one.
    issns.sort(key=lambda pair: pair[0] != "EISSN")
    if issns:
        kind, value = issns[0]
        item["relatedItemIdentifier"] = {"relatedItemIdentifier": value, "relatedItemIdentifierType": kind}
    if year:
        item["publicationYear"] = year
    for field, tag in (("volume", "volume"), ("issue", "issue"), ("firstPage", "fpage"), ("lastPage", "lpage")):
        value = _text(meta.find(tag))
        if value:
            item[field] = value
    publisher = _text(journal_meta.find("publisher/publisher-name"))
    if publisher:
        item["publisher"] = publisher
    return item


def _year(meta: etree._Element) -> int | None:
    dates = meta.findall("pub-date")
    # The publication date proper first (JATS 1.1+ date-type, older pub-type), else any.
    dates.sort(key=lambda d: (d.get("date-type") or d.get("pub-type") or "") not in ("pub", "epub", "ppub"))
    for date in dates:
        year = _text(date.find("year"))
        if year and year.isdigit():
            return int(year)
    return None


_PUB_IDS = {"doi": "DOI", "pmid": "PMID", "arxiv": "arXiv", "handle": "Handle", "isbn": "ISBN"}


def _references(article: etree._Element) -> list[dict[str, str]]:
    related = []
    for ref in article.iterfind("back/ref-list/ref"):
        typed = [
            (_PUB_IDS[p.get("pub-id-type", "")], _text(p))
            for p in ref.iter("pub-id")
            if p.get("pub-id-type") in _PUB_IDS
        ]
        url = next((link.get(XLINK_HREF) for link in ref.iter("ext-link") if link.get(XLINK_HREF)), None)
        if typed and typed[0][1]:
            kind, value = typed[0]
            related.append({"relatedIdentifier": value, "relatedIdentifierType": kind, "relationType": "References"})
        elif url and url.startswith(("https://", "http://")):
            related.append({"relatedIdentifier": url, "relatedIdentifierType": "URL", "relationType": "References"})
    return related


def from_jats(root: etree._Element | bytes) -> dict[str, Any]:
    """A JATS ``<article>`` (bytes or element, any namespace) as the node's metadata JSON, unchecked."""
    if isinstance(root, bytes):
        root = etree.fromstring(root, safe_parser())
    article = _plain(root)
    front = article.find("front")
    meta = front.find("article-meta") if front is not None else None
    if meta is None:
        return {}
    language = article.get(XML_LANG)
    out: dict[str, Any] = {"resourceType": {"resourceTypeGeneral": ARTICLE}}
    if language:
        out["language"] = language
    titles = []
    group = meta.find("title-group")
    if group is not None:
        main = group.find("article-title")
        if _text(main):
            titles.append({"title": _text(main)} | _lang(main, language))
        titles += [{"title": _text(s), "titleType": "Subtitle"} | _lang(s) for s in group.iter("subtitle") if _text(s)]
        for trans in group.iter("trans-title-group"):
            for title in trans.iter("trans-title"):
                if _text(title):
                    titles.append({"title": _text(title), "titleType": "TranslatedTitle"} | _lang(trans))
    out["titles"] = titles
    affiliations = _affiliations(meta)
    out["creators"] = [
        c
        for contrib in meta.iter("contrib")
        if contrib.get("contrib-type", "author") == "author" and (c := _creator(contrib, affiliations))
    ]
    doi = next((_text(i) for i in meta.iter("article-id") if i.get("pub-id-type") == "doi"), None)
    if doi:
        out["doi"] = doi
    year = _year(meta)
    if year:
        out["publicationYear"] = year
    descriptions = []
    for tag in ("abstract", "trans-abstract"):
        for abstract in meta.iterfind(tag):
            paragraphs = [t for p in abstract.iter("p") if (t := _text(p))] or [t for t in [_text(abstract)] if t]
            if paragraphs:
                descriptions.append(
                    {"description": "\n\n".join(paragraphs), "descriptionType": "Abstract"}
                    | _lang(abstract, language if tag == "abstract" else None)
                )
    out["descriptions"] = descriptions
    out["subjects"] = [
        {"subject": _text(k)} | _lang(group) for group in meta.iter("kwd-group") for k in group.iter("kwd") if _text(k)
    ]
    rights = []
    for licence in meta.iterfind("permissions/license"):
        url = licence.get(XLINK_HREF) or _text(licence.find(f"{{{ALI}}}license_ref"))
        rights.append({"rightsUri": url} if url else {"rights": _text(licence) or "see the article"})
    out["rightsList"] = rights
    funding = []
    for award in meta.iterfind("funding-group/award-group"):
        source = award.find("funding-source")
        name = _text(source.find(".//institution")) if source is not None else None
        name = name or _text(source)
        if name:
            funding.append({"funderName": name} | ({"awardNumber": a} if (a := _text(award.find("award-id"))) else {}))
    out["fundingReferences"] = funding
    out["relatedIdentifiers"] = _references(article)
    journal = _journal(front, meta, year)
    if journal:
        out["relatedItems"] = [journal]
        if journal.get("publisher"):
            out["publisher"] = journal["publisher"]
    publisher = _text(front.find("journal-meta/publisher/publisher-name"))
    if publisher:
        out["publisher"] = publisher
    return {k: v for k, v in out.items() if v not in (None, [], "")}
