"""Who may move a record's files to new readers: roles x access levels x operations.

Every operation that could hand a version's bytes to someone new (starting a new version, which
carries the files over; reading a draft's files; opening a draft's access; publishing; exporting;
replicating to a peer) must follow from one question: may this role read the record's files?
The expected answers are written out as tables, so the test states the policy instead of
mirroring the code.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from osnode.services import packages
from osnode.services.exports import EXPORTS
from osnode.services.node import Node
from osnode.storage.drafts import record_owners
from tests.conftest import Account, LiveServer
from tests.test_cli import fails, run_cli
from tests.web.conftest import assert_problem, create_draft, publish, sha256, upload
from tests.web.test_access import headers_of

DATA = b"participant,diagnosis\n1,rare-condition\n2,rare-condition\n"
KEY = "cohort.csv"
ROLES = ["anonymous", "other_depositor", "owner", "co_owner", "curator", "admin"]
FUTURE = (datetime.now(UTC).date() + timedelta(days=365)).isoformat()

LEVELS: dict[str, dict[str, Any]] = {
    "open": {"level": "open"},
    "embargoed": {"level": "embargoed", "embargo_until": FUTURE},
    "restricted": {"level": "restricted"},
    "metadata-only": {"level": "metadata-only"},
}

# Who may read the files of the published version, per level: the root of every other answer.
READERS = {
    "open": set(ROLES),
    "embargoed": {"owner", "co_owner", "admin"},
    "restricted": {"owner", "co_owner", "admin"},
    "metadata-only": {"owner", "co_owner", "admin"},
}


def _by_reading(level: str, reader: int, other: int, *, anonymous: int, other_depositor: int) -> dict[str, int]:
    """Staff and owners get ``reader`` when they may read the files, else ``other``."""
    table = {"anonymous": anonymous, "other_depositor": other_depositor}
    for role in ("owner", "co_owner", "curator", "admin"):
        table[role] = reader if role in READERS[level] else other
    return table


# operation -> level -> role -> HTTP status. Anonymous callers get 401 where the target is public
# (a published record) and 404 where it is a draft they may not know exists.
EXPECTED: dict[str, dict[str, dict[str, int]]] = {
    # POST /api/records/{record}/versions: the draft carries the files over.
    "new-version": {level: _by_reading(level, 201, 403, anonymous=401, other_depositor=403) for level in LEVELS},
    # GET a file of the draft the owner started.
    "read-draft-file": {level: _by_reading(level, 200, 403, anonymous=404, other_depositor=404) for level in LEVELS},
    # PUT the draft's access to open (a no-op for an open record).
    "change-access": {level: _by_reading(level, 200, 403, anonymous=404, other_depositor=404) for level in LEVELS},
    # Publish the draft its owner opened (the owner may: they read the files).
    "publish": {level: _by_reading(level, 200, 403, anonymous=404, other_depositor=404) for level in LEVELS},
    # Every metadata export answers; it names the files' URLs only to their readers (checked below).
    "export": {level: dict.fromkeys(ROLES, 200) for level in LEVELS},
    # GET /api/blobs/{sha256}, what a peer's replication fetches (a draft holds the blob too).
    "replicate": {level: {role: 200 if role in READERS[level] else 404 for role in ROLES} for level in LEVELS},
}


def _published(client: TestClient, owner: Account, level: str) -> dict[str, Any]:
    draft = create_draft(client, owner, access=LEVELS[level])
    upload(client, owner, draft["id"], KEY, DATA)
    return publish(client, owner, draft["id"])


def _owners_draft(client: TestClient, owner: Account, version: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/api/records/{version['record_id']}/versions", headers=owner.headers)
    assert response.status_code == 201, response.text
    return response.json()


def _run(
    client: TestClient, owner: Account, version: dict[str, Any], operation: str, headers: dict[str, str], reader: bool
) -> int:
    """Perform ``operation`` as the caller of ``headers`` (a ``reader`` of the published files or
    not); return the status, checking what came back."""
    if operation == "new-version":
        response = client.post(f"/api/records/{version['record_id']}/versions", headers=headers)
        return response.status_code
    if operation == "export":
        url = f"/records/{version['id']}/files/{KEY}"
        statuses, naming = set(), set()
        for name in (name for name, f in EXPORTS.items() if f.describes("Dataset")):  # JATS, DOAJ: articles only
            response = client.get(f"/records/{version['id']}/export/{name}", headers=headers)
            statuses.add(response.status_code)
            assert DATA not in response.content
            if url in response.text:
                naming.add(name)
        # Some formats (schema.org's distribution) name the files' URLs: only to their readers.
        assert bool(naming) is reader, naming
        assert len(statuses) == 1, statuses
        return statuses.pop()
    draft = _owners_draft(client, owner, version)
    if operation == "read-draft-file":
        response = client.get(f"/api/records/{draft['id']}/files/{KEY}", headers=headers)
        assert (DATA in response.content) is (response.status_code == 200)
        return response.status_code
    if operation == "change-access":
        response = client.put(f"/api/records/{draft['id']}", json={"access": {"level": "open"}}, headers=headers)
        return response.status_code
    if operation == "publish":
        opened = client.put(f"/api/records/{draft['id']}", json={"access": {"level": "open"}}, headers=owner.headers)
        assert opened.status_code == 200, opened.text
        return client.post(f"/api/records/{draft['id']}/publish", headers=headers).status_code
    assert operation == "replicate"
    response = client.get(f"/api/blobs/{sha256(DATA)}", headers=headers)
    assert (DATA in response.content) is (response.status_code == 200)
    return response.status_code


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("level", list(LEVELS))
@pytest.mark.parametrize("operation", list(EXPECTED))
def test_access_matrix(
    request: pytest.FixtureRequest,
    client: TestClient,
    depositor: Account,
    operation: str,
    level: str,
    role: str,
) -> None:
    version = _published(client, depositor, level)
    if role == "co_owner":  # another depositor the owner shared the record with (/my): the owner's rights
        shared_with: Account = request.getfixturevalue("other_depositor")
        with client.app.state.node.transaction() as tx:  # type: ignore[attr-defined]
            tx.execute(record_owners.insert().values(record_id=version["record_id"], user_id=shared_with.user.id,
                                                     added=datetime.now(UTC)))  # fmt: skip
        headers = shared_with.headers
    else:
        headers = headers_of(request, role, depositor)
    status = _run(client, depositor, version, operation, headers, role in READERS[level])
    assert status == EXPECTED[operation][level][role], f"{operation} on a {level} record as {role}"


# -- the audit's exploit, step by step ------------------------------------------------------------


def test_curator_cannot_carry_restricted_files_into_an_open_version(
    client: TestClient, depositor: Account, curator: Account
) -> None:
    """The audit: a curator refused a restricted file started a new version, downloaded the file
    from the draft, set the draft open and published it, making the bytes public."""
    v1 = _published(client, depositor, "restricted")
    assert client.get(f"/api/records/{v1['id']}/files/{KEY}", headers=curator.headers).status_code == 403

    started = client.post(f"/api/records/{v1['record_id']}/versions", headers=curator.headers)
    assert_problem(started, 403)
    assert "may not read" in started.json()["detail"]

    # Even with the draft its owner started, the curator gets no byte and cannot open it.
    draft = _owners_draft(client, depositor, v1)
    downloaded = client.get(f"/api/records/{draft['id']}/files/{KEY}", headers=curator.headers)
    assert_problem(downloaded, 403)
    assert DATA not in downloaded.content
    opened = client.put(f"/api/records/{draft['id']}", json={"access": {"level": "open"}}, headers=curator.headers)
    assert_problem(opened, 403)
    # Publishing as it stands is harmless: the files stay restricted.
    publish(client, curator, draft["id"])
    for any_id in (draft["id"], v1["record_id"]):
        refused = client.get(f"/api/records/{any_id}/files/{KEY}")
        assert refused.status_code == 403
        assert DATA not in refused.content
    assert client.get(f"/api/blobs/{sha256(DATA)}").status_code == 404


def test_a_new_version_keeps_the_record_owner(client: TestClient, depositor: Account, curator: Account) -> None:
    """A curator's new version is the record owner's: the owner sees and edits it, and the
    curator gains no owner's right to the files."""
    v1 = _published(client, depositor, "open")
    started = client.post(f"/api/records/{v1['record_id']}/versions", headers=curator.headers)
    assert started.status_code == 201, started.text
    draft = started.json()
    assert client.get(f"/api/records/{draft['id']}", headers=depositor.headers).status_code == 200
    restricted = client.put(
        f"/api/records/{draft['id']}", json={"access": {"level": "restricted"}}, headers=depositor.headers
    )
    assert restricted.status_code == 200, restricted.text
    # Now restricted, the draft's files are the owner's and the admins' only.
    assert client.get(f"/api/records/{draft['id']}/files/{KEY}", headers=curator.headers).status_code == 403
    assert client.get(f"/api/records/{draft['id']}/files/{KEY}", headers=depositor.headers).status_code == 200


