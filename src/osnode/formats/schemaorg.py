"""schema.org JSON-LD, for search engines (Google Dataset Search, Scholar) and link previews.

The type follows resourceTypeGeneral (Dataset, ScholarlyArticle, SoftwareSourceCode, else a
CreativeWork kind). People and organizations get their ORCID or ROR as ``@id``, which is how
schema.org consumers join them with other graphs. Nothing on a node costs money, but
``isAccessibleForFree`` is what search engines read as "anyone can get it", so it is true only
when the files are open today; ``conditionsOfAccess`` says the level in words (``accessrights``),
and files the reader may not download are not listed.
"""

from __future__ import annotations

import json
from typing import Any

from ..domain.identifiers import orcid_url
from ..domain.metadata import Creator, FundingReference, GeoLocation, RelatedItem
from . import RecordView, accessrights, unique
from .accessrights import is_access_right
from .kinds import kind_of
from .links import funder_url, identifier_url, rights_url

CONTEXT = "https://schema.org"

# DataCite relationType -> schema.org property of the described work.
_RELATIONS = {
    "Cites": "citation",
    "References": "citation",
    "IsPartOf": "isPartOf",
    "HasPart": "hasPart",
    "IsDerivedFrom": "isBasedOn",
    "IsIdenticalTo": "sameAs",
}


