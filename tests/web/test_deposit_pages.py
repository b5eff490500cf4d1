"""The web deposit (/deposit/new, /deposit/{id}) and the workspace (/my): signed-in only, every button saves,
errors beside their fields, files in one post, publish, delete; and the attacks of issue 15."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from osnode.services.node import Node
from osnode.storage.catalog import versions
from tests.web.accounts_helpers import csrf_of, local_account, sign_in

HTML = {"Accept": "text/html"}
ORCID = "0000-0002-1825-0097"
ROR = "https://ror.org/02mhbdp94"


def signed_in(client: TestClient, node: Node, email: str = "ana@example.org") -> str:
    local_account(node, email)
    assert sign_in(client, email).status_code == 303
    return csrf_of(client, "/deposit/new")


def new_draft(client: TestClient, csrf: str, **fields: str) -> str:
    data = {"csrf": csrf, "action": "save", "titles.0.title": "Soil cores"} | fields
    response = client.post("/deposit/new", data=data, headers=HTML, follow_redirects=False)
    assert response.status_code == 303, response.text
    found = re.match(r"^/deposit/([^/?]+)\?done=saved$", response.headers["location"])
    assert found
    return found.group(1)


def complete(csrf: str) -> dict[str, str]:
    return {
        "csrf": csrf,
        "titles.0.title": "Soil cores",
        "creators.0.name": "Silva, Ana",
        "creators.0.orcid": ORCID,
        "creators.0.affiliations.0.name": "Universidade",
        "creators.0.affiliations.0.ror": ROR,
        "creators.1.name": "Lee, Min",
        "resourceType.resourceTypeGeneral": "Dataset",
        "publicationYear": "2026",
        "rightsList.0.rightsIdentifier": "CC-BY-4.0",
        "access.level": "open",
    }


def test_a_browser_without_a_session_is_sent_to_sign_in(client: TestClient) -> None:
    for path in ("/deposit/new", "/my"):
        response = client.get(path, headers=HTML, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=" + path.replace("/", "%2F")


def test_the_form_saves_publishes_and_the_workspace_lists_it(client: TestClient, node: Node) -> None:
    csrf = signed_in(client, node)
    page = client.get("/deposit/new", headers=HTML)
    assert page.status_code == 200 and len(page.content) <= 30_000
    assert 'value="CC-BY-4.0"' not in page.text or "CC-BY-4.0" in page.text
    version_id = new_draft(client, csrf)
    assert "Soil cores" in client.get("/my", headers=HTML).text
    refused = client.post(f"/deposit/{version_id}", data=complete(csrf) | {"action": "publish"}, headers=HTML)
    assert refused.status_code == 422 and 'id="files-e"' not in refused.text and 'href="#files"' in refused.text
    files = [("files", ("a.csv", b"x,y\n1,2\n", "text/csv"))]
    client.post(f"/deposit/{version_id}/files", data={"csrf": csrf}, files=files, headers=HTML)
    published = client.post(f"/deposit/{version_id}", data=complete(csrf) | {"action": "publish"}, headers=HTML,
                            follow_redirects=False)  # fmt: skip
    assert published.status_code == 303, published.text
    assert published.headers["location"] == f"/records/{version_id}"
    with node.engine.connect() as conn:
        row = conn.execute(select(versions).where(versions.c.id == version_id)).one()
    assert row.state == "published"
    assert [c["name"] for c in row.metadata["creators"]] == ["Silva, Ana", "Lee, Min"]
    assert row.metadata["creators"][0]["orcid"] == ORCID
    assert row.metadata["creators"][0]["affiliations"][0]["ror"] == ROR
    assert row.metadata["rightsList"][0]["rightsIdentifier"] == "CC-BY-4.0"
    my = client.get("/my", headers=HTML).text
    assert f"/records/{version_id}" in my and "New version" in my


def test_invalid_input_is_kept_and_its_error_stands_beside_the_field(client: TestClient, node: Node) -> None:
    csrf = signed_in(client, node)
    version_id = new_draft(client, csrf)
    bad = complete(csrf) | {"action": "save", "creators.0.orcid": "0000-0002-1825-0098"}
    response = client.post(f"/deposit/{version_id}", data=bad, headers=HTML)
    assert response.status_code == 422
    assert 'id="creators.0.orcid-e"' in response.text
    assert (
        'aria-describedby="creators.0.orcid-e"' in response.text
        or "aria-describedby=creators.0.orcid-e" in response.text
    )
    # A later visit (a closed tab) finds exactly what was typed, the invalid ORCID included.
    again = client.get(f"/deposit/{version_id}", headers=HTML).text
    assert 'value="0000-0002-1825-0098"' in again and 'value="Lee, Min"' in again


def test_rows_are_added_moved_and_removed_without_javascript(client: TestClient, node: Node) -> None:
    csrf = signed_in(client, node)
    version_id = new_draft(client, csrf)
    form = complete(csrf)
    moved = client.post(f"/deposit/{version_id}", data=form | {"action": "up:creators.1"}, headers=HTML)
    assert moved.status_code == 200
    assert moved.text.index('value="Lee, Min"') < moved.text.index('value="Silva, Ana"')
    added = client.post(f"/deposit/{version_id}", data=form | {"action": "add:creators"}, headers=HTML)
    assert 'name="creators.2.name"' in added.text
    removed = client.post(f"/deposit/{version_id}", data=form | {"action": "remove:creators.0"}, headers=HTML)
    assert 'value="Silva, Ana"' not in removed.text and 'value="Lee, Min"' in removed.text
    me = client.post(f"/deposit/{version_id}", data=form | {"action": "person:0"}, headers=HTML)
    assert 'name="creators.2.name" type="text" value="Ana Silva"' in me.text


def test_autosave_keeps_partial_input_and_names_the_fields_in_error(client: TestClient, node: Node) -> None:
    csrf = signed_in(client, node)
    version_id = new_draft(client, csrf)
    response = client.post(f"/deposit/{version_id}/autosave", data={"creators.0.orcid": "12"},
                           headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert response.status_code == 200
    assert any(e["field"].startswith("creators.0") for e in response.json()["errors"])
    assert 'value="12"' in client.get(f"/deposit/{version_id}", headers=HTML).text


def test_several_files_in_one_post_then_delete_the_draft(client: TestClient, node: Node) -> None:
    csrf = signed_in(client, node)
    version_id = new_draft(client, csrf)
    files = [("files", ("a.csv", b"x,y\n1,2\n", "text/csv")), ("files", ("b.txt", b"hello", "text/plain"))]
    sent = client.post(f"/deposit/{version_id}/files", data={"csrf": csrf}, files=files, headers=HTML,
                       follow_redirects=False)  # fmt: skip
    assert sent.status_code == 303
    page = client.get(f"/deposit/{version_id}", headers=HTML).text
    assert "a.csv" in page and "b.txt" in page
    assert client.get(f"/deposit/{version_id}/delete", headers=HTML).status_code == 200
    gone = client.post(f"/deposit/{version_id}/delete", data={"csrf": csrf}, headers=HTML, follow_redirects=False)
    assert gone.status_code == 303
    with node.engine.connect() as conn:
        assert conn.execute(select(versions).where(versions.c.id == version_id)).first() is None


def test_another_persons_draft_cannot_be_seen_edited_or_uploaded_to(client: TestClient, node: Node) -> None:
    csrf = signed_in(client, node)
    version_id = new_draft(client, csrf)
    client.cookies.clear()
    other = signed_in(client, node, "eve@example.org")
    assert client.get(f"/deposit/{version_id}", headers=HTML).status_code == 404
    edit = client.post(f"/deposit/{version_id}", data=complete(other) | {"action": "save"}, headers=HTML)
    assert edit.status_code in (403, 404)
    files = [("files", ("evil.txt", b"x", "text/plain"))]
    upload = client.post(f"/deposit/{version_id}/files", data={"csrf": other}, files=files, headers=HTML)
    assert upload.status_code in (403, 404)
    delete = client.post(f"/deposit/{version_id}/delete", data={"csrf": other}, headers=HTML)
    assert delete.status_code in (403, 404)
    with node.engine.connect() as conn:
        row = conn.execute(select(versions).where(versions.c.id == version_id)).one()
    assert row.metadata["titles"][0]["title"] == "Soil cores"


def test_a_post_without_the_csrf_token_changes_nothing(client: TestClient, node: Node) -> None:
    csrf = signed_in(client, node)
    version_id = new_draft(client, csrf)
    data = complete(csrf) | {"action": "save", "titles.0.title": "Changed"}
    del data["csrf"]
    assert client.post(f"/deposit/{version_id}", data=data, headers=HTML).status_code == 403
    assert client.post(f"/deposit/{version_id}/autosave", data=data).status_code == 403
    assert 'value="Soil cores"' in client.get(f"/deposit/{version_id}", headers=HTML).text


def test_html_in_every_field_is_escaped_and_oversized_fields_are_refused(client: TestClient, node: Node) -> None:
    csrf = signed_in(client, node)
    version_id = new_draft(client, csrf)
    evil = '"><script>alert(1)</script>%(x)s'
    data = {k: evil for k in complete(csrf) if k not in ("csrf",)} | {"csrf": csrf, "action": "save"}
    page = client.post(f"/deposit/{version_id}", data=data, headers=HTML)
    assert page.status_code == 422
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;%(x)s" in page.text  # escaped once, and a stray "%(" is text
    huge = client.post(f"/deposit/{version_id}", data={"csrf": csrf, "titles.0.title": "x" * 200_000}, headers=HTML)
    assert huge.status_code in (413, 422)
    after = client.get(f"/deposit/{version_id}", headers=HTML).text
    assert "x" * 1000 not in after and "&lt;script&gt;alert(1)" in after  # the oversized post changed nothing


def test_the_form_in_arabic_is_right_to_left_within_budget_and_identifiers_stay_left_to_right(
    client: TestClient, node: Node
) -> None:
    csrf = signed_in(client, node)
    version_id = new_draft(client, csrf)
    client.post(f"/deposit/{version_id}", data=complete(csrf) | {"action": "save"}, headers=HTML)
    page = client.get(f"/deposit/{version_id}?lang=ar", headers=HTML | {"Accept-Language": "ar"})
    assert page.status_code == 200
    assert '<html lang="ar" dir="rtl">' in page.text
    assert "احفظ المسودة" in page.text  # "Save draft"
    assert f'name="creators.0.orcid" type="text" value="{ORCID}" dir="ltr"' in page.text
    assert len(page.content) <= 30_000
    for path in ("/my", f"/deposit/{version_id}/delete"):
        other = client.get(path, headers=HTML | {"Accept-Language": "ar"})
        assert other.status_code == 200 and 'dir="rtl"' in other.text and len(other.content) <= 30_000


def test_a_datacite_xml_export_comes_back_as_the_same_metadata(client: TestClient, node: Node) -> None:
    csrf = signed_in(client, node)
    version_id = new_draft(client, csrf)
    client.post(f"/deposit/{version_id}/files", data={"csrf": csrf}, files=[("files", ("a.csv", b"1", "text/csv"))])
    rich = complete(csrf) | {"action": "publish", "descriptions.0.description": "Cores from the Kalahari.",
                             "subjects.0.subject": "soil", "subjects.0.subjectScheme": "keywords",
                             "language": "en", "version": "1.0"}  # fmt: skip
    assert client.post(f"/deposit/{version_id}", data=rich, headers=HTML, follow_redirects=False).status_code == 303
    exported = client.get(f"/records/{version_id}/export/datacite-xml")
    assert exported.status_code == 200
    files = {"metadata": ("datacite.xml", exported.content, "application/xml")}
    page = client.post("/deposit/import", data={"csrf": csrf}, files=files, headers=HTML)
    assert page.status_code == 200, page.text
    with node.engine.connect() as conn:
        rows = conn.execute(select(versions).where(versions.c.state == "draft")).all()
        original = conn.execute(select(versions.c.metadata).where(versions.c.id == version_id)).scalar_one()
    assert len(rows) == 1
    assert rows[0].metadata == original


def test_an_unreadable_metadata_file_is_a_clear_422(client: TestClient, node: Node) -> None:
    csrf = signed_in(client, node)
    files = {"metadata": ("evil.xml", b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>", "text/xml")}
    page = client.post("/deposit/import", data={"csrf": csrf}, files=files, headers=HTML)
    assert page.status_code == 422 and "root:" not in page.text
    with node.engine.connect() as conn:
        assert conn.execute(select(versions)).first() is None


def test_the_preview_is_the_landing_page_marked_as_a_draft_for_its_owner_only(client: TestClient, node: Node) -> None:
    csrf = signed_in(client, node)
    version_id = new_draft(client, csrf)
    form = client.get(f"/deposit/{version_id}", headers=HTML).text
    assert f'href="/records/{version_id}"' in form
    preview = client.get(f"/records/{version_id}", headers=HTML)
    assert preview.status_code == 200 and "Soil cores" in preview.text and ">draft<" in preview.text
    client.cookies.clear()
    assert client.get(f"/records/{version_id}", headers=HTML).status_code == 404
