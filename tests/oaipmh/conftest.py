"""OAI-PMH test helpers: a node with small pages, records made through the services, and strict
validation of every response against the official schemas (found or fetched by ``tests/schemas.py``).

What the shared schemas can and cannot check, strictly (``processContents="strict"``):
- OAI-PMH.xsd + oai_dc.xsd + DataCite kernel-4.7 validate every response whose metadata is
  ``oai_dc`` or ``datacite`` as it is.
- The Identify ``oai-identifier`` description and the ``oai_datacite`` wrapper are in namespaces
  whose schemas (oai-identifier.xsd, DataCite's oai-1.1/oai.xsd) are not among the shared schemas,
  so a strict validator refuses them ("no matching global element declaration"). ``conforms``
  checks those two by hand against what their schemas say (the oai-identifier patterns; the
  oai-1.1 ``all`` of schemaVersion, datacentreSymbol and payload), validates the DataCite payload
  against kernel-4.7, and validates the rest of the response strictly with them taken out.
- ``dcat`` metadata is RDF/XML, which has no XML schema (DCAT-AP's shapes are SHACL): ``conforms``
  parses it as RDF (it must hold one dcat:Dataset) and validates the rest strictly with it taken
  out; tests/oaipmh/test_provider.py checks it against the official SHACL shapes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from copy import deepcopy
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from rdflib import Graph
from rdflib.namespace import DCAT, RDF
from sqlalchemy import update

from osnode.app import create_app
from osnode.config import load_settings
from osnode.domain.access import Viewer
from osnode.services import deposit
from osnode.services.node import Node
from osnode.storage.catalog import records, versions
from tests import schemas
from tests.conftest import minimal_metadata
from tests.schemas import safe_parser

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DATACITE = "http://datacite.org/schema/kernel-4"
OAI_DATACITE = "http://schema.datacite.org/oai/oai-1.1/"
OAI_IDENTIFIER = "http://www.openarchives.org/OAI/2.0/oai-identifier"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS = {
    "oai": OAI,
    "dc": "http://purl.org/dc/elements/1.1/",
    "oai_dc": OAI_DC,
    "d": DATACITE,
    "od": OAI_DATACITE,
    "rdf": RDF_NS,
}
HOST = "node.example.org"
BASE_URL = f"https://{HOST}"
PAGE = 3

_COMBINED = f"""<schema xmlns="http://www.w3.org/2001/XMLSchema">
  <import namespace="{OAI}" schemaLocation="oai-pmh/OAI-PMH.xsd"/>
  <import namespace="{OAI_DC}" schemaLocation="oai-pmh/oai_dc.xsd"/>
  <import namespace="{DATACITE}" schemaLocation="datacite/kernel-4.7/metadata.xsd"/>
</schema>"""


@pytest.fixture(scope="session")
def oai_schema() -> etree.XMLSchema:
    for imported in ("oai-pmh/OAI-PMH.xsd", "oai-pmh/oai_dc.xsd", "datacite/kernel-4.7/metadata.xsd"):
        schemas.path(imported)  # a clear error naming the file, before lxml's vaguer one
    document = etree.fromstring(_COMBINED.encode(), safe_parser(), base_url=str(schemas.root()) + "/")
    return etree.XMLSchema(etree.ElementTree(document))


@pytest.fixture(scope="session")
def datacite_schema() -> etree.XMLSchema:
    return schemas.load_schema("datacite/kernel-4.7/metadata.xsd")


# -- the node ------------------------------------------------------------------------------------


@pytest.fixture
def node(data_dir: Path, database_url: str) -> Iterator[Node]:
    """Like the shared ``node``, at a public host name and with pages of ``PAGE`` items."""
    settings = load_settings(data_dir, database_url=database_url, base_url=BASE_URL, oai_page_size=PAGE)
    opened = Node.open(settings)
    yield opened
    opened.close()


@pytest.fixture
def client(node: Node) -> Iterator[TestClient]:
    with TestClient(create_app(node)) as test_client:
        yield test_client


def publish(node: Node, viewer: Viewer, files: dict[str, bytes] | None = None, **metadata: Any) -> str:
    """A published record made through the services; its record id."""
    access = None if files else {"level": "metadata-only"}
    draft = deposit.create_draft(node, viewer, minimal_metadata(**metadata), access)
    for key, data in (files or {}).items():
        deposit.add_file(node, draft.id, key, [data], viewer)
    deposit.publish(node, draft.id, viewer)
    return draft.record_id


def set_datestamp(node: Node, record_id: str, moment: datetime) -> None:
    """Move a record's datestamp (``records.updated``), to test selective harvesting to the second."""
    with node.transaction() as tx:
        tx.execute(update(records).where(records.c.id == record_id).values(updated=moment))


def set_origin(node: Node, record_id: str, origin: str) -> None:
    """Mark a record as harvested from ``origin`` (what the harvester will do)."""
    with node.transaction() as tx:
        tx.execute(update(versions).where(versions.c.record_id == record_id).values(origin_node=origin))