def test_an_earlier_embargo_end_is_opening_up(client: TestClient, depositor: Account, curator: Account) -> None:
    """Moving an embargo's end closer opens the files sooner: only their readers may."""
    v1 = _published(client, depositor, "embargoed")
    draft = _owners_draft(client, depositor, v1)
    sooner = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    later = (datetime.now(UTC).date() + timedelta(days=3650)).isoformat()
    url = f"/api/records/{draft['id']}"
    assert_problem(
        client.put(url, json={"access": {"level": "embargoed", "embargo_until": sooner}}, headers=curator.headers), 403
    )
    # Closing further is no opening: a curator may.
    assert (
        client.put(
            url, json={"access": {"level": "embargoed", "embargo_until": later}}, headers=curator.headers
        ).status_code
        == 200
    )
    assert client.put(url, json={"access": {"level": "restricted"}}, headers=curator.headers).status_code == 200
    # The owner decides the release.
    assert (
        client.put(
            url, json={"access": {"level": "embargoed", "embargo_until": sooner}}, headers=depositor.headers
        ).status_code
        == 200
    )


# -- the bag export: bytes travel only when anyone may read them ----------------------------------


@pytest.mark.parametrize("level", list(LEVELS))
def test_package_export_carries_only_open_bytes(
    node: Node, client: TestClient, depositor: Account, level: str, tmp_path: Path
) -> None:
    version = _published(client, depositor, level)
    _owners_draft(client, depositor, version)  # a draft holding the same files must not change it
    out = tmp_path / "bag"
    summary = packages.export(node, out)
    carried = [p for p in out.rglob("*") if p.is_file() and p.read_bytes() == DATA]
    assert bool(carried) is (level == "open")
    assert summary.withheld_files == (0 if level == "open" else 1)


