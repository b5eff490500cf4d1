"""DCAT-AP 3.0.1, what CKAN's DCAT extension and national open-data portals harvest.

A version is a ``dcat:Dataset`` with one ``dcat:Distribution`` per file the viewer may download
(the ``RecordView`` holds only those, see ``docs/security.md``), so a reader who may not download
never finds a file URL here. The access level is stated with the EU access-right vocabulary on
the dataset and on each distribution. The graph is built with rdflib and serialized as Turtle,
RDF/XML or JSON-LD; tests check it against the official SHACL shapes with pyshacl.
"""

from __future__ import annotations

import hashlib
import re

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, RDFS, XSD

from ..domain.records import AccessLevel
from . import FileView, RecordView, unique
from .accessrights import conditions, is_access_right
from .datacite import UNAVAILABLE
from .links import as_uri, rights_url
from .xmltext import clean

PROFILE = "http://data.europa.eu/r5r/"
"""DCAT-AP's namespace, which names the profile (Signposting's ``profile``)."""
ACCESS_RIGHT = "http://publications.europa.eu/resource/authority/access-right/"
IANA = "https://www.iana.org/assignments/media-types/"
SPDX = Namespace("http://spdx.org/rdf/terms#")
DCAT3 = Namespace(str(DCAT))  # DCAT 3 terms rdflib's closed DCAT namespace does not list yet (dcat:version)

# The node's access levels in the EU access-right vocabulary (PUBLIC, RESTRICTED, NON_PUBLIC).
EU_ACCESS_RIGHTS: dict[AccessLevel, str] = {
    AccessLevel.OPEN: "PUBLIC",
    AccessLevel.EMBARGOED: "RESTRICTED",  # open on a known day: available under a condition
    AccessLevel.RESTRICTED: "RESTRICTED",
    AccessLevel.METADATA_ONLY: "NON_PUBLIC",
}


def access_rights_uri(level: AccessLevel) -> URIRef:
    return URIRef(f"{ACCESS_RIGHT}{EU_ACCESS_RIGHTS[level]}")


def _text(value: str, lang: str | None = None) -> Literal:
    """A text literal without the characters XML cannot carry (RDF/XML is one of the syntaxes)."""
    return Literal(clean(value), lang=lang)


def _bind(graph: Graph) -> Graph:
    for prefix, namespace in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("owl", OWL), ("spdx", SPDX)):
        graph.bind(prefix, namespace)
    return graph


def _blank(owner: str, label: str) -> BNode:
    """A blank node named after what holds it, so the same record serializes to the same bytes
    (rdflib's random names would change RDF/XML on every request) and records on one catalogue
    page never share a node."""
    return BNode(f"n{hashlib.sha256(owner.encode()).hexdigest()[:16]}{label}")


def _agent(graph: Graph, agent: BNode, name: str) -> BNode:
    graph.add((agent, RDF.type, FOAF.Agent))
    graph.add((agent, FOAF.name, _text(name)))
    return agent


def _access_rights(graph: Graph, view: RecordView) -> URIRef:
    rights = access_rights_uri(view.access_level)
    graph.add((rights, RDF.type, DCTERMS.RightsStatement))
    # The level in words too, for the people reading a portal's page.
    graph.add((rights, RDFS.label, _text(conditions(view.access_level, view.embargo_until), "en")))
    return rights


def _licences(graph: Graph, view: RecordView) -> list[URIRef]:
    stated = [r for r in view.metadata.rightsList if not is_access_right(r.rightsUri)]
    found = []
    for url in unique(u for r in stated if (u := rights_url(r))):
        licence = URIRef(as_uri(url))
        graph.add((licence, RDF.type, DCTERMS.LicenseDocument))
        found.append(licence)
    return found


def add_dataset(graph: Graph, view: RecordView) -> URIRef:
    """The version as a ``dcat:Dataset`` in ``graph`` (with its distributions); returns its node."""
    meta = view.metadata
    # A fragment of the landing page: the page is a foaf:Document, the dataset is what it describes.
    dataset = URIRef(as_uri(f"{view.identifier}#dataset"))
    graph.add((dataset, RDF.type, DCAT.Dataset))
    graph.add((dataset, DCTERMS.identifier, _text(view.pid_url)))
    titles = [t for t in meta.titles if not t.titleType]
    for title in titles:
        graph.add((dataset, DCTERMS.title, _text(title.title, title.lang)))
    if not titles:  # a draft not yet titled: DCAT-AP wants a title, DataCite's marker says why there is none
        graph.add((dataset, DCTERMS.title, _text(UNAVAILABLE)))
    graph.add((dataset, DCTERMS.description, _text(view.abstract() or meta.main_title() or UNAVAILABLE)))
    landing = URIRef(as_uri(view.identifier))
    graph.add((landing, RDF.type, FOAF.Document))
    graph.add((dataset, DCAT.landingPage, landing))
    graph.add((dataset, DCTERMS.publisher, _agent(graph, _blank(view.identifier, "publisher"), view.publisher_name)))
    for n, creator in enumerate(meta.creators):
        name = creator.name or " ".join(p for p in (creator.givenName, creator.familyName) if p)
        graph.add((dataset, DCTERMS.creator, _agent(graph, _blank(view.identifier, f"creator{n}"), name)))
    if view.issued:
        datatype = XSD.date if len(view.issued) == 10 else XSD.gYear
        graph.add((dataset, DCTERMS.issued, Literal(view.issued, datatype=datatype)))
    if view.version_label:
        graph.add((dataset, DCAT3.version, _text(view.version_label)))
    for keyword in unique(s.subject for s in meta.subjects):
        graph.add((dataset, DCAT.keyword, _text(keyword)))
    rights = _access_rights(graph, view)
    graph.add((dataset, DCTERMS.accessRights, rights))
    licences = _licences(graph, view)
    for n, f in enumerate(view.files):
        graph.add((dataset, DCAT.distribution, _distribution(graph, view, n, f, rights, licences)))
    return dataset