def oai_id(record_id: str) -> str:
    return f"oai:{HOST}:{record_id}"


# -- requests and validation ---------------------------------------------------------------------


class Harvest:
    """Requests to /oai whose every response is checked against the schemas before it is returned."""

    def __init__(self, client: TestClient, schema: etree.XMLSchema, datacite: etree.XMLSchema) -> None:
        self.client, self.schema, self.datacite = client, schema, datacite

    def get(self, **arguments: str) -> etree._Element:
        response = self.client.get("/oai", params=arguments)
        return self._check(response)

    def raw(self, query: str) -> etree._Element:
        return self._check(self.client.get(f"/oai?{query}"))

    def post(self, **arguments: str) -> etree._Element:
        return self._check(self.client.post("/oai", data=arguments))

    def _check(self, response: Any) -> etree._Element:
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/xml; charset=utf-8"
        root = etree.fromstring(response.content, safe_parser())
        conforms(root, self.schema, self.datacite)
        return root

    def error(self, **arguments: str) -> tuple[str, etree._Element]:
        root = self.get(**arguments)
        errors = root.findall("oai:error", NS)
        assert len(errors) == 1, etree.tostring(root)
        return errors[0].get("code"), root

    def pages(self, verb: str, **arguments: str) -> list[etree._Element]:
        """Every page of a list request, following resumption tokens."""
        found = [self.get(verb=verb, **arguments)]
        while (token := found[-1].findtext(f"oai:{verb}/oai:resumptionToken", namespaces=NS)) is not None and token:
            found.append(self.get(verb=verb, resumptionToken=token))
        return found


_REPOSITORY_ID = re.compile(r"[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+")
_SAMPLE = re.compile(r"oai:[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+:[a-zA-Z0-9\-_\.!~\*'\(\);/\?:@&=\+$,%]+")


def _check_oai_identifier(element: etree._Element) -> None:
    """oai-identifier.xsd: scheme 'oai', repositoryIdentifier and sampleIdentifier patterns, ':'."""
    assert element.get(f"{{{'http://www.w3.org/2001/XMLSchema-instance'}}}schemaLocation", "").startswith(
        OAI_IDENTIFIER
    )
    names = [etree.QName(child).localname for child in element]
    assert names == ["scheme", "repositoryIdentifier", "delimiter", "sampleIdentifier"]
    assert all(etree.QName(child).namespace == OAI_IDENTIFIER for child in element)
    scheme, repository, delimiter, sample = (child.text for child in element)
    assert scheme == "oai" and delimiter == ":"
    assert repository and _REPOSITORY_ID.fullmatch(repository)
    assert sample and _SAMPLE.fullmatch(sample) and sample.startswith(f"oai:{repository}:")


def _check_oai_datacite(element: etree._Element, datacite: etree.XMLSchema) -> etree._Element:
    """DataCite oai-1.1: ``xs:all`` of datacentreSymbol, schemaVersion and payload, each once; the
    payload is a kernel-4.7 resource. Returns the resource."""
    names = sorted(etree.QName(child).localname for child in element)
    assert names == ["datacentreSymbol", "payload", "schemaVersion"], names
    assert all(etree.QName(child).namespace == OAI_DATACITE for child in element)
    assert element.findtext("od:schemaVersion", namespaces=NS) == "4.7"
    assert element.findtext("od:datacentreSymbol", namespaces=NS)
    payload = element.find("od:payload", NS)
    assert payload is not None and len(payload) == 1
    resource = payload[0]
    datacite.assertValid(etree.ElementTree(deepcopy(resource)))
    return resource


def conforms(root: etree._Element, schema: etree.XMLSchema, datacite: etree.XMLSchema) -> None:
    """Strict validation of a whole response (see the module docstring for the two exceptions)."""
    copy = deepcopy(root)
    for description in copy.findall("oai:Identify/oai:description", NS):
        content = description[0]
        if etree.QName(content).namespace == OAI_IDENTIFIER:
            _check_oai_identifier(content)
            copy.find("oai:Identify", NS).remove(description)
    for wrapper in copy.findall(".//oai:metadata/od:oai_datacite", NS):
        resource = _check_oai_datacite(wrapper, datacite)
        metadata = wrapper.getparent()
        metadata.replace(wrapper, deepcopy(resource))
    for rdf in copy.findall(".//oai:metadata/rdf:RDF", NS):
        graph = Graph().parse(data=etree.tostring(rdf), format="xml")
        assert len(list(graph.subjects(RDF.type, DCAT.Dataset))) == 1
        # Any element the schemas know stands in for it: an empty oai_dc record is valid.
        rdf.getparent().replace(rdf, etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC}))
    schema.assertValid(etree.ElementTree(copy))


@pytest.fixture
def harvest(client: TestClient, oai_schema: etree.XMLSchema, datacite_schema: etree.XMLSchema) -> Harvest:
    return Harvest(client, oai_schema, datacite_schema)
