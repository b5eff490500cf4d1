"""Bad input gets a clear RFC 9457 problem with a 4xx status, and changes nothing. Never a 5xx."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import pytest
from fastapi.testclient import TestClient

from osnode.services.node import Node
from tests.conftest import Account, minimal_metadata
from tests.web.conftest import (
    SMALL_LIMIT,
    assert_problem,
    blob_rows,
    create_draft,
    file_row_count,
    published_record,
    stored_blobs,
    tmp_leftovers,
    upload,
)

BAD_ORCID = "0000-0002-1825-0098"  # wrong check digit
BAD_ROR = "https://ror.org/12345"
BAD_SPDX = "CC-BY-9.9"


def paths_of(body: dict[str, Any]) -> dict[str, str]:
    return {e["path"]: e["message"] for e in body["errors"]}


def many_problems() -> dict[str, Any]:
    return minimal_metadata(
        creators=[
            {"familyName": "Silva", "givenName": "Ana", "orcid": BAD_ORCID},
            {"name": "Instituto", "nameType": "Organizational", "affiliations": [{"name": "X", "ror": BAD_ROR}]},
        ],
        rightsList=[{"rightsIdentifier": BAD_SPDX}],
        resourceType={"resourceTypeGeneral": "Spreadsheet"},
        publicationYear=20,
        language="english!",
        creater="typo",
    )


EXPECTED_PATHS = {
    "creators.0.orcid",
    "creators.1.affiliations.0.ror",
    "rightsList.0.rightsIdentifier",
    "resourceType.resourceTypeGeneral",
    "publicationYear",
    "language",
    "creater",
}


# -- metadata -------------------------------------------------------------------------------------


def test_create_lists_every_metadata_error_with_its_path(client: TestClient, node: Node, depositor: Account) -> None:
    response = client.post("/api/records", json={"metadata": many_problems()}, headers=depositor.headers)
    body = assert_problem(response, 422)
    paths = paths_of(body)
    assert set(paths) == {f"metadata.{p}" for p in EXPECTED_PATHS}, paths
    assert len(body["errors"]) == len(EXPECTED_PATHS)
    # Nothing was created.
    assert client.get("/api/records?state=draft", headers=depositor.headers).json()["items"] == []


def test_update_lists_every_metadata_and_access_error(client: TestClient, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    response = client.put(
        f"/api/records/{draft['id']}",
        json={"metadata": many_problems(), "access": {"level": "secret", "until": "x"}},
        headers=depositor.headers,
    )
    body = assert_problem(response, 422)
    paths = paths_of(body)
    assert {f"metadata.{p}" for p in EXPECTED_PATHS} | {"access.level", "access.until"} <= set(paths), paths
    # Nothing changed.
    again = client.get(f"/api/records/{draft['id']}", headers=depositor.headers).json()
    assert again["metadata"] == draft["metadata"]
    assert again["access"] == draft["access"]


def test_create_reports_metadata_and_access_errors_together(client: TestClient, depositor: Account) -> None:
    body = {"metadata": minimal_metadata(language="english!"), "access": {"level": "embargoed"}}
    problem = assert_problem(client.post("/api/records", json=body, headers=depositor.headers), 422)
    assert {"metadata.language", "access.embargo_until"} <= set(paths_of(problem)), problem


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("orcid", BAD_ORCID, "metadata.creators.0.orcid"),
        ("orcid", "0000-0002-1825", "metadata.creators.0.orcid"),
        ("ror", BAD_ROR, "metadata.creators.0.affiliations.0.ror"),
        ("ror", "https://ror.org/00000000z", "metadata.creators.0.affiliations.0.ror"),
        ("spdx", BAD_SPDX, "metadata.rightsList.0.rightsIdentifier"),
        ("spdx", "MIT AND (", "metadata.rightsList.0.rightsIdentifier"),
    ],
)
def test_malformed_identifiers_are_named(
    client: TestClient, depositor: Account, field: str, value: str, path: str
) -> None:
    if field == "orcid":
        meta = minimal_metadata(creators=[{"familyName": "Silva", "orcid": value}])
    elif field == "ror":
        meta = minimal_metadata(creators=[{"familyName": "Silva", "affiliations": [{"name": "UAN", "ror": value}]}])
    else:
        meta = minimal_metadata(rightsList=[{"rightsIdentifier": value}])
    body = assert_problem(client.post("/api/records", json={"metadata": meta}, headers=depositor.headers), 422)
    errors = paths_of(body)
    assert path in errors, errors
    message = errors[path]
    named = value.split()[0] if field == "spdx" else value
    assert named in message, message
    assert {"orcid": "ORCID", "ror": "ROR", "spdx": "SPDX"}[field] in message, message


def test_valid_identifiers_are_normalized(client: TestClient, depositor: Account) -> None:
    meta = minimal_metadata(
        creators=[
            {
                "familyName": "Silva",
                "orcid": "https://orcid.org/0000-0002-1825-0097",
                "affiliations": [{"name": "UAN", "ror": "https://ror.org/02mhbdp94"}],
            }
        ],
        rightsList=[{"rightsIdentifier": "mit"}],
    )
    response = client.post("/api/records", json={"metadata": meta}, headers=depositor.headers)
    assert response.status_code == 201, response.text
    saved = response.json()["metadata"]
    assert saved["creators"][0]["orcid"] == "0000-0002-1825-0097"
    assert saved["rightsList"][0]["rightsIdentifier"] == "MIT"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"metadata": minimal_metadata(creater="x")}, "metadata.creater"),
        ({"metadata": minimal_metadata(titles=[{"title": "T", "subtitle": "S"}])}, "metadata.titles.0.subtitle"),
        ({"metadata": minimal_metadata(), "acess": {"level": "open"}}, "acess"),
        ({"metadata": minimal_metadata(), "access": {"level": "open", "until": "2030-01-01"}}, "access.until"),
    ],
)
def test_unknown_properties_are_errors(client: TestClient, depositor: Account, body: dict, path: str) -> None:
    problem = assert_problem(client.post("/api/records", json=body, headers=depositor.headers), 422)
    assert path in paths_of(problem), problem


@pytest.mark.parametrize(
    "access",
    [
        {"level": "secret"},
        {"level": "embargoed"},
        {"level": "embargoed", "embargo_until": "next year"},
        {"level": "open", "embargo_until": "2030-01-01"},
        "open",
    ],
)
def test_invalid_access(client: TestClient, depositor: Account, access: Any) -> None:
    body = assert_problem(
        client.post("/api/records", json={"metadata": minimal_metadata(), "access": access}, headers=depositor.headers),
        422,
    )
    assert all(e["path"].startswith("access") for e in body["errors"]), body


@pytest.mark.parametrize("metadata", [[], "a string", 42, {"titles": "not a list"}, {"titles": [{}]}])
def test_wrongly_shaped_metadata(client: TestClient, depositor: Account, metadata: Any) -> None:
    body = assert_problem(client.post("/api/records", json={"metadata": metadata}, headers=depositor.headers), 422)
    assert body["errors"], body


# -- non-JSON and wrongly shaped bodies ------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b'{"metadata": {"titles": [}', "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'"just a string"', "application/json"),
        (b"metadata=x", "application/x-www-form-urlencoded"),
        (b"plain words", "text/plain"),
    ],
)
def test_non_json_bodies(client: TestClient, depositor: Account, content: bytes, content_type: str) -> None:
    draft = create_draft(client, depositor)
    headers = depositor.headers | {"Content-Type": content_type}
    for method, url in (
        ("POST", "/api/records"),
        ("PUT", f"/api/records/{draft['id']}"),
        ("POST", f"/api/records/{draft['id']}/withdraw"),
    ):
        response = client.request(method, url, content=content, headers=headers)
        assert_problem(response, 422)
    assert len(client.get("/api/records?state=draft", headers=depositor.headers).json()["items"]) == 1


def test_update_needs_a_body(client: TestClient, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    assert_problem(client.put(f"/api/records/{draft['id']}", headers=depositor.headers), 422)


# -- upload limits ----------------------------------------------------------------------------------


def assert_nothing_stored(node: Node) -> None:
    assert stored_blobs(node) == []
    assert blob_rows(node) == []
    assert file_row_count(node) == 0
    assert tmp_leftovers(node) == []


def test_upload_over_the_limit_with_content_length(
    small_client: TestClient, small_node: Node, small_depositor: Account
) -> None:
    draft = create_draft(small_client, small_depositor)
    response = small_client.put(
        f"/api/records/{draft['id']}/files/big.bin",
        content=os.urandom(SMALL_LIMIT + 1),
        headers=small_depositor.headers,
    )
    body = assert_problem(response, 413)
    assert str(SMALL_LIMIT) in body["detail"]
    assert_nothing_stored(small_node)
    assert small_client.get(f"/api/records/{draft['id']}/files", headers=small_depositor.headers).json()["items"] == []


def test_upload_over_the_limit_streamed(small_client: TestClient, small_node: Node, small_depositor: Account) -> None:
    draft = create_draft(small_client, small_depositor)

    def body():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield os.urandom(300)

    response = small_client.put(
        f"/api/records/{draft['id']}/files/big.bin", content=body(), headers=small_depositor.headers
    )
    body_ = assert_problem(response, 413)
    assert str(SMALL_LIMIT) in body_["detail"]
    assert_nothing_stored(small_node)


def test_upload_at_the_limit_is_accepted(small_client: TestClient, small_node: Node, small_depositor: Account) -> None:
    draft = create_draft(small_client, small_depositor)
    entry = upload(small_client, small_depositor, draft["id"], "exact.bin", os.urandom(SMALL_LIMIT))
    assert entry["size"] == SMALL_LIMIT
    assert len(stored_blobs(small_node)) == 1


def test_replacing_with_an_oversized_upload_keeps_the_old_file(
    small_client: TestClient, small_node: Node, small_depositor: Account
) -> None:
    draft = create_draft(small_client, small_depositor)
    upload(small_client, small_depositor, draft["id"], "f.bin", b"small")
    response = small_client.put(
        f"/api/records/{draft['id']}/files/f.bin", content=b"x" * (SMALL_LIMIT * 2), headers=small_depositor.headers
    )
    assert_problem(response, 413)
    got = small_client.get(f"/api/records/{draft['id']}/files/f.bin", headers=small_depositor.headers)
    assert got.content == b"small"
    assert file_row_count(small_node) == 1
    assert len(stored_blobs(small_node)) == 1
    assert tmp_leftovers(small_node) == []


# -- unknown ids ------------------------------------------------------------------------------------

UNKNOWN = "zzzzz-zzzzz"


@pytest.mark.parametrize(
    "unknown",
    [UNKNOWN, "no-such-record", "x" * 300, "%C3%A9t%C3%A9", "%00", "a%00b", "%F0%9F%A6%95", "0", "-1", "'%20OR%201=1"],
)
def test_unknown_ids_are_404_everywhere(
    client: TestClient, node: Node, depositor: Account, admin: Account, unknown: str
) -> None:
    routes = [
        ("GET", f"/api/records/{unknown}"),
        ("PUT", f"/api/records/{unknown}"),
        ("DELETE", f"/api/records/{unknown}"),
        ("POST", f"/api/records/{unknown}/publish"),
        ("GET", f"/api/records/{unknown}/versions"),
        ("POST", f"/api/records/{unknown}/versions"),
        ("POST", f"/api/records/{unknown}/withdraw"),
        ("GET", f"/api/records/{unknown}/files"),
        ("PUT", f"/api/records/{unknown}/files/data.csv"),
        ("DELETE", f"/api/records/{unknown}/files/data.csv"),
        ("GET", f"/api/records/{unknown}/files/data.csv"),
        ("HEAD", f"/api/records/{unknown}/files/data.csv"),
        ("GET", f"/records/{unknown}/files/data.csv"),
        ("HEAD", f"/records/{unknown}/files/data.csv"),
    ]
    bodies = {"PUT": {"metadata": minimal_metadata()}, "POST": {"reason": "test"}}
    for account in (depositor, admin):
        for method, url in routes:
            kwargs: dict[str, Any] = {"headers": account.headers}
            if url.endswith("data.csv") and method == "PUT":
                kwargs["content"] = b"a,b\n"
            elif method in bodies and not url.endswith("/publish") and not url.endswith("/versions"):
                kwargs["json"] = bodies[method]
            response = client.request(method, url, **kwargs)
            if method == "HEAD":
                assert response.status_code == 404, f"{method} {url}"
            else:
                assert_problem(response, 404)
    page = client.get(f"/records/{unknown}")
    assert page.status_code == 404
    assert_nothing_stored(node)


def test_unknown_file_key_is_404(client: TestClient, depositor: Account) -> None:
    version = published_record(client, depositor)
    for prefix in ("/api/records", "/records"):
        body = assert_problem(client.get(f"{prefix}/{version['id']}/files/missing.csv"), 404)
        assert "missing.csv" in body["detail"]


# -- conflicts: published versions never change -------------------------------------------------


def test_published_versions_cannot_be_changed(
    client: TestClient, node: Node, depositor: Account, admin: Account
) -> None:
    version = published_record(client, depositor, {"data.csv": b"a,b\n"})
    vid, rid = version["id"], version["record_id"]
    blobs_before = stored_blobs(node)
    for account in (depositor, admin):
        h = account.headers
        assert_problem(client.put(f"/api/records/{vid}", json={"metadata": minimal_metadata()}, headers=h), 409)
        assert_problem(client.put(f"/api/records/{vid}", json={"access": {"level": "restricted"}}, headers=h), 409)
        assert_problem(client.put(f"/api/records/{vid}/files/new.csv", content=b"new", headers=h), 409)
        assert_problem(client.put(f"/api/records/{vid}/files/data.csv", content=b"changed", headers=h), 409)
        assert_problem(client.delete(f"/api/records/{vid}/files/data.csv", headers=h), 409)
        assert_problem(client.post(f"/api/records/{vid}/publish", headers=h), 409)
        assert_problem(client.delete(f"/api/records/{vid}", headers=h), 409)
        # The concept id is not a version to edit either.
        assert_problem(client.put(f"/api/records/{rid}/files/new.csv", content=b"new", headers=h), 409)
        assert_problem(client.put(f"/api/records/{rid}", json={"metadata": minimal_metadata()}, headers=h), 409)
        assert_problem(client.post(f"/api/records/{rid}/publish", headers=h), 409)
    after = client.get(f"/api/records/{vid}").json()
    assert after["metadata"] == version["metadata"]
    assert after["access"] == version["access"]
    assert [f["key"] for f in after["files"]] == ["data.csv"]
    assert client.get(f"/api/records/{vid}/files/data.csv").content == b"a,b\n"
    assert stored_blobs(node) == blobs_before
    assert tmp_leftovers(node) == []


def test_withdrawing_a_draft_or_an_unpublished_record_is_a_conflict(client: TestClient, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    for any_id in (draft["id"], draft["record_id"]):
        response = client.post(f"/api/records/{any_id}/withdraw", json={"reason": "x"}, headers=depositor.headers)
        assert_problem(response, 409)
    assert client.get(f"/api/records/{draft['id']}", headers=depositor.headers).json()["state"] == "draft"


def test_new_version_of_an_unpublished_record_is_a_conflict(client: TestClient, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    assert_problem(client.post(f"/api/records/{draft['record_id']}/versions", headers=depositor.headers), 409)


# -- authentication and authorization -----------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    ["Bearer osn_not-a-real-token", "Bearer ", "Bearer", "Basic dXNlcjpwYXNz", "osn_token-without-scheme", "Token x"],
)
def test_bad_tokens_are_401(client: TestClient, depositor: Account, authorization: str) -> None:
    version = published_record(client, depositor)
    headers = {"Authorization": authorization}
    for method, url, kwargs in (
        ("GET", "/api/records", {}),
        ("GET", f"/api/records/{version['id']}", {}),
        ("GET", f"/api/records/{version['id']}/files/data.csv", {}),
        ("GET", "/api/me", {}),
        ("POST", "/api/records", {"json": {"metadata": minimal_metadata()}}),
        ("POST", f"/api/records/{version['id']}/versions", {}),
        ("POST", f"/api/records/{version['id']}/withdraw", {"json": {"reason": "x"}}),
    ):
        response = client.request(method, url, headers=headers, **kwargs)
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].lower().startswith("bearer")
    assert client.get(f"/api/records/{version['id']}").json()["state"] == "published"


def test_writes_without_a_token_are_401(client: TestClient, node: Node, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    published = published_record(client, depositor)
    vid = draft["id"]
    for method, url, kwargs in (
        ("POST", "/api/records", {"json": {"metadata": minimal_metadata()}}),
        ("POST", f"/api/records/{published['id']}/versions", {}),
        ("POST", f"/api/records/{published['id']}/withdraw", {"json": {"reason": "x"}}),
    ):
        assert_problem(client.request(method, url, **kwargs), 401)
    # The draft itself is invisible to an anonymous writer: 401 or 404, never a change.
    for method, url, kwargs in (
        ("PUT", f"/api/records/{vid}", {"json": {"metadata": minimal_metadata()}}),
        ("DELETE", f"/api/records/{vid}", {}),
        ("POST", f"/api/records/{vid}/publish", {}),
        ("PUT", f"/api/records/{vid}/files/x.csv", {"content": b"x"}),
    ):
        response = client.request(method, url, **kwargs)
        assert response.status_code in (401, 404), f"{method} {url}: {response.text}"
        assert_problem(response, response.status_code)
    assert client.get(f"/api/records/{vid}", headers=depositor.headers).json()["state"] == "draft"
    assert client.get(f"/api/records/{published['id']}").json()["state"] == "published"
    assert file_row_count(node) == 1  # the published record's one file


def test_other_depositors_may_not_change_a_record(
    client: TestClient, node: Node, depositor: Account, other_depositor: Account
) -> None:
    published = published_record(client, depositor, {"data.csv": b"a,b\n"})
    draft = client.post(f"/api/records/{published['id']}/versions", headers=depositor.headers).json()
    h = other_depositor.headers
    # The published version is public, so changing it is forbidden rather than missing.
    assert_problem(client.post(f"/api/records/{published['record_id']}/versions", headers=h), 403)
    assert_problem(client.post(f"/api/records/{published['id']}/withdraw", json={"reason": "x"}, headers=h), 403)
    assert_problem(client.put(f"/api/records/{published['id']}", json={"metadata": {}}, headers=h), 403)
    # The draft is private to its owner: to anyone else it does not exist.
    for method, url, kwargs in (
        ("PUT", f"/api/records/{draft['id']}", {"json": {"metadata": minimal_metadata()}}),
        ("DELETE", f"/api/records/{draft['id']}", {}),
        ("POST", f"/api/records/{draft['id']}/publish", {}),
        ("PUT", f"/api/records/{draft['id']}/files/x.csv", {"content": b"x"}),
        ("DELETE", f"/api/records/{draft['id']}/files/data.csv", {}),
    ):
        response = client.request(method, url, headers=h, **kwargs)
        assert response.status_code in (403, 404), f"{method} {url}: {response.text}"
        assert_problem(response, response.status_code)
    assert client.get(f"/api/records/{draft['id']}", headers=depositor.headers).json()["state"] == "draft"
    assert [
        f["key"] for f in client.get(f"/api/records/{draft['id']}/files", headers=depositor.headers).json()["items"]
    ] == ["data.csv"]
    assert file_row_count(node) == 2


def test_staff_may_edit_a_draft(client: TestClient, depositor: Account, curator: Account) -> None:
    draft = create_draft(client, depositor)
    response = client.put(
        f"/api/records/{draft['id']}",
        json={"metadata": minimal_metadata(version="1.0")},
        headers=curator.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["metadata"]["version"] == "1.0"


# -- listing parameters ---------------------------------------------------------------------------


def _cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!!",
        "%00",
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        _cursor({"a": 1}),
        _cursor(5),
        _cursor([1, 2]),
        _cursor(["not a date", "x"]),
        _cursor(["2020-01-01T00:00:00+00:00"]),
        _cursor(["2020-01-01T00:00:00+00:00", "a", "b"]),
        _cursor(["2020-01-01T00:00:00+00:00", "\u0000"]),
        _cursor(["2020-01-01T00:00:00+00:00", "\ud800"]),
        _cursor(["2020-01-01T00:00:00+00:00", None]),
        _cursor(["2020-01-01T00:00:00+00:00", ["x"]]),
        _cursor(["0001-01-01T00:00:00+14:00", "x"]),
        _cursor(["9999-12-31T23:59:59-14:00", "x"]),
        _cursor(["2020-01-01", "x" * 10_000]),
    ],
)
def test_bad_cursor(client: TestClient, depositor: Account, cursor: str) -> None:
    for _ in range(2):
        published_record(client, depositor)
    for state, headers in (("published", {}), ("draft", depositor.headers)):
        response = client.get("/api/records", params={"cursor": cursor, "state": state, "size": 1}, headers=headers)
        assert response.status_code < 500, response.text
        if response.status_code != 200:
            assert_problem(response, 422)


@pytest.mark.parametrize("cursor", ["garbage", "!!!!", _cursor({"a": 1}), _cursor(5), _cursor(["not a date", "x"])])
def test_malformed_cursor_is_422(client: TestClient, cursor: str) -> None:
    body = assert_problem(client.get("/api/records", params={"cursor": cursor}), 422)
    assert "cursor" in body["detail"]


@pytest.mark.parametrize("size", ["0", "-1", "201", "100000", "abc", "1.5", ""])
def test_size_out_of_range(client: TestClient, size: str) -> None:
    body = assert_problem(client.get(f"/api/records?size={size}"), 422)
    assert any(e["path"] == "query.size" or "size" in e["path"] for e in body["errors"]), body


@pytest.mark.parametrize("state", ["withdrawn", "all", "", "DRAFT"])
def test_unknown_state(client: TestClient, depositor: Account, state: str) -> None:
    body = assert_problem(client.get(f"/api/records?state={state}", headers=depositor.headers), 422)
    assert "state" in body["detail"]


# -- every error is a problem ----------------------------------------------------------------------


def test_unknown_routes_and_methods_are_problems(client: TestClient) -> None:
    assert_problem(client.get("/api/nothing-here"), 404)
    assert_problem(client.patch("/api/records"), 405)
    assert_problem(client.delete("/api/records"), 405)


# -- text the database or the encoder could choke on -----------------------------------------------


@pytest.mark.parametrize("text", ["nul\u0000byte", "lone \ud800 surrogate", "emoji \U0001f995 ok", "x" * 5000])
def test_awkward_text_never_breaks_the_node(client: TestClient, depositor: Account, text: str) -> None:
    """Odd characters in titles and reasons are refused or stored; either way no 5xx, on any route."""
    body = json.dumps({"metadata": minimal_metadata(titles=[{"title": text}])})
    created = client.post(
        "/api/records", content=body, headers=depositor.headers | {"Content-Type": "application/json"}
    )
    assert created.status_code in (201, 422), created.text
    if created.status_code == 422:
        assert_problem(created, 422)
        version = published_record(client, depositor)
    else:
        vid = created.json()["id"]
        upload(client, depositor, vid, "data.csv", b"a\n")
        published = client.post(f"/api/records/{vid}/publish", headers=depositor.headers)
        assert published.status_code == 200, published.text
        version = published.json()
        assert version["metadata"]["titles"][0]["title"] == text
        for url in (f"/api/records/{vid}", f"/records/{vid}", "/api/records", "/"):
            assert client.get(url).status_code == 200, url
    reason = json.dumps({"reason": text})
    withdrawn = client.post(
        f"/api/records/{version['id']}/withdraw",
        content=reason,
        headers=depositor.headers | {"Content-Type": "application/json"},
    )
    assert withdrawn.status_code in (200, 422), withdrawn.text
    if withdrawn.status_code == 200:
        assert client.get(f"/api/records/{version['id']}").status_code == 410
        assert client.get(f"/records/{version['id']}").status_code == 410
    else:
        assert_problem(withdrawn, 422)
        assert client.get(f"/api/records/{version['id']}").status_code == 200


@pytest.mark.parametrize("content_type", ["text/plain; " + "x=y; " * 100, "text/plain; charset=utf-8"])
def test_odd_upload_content_types(client: TestClient, node: Node, depositor: Account, content_type: str) -> None:
    draft = create_draft(client, depositor)
    response = client.put(
        f"/api/records/{draft['id']}/files/f.txt",
        content=b"hello",
        headers=depositor.headers | {"Content-Type": content_type},
    )
    assert response.status_code in (201, 422), response.text
    if response.status_code == 201:
        got = client.get(f"/api/records/{draft['id']}/files/f.txt", headers=depositor.headers)
        assert got.status_code == 200
        assert got.content == b"hello"
        assert got.headers["content-type"] == content_type
    else:
        assert_problem(response, 422)
        assert_nothing_stored(node)