def test_cli_refuses_in_one_line(
    client: TestClient, depositor: Account, curator: Account, live_server: LiveServer
) -> None:
    """The CLI goes through the same rule and says so in one line, with a non-zero exit."""
    v1 = _published(client, depositor, "restricted")
    remote = ("--url", live_server.url, "--token", curator.token)
    line = fails(run_cli("new-version", v1["record_id"], *remote), "may not read")
    assert "restricted" in line


# -- who may see a draft submitted to a community ------------------------------------------------------

DRAFT_VIEWERS = ["anonymous", "other_depositor", "owner", "curator", "admin", "soil_curator", "rain_curator"]
# submission state of the draft in community 'soil' -> viewer -> GET /api/records/{draft} status. The curators of
# 'soil' (accounts without a staff role) read the draft while it waits for their decision, and only then.
DRAFT_SEEN: dict[str, dict[str, int]] = {
    state: {
        "anonymous": 404,
        "other_depositor": 404,
        "owner": 200,
        "curator": 200,  # the node-wide curator role reads every draft, as before
        "admin": 200,
        "soil_curator": 200 if state == "requested" else 404,
        "rain_curator": 404,
    }
    for state in ("not submitted", "requested", "declined")
}


@pytest.mark.parametrize("state", list(DRAFT_SEEN))
def test_a_communitys_curators_see_the_drafts_submitted_to_it(
    state: str, node: Node, client: TestClient, request: pytest.FixtureRequest, depositor: Account, admin: Account
) -> None:
    from osnode.services import communities, curation, users

    communities.create(node, admin.viewer, "soil", "Soil")
    communities.create(node, admin.viewer, "rain", "Rain")
    extra: dict[str, Account] = {}
    for slug in ("soil", "rain"):
        user = users.create_user(node, f"{slug}-curator", "depositor")
        extra[f"{slug}_curator"] = Account(user, users.create_token(node, user))
        with node.transaction() as tx:
            curation.add_curator(tx, slug, user.id)
    draft = create_draft(client, depositor)
    if state != "not submitted":
        curation.submit(node, depositor.viewer, "soil", draft["record_id"], "please")
    if state == "declined":
        curation.decide(node, admin.viewer, "soil", draft["record_id"], False, "no")
    for viewer, expected in DRAFT_SEEN[state].items():
        headers = extra[viewer].headers if viewer in extra else headers_of(request, viewer, depositor)
        got = client.get(f"/api/records/{draft['id']}", headers=headers).status_code
        assert got == expected, f"{viewer} on a draft {state}: {got}, expected {expected}"


# -- the admin pages: administrators only ------------------------------------------------------------

ADMIN_PAGES = [
    "/admin",
    "/admin/users",
    "/admin/settings",
    "/admin/peers",
    "/admin/fixity",
    "/admin/jobs",
    "/admin/outbox",
]
# role -> status of every admin page for an API client with that role's token (a browser with no session is
# sent to /login instead: tests/web/test_admin_pages.py).
ADMIN_EXPECTED = {"anonymous": 401, "other_depositor": 403, "owner": 403, "co_owner": 403, "curator": 403, "admin": 200}


@pytest.mark.parametrize("role", ROLES)
def test_admin_pages_matrix(request: pytest.FixtureRequest, client: TestClient, depositor: Account, role: str) -> None:
    # A co-owner is a depositor with a share in someone's record: for these pages, any other depositor.
    headers = headers_of(request, "other_depositor" if role == "co_owner" else role, depositor)
    for path in ADMIN_PAGES:
        assert client.get(path, headers=headers).status_code == ADMIN_EXPECTED[role], f"{path} as {role}"
