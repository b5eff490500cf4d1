"""Who gets a version's files, on every route that serves them, for every access level and viewer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import create_draft, publish, sha256, upload

DATA = b"participant,age\n1,34\n2,51\n"
ETAG = f'"{sha256(DATA)}"'
KEY = "cohort.csv"
VIEWERS = ["anonymous", "owner", "other_depositor", "curator", "admin"]

_today = datetime.now(UTC).date()
FUTURE = (_today + timedelta(days=365)).isoformat()
PAST = (_today - timedelta(days=1)).isoformat()

# level -> what each viewer gets for the file: 200 (the bytes), 403 (refused), 404 (no such thing), 410 (withdrawn).
EXPECTED: dict[str, dict[str, int]] = {
    "open": dict.fromkeys(VIEWERS, 200),
    "embargoed-future": {"anonymous": 403, "owner": 200, "other_depositor": 403, "curator": 403, "admin": 200},
    "embargoed-past": dict.fromkeys(VIEWERS, 200),  # the embargo lifts by itself
    "embargoed-today": dict.fromkeys(VIEWERS, 200),  # ... on the day it names
    "restricted": {"anonymous": 403, "owner": 200, "other_depositor": 403, "curator": 403, "admin": 200},
    "metadata-only": {"anonymous": 403, "owner": 200, "other_depositor": 403, "curator": 403, "admin": 200},
    "draft": {"anonymous": 404, "owner": 200, "other_depositor": 404, "curator": 200, "admin": 200},
    "withdrawn": dict.fromkeys(VIEWERS, 410),
}

ACCESS: dict[str, dict[str, Any]] = {
    "open": {"level": "open"},
    "embargoed-future": {"level": "embargoed", "embargo_until": FUTURE},
    "embargoed-past": {"level": "embargoed", "embargo_until": PAST},
    "embargoed-today": {"level": "embargoed", "embargo_until": _today.isoformat()},
    "restricted": {"level": "restricted"},
    "metadata-only": {"level": "metadata-only"},
    "draft": {"level": "open"},
    "withdrawn": {"level": "open"},
}


def make_version(client: TestClient, owner: Account, level: str) -> dict[str, Any]:
    draft = create_draft(client, owner, access=ACCESS[level])
    upload(client, owner, draft["id"], KEY, DATA)
    if level == "draft":
        return draft
    published = publish(client, owner, draft["id"])
    if level == "withdrawn":
        out = client.post(f"/api/records/{draft['id']}/withdraw", json={"reason": "test"}, headers=owner.headers)
        assert out.status_code == 200, out.text
    return published


def headers_of(request: pytest.FixtureRequest, viewer: str, owner: Account) -> dict[str, str]:
    if viewer == "anonymous":
        return {}
    if viewer == "owner":
        return owner.headers
    account: Account = request.getfixturevalue(viewer)
    return account.headers


ROUTES = [
    (method, prefix, id_kind)
    for method in ("GET", "HEAD")
    for prefix in ("/api/records", "/records")
    for id_kind in ("id", "record_id")
]


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("level", list(EXPECTED))
def test_file_access(
    request: pytest.FixtureRequest, client: TestClient, depositor: Account, level: str, viewer: str
) -> None:
    """Every file route (API and HTML side, GET and HEAD, version id and record id) decides alike."""
    version = make_version(client, depositor, level)
    headers = headers_of(request, viewer, depositor)
    expected = EXPECTED[level][viewer]
    for method, prefix, id_kind in ROUTES:
        any_id = version[id_kind]
        url = f"{prefix}/{any_id}/files/{KEY}"
        where = f"{method} {url} as {viewer} ({level})"

        plain = client.request(method, url, headers=headers)
        assert plain.status_code == expected, where
        # Neither a validator nor a range may turn a refusal into a 304 or a 206.
        cached = client.request(method, url, headers=headers | {"If-None-Match": ETAG})
        ranged = client.request(method, url, headers=headers | {"Range": "bytes=0-3"})

        if expected == 200:
            assert plain.headers["etag"] == ETAG, where
            assert plain.headers["content-length"] == str(len(DATA)), where
            assert plain.content == (DATA if method == "GET" else b""), where
            public = level == "open"
            assert ("public" in plain.headers["cache-control"]) is public, where
            assert ("private" in plain.headers["cache-control"]) is not public, where
            assert cached.status_code == 304, where
            assert ranged.status_code == 206, where
            if method == "GET":
                assert ranged.content == DATA[:4], where
        else:
            assert cached.status_code == expected, where
            assert ranged.status_code == expected, where
            for refused in (plain, cached, ranged):
                assert DATA not in refused.content, where
                assert "etag" not in refused.headers, where
                assert refused.headers["content-type"].startswith("application/problem+json"), where
                if method == "GET":
                    assert refused.json()["status"] == expected, where


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("level", list(EXPECTED))
def test_metadata_and_file_list_visibility(
    request: pytest.FixtureRequest, client: TestClient, depositor: Account, level: str, viewer: str
) -> None:
    """Metadata of a published version is public whatever its access level; drafts stay private."""
    version = make_version(client, depositor, level)
    headers = headers_of(request, viewer, depositor)
    files_status = EXPECTED[level][viewer]
    if level == "draft":
        expected = files_status  # 404 to those who may not see it, else 200
    elif level == "withdrawn":
        expected = 410
    else:
        expected = 200
    for url in (
        f"/api/records/{version['id']}",
        f"/api/records/{version['record_id']}",
        f"/api/records/{version['id']}/files",
        f"/records/{version['id']}",
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == expected, f"{url} as {viewer} ({level})"
    if expected == 200:
        files = client.get(f"/api/records/{version['id']}/files", headers=headers).json()["items"]
        assert [f["key"] for f in files] == [KEY]
        page = client.get(f"/records/{version['id']}", headers=headers).text
        assert KEY in page
        # The landing page links the file only to those who may download it.
        assert (f"/records/{version['id']}/files/{KEY}" in page) is (files_status == 200)


@pytest.mark.parametrize("viewer", ["anonymous", "other_depositor"])
def test_draft_listing_and_versions_hide_drafts(
    request: pytest.FixtureRequest, client: TestClient, depositor: Account, viewer: str
) -> None:
    draft = make_version(client, depositor, "draft")
    headers = headers_of(request, viewer, depositor)
    for url in (
        f"/api/records/{draft['id']}/versions",
        f"/api/records/{draft['record_id']}/versions",
        f"/records/{draft['record_id']}",
    ):
        assert client.get(url, headers=headers).status_code == 404, url
    listed = client.get("/api/records", headers=headers).json()["items"]
    assert draft["record_id"] not in [i["record_id"] for i in listed]


def test_embargo_date_is_shown_and_kept(client: TestClient, depositor: Account) -> None:
    version = make_version(client, depositor, "embargoed-future")
    body = client.get(f"/api/records/{version['id']}").json()
    assert body["access"] == {"level": "embargoed", "embargo_until": FUTURE}
    assert FUTURE in client.get(f"/records/{version['id']}").text
    refused = client.get(f"/api/records/{version['id']}/files/{KEY}").json()
    assert FUTURE in refused["detail"]


def test_new_version_inherits_access(client: TestClient, depositor: Account) -> None:
    v1 = make_version(client, depositor, "restricted")
    v2 = client.post(f"/api/records/{v1['id']}/versions", headers=depositor.headers).json()
    assert v2["access"]["level"] == "restricted"
    publish(client, depositor, v2["id"])
    assert client.get(f"/api/records/{v2['id']}/files/{KEY}").status_code == 403
    assert client.get(f"/api/records/{v2['id']}/files/{KEY}", headers=depositor.headers).status_code == 200
