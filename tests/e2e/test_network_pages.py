"""The network's pages in Chromium without JavaScript, on a 390 px phone, in English and Arabic: a record page
with its DOI (pending), usage and review-request panels, and the reviewing side's queue, where an admin
accepts a request and announces the review; every page within the budget, nothing loaded from elsewhere."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import update

from osnode.config import load_settings
from osnode.domain.access import Viewer
from osnode.services import accounts, deposit
from osnode.services.notify import inbox
from osnode.services.usage import counting, events
from osnode.storage.catalog import users
from tests.conftest import LiveServer, minimal_metadata, serve_in_thread
from tests.e2e.conftest import PAGE_BUDGET, watch

PASSWORD = "correct horse battery staple"
SERVICE = "https://review-service.example.org/system"
LONG = "https://review-service.example.org/" + "a-very-long-path-segment-without-spaces" * 4


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("network") / "node"
    services = {"reviews": {"id": SERVICE, "inbox": f"{SERVICE}/inbox", "label": "Review Service"}}
    settings = load_settings(
        folder,
        database_url=f"sqlite:///{(folder / 'catalog.sqlite').resolve()}",
        notify_services=services,
        datacite_prefix="10.5555",
        datacite_user="OSN.TEST",
        datacite_url="http://127.0.0.1:9",  # nothing listens: the DOI stays pending
        explore_preload=False,
    )
    live = serve_in_thread(settings)
    yield live
    live.stop()


def _admin_and_record(live: LiveServer, day: int) -> tuple[str, str]:
    node = live.node
    assert node is not None
    made = accounts.register(node, f"root-{uuid.uuid4().hex[:6]}@example.org", PASSWORD, "Root", "en")
    with node.transaction() as tx:
        tx.execute(update(users).where(users.c.id == made.account.id).values(role="admin"))
    account = accounts.get(node, made.account.id)
    assert account is not None
    admin = Viewer(user_id=account.id, role=account.role)
    draft = deposit.create_draft(node, admin, minimal_metadata(), {"level": "metadata-only"})
    deposit.publish(node, draft.id, admin)
    # A view on a day of its own (each test's day is counted once, as days are).
    when = datetime(2026, 1, day, 12, tzinfo=UTC).timestamp()
    events.record(
        node, draft.record_id, events.INVESTIGATION, "203.0.113.9", "Mozilla/5.0 Chrome/120", None, "AO", when
    )
    counting.count_closed_days(node, today="9999-12-31")
    own = node.settings.public_url
    body = {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://coar-notify.net"],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["Offer", "coar-notify:ReviewAction"],
        "actor": {"id": SERVICE, "name": "Review Service", "type": "Service"},
        "origin": {"id": SERVICE, "inbox": f"{SERVICE}/inbox", "type": "Service"},
        "target": {"id": own, "inbox": f"{own}/inbox", "type": "Service"},
        "object": {"id": LONG, "ietf:cite-as": LONG, "type": ["Page", "sorg:AboutPage"]},
    }
    inbox.receive(node, json.dumps(body).encode())
    return made.account.email, draft.record_id


def _check(page: Page, response, traffic) -> None:  # type: ignore[no-untyped-def]
    assert response is not None and response.status == 200
    assert len(response.body()) <= PAGE_BUDGET
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert traffic.external == []


@pytest.mark.parametrize("language", ["en", "ar"])
def test_record_page_and_review_queue_on_a_phone(
    browser: Browser, server: LiveServer, tmp_path: Path, language: str
) -> None:
    email, record_id = _admin_and_record(server, 1 + ["en", "ar"].index(language))
    context = browser.new_context(
        viewport={"width": 390, "height": 800},
        java_script_enabled=False,
        extra_http_headers={"Accept-Language": language},
    )
    traffic = watch(context)
    try:
        page = context.new_page()
        page.goto(server.url + "/login")
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url("**/account")
        _check(page, page.goto(f"{server.url}/records/{record_id}"), traffic)
        expect(page.locator("#doi")).to_be_visible()
        expect(page.locator("#usage-counts")).to_be_visible()
        expect(page.locator("#notify-service")).to_be_visible()
        _check(page, page.goto(server.url + "/notify/requests"), traffic)
        page.click("button[value=accept]")
        page.wait_for_url("**/notify/requests?done=accept")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.fill("input[name=review_url]", "https://review-service.example.org/reviews/7")
        page.click("button[value=announce]")
        page.wait_for_url("**/notify/requests?done=announce")
        expect(page.locator("button[value=undo]").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
