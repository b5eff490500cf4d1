"""The upload page of a draft, without JavaScript: a multipart form streamed into the draft, then a redirect
back to the page. Bad tokens, other people's drafts and published versions get the page with a clear message
and a 4xx, never a 5xx."""

from __future__ import annotations

import gzip
import hashlib
import os

from fastapi.testclient import TestClient
from lxml import html

from osnode.services.node import Node
from tests.conftest import Account
from tests.web.conftest import create_draft, published_record, sha256

PAGE_BUDGET = 30 * 1024


def post_form(client: TestClient, version_id: str, token: str, name: str, data: bytes) -> object:
    """The form as a program sends it, with a bearer token (a browser's session is tested in test_deposit_pages)."""
    return client.post(
        f"/records/{version_id}/upload",
        headers={"Authorization": f"Bearer {token}"} if token.strip() else {},
        files={"file": (name, data, "text/csv")},
        follow_redirects=False,
    )


def test_page_offers_a_plain_form_and_a_small_script(client: TestClient, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    response = client.get(f"/records/{draft['id']}/upload")
    assert response.status_code == 200
    doc = html.fromstring(response.text)
    form = doc.get_element_by_id("upload-form")
    assert form.get("method") == "post" and form.get("enctype") == "multipart/form-data"
    assert form.get("action") == f"/records/{draft['id']}/upload"
    assert not doc.xpath("//input[@name='token']")  # the session authenticates: no API token is typed in
    assert doc.xpath("//form[@id='upload-form']//input[@name='csrf']")
    assert doc.get_element_by_id("file").get("type") == "file"
    assert form.get("data-create") == f"/api/records/{draft['id']}/uploads"
    # No external scripts or styles: the script is inline.
    assert not doc.xpath("//script[@src]") and not doc.xpath("//link[@rel='stylesheet']")
    assert len(gzip.compress(response.content)) < PAGE_BUDGET
    assert len(response.content) < PAGE_BUDGET


def test_owner_sees_title_and_files(client: TestClient, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    client.put(f"/api/records/{draft['id']}/files/a.txt", content=b"hello", headers=depositor.headers)
    response = client.get(f"/records/{draft['id']}/upload", headers=depositor.headers)
    assert response.status_code == 200
    assert draft["metadata"]["titles"][0]["title"] in response.text
    assert "a.txt" in response.text and sha256(b"hello") in response.text
    landing = html.fromstring(client.get(f"/records/{draft['id']}", headers=depositor.headers).text)
    assert landing.xpath(f"//a[@href='/records/{draft['id']}/upload']")


def test_published_landing_page_has_no_upload_link(client: TestClient, depositor: Account) -> None:
    record = published_record(client, depositor)
    landing = html.fromstring(client.get(f"/records/{record['id']}").text)
    assert not landing.xpath("//a[contains(@href, '/upload')]")


def test_form_upload_streams_into_the_draft(client: TestClient, node: Node, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    data = os.urandom(3 * 1024 * 1024 + 17)  # several read chunks
    response = post_form(client, draft["id"], depositor.token, "table.csv", data)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(f"/records/{draft['id']}/upload?")
    listed = client.get(f"/api/records/{draft['id']}/files", headers=depositor.headers).json()["items"]
    assert [(f["key"], f["size"], f["checksum"]) for f in listed] == [
        ("table.csv", len(data), f"sha256:{hashlib.sha256(data).hexdigest()}")
    ]
    page = client.get(location)
    assert page.status_code == 200
    done = html.fromstring(page.text).get_element_by_id("upload-done")
    assert "table.csv" in done.text_content() and sha256(data) in done.text_content()
    assert node.blobs.read_bytes(sha256(data)) == data


def test_bad_token_is_refused_with_a_message(client: TestClient, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    response = post_form(client, draft["id"], "not-a-token", "x.csv", b"1")
    assert response.status_code == 401
    empty = post_form(client, draft["id"], "  ", "x.csv", b"1")  # nobody signed in
    assert empty.status_code == 401
    assert html.fromstring(empty.text).get_element_by_id("upload-error") is not None
    assert client.get(f"/api/records/{draft['id']}/files", headers=depositor.headers).json()["items"] == []


def test_missing_file_is_a_422_page(client: TestClient, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    response = client.post(f"/records/{draft['id']}/upload", headers=depositor.headers)
    assert response.status_code == 422
    assert "upload-error" in response.text


def test_other_users_draft_is_not_found(client: TestClient, depositor: Account, other_depositor: Account) -> None:
    draft = create_draft(client, depositor)
    response = post_form(client, draft["id"], other_depositor.token, "x.csv", b"1")
    assert response.status_code in (403, 404)
    assert "upload-error" in response.text
    assert client.get(f"/api/records/{draft['id']}/files", headers=depositor.headers).json()["items"] == []


def test_published_version_takes_no_files(client: TestClient, depositor: Account) -> None:
    record = published_record(client, depositor)
    response = post_form(client, record["id"], depositor.token, "more.csv", b"1,2\n")
    assert response.status_code == 409
    assert "upload-error" in response.text
    page = client.get(f"/records/{record['id']}/upload")
    assert page.status_code == 409
    assert html.fromstring(page.text).xpath("//form[@id='upload-form']") == []
    files = client.get(f"/api/records/{record['id']}/files").json()["items"]
    assert [f["key"] for f in files] == ["data.csv"]


def test_unknown_draft_is_not_found(client: TestClient, depositor: Account) -> None:
    response = post_form(client, "no-such-version", depositor.token, "x.csv", b"1")
    assert response.status_code == 404
    assert "upload-error" in response.text


def test_bad_file_name_is_a_422(client: TestClient, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    response = post_form(client, draft["id"], depositor.token, "../escape.csv", b"1")
    assert response.status_code == 422
    assert "upload-error" in response.text
    assert client.get(f"/api/records/{draft['id']}/files", headers=depositor.headers).json()["items"] == []


def test_page_is_translated(client: TestClient, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    english = client.get(f"/records/{draft['id']}/upload?lang=en").text
    french = client.get(f"/records/{draft['id']}/upload?lang=fr").text
    assert "Upload a file" in english
    assert "Upload a file" not in french