def _one_or_many(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else values


def _agent(creator: Creator) -> dict[str, Any]:
    organization = creator.nameType == "Organizational"
    agent: dict[str, Any] = {"@type": "Organization" if organization else "Person"}
    ids = [orcid_url(creator.orcid)] if creator.orcid else []
    ids += [
        i.nameIdentifier
        for i in creator.nameIdentifiers
        if i.nameIdentifier.startswith("https://") and i.nameIdentifierScheme in ("ORCID", "ROR", "ISNI")
    ]
    if ids:
        agent["@id"] = ids[0]
    if not organization and creator.givenName and creator.familyName:
        agent["name"] = f"{creator.givenName} {creator.familyName}"
    else:
        agent["name"] = creator.name
    if creator.givenName:
        agent["givenName"] = creator.givenName
    if creator.familyName:
        agent["familyName"] = creator.familyName
    if creator.affiliations:
        agent["affiliation"] = [
            {"@type": "Organization", "name": a.name, **({"@id": a.ror} if a.ror else {})} for a in creator.affiliations
        ]
    return agent


def _funder(funding: FundingReference) -> dict[str, Any]:
    funder: dict[str, Any] = {"@type": "Organization", "name": funding.funderName}
    url = funder_url(funding)
    if url:
        funder["@id"] = url
    return funder


def _grant(funding: FundingReference) -> dict[str, Any] | None:
    if not (funding.awardNumber or funding.awardTitle or funding.awardUri):
        return None
    grant: dict[str, Any] = {"@type": "Grant", "funder": _funder(funding)}
    if funding.awardNumber:
        grant["identifier"] = funding.awardNumber
    if funding.awardTitle:
        grant["name"] = funding.awardTitle
    if funding.awardUri:
        grant["url"] = funding.awardUri
    return grant


def _place(geo: GeoLocation) -> dict[str, Any]:
    place: dict[str, Any] = {"@type": "Place"}
    if geo.geoLocationPlace:
        place["name"] = geo.geoLocationPlace
    if geo.geoLocationPoint:
        place["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": geo.geoLocationPoint.pointLatitude,
            "longitude": geo.geoLocationPoint.pointLongitude,
        }
    elif geo.geoLocationBox:
        box = geo.geoLocationBox
        # schema.org boxes are "south west north east".
        corners = (box.southBoundLatitude, box.westBoundLongitude, box.northBoundLatitude, box.eastBoundLongitude)
        place["geo"] = {"@type": "GeoShape", "box": " ".join(str(c) for c in corners)}
    return place


def _container(item: RelatedItem) -> dict[str, Any]:
    """The journal an article is in, nested as schema.org does it: issue, in a volume, in a periodical
    (a level the record does not name is skipped)."""
    kind = "Periodical" if item.relatedItemType == "Journal" else kind_of(item.relatedItemType).schema_org
    node: dict[str, Any] = {"@type": kind}
    if item.titles:
        node["name"] = item.titles[0].title
    ident = item.relatedItemIdentifier
    if ident is not None:
        if ident.relatedItemIdentifierType in ("ISSN", "EISSN", "LISSN"):
            node["issn"] = ident.relatedItemIdentifier
        elif url := identifier_url(ident.relatedItemIdentifierType, ident.relatedItemIdentifier):
            node["@id"] = url
    if item.publisher:
        node["publisher"] = {"@type": "Organization", "name": item.publisher}
    if item.volume:
        node = {"@type": "PublicationVolume", "volumeNumber": item.volume, "isPartOf": node}
    if item.issue:
        node = {"@type": "PublicationIssue", "issueNumber": item.issue, "isPartOf": node}
        if item.publicationYear:
            node["datePublished"] = str(item.publicationYear)
    return node


def _files(view: RecordView, kind: str) -> dict[str, Any]:
    if not view.files:
        return {}
    media_type = "DataDownload" if kind == "Dataset" else "MediaObject"
    objects = [
        {
            "@type": media_type,
            "name": f.key,
            "contentUrl": f.download_url,
            "encodingFormat": f.mimetype,
            "contentSize": f"{f.size} B",
            "sha256": f.sha256,
        }
        for f in view.files
    ]
    # Datasets list their downloads as a distribution; other works as their encodings.
    return {"distribution" if kind == "Dataset" else "encoding": objects}


def to_json_ld(view: RecordView) -> dict[str, Any]:
    """The version as a schema.org JSON-LD object."""
    meta = view.metadata
    kind = kind_of(view.kind).schema_org
    doc: dict[str, Any] = {"@context": CONTEXT, "@type": kind, "@id": view.pid_url}

    alternates = [
        {"@type": "PropertyValue", "propertyID": a.alternateIdentifierType, "value": a.alternateIdentifier}
        for a in meta.alternateIdentifiers
    ]
    doc["identifier"] = _one_or_many([view.pid_url, *alternates])
    doc["url"] = view.identifier
    doc["name"] = meta.main_title()
    if kind == "ScholarlyArticle":
        doc["headline"] = meta.main_title()
    other_titles = [t.title for t in meta.titles if t.title != doc["name"]]
    if other_titles:
        doc["alternateName"] = other_titles
    abstract = view.abstract()
    if abstract:
        doc["description"] = abstract
    if meta.creators:
        doc["creator"] = [_agent(c) for c in meta.creators]
    if meta.contributors:
        doc["contributor"] = [_agent(c) for c in meta.contributors]
    publisher: dict[str, Any] = {"@type": "Organization", "name": view.publisher_name}
    if meta.publisher and meta.publisher.ror:
        publisher["@id"] = meta.publisher.ror
    doc["publisher"] = publisher
    provider = view.origin_node or view.node_name
    doc["provider"] = {"@type": "Organization", "name": provider}
    if view.issued:
        doc["datePublished"] = view.issued
    if view.version_label:
        doc["version"] = view.version_label
    if meta.subjects:
        doc["keywords"] = unique(s.subject for s in meta.subjects)
    if meta.language:
        doc["inLanguage"] = meta.language
    stated = [r for r in meta.rightsList if not is_access_right(r.rightsUri)]
    licences = unique(rights_url(r) or r.rightsIdentifier or r.rights or "" for r in stated)
    if licences:
        doc["license"] = _one_or_many(licences)
    doc |= accessrights.schema_org(view.access_level, view.embargo_until)
    if view.data_use is not None:
        labels = "; ".join(f"{t.shorthand} ({t.label}, {t.purl})" for t in view.data_use.term_list())
        doc["conditionsOfAccess"] = (
            "Managed access: a data access committee grants the files for uses within the GA4GH Data Use "
            f"Ontology terms {labels}."
        )
        doc["usageInfo"] = view.policy_url

    same_as = [
        u for a in meta.alternateIdentifiers if (u := identifier_url(a.alternateIdentifierType, a.alternateIdentifier))
    ]
    for related in meta.relatedIdentifiers:
        prop = _RELATIONS.get(related.relationType)
        url = identifier_url(related.relatedIdentifierType, related.relatedIdentifier)
        if prop and url:
            if prop == "sameAs":
                same_as.append(url)
            else:
                doc.setdefault(prop, []).append(url)
    if same_as:
        doc["sameAs"] = unique(same_as)

    item = meta.container()
    if item is not None:
        doc["isPartOf"] = [*doc.get("isPartOf", []), _container(item)]
        if len(doc["isPartOf"]) == 1:
            doc["isPartOf"] = doc["isPartOf"][0]
        if item.firstPage:
            doc["pageStart"] = item.firstPage
        if item.lastPage:
            doc["pageEnd"] = item.lastPage
    if meta.fundingReferences:
        doc["funder"] = [_funder(f) for f in meta.fundingReferences]
        grants = [g for f in meta.fundingReferences if (g := _grant(f))]
        if grants:
            doc["funding"] = grants
    if meta.geoLocations:
        doc["spatialCoverage"] = [_place(g) for g in meta.geoLocations]
    coverage = [d.date for d in meta.dates if d.dateType in ("Coverage", "Collected")]
    if coverage:
        doc["temporalCoverage"] = _one_or_many(coverage)
    if kind == "Dataset":
        doc["includedInDataCatalog"] = {"@type": "DataCatalog", "name": view.node_name}
    doc.update(_files(view, kind))
    return doc


LDP_INBOX = "http://www.w3.org/ns/ldp#inbox"


def to_script(view: RecordView, inbox: str | None = None) -> str:
    """The JSON-LD text, safe to place inside ``<script type="application/ld+json">``:
    ``<`` is escaped so no value can close the script element. ``inbox``: the node's LDN inbox (COAR
    Notify), given by its full IRI since schema.org has no term for it."""
    document = to_json_ld(view)
    if inbox:
        document[LDP_INBOX] = {"@id": inbox}
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
