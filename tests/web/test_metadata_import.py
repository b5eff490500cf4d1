"""Importing metadata from a file, on the web deposit page and through the API: DataCite JSON and RO-Crate (the
readers of the format registry) round-trip the node's own exports; hostile files give field errors or a 4xx,
never a 5xx, and a refused file makes no draft."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from osnode.services.node import Node
from osnode.storage.catalog import versions
from tests.conftest import Account, minimal_metadata
from tests.formats.test_import_readers import CRATE, REST_ANSWER
from tests.web.test_deposit_pages import HTML, complete, new_draft, signed_in

HOSTILE = [
    b"[" * 100_000 + b"]" * 100_000,  # nested past the parser
    b"{" + b'"a":{' * 5000 + b"}" * 5001,
    json.dumps({"creators": "not a list", "titles": [{"title": {"x": 1}}], "types": []}).encode(),
    json.dumps({"titles": [{"title": "x" * 5000}], "publicationYear": "99999999999"}).encode(),
    json.dumps(
        {"@graph": [{"@id": "ro-crate-metadata.json", "about": {"@id": "./"}}, {"@id": "./", "name": 7}]}
    ).encode(),
    json.dumps({"titles": [{"title": "T"}], "creators": [{"name": f"P{i}"} for i in range(3000)]}).encode(),
    b'{"titles": [{"title": "\\u0000"}]}',
    b"\xff\xfe{not utf-8",
]


def _drafts(node: Node) -> int:
    with node.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(versions)).scalar_one()


@pytest.mark.parametrize("name", ["datacite-json", "ro-crate"])
def test_an_export_imports_back_on_the_deposit_page(client: TestClient, node: Node, name: str) -> None:
    csrf = signed_in(client, node)
    version_id = new_draft(client, csrf)
    client.post(f"/deposit/{version_id}/files", data={"csrf": csrf}, files=[("files", ("a.csv", b"1", "text/csv"))])
    done = client.post(f"/deposit/{version_id}", data=complete(csrf) | {"action": "publish"}, headers=HTML,
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    exported = client.get(f"/records/{version_id}/export/{name}")
    assert exported.status_code == 200
    files = {"metadata": (f"{name}.json", exported.content, "application/json")}
    page = client.post("/deposit/import", data={"csrf": csrf}, files=files, headers=HTML)
    assert page.status_code == 200, page.text
    assert 'value="Soil cores"' in page.text and 'value="0000-0002-1825-0097"' in page.text
    assert _drafts(node) == 2


def test_a_rest_answer_and_a_crate_fill_the_form(client: TestClient, node: Node) -> None:
    csrf = signed_in(client, node)
    for name, doc, expect in (("doi.json", REST_ANSWER, "A new malaria agent"), ("ro-crate-metadata.json", CRATE,
                              "Rainfall at Huambo")):  # fmt: skip
        files = {"metadata": (name, json.dumps(doc).encode(), "application/json")}
        page = client.post("/deposit/import", data={"csrf": csrf}, files=files, headers=HTML)
        assert page.status_code == 200 and expect in page.text


@pytest.mark.parametrize("data", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_files_give_field_errors_never_a_5xx(client: TestClient, node: Node, data: bytes) -> None:
    csrf = signed_in(client, node)
    files = {"metadata": ("x.json", data, "application/json")}
    page = client.post("/deposit/import", data={"csrf": csrf}, files=files, headers=HTML)
    assert page.status_code in (200, 422), page.status_code
    if page.status_code == 422:
        assert 'role="alert"' in page.text and _drafts(node) == 0


def test_the_api_makes_a_draft_only_from_valid_metadata(client: TestClient, node: Node, depositor: Account) -> None:
    made = client.post("/api/records/import", content=json.dumps(REST_ANSWER).encode(), headers=depositor.headers)
    assert made.status_code == 201, made.text
    assert made.json()["metadata"]["titles"][0]["title"].startswith("Data from: A new malaria agent")
    crate = client.post("/api/records/import", content=json.dumps(CRATE).encode(), headers=depositor.headers)
    assert crate.status_code == 201 and crate.json()["metadata"]["creators"][0]["orcid"].endswith("1825-0097")
    assert _drafts(node) == 2
    orcid = {"nameIdentifier": "0000-0002-1825-0098", "nameIdentifierScheme": "ORCID"}  # a wrong check digit
    bad = json.dumps({"titles": [{"title": "T"}], "creators": [{"name": "A", "nameIdentifiers": [orcid]}]})
    refused = client.post("/api/records/import", content=bad.encode(), headers=depositor.headers)
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")
    assert any("orcid" in e["path"] for e in refused.json()["errors"]), refused.json()
    made_now = 2
    for data in HOSTILE:  # odd but valid metadata makes a draft; anything else is a 4xx that makes none
        answer = client.post("/api/records/import", content=data, headers=depositor.headers)
        assert answer.status_code == 201 or 400 <= answer.status_code < 500, (data[:40], answer.status_code)
        made_now += answer.status_code == 201
        assert _drafts(node) == made_now
    too_big = client.post("/api/records/import", content=b" " * (2 * 1024 * 1024 + 1), headers=depositor.headers)
    assert too_big.status_code == 413
    anonymous = client.post("/api/records/import", content=json.dumps(minimal_metadata()).encode())
    assert anonymous.status_code == 401
    assert _drafts(node) == made_now
