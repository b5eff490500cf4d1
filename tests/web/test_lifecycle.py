"""A record's life over HTTP: draft, publish, new versions, deletion of drafts and withdrawal."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from osnode.services.node import Node
from tests.conftest import Account, minimal_metadata
from tests.web.conftest import (
    assert_problem,
    blob_rows,
    create_draft,
    publish,
    published_record,
    sha256,
    stored_blobs,
    upload,
)

DATA = b"station,year,mm\nLuanda,2001,412\nLuanda,2002,388\n"


def test_draft_is_private_until_published(client: TestClient, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    vid, rid = draft["id"], draft["record_id"]
    assert vid != rid
    assert draft["version"] == 1
    assert draft["published_at"] is None
    assert draft["access"] == {"level": "open", "embargo_until": None}

    # The owner reads it by either id; anyone else is told it does not exist.
    assert client.get(f"/api/records/{vid}", headers=depositor.headers).json()["id"] == vid
    assert client.get(f"/api/records/{rid}", headers=depositor.headers).json()["id"] == vid
    assert_problem(client.get(f"/api/records/{vid}"), 404)
    assert_problem(client.get(f"/api/records/{rid}"), 404)

    upload(client, depositor, vid, "rain.csv", DATA)
    published = publish(client, depositor, vid)
    assert published["id"] == vid
    assert published["is_latest"] is True
    assert published["published_at"] is not None
    assert [f["key"] for f in published["files"]] == ["rain.csv"]
    assert published["files"][0]["checksum"] == f"sha256:{sha256(DATA)}"

    anonymous = client.get(f"/api/records/{rid}")
    assert anonymous.status_code == 200, anonymous.text
    assert anonymous.json()["id"] == vid
    assert client.get(f"/api/records/{vid}/files/rain.csv").content == DATA


def test_publish_fills_publisher_and_year(client: TestClient, node: Node, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    assert "publisher" not in draft["metadata"]
    assert "publicationYear" not in draft["metadata"]
    upload(client, depositor, draft["id"], "rain.csv", DATA)
    published = publish(client, depositor, draft["id"])
    assert published["metadata"]["publisher"]["name"] == node.settings.node_name
    assert published["metadata"]["publicationYear"] == datetime.now(UTC).year
    # ... and they are stored, not only shown once.
    again = client.get(f"/api/records/{draft['id']}").json()
    assert again["metadata"]["publisher"]["name"] == node.settings.node_name
    assert again["metadata"]["publicationYear"] == datetime.now(UTC).year


def test_publish_keeps_publisher_and_year_the_depositor_gave(client: TestClient, depositor: Account) -> None:
    meta = minimal_metadata(publisher="Universidade Agostinho Neto", publicationYear=2019)
    published = published_record(client, depositor, metadata=meta)
    assert published["metadata"]["publisher"]["name"] == "Universidade Agostinho Neto"
    assert published["metadata"]["publicationYear"] == 2019


def test_publish_without_files_is_refused_unless_metadata_only(client: TestClient, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    body = assert_problem(client.post(f"/api/records/{draft['id']}/publish", headers=depositor.headers), 422)
    assert any(e["path"] == "files" for e in body["errors"])
    # Nothing changed: still a draft, still invisible.
    assert client.get(f"/api/records/{draft['id']}", headers=depositor.headers).json()["state"] == "draft"
    assert_problem(client.get(f"/api/records/{draft['record_id']}"), 404)

    meta_only = create_draft(client, depositor, access={"level": "metadata-only"})
    published = publish(client, depositor, meta_only["id"])
    assert published["files"] == []
    assert published["access"]["level"] == "metadata-only"


def test_publish_refuses_incomplete_metadata_listing_every_gap(client: TestClient, depositor: Account) -> None:
    draft = create_draft(client, depositor, metadata={})
    upload(client, depositor, draft["id"], "rain.csv", DATA)
    body = assert_problem(client.post(f"/api/records/{draft['id']}/publish", headers=depositor.headers), 422)
    paths = {e["path"] for e in body["errors"]}
    # The node supplies publisher and year; the depositor must supply the rest.
    assert {"metadata.titles", "metadata.creators", "metadata.resourceType"} <= paths
    assert "metadata.publisher" not in paths and "metadata.publicationYear" not in paths
    assert client.get(f"/api/records/{draft['id']}", headers=depositor.headers).json()["state"] == "draft"


def test_new_version_carries_files_by_reference(client: TestClient, node: Node, depositor: Account) -> None:
    v1 = published_record(client, depositor, {"rain.csv": DATA, "README.txt": b"read me\n"})
    rid = v1["record_id"]
    assert len(blob_rows(node)) == 2
    assert len(stored_blobs(node)) == 2

    created = client.post(f"/api/records/{rid}/versions", headers=depositor.headers)
    assert created.status_code == 201, created.text
    v2 = created.json()
    assert v2["state"] == "draft"
    assert v2["version"] == 2
    assert v2["record_id"] == rid
    assert v2["id"] not in (v1["id"], rid)
    assert {f["key"]: f["checksum"] for f in v2["files"]} == {f["key"]: f["checksum"] for f in v1["files"]}
    # Nothing was copied: the same two blobs, once on disk and once in the catalog.
    assert sorted(blob_rows(node)) == stored_blobs(node) == sorted([sha256(DATA), sha256(b"read me\n")])

    # The concept id still names v1 until v2 is published.
    assert client.get(f"/api/records/{rid}").json()["id"] == v1["id"]
    # A second draft next to the first is refused.
    assert_problem(client.post(f"/api/records/{rid}/versions", headers=depositor.headers), 409)

    # Edit v2: new metadata and one more file; v1 stays as it was.
    changed = minimal_metadata(version="2.0", titles=[{"title": "Rainfall at Luanda, 2001-2021"}])
    put = client.put(f"/api/records/{v2['id']}", json={"metadata": changed}, headers=depositor.headers)
    assert put.status_code == 200, put.text
    upload(client, depositor, v2["id"], "2021.csv", b"Luanda,2021,401\n")
    published_v2 = publish(client, depositor, v2["id"])
    assert published_v2["is_latest"] is True

    latest = client.get(f"/api/records/{rid}").json()
    assert latest["id"] == v2["id"]
    assert latest["metadata"]["titles"][0]["title"] == "Rainfall at Luanda, 2001-2021"
    assert sorted(f["key"] for f in latest["files"]) == ["2021.csv", "README.txt", "rain.csv"]
    old = client.get(f"/api/records/{v1['id']}").json()
    assert old["is_latest"] is False
    assert old["metadata"]["titles"][0]["title"] == "Rainfall at Luanda, 2001-2020"
    assert sorted(f["key"] for f in old["files"]) == ["README.txt", "rain.csv"]
    assert client.get(f"/api/records/{v2['id']}/files/rain.csv").content == DATA
    assert client.get(f"/api/records/{v1['id']}/files/rain.csv").content == DATA
    assert len(blob_rows(node)) == len(stored_blobs(node)) == 3


def test_new_version_does_not_inherit_the_version_label(client: TestClient, depositor: Account) -> None:
    v1 = published_record(client, depositor, metadata=minimal_metadata(version="1.0"))
    v2 = client.post(f"/api/records/{v1['id']}/versions", headers=depositor.headers).json()
    assert "version" not in v2["metadata"]
    assert v2["metadata"]["titles"] == v1["metadata"]["titles"]


def test_versions_listing(client: TestClient, depositor: Account) -> None:
    v1 = published_record(client, depositor)
    rid = v1["record_id"]
    v2 = client.post(f"/api/records/{rid}/versions", headers=depositor.headers).json()
    publish(client, depositor, v2["id"])
    v3 = client.post(f"/api/records/{rid}/versions", headers=depositor.headers).json()

    # Readers see the published versions; the owner also sees the draft. Any id of the record works.
    for any_id in (rid, v1["id"], v2["id"]):
        listed = client.get(f"/api/records/{any_id}/versions")
        assert listed.status_code == 200, listed.text
        items = listed.json()["items"]
        assert [(i["id"], i["version"], i["state"], i["is_latest"]) for i in items] == [
            (v1["id"], 1, "published", False),
            (v2["id"], 2, "published", True),
        ]
    mine = client.get(f"/api/records/{rid}/versions", headers=depositor.headers).json()["items"]
    assert [(i["id"], i["state"]) for i in mine] == [
        (v1["id"], "published"),
        (v2["id"], "published"),
        (v3["id"], "draft"),
    ]


def test_delete_draft(client: TestClient, node: Node, depositor: Account) -> None:
    v1 = published_record(client, depositor)
    rid = v1["record_id"]
    v2 = client.post(f"/api/records/{rid}/versions", headers=depositor.headers).json()
    upload(client, depositor, v2["id"], "extra.bin", b"\x00\x01extra")

    deleted = client.delete(f"/api/records/{v2['id']}", headers=depositor.headers)
    assert deleted.status_code == 204, deleted.text
    assert deleted.content == b""
    assert_problem(client.get(f"/api/records/{v2['id']}", headers=depositor.headers), 404)
    # The record and its published version are untouched, and a new draft can be started again.
    assert client.get(f"/api/records/{rid}").json()["id"] == v1["id"]
    versions = client.get(f"/api/records/{rid}/versions", headers=depositor.headers).json()["items"]
    assert [v["id"] for v in versions] == [v1["id"]]
    assert client.get(f"/api/records/{v1['id']}/files/data.csv").status_code == 200
    again = client.post(f"/api/records/{rid}/versions", headers=depositor.headers)
    assert again.status_code == 201, again.text

    # Deleting the only (draft) version of a record removes the record itself.
    lone = create_draft(client, depositor)
    assert client.delete(f"/api/records/{lone['id']}", headers=depositor.headers).status_code == 204
    assert_problem(client.get(f"/api/records/{lone['record_id']}", headers=depositor.headers), 404)
    assert_problem(client.get(f"/api/records/{lone['id']}", headers=depositor.headers), 404)


def test_withdraw_one_version_then_the_record(client: TestClient, depositor: Account, curator: Account) -> None:
    v1 = published_record(client, depositor, {"rain.csv": DATA})
    rid = v1["record_id"]
    v2 = client.post(f"/api/records/{rid}/versions", headers=depositor.headers).json()
    publish(client, depositor, v2["id"])
    assert client.get(f"/api/records/{rid}").json()["id"] == v2["id"]

    # Withdraw v2 by its own id: the concept falls back to v1.
    out = client.post(f"/api/records/{v2['id']}/withdraw", json={"reason": "wrong units"}, headers=depositor.headers)
    assert out.status_code == 200, out.text
    assert [t["id"] for t in out.json()["withdrawn"]] == [v2["id"]]
    latest = client.get(f"/api/records/{rid}")
    assert latest.status_code == 200, latest.text
    assert latest.json()["id"] == v1["id"]
    assert latest.json()["is_latest"] is True
    gone = assert_problem(client.get(f"/api/records/{v2['id']}"), 410)
    assert gone["tombstone"]["id"] == v2["id"]
    assert gone["tombstone"]["reason"] == "wrong units"
    assert_problem(client.get(f"/api/records/{v2['id']}/files/rain.csv"), 410)
    assert client.get(f"/api/records/{v1['id']}/files/rain.csv").content == DATA
    listed = client.get(f"/api/records/{rid}/versions").json()["items"]
    assert [(v["id"], v["state"]) for v in listed] == [(v1["id"], "published"), (v2["id"], "withdrawn")]
    # Withdrawing it again is a conflict, not a silent success.
    assert_problem(
        client.post(f"/api/records/{v2['id']}/withdraw", json={"reason": "again"}, headers=depositor.headers), 409
    )

    # Only v1 is left: the record is still listed, under v1.
    assert rid in [i["record_id"] for i in client.get("/api/records").json()["items"]]


def test_withdraw_whole_record(client: TestClient, depositor: Account, curator: Account) -> None:
    v1 = published_record(client, depositor, {"rain.csv": DATA})
    rid = v1["record_id"]
    v2 = client.post(f"/api/records/{rid}/versions", headers=depositor.headers).json()
    publish(client, depositor, v2["id"])

    # Withdraw the whole record by its concept id (here by a curator): every published version goes.
    reason = "consent was withdrawn by the participants"
    whole = client.post(f"/api/records/{rid}/withdraw", json={"reason": reason}, headers=curator.headers)
    assert whole.status_code == 200, whole.text
    assert sorted(t["id"] for t in whole.json()["withdrawn"]) == sorted([v1["id"], v2["id"]])

    # The concept id answers with the tombstone of the latest version; each version with its own.
    for any_id, expected in ((rid, v2["id"]), (v1["id"], v1["id"]), (v2["id"], v2["id"])):
        body = assert_problem(client.get(f"/api/records/{any_id}"), 410)
        tomb = body["tombstone"]
        assert tomb["id"] == expected
        assert tomb["record_id"] == rid
        assert tomb["reason"] == reason
        assert tomb["title"] == "Rainfall at Luanda, 2001-2020"
        assert "Silva, Ana" in tomb["citation"]
        assert "Rainfall at Luanda, 2001-2020" in tomb["citation"]
        assert str(datetime.now(UTC).year) in tomb["citation"]
        assert tomb["url"] in tomb["citation"]
        assert tomb["withdrawn_at"]
    listed = client.get(f"/api/records/{rid}/versions").json()["items"]
    assert [v["state"] for v in listed] == ["withdrawn", "withdrawn"]

    # No file of any version is served any more, on either side, to anyone.
    for vid in (v1["id"], v2["id"], rid):
        for prefix in ("/api/records", "/records"):
            assert_problem(client.get(f"{prefix}/{vid}/files/rain.csv"), 410)
            assert client.get(f"{prefix}/{vid}/files/rain.csv", headers=depositor.headers).status_code == 410
            assert client.get(f"{prefix}/{vid}/files/rain.csv", headers=curator.headers).status_code == 410
            assert client.head(f"{prefix}/{vid}/files/rain.csv").status_code == 410
    assert_problem(client.get(f"/api/records/{rid}/files"), 410)

    # The landing page is a tombstone page, not a hole.
    for any_id in (rid, v1["id"]):
        page = client.get(f"/records/{any_id}")
        assert page.status_code == 410
        assert page.headers["content-type"].startswith("text/html")
        assert "Withdrawn" in page.text
        assert reason in page.text
        assert "Silva, Ana" in page.text
        assert "rain.csv" not in page.text
    assert v1["id"] in client.get(f"/records/{v1['id']}").text

    # A withdrawn record is no longer listed, and cannot be withdrawn twice.
    assert rid not in [i["record_id"] for i in client.get("/api/records").json()["items"]]
    again = client.post(f"/api/records/{rid}/withdraw", json={"reason": reason}, headers=curator.headers)
    assert_problem(again, 409)


def test_withdraw_needs_a_reason_and_rights(
    client: TestClient, depositor: Account, other_depositor: Account, admin: Account
) -> None:
    v1 = published_record(client, depositor)
    url = f"/api/records/{v1['id']}/withdraw"
    assert_problem(client.post(url, json={"reason": "   "}, headers=depositor.headers), 422)
    assert_problem(client.post(url, json={}, headers=depositor.headers), 422)
    assert_problem(client.post(url, json={"reason": "mine now"}, headers=other_depositor.headers), 403)
    assert_problem(client.post(url, json={"reason": "who am I"}), 401)
    assert client.get(f"/api/records/{v1['id']}").status_code == 200
    out = client.post(url, json={"reason": "duplicate of another record"}, headers=admin.headers)
    assert out.status_code == 200, out.text
    assert client.get(f"/api/records/{v1['id']}").status_code == 410


def test_landing_page_of_a_published_record(client: TestClient, depositor: Account) -> None:
    v1 = published_record(client, depositor, {"rain.csv": DATA})
    page = client.get(f"/records/{v1['record_id']}")
    assert page.status_code == 200
    assert "Rainfall at Luanda, 2001-2020" in page.text
    assert f"/records/{v1['id']}/files/rain.csv" in page.text
    assert client.get(f"/records/{v1['id']}/files/rain.csv").content == DATA


def test_openapi_lists_the_record_routes(client: TestClient) -> None:
    spec = client.get("/api/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    for path in (
        "/api/records",
        "/api/records/{any_id}",
        "/api/records/{version_id}/publish",
        "/api/records/{any_id}/versions",
        "/api/records/{any_id}/withdraw",
        "/api/records/{version_id}/files/{key}",
    ):
        assert path in paths, path


def test_openapi_operation_ids_are_unique(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    ids = [op["operationId"] for item in paths.values() for op in item.values() if "operationId" in op]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    download = paths["/api/records/{any_id}/files/{key}"]
    assert {"get", "head"} <= set(download)
