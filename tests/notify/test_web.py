"""The inbox over HTTP (201 + Location, problem+json 4xx with the reason) and the pages without JavaScript:
the record owner's review-request form (CSRF), the reviewing side's queue, the reviews on the landing page,
each within the page budget."""

from __future__ import annotations

import gzip
import json
import re

from fastapi.testclient import TestClient

from osnode.app import create_app
from osnode.domain.access import Viewer
from osnode.domain.records import Role
from osnode.services.node import Node
from osnode.services.notify import inbox, reviews
from tests.notify.conftest import OWN, SERVICE, announce_review, publish, raw, request_review
from tests.web.accounts_helpers import csrf_of, local_account, sign_in
from tests.web.conftest import assert_problem

LD = {"Content-Type": "application/ld+json"}
HTML = {"Accept": "text/html"}


def _viewer(account) -> Viewer:  # type: ignore[no-untyped-def]
    return Viewer(user_id=account.id, role=account.role)


def test_the_inbox_answers_201_and_problems_with_reasons(notify_node: Node) -> None:
    with TestClient(create_app(notify_node)) as client:
        body = request_review()
        made = client.post("/inbox", content=raw(body), headers=LD)
        assert made.status_code == 201, made.text
        assert made.headers["location"].startswith(f"{OWN}/inbox/")
        assert "ldp#inbox" in made.headers["link"]
        assert "received already" in assert_problem(client.post("/inbox", content=raw(body), headers=LD), 409)["detail"]
        assert "not JSON" in assert_problem(client.post("/inbox", content=b"{", headers=LD), 400)["detail"]
        wrong = request_review()
        wrong["origin"]["id"] = "https://stranger.example.net"
        assert_problem(client.post("/inbox", content=raw(wrong), headers=LD), 403)
        huge = b"{" + b" " * (notify_node.settings.notify_max_bytes + 1) + b"}"
        assert_problem(client.post("/inbox", content=huge, headers=LD), 413)
        assert_problem(
            client.post("/inbox", content=raw(request_review()), headers={"Content-Type": "text/plain"}), 415
        )
        # Requests are not for everyone to read back; the LDP listing is empty until a review is shown.
        listing = client.get("/inbox")
        assert listing.headers["content-type"].startswith("application/ld+json")
        assert listing.json()["contains"] == []


def test_owner_requests_a_review_and_the_page_shows_reviews(notify_node: Node) -> None:
    ana = local_account(notify_node, "ana@example.org", Role.DEPOSITOR)
    record_id = publish(notify_node, _viewer(ana))
    with TestClient(create_app(notify_node)) as client:
        assert sign_in(client, "ana@example.org").status_code == 303
        page = client.get(f"/records/{record_id}", headers=HTML)
        assert f'action="/records/{record_id}/review-requests"' in page.text
        assert f'value="{SERVICE}"' in page.text
        # Without the CSRF token nothing is queued.
        refused = client.post(f"/records/{record_id}/review-requests", data={"service": SERVICE}, headers=HTML)
        assert refused.status_code == 403 and reviews.requests_sent(notify_node, record_id) == []
        token = csrf_of(client, f"/records/{record_id}")
        sent = client.post(
            f"/records/{record_id}/review-requests",
            data={"service": SERVICE, "kind": "RequestReview", "csrf": token},
            headers=HTML,
            follow_redirects=False,
        )
        assert sent.status_code == 303
        [queued] = reviews.requests_sent(notify_node, record_id)
        assert queued.target == SERVICE and queued.state == "queued"
        unknown = client.post(
            f"/records/{record_id}/review-requests", data={"service": "https://nowhere.example", "csrf": token}
        )
        assert unknown.status_code == 422

    inbox.receive(notify_node, raw(announce_review(record_id)))
    with TestClient(create_app(notify_node)) as anonymous:
        page = anonymous.get(f"/records/{record_id}", headers=HTML)
        assert "https://review-service.example.org/review/1" in page.text
        assert "review-requests" not in page.text  # the form is the owner's only
        assert len(gzip.compress(page.content)) < 30 * 1024
        listed = anonymous.get("/inbox").json()["contains"]
        assert len(listed) == 1
        assert anonymous.get(listed[0].replace(OWN, "")).json()["type"] == ["Announce", "coar-notify:ReviewAction"]


def test_the_reviewing_side_answers_from_its_queue(notify_node: Node) -> None:
    local_account(notify_node, "admin@example.org", Role.ADMIN)
    local_account(notify_node, "ana@example.org", Role.DEPOSITOR)
    stored = inbox.receive(notify_node, raw(request_review()))
    with TestClient(create_app(notify_node)) as admin, TestClient(create_app(notify_node)) as ana:
        assert sign_in(ana, "ana@example.org").status_code == 303
        assert ana.get("/notify/requests", headers=HTML).status_code == 403
        assert sign_in(admin, "admin@example.org").status_code == 303
        page = admin.get("/notify/requests", headers=HTML)
        assert page.status_code == 200 and 'value="accept"' in page.text
        assert len(gzip.compress(page.content)) < 30 * 1024
        token = csrf_of(admin, "/notify/requests")
        done = admin.post(f"/notify/requests/{stored.id}", data={"action": "accept", "csrf": token}, headers=HTML)
        assert done.status_code == 200 and 'name="review_url"' in done.text
        bad = admin.post(
            f"/notify/requests/{stored.id}",
            data={"action": "announce", "review_url": "javascript:alert(1)", "csrf": token},
            headers=HTML,
        )
        assert bad.status_code == 422
        admin.post(
            f"/notify/requests/{stored.id}",
            data={"action": "announce", "review_url": "https://reviews.example.org/r/7", "csrf": token},
        )
        page = admin.get("/notify/requests", headers=HTML)
        assert 'value="undo"' in page.text and "https://reviews.example.org/r/7" in page.text
        again = admin.post(f"/notify/requests/{stored.id}", data={"action": "accept", "csrf": token}, headers=HTML)
        assert again.status_code == 409
    kinds = [json.dumps(s.body["type"]) for s in reversed(_outbox(notify_node))]
    assert kinds == ['"Accept"', '["Announce", "coar-notify:ReviewAction"]']


def _outbox(node: Node):  # type: ignore[no-untyped-def]
    from osnode.services.notify import outbox

    return outbox.listing(node)


def test_no_external_resource_is_loaded_by_the_queue(notify_node: Node) -> None:
    local_account(notify_node, "admin@example.org", Role.ADMIN)
    inbox.receive(notify_node, raw(request_review()))
    with TestClient(create_app(notify_node)) as admin:
        sign_in(admin, "admin@example.org")
        text = admin.get("/notify/requests", headers=HTML).text
    assert not re.search(r'<(?:script|img|link)[^>]+(?:src|href)="https?://', text)
