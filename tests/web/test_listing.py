"""Listing records: newest first, keyset cursors that visit everything once, drafts for their owners."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from osnode.services.node import Node
from osnode.storage.catalog import versions
from tests.conftest import Account, minimal_metadata
from tests.web.conftest import assert_problem, create_draft, publish, published_record


def walk(client: TestClient, url: str, headers: dict[str, str] | None = None) -> list[list[dict[str, Any]]]:
    """Every page of a listing, following ``links.next``; also checks ``cursor`` and ``next`` agree."""
    pages = []
    for _ in range(100):
        response = client.get(url, headers=headers or {})
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        assert (body["cursor"] is None) is (body["links"]["next"] is None)
        if body["cursor"] is None:
            return pages
        assert f"cursor={body['cursor']}" in body["links"]["next"]
        url = body["links"]["next"]
    raise AssertionError("the listing never ended")


def titled(n: int) -> dict[str, Any]:
    return minimal_metadata(titles=[{"title": f"Record {n:02d}"}])


def test_cursor_pagination_visits_every_record_once_newest_first(client: TestClient, depositor: Account) -> None:
    published = [published_record(client, depositor, metadata=titled(n)) for n in range(25)]
    pages = walk(client, "/api/records?size=7")
    assert [len(p) for p in pages] == [7, 7, 7, 4]
    seen = [item["id"] for page in pages for item in page]
    assert len(seen) == len(set(seen)) == 25
    assert seen == [v["id"] for v in reversed(published)]
    stamps = [item["published_at"] for page in pages for item in page]
    assert stamps == sorted(stamps, reverse=True)
    for page in pages:
        for item in page:
            assert item["state"] == "published"
            assert item["is_latest"] is True


def test_next_link_keeps_the_page_size(client: TestClient, depositor: Account) -> None:
    for n in range(5):
        published_record(client, depositor, metadata=titled(n))
    first = client.get("/api/records?size=2").json()
    assert "size=2" in first["links"]["next"]
    assert [len(p) for p in walk(client, "/api/records?size=2")] == [2, 2, 1]
    # A page size that divides the count exactly ends without an empty page.
    assert [len(p) for p in walk(client, "/api/records?size=5")] == [5]


def test_empty_listing(client: TestClient) -> None:
    body = client.get("/api/records").json()
    assert body == {"items": [], "cursor": None, "links": {"next": None}}


def test_a_record_is_listed_once_under_its_latest_version(client: TestClient, depositor: Account) -> None:
    old = published_record(client, depositor, metadata=titled(0))
    other = published_record(client, depositor, metadata=titled(1))
    v2 = client.post(f"/api/records/{old['record_id']}/versions", headers=depositor.headers).json()
    publish(client, depositor, v2["id"])
    items = [i for page in walk(client, "/api/records?size=1") for i in page]
    # The new version is the newest publication, so its record comes first, once.
    assert [i["id"] for i in items] == [v2["id"], other["id"]]
    assert [i["record_id"] for i in items] == [old["record_id"], other["record_id"]]


def test_pages_stay_consistent_while_records_are_published(client: TestClient, depositor: Account) -> None:
    before = [published_record(client, depositor, metadata=titled(n)) for n in range(6)]
    first = client.get("/api/records?size=3").json()
    # New publications land before the cursor, so the walk neither repeats nor skips older ones.
    for n in range(6, 9):
        published_record(client, depositor, metadata=titled(n))
    rest = walk(client, first["links"]["next"])
    seen = [i["id"] for i in first["items"]] + [i["id"] for page in rest for i in page]
    assert seen == [v["id"] for v in reversed(before)]


def test_ties_in_publication_time_are_broken_by_id(client: TestClient, node: Node, depositor: Account) -> None:
    published = [published_record(client, depositor, metadata=titled(n)) for n in range(10)]
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    with node.transaction() as tx:
        tx.execute(update(versions).values(published_at=moment))
    for size in (1, 3, 4):
        seen = [i["id"] for page in walk(client, f"/api/records?size={size}") for i in page]
        assert len(seen) == len(set(seen)) == 10, size
        assert seen == sorted((v["id"] for v in published), reverse=True)


def test_drafts_are_listed_only_for_their_owner(
    client: TestClient, depositor: Account, other_depositor: Account, curator: Account, admin: Account
) -> None:
    mine = [create_draft(client, depositor, titled(n))["id"] for n in range(4)]
    theirs = [create_draft(client, other_depositor, titled(n))["id"] for n in range(2)]
    published_record(client, depositor)
    # A new version's draft is a draft too.
    base = published_record(client, other_depositor)
    theirs.append(client.post(f"/api/records/{base['id']}/versions", headers=other_depositor.headers).json()["id"])

    def drafts(account: Account, size: int = 2) -> list[dict[str, Any]]:
        return [i for page in walk(client, f"/api/records?state=draft&size={size}", account.headers) for i in page]

    listed = drafts(depositor)
    assert [i["id"] for i in listed] == list(reversed(mine))  # most recently changed first
    assert {i["state"] for i in listed} == {"draft"}
    assert sorted(i["id"] for i in drafts(other_depositor)) == sorted(theirs)
    for staff in (curator, admin):
        assert sorted(i["id"] for i in drafts(staff, size=3)) == sorted(mine + theirs)

    # Editing a draft moves it to the front.
    client.put(f"/api/records/{mine[0]}", json={"metadata": titled(99)}, headers=depositor.headers)
    assert drafts(depositor)[0]["id"] == mine[0]

    # Drafts never show among published records.
    published_ids = {i["id"] for page in walk(client, "/api/records?size=50", admin.headers) for i in page}
    assert not published_ids & set(mine + theirs)


def test_anonymous_may_not_list_drafts(client: TestClient, depositor: Account) -> None:
    create_draft(client, depositor)
    response = client.get("/api/records?state=draft")
    assert response.status_code in (401, 422)
    assert_problem(response, response.status_code)


def test_listing_hides_nothing_by_access_level(client: TestClient, depositor: Account) -> None:
    """Metadata of restricted, embargoed and metadata-only records is public, so they are listed."""
    ids = [
        published_record(client, depositor, access={"level": "restricted"})["id"],
        published_record(client, depositor, access={"level": "embargoed", "embargo_until": "2999-01-01"})["id"],
        publish(client, depositor, create_draft(client, depositor, access={"level": "metadata-only"})["id"])["id"],
    ]
    listed = [i["id"] for i in client.get("/api/records").json()["items"]]
    assert listed == list(reversed(ids))


def test_home_page_lists_published_records(client: TestClient, depositor: Account) -> None:
    published_record(client, depositor, metadata=titled(7))
    create_draft(client, depositor, titled(8))
    page = client.get("/")
    assert page.status_code == 200
    assert "Record 07" in page.text
    assert "Record 08" not in page.text
