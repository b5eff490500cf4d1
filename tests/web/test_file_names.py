"""File names that hide or reorder characters are refused on every way in, with a clear 422.

A name with U+202E (RIGHT-TO-LEFT OVERRIDE) shows "report\u202efdp.exe" as "reportexe.pdf": a
reader would open a program believing it a PDF. The rule lives in ``validate_file_key`` (controls,
format characters, surrogates, line and paragraph separators), so each route below reaches it;
ZWNJ and ZWJ, which scripts and emoji need, stay allowed.
"""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from osnode.domain.records import validate_file_key
from osnode.services.node import Node
from tests.conftest import Account
from tests.web.conftest import assert_problem, create_draft, file_row_count, upload

HIDDEN = {
    "right-to-left override": "report\u202efdp.exe",
    "left-to-right override": "a\u202db.csv",
    "right-to-left isolate": "a\u2067b.csv",
    "pop directional isolate": "a\u2069b.csv",
    "right-to-left mark": "a\u200fb.csv",
    "zero width space": "a\u200bb.csv",
    "byte order mark": "\ufeffdata.csv",
    "line separator": "a\u2028b.csv",
    "paragraph separator": "a\u2029b.csv",
    "bell": "a\u0007b.csv",
    "C1 control": "a\u0085b.csv",
}
# Persian "mi-khaham" needs ZWNJ; the scientist emoji is woman + ZWJ + microscope.
ALLOWED = ["\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645.csv", "\U0001f469\u200d\U0001f52c.txt", "données.csv"]
NAMES = pytest.mark.parametrize("name", list(HIDDEN.values()), ids=list(HIDDEN))
TUS = {"Tus-Resumable": "1.0.0"}


def tus_metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def assert_refused_clearly(body: dict, name: str) -> None:
    hidden = next(c for c in name if c in "".join(HIDDEN.values()) and not c.isalnum() and c not in ".")
    assert f"U+{ord(hidden):04X}" in body["detail"], body
    assert hidden not in body["detail"]  # the misleading name is not shown back


@pytest.mark.parametrize("name", list(HIDDEN.values()) + ["a\ud800b.csv"], ids=[*HIDDEN, "lone surrogate"])
def test_rule_refuses_hidden_characters(name: str) -> None:
    with pytest.raises(ValueError, match=r"U\+[0-9A-F]{4}"):
        validate_file_key(name)


@pytest.mark.parametrize("name", ALLOWED)
def test_rule_keeps_joiners_and_letters(name: str) -> None:
    assert validate_file_key(name) == name


@NAMES
def test_api_put_refuses(client: TestClient, node: Node, depositor: Account, name: str) -> None:
    draft = create_draft(client, depositor)
    response = client.put(f"/api/records/{draft['id']}/files/{quote(name)}", content=b"x", headers=depositor.headers)
    assert_refused_clearly(assert_problem(response, 422), name)
    assert file_row_count(node) == 0


@NAMES
def test_tus_upload_to_a_draft_refuses(client: TestClient, node: Node, depositor: Account, name: str) -> None:
    draft = create_draft(client, depositor)
    headers = depositor.headers | TUS | {"Upload-Length": "1", "Upload-Metadata": tus_metadata(filename=name)}
    response = client.post(f"/api/records/{draft['id']}/uploads", headers=headers)
    assert_refused_clearly(assert_problem(response, 422), name)
    assert response.headers.get("location") is None


@NAMES
def test_tus_upload_naming_the_draft_in_metadata_refuses(client: TestClient, depositor: Account, name: str) -> None:
    draft = create_draft(client, depositor)
    meta = tus_metadata(filename=name, version_id=draft["id"])
    response = client.post(
        "/api/uploads", headers=depositor.headers | TUS | {"Upload-Length": "1", "Upload-Metadata": meta}
    )
    assert_refused_clearly(assert_problem(response, 422), name)


# Multipart clients escape control characters in a filename (the HTML form encoding), so those never
# arrive as such through a form; the rest do.
FORM_NAMES = {k: v for k, v in HIDDEN.items() if k not in ("bell", "C1 control")}


@pytest.mark.parametrize("name", list(FORM_NAMES.values()), ids=list(FORM_NAMES))
def test_form_upload_refuses_with_a_page(client: TestClient, node: Node, depositor: Account, name: str) -> None:
    draft = create_draft(client, depositor)
    response = client.post(
        f"/records/{draft['id']}/upload",
        headers=depositor.headers,
        files={"file": (name, b"x", "text/csv")},
        follow_redirects=False,
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert f"U+{ord(next(c for c in name if not c.isalnum() and c != '.')):04X}" in response.text
    assert file_row_count(node) == 0


@pytest.mark.parametrize("name", ALLOWED)
def test_names_that_need_joiners_are_taken(client: TestClient, depositor: Account, name: str) -> None:
    draft = create_draft(client, depositor)
    assert upload(client, depositor, draft["id"], quote(name), b"x")["key"] == name
