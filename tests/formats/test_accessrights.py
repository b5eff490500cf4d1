"""Every metadata format states the access level, and a reader who may not get the files sees no
checksum, download URL or SWHID of them anywhere (docs/security.md, "Who may read what").

The first half checks the serializers on views, each output validated against its official schema;
the second half deposits a record at each level through the API and reads it back anonymously on
every route that describes it (JSON API, landing page, exports, OAI-PMH), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from osnode.domain.records import AccessLevel
from osnode.formats import datacite, datacite_read, dublincore, rocrate, schemaorg
from osnode.formats.accessrights import ACCESS_RIGHTS, is_access_right
from osnode.formats.kinds import KINDS
from osnode.oaipmh import fragments
from osnode.services import exports
from tests.conftest import Account, minimal_metadata
from tests.web.conftest import create_draft, publish, upload

from .conftest import MINIMAL, RICH, load_schema, make_view, parse_xml

D = {"d": datacite.NAMESPACE}
DC = {"dc": dublincore.DC}
EMBARGO_END = date(2027, 1, 1)

# name -> (level in force, embargo end) as RecordView holds them, and the COAR / eu-repo terms expected.
LEVELS: dict[str, tuple[AccessLevel, date | None, str, str]] = {
    "open": (AccessLevel.OPEN, None, "c_abf2", "openAccess"),
    "embargoed": (AccessLevel.EMBARGOED, EMBARGO_END, "c_f1cf", "embargoedAccess"),
    "embargo-lifted": (AccessLevel.OPEN, date(2026, 1, 1), "c_abf2", "openAccess"),
    "restricted": (AccessLevel.RESTRICTED, None, "c_16ec", "restrictedAccess"),
    "metadata-only": (AccessLevel.METADATA_ONLY, None, "c_14cb", "closedAccess"),
}


@pytest.fixture(scope="module")
def datacite_xsd() -> etree.XMLSchema:
    return load_schema("datacite/kernel-4.7/metadata.xsd")


@pytest.fixture(scope="module")
def oai_dc_xsd() -> etree.XMLSchema:
    return load_schema("oai-pmh/oai_dc.xsd")


def _view(name: str, metadata: dict[str, Any] = RICH, **overrides: Any):  # type: ignore[no-untyped-def]
    level, until, _, _ = LEVELS[name]
    files = {} if level is AccessLevel.OPEN else {"files": ()}  # as exports.record_view builds it
    return make_view(metadata, access_level=level, embargo_until=until, **files, **overrides)


def _valid(schema: etree.XMLSchema, root: etree._Element) -> etree._Element:
    assert schema.validate(root), "\n".join(str(e) for e in schema.error_log)
    return root


def test_vocabulary_is_the_coar_one() -> None:
    assert {level: r.coar_uri for level, r in ACCESS_RIGHTS.items()} == {
        AccessLevel.OPEN: "http://purl.org/coar/access_right/c_abf2",
        AccessLevel.EMBARGOED: "http://purl.org/coar/access_right/c_f1cf",
        AccessLevel.RESTRICTED: "http://purl.org/coar/access_right/c_16ec",
        AccessLevel.METADATA_ONLY: "http://purl.org/coar/access_right/c_14cb",
    }
    assert set(ACCESS_RIGHTS) == set(AccessLevel)  # a new level cannot be added without its term
    assert is_access_right("info:eu-repo/semantics/closedAccess") and not is_access_right("https://spdx.org/x")


@pytest.mark.parametrize("name", list(LEVELS))
def test_datacite_xml_states_the_level_and_validates(name: str, datacite_xsd: etree.XMLSchema) -> None:
    _, until, coar, eu_repo = LEVELS[name]
    root = _valid(datacite_xsd, parse_xml(datacite.to_xml(_view(name))))
    rights = root.findall("d:rightsList/d:rights", D)
    access = [(r.get("rightsURI"), r.get("rightsIdentifier"), r.get("rightsIdentifierScheme")) for r in rights[-2:]]
    assert access == [
        (f"http://purl.org/coar/access_right/{coar}", coar, "COAR Access Rights"),
        (f"info:eu-repo/semantics/{eu_repo}", None, None),
    ]
    assert [r.get("rightsURI") for r in rights[:-2]] == [  # the licences are still there, first
        "https://spdx.org/licenses/CC-BY-4.0.html",
        "https://example.org/terms",
    ]
    available = [d.text for d in root.findall("d:dates/d:date", D) if d.get("dateType") == "Available"]
    if until:
        assert available == [until.isoformat()]  # the embargo's end, not the publication day
    elif name == "open":
        assert available == ["2026-03-01"]
    else:
        assert available == []  # the files are never open to all


@pytest.mark.parametrize("name", list(LEVELS))
def test_datacite_json_states_the_level(name: str) -> None:
    _, _, coar, eu_repo = LEVELS[name]
    uris = [r.get("rightsUri") for r in datacite.to_json(_view(name))["rightsList"]]
    assert uris[-2:] == [f"http://purl.org/coar/access_right/{coar}", f"info:eu-repo/semantics/{eu_repo}"]


def test_embargo_replaces_the_depositors_available_date(datacite_xsd: etree.XMLSchema) -> None:
    meta = MINIMAL | {"dates": [{"date": "2020-01-01", "dateType": "Available"}]}
    root = _valid(datacite_xsd, parse_xml(datacite.to_xml(_view("embargoed", meta))))
    assert [d.text for d in root.findall("d:dates/d:date", D)] == ["2027-01-01"]
    oai = dublincore.to_oai_dc(_view("embargoed", meta))
    assert "2020-01-01" not in [e.text for e in oai.iterfind("dc:date", DC)]


@pytest.mark.parametrize("name", list(LEVELS))
def test_oai_dc_states_the_level_and_validates(name: str, oai_dc_xsd: etree.XMLSchema) -> None:
    level, until, coar, eu_repo = LEVELS[name]
    view = _view(name)
    slow = _valid(oai_dc_xsd, dublincore.to_oai_dc(view))
    stored = view.metadata.to_json()
    fast = fragments.oai_dc(
        stored,
        identifier=view.identifier,
        record_url=view.record_url,
        published_at=view.published_at,
        files=[(f.size, f.mimetype) for f in view.files],
        node_name=view.node_name,
        access_level=level,
        embargo_until=until,
    )
    fast_root = _valid(oai_dc_xsd, etree.fromstring(fast.encode()))
    for root in (slow, fast_root):
        rights = [e.text for e in root.iterfind("dc:rights", DC)]
        assert rights[-2:] == [f"http://purl.org/coar/access_right/{coar}", f"info:eu-repo/semantics/{eu_repo}"]
        dates = [e.text for e in root.iterfind("dc:date", DC)]
        assert (
            ("info:eu-repo/date/embargoEnd/" + until.isoformat() in dates)
            if until
            else not any(d.startswith("info:") for d in dates)
        )


@pytest.mark.parametrize("name", list(LEVELS))
def test_schema_org_is_free_only_when_open(name: str) -> None:
    level, until, _, _ = LEVELS[name]
    doc = schemaorg.to_json_ld(_view(name))
    assert doc["isAccessibleForFree"] is (level is AccessLevel.OPEN)
    assert doc["conditionsOfAccess"].lower().startswith(ACCESS_RIGHTS[level].label)
    if level is AccessLevel.EMBARGOED:
        assert until and until.isoformat() in doc["conditionsOfAccess"]
    assert ("distribution" in doc) is (level is AccessLevel.OPEN)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_oai_dc_names_each_type_once(kind: str) -> None:
    view = make_view(MINIMAL | {"resourceType": {"resourceTypeGeneral": kind, "resourceType": kind}})
    for root in (
        dublincore.to_oai_dc(view),
        etree.fromstring(
            fragments.oai_dc(
                view.metadata.to_json(),
                identifier=view.identifier,
                record_url=view.record_url,
                published_at=view.published_at,
                files=[],
                node_name=view.node_name,
                access_level=AccessLevel.OPEN,
                embargo_until=None,
            ).encode()
        ),
    ):
        types = [e.text for e in root.iterfind("dc:type", DC)]
        assert types and len(types) == len(set(types)), types


def test_harvesting_drops_the_other_nodes_access_terms() -> None:
    """A harvested record's access terms describe the other node's access, not a licence: reading
    them back must not turn them into licences (which would then be re-exported twice)."""
    view = _view("restricted")
    licences = [r.model_dump(exclude_none=True) for r in view.metadata.rightsList]
    from_datacite = datacite_read.from_xml(datacite.to_xml(view))["rightsList"]
    assert not any(is_access_right(r.get("rightsUri")) for r in from_datacite)
    assert len(from_datacite) == len(licences)
    from_dc = dublincore.from_oai_dc(dublincore.to_xml(view))["rightsList"]
    assert not any(is_access_right(r.get("rightsUri") or r.get("rights")) for r in from_dc)


# -- through the routes, anonymously, on both backends -----------------------------------------

DATA = b"secret,column\n1,2\n"
DIGEST = hashlib.sha256(DATA).hexdigest()
SWHID = "swh:1:dir:d198bc9d7a6bcf6db04f476d29314f157507d505"
_today = datetime.now(UTC).date()
ACCESS: dict[str, dict[str, Any]] = {
    "open": {"level": "open"},
    "embargoed": {"level": "embargoed", "embargo_until": (_today + timedelta(days=365)).isoformat()},
    "restricted": {"level": "restricted"},
    "metadata-only": {"level": "metadata-only"},
}
COAR = {"open": "c_abf2", "embargoed": "c_f1cf", "restricted": "c_16ec", "metadata-only": "c_14cb"}


def _deposit(client: TestClient, owner: Account, level: str) -> dict[str, Any]:
    related = [{"relatedIdentifier": SWHID, "relatedIdentifierType": "SWHID", "relationType": "IsIdenticalTo"}]
    draft = create_draft(client, owner, metadata=minimal_metadata(relatedIdentifiers=related), access=ACCESS[level])
    upload(client, owner, draft["id"], "cohort.csv", DATA)
    return publish(client, owner, draft["id"])


def _anonymous_texts(client: TestClient, record: dict[str, Any]) -> dict[str, str]:
    """Every description of the record an anonymous reader can fetch, by route."""
    vid = record["id"]
    routes = {
        "api record": f"/api/records/{vid}",
        "api concept": f"/api/records/{record['record_id']}",
        "api files": f"/api/records/{vid}/files",
        "api list": "/api/records",
        "landing": f"/records/{vid}",
        "linkset": f"/records/{vid}/linkset",
        "dump": "/api/dump.jsonl.gz",
        **{
            f"export {name}": f"/records/{vid}/export/{name}"
            for name, f in exports.EXPORTS.items()
            if f.describes("Dataset")
        },
        **{
            f"oai {prefix}": f"/oai?verb=ListRecords&metadataPrefix={prefix}"
            for prefix in ("oai_dc", "oai_datacite", "datacite")
        },
    }
    texts = {}
    for label, url in routes.items():
        response = client.get(url)
        assert response.status_code == 200, (label, response.status_code, response.text[:300])
        texts[label] = response.content.decode() if not url.startswith("/api/dump") else _dump_text(response)
    return texts


def _dump_text(response: Any) -> str:
    import gzip

    body = response.content
    return (gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body).decode()


@pytest.mark.parametrize("level", list(ACCESS))
def test_anonymous_sees_no_checksum_url_or_swhid_of_protected_files(
    client: TestClient, depositor: Account, level: str
) -> None:
    record = _deposit(client, depositor, level)
    texts = _anonymous_texts(client, record)
    protected = level != "open"
    download = f"/records/{record['id']}/files/cohort.csv"
    for label, text in texts.items():
        # Open records show everything (so the check below is not vacuous); protected ones none of it.
        if protected:
            assert DIGEST not in text, label
            assert download not in text, label
            assert SWHID not in text, label
        elif label in ("api record", "api files", "landing"):
            assert DIGEST in text and download in text, label
    # The name, size and media type stay visible to everyone, so a reader can ask for access.
    files = client.get(f"/api/records/{record['id']}/files").json()["items"]
    assert files == [{"key": "cohort.csv", "size": len(DATA), "mimetype": "text/csv"}] if protected else files
    assert "cohort.csv" in texts["landing"]
    # Every format says the level: none of a protected record looks open.
    coar = f"http://purl.org/coar/access_right/{COAR[level]}"
    for label in ("export datacite-xml", "export datacite-json", "export oai_dc", "oai oai_dc", "oai datacite"):
        assert coar in texts[label], label
    assert ('"isAccessibleForFree": true' in texts["export json-ld"]) is not protected
    # The owner still gets everything.
    owner = client.get(f"/api/records/{record['id']}/files", headers=depositor.headers).json()["items"]
    assert owner[0]["checksum"] == f"sha256:{DIGEST}"


@pytest.mark.parametrize("name", list(LEVELS))
def test_ro_crate_root_states_the_level(name: str) -> None:
    level, until, _, _ = LEVELS[name]
    (root,) = [e for e in rocrate.to_json(_view(name))["@graph"] if e["@id"] == "./"]
    assert root["isAccessibleForFree"] is (level is AccessLevel.OPEN)
    assert root["conditionsOfAccess"].lower().startswith(ACCESS_RIGHTS[level].label)