def _distribution(
    graph: Graph, view: RecordView, n: int, file: FileView, rights: URIRef, licences: list[URIRef]
) -> BNode:
    distribution = _blank(view.identifier, f"distribution{n}")
    graph.add((distribution, RDF.type, DCAT.Distribution))
    graph.add((distribution, DCTERMS.title, _text(file.key)))
    graph.add((distribution, DCAT.accessURL, URIRef(as_uri(view.identifier))))
    graph.add((distribution, DCAT.downloadURL, URIRef(as_uri(file.download_url))))
    graph.add((distribution, DCAT.byteSize, Literal(file.size, datatype=XSD.nonNegativeInteger)))
    if file.mimetype:
        media_type = URIRef(as_uri(f"{IANA}{file.mimetype}"))
        graph.add((media_type, RDF.type, DCTERMS.MediaType))
        graph.add((distribution, DCAT.mediaType, media_type))
    checksum = _blank(view.identifier, f"checksum{n}")
    graph.add((checksum, RDF.type, SPDX.Checksum))
    graph.add((SPDX.checksumAlgorithm_sha256, RDF.type, SPDX.ChecksumAlgorithm))
    graph.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
    graph.add((checksum, SPDX.checksumValue, Literal(file.sha256, datatype=XSD.hexBinary)))
    graph.add((distribution, SPDX.checksum, checksum))
    graph.add((distribution, DCTERMS.accessRights, rights))
    if licences:  # DCAT-AP allows one licence per distribution: the depositor's first
        graph.add((distribution, DCTERMS.license, licences[0]))
    return distribution


def to_graph(view: RecordView) -> Graph:
    graph = _bind(Graph())
    add_dataset(graph, view)
    return graph


def serialize(graph: Graph, syntax: str) -> bytes:
    """``graph`` as ``turtle``, ``xml`` (RDF/XML) or ``json-ld``, UTF-8."""
    return graph.serialize(format=syntax, encoding="utf-8")


# rdflib's name of each syntax, by media type.
SYNTAXES: dict[str, str] = {"text/turtle": "turtle", "application/rdf+xml": "xml", "application/ld+json": "json-ld"}


def to_turtle(view: RecordView) -> bytes:
    return serialize(to_graph(view), SYNTAXES["text/turtle"])


def to_rdf_xml(view: RecordView) -> bytes:
    return serialize(to_graph(view), SYNTAXES["application/rdf+xml"])


# DCAT-AP over OAI-PMH. The protocol wants a schema and a namespace for every format; DCAT-AP has
# no XML schema (it is RDF: its shapes are SHACL), so the schema named is the profile's release, and
# the namespace is DCAT's, as other repositories offering DCAT over OAI-PMH do.
OAI_PREFIX = "dcat"
OAI_NAMESPACE = str(DCAT)
OAI_SCHEMA = "https://semiceu.github.io/DCAT-AP/releases/3.0.1/"
_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>\s*")


def to_oai_text(view: RecordView, _repository: str) -> str:
    """The RDF/XML document as the content of an OAI-PMH ``metadata`` element (no XML declaration)."""
    return _DECLARATION.sub("", to_rdf_xml(view).decode(), count=1)


def to_json_ld(view: RecordView) -> bytes:
    return serialize(to_graph(view), SYNTAXES["application/ld+json"])


HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")


def catalog_graph(
    catalog_url: str, page_url: str, next_url: str | None, *, title: str, views: list[RecordView]
) -> Graph:
    """One page of the node's catalogue: a ``dcat:Catalog`` with its datasets, and Hydra paging
    links (``hydra:next`` until the last page) so a harvester walks it page by page."""
    graph = _bind(Graph())
    graph.bind("hydra", HYDRA)
    catalog = URIRef(catalog_url)
    graph.add((catalog, RDF.type, DCAT.Catalog))
    graph.add((catalog, DCTERMS.title, _text(title)))
    graph.add((catalog, DCTERMS.description, _text(f"The records published on {title}.")))
    graph.add((catalog, DCTERMS.publisher, _agent(graph, _blank(catalog_url, "publisher"), title)))
    for view in views:
        graph.add((catalog, DCAT.dataset, add_dataset(graph, view)))
    page = URIRef(page_url)
    graph.add((catalog, HYDRA.view, page))
    graph.add((page, RDF.type, HYDRA.PartialCollectionView))
    if next_url:
        graph.add((page, HYDRA.next, URIRef(next_url)))
    return graph
