"""DUO terms in the exports: DataCite XML with DUO rights and subjects still validates against the official
kernel-4.7 XSD; the ODRL policy carries each term."""

from __future__ import annotations

from lxml import etree

from osnode.domain.duo import DataUse
from osnode.domain.records import AccessLevel
from osnode.formats import datacite, odrl, schemaorg

from .conftest import RICH, make_view, parse_xml

USE = DataUse("DS", ("GS", "NPU", "TS", "NCU", "PUB"), disease="cancer", countries=("FR", "DE"), months=12)


def test_datacite_xml_with_duo_terms_is_valid(datacite_schema: etree.XMLSchema) -> None:
    view = make_view(RICH, access_level=AccessLevel.RESTRICTED, data_use=USE, files=())
    root = parse_xml(datacite.to_xml(view))
    assert datacite_schema.validate(root), "\n".join(str(e) for e in datacite_schema.error_log)
    ns = {"d": datacite.NAMESPACE}
    duo_rights = root.xpath("//d:rights[@rightsIdentifierScheme='Data Use Ontology']", namespaces=ns)
    assert {r.get("rightsIdentifier") for r in duo_rights} == {t.id for t in USE.term_list()}
    subjects = root.xpath("//d:subject[@subjectScheme='Data Use Ontology']", namespaces=ns)
    assert {s.get("valueURI") for s in subjects} == {t.purl for t in USE.term_list()}


def test_odrl_and_schema_org_carry_the_terms() -> None:
    view = make_view(RICH, access_level=AccessLevel.RESTRICTED, data_use=USE, files=())
    policy = odrl.policy(view, "https://node.example.org")
    permission = policy["permission"][0]
    assert {"leftOperand": "purpose", "operator": "isA", "rightOperand": {"@id": USE.term_list()[0].purl}} in (
        permission["constraint"]
    )
    assert any(
        c["leftOperand"] == "elapsedTime" and c["rightOperand"]["@value"] == "P12M" for c in permission["constraint"]
    )
    assert policy["prohibition"][0]["action"] == "commercialize"
    assert [d["action"]["@id"].rsplit("_", 1)[1] for d in permission["duty"]] == ["0000045", "0000019"]
    doc = schemaorg.to_json_ld(view)
    assert doc["usageInfo"] == view.policy_url and "DUO_0000022" in doc["conditionsOfAccess"]
    open_view = make_view(RICH)
    assert "usageInfo" not in schemaorg.to_json_ld(open_view)
    assert "constraint" not in odrl.policy(open_view, "https://node.example.org")["permission"][0]
