"""Managed access in Chromium, without JavaScript, on a 390 px phone: a researcher asks for a restricted human
single-cell atlas (.h5ad); the pre-check flags the purpose; they fix it; two committee members approve for 30
days; the researcher downloads, queries and explores; past the expiry every route refuses; ``osnode audit
verify`` passes, and fails once a row of the log is altered in the database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, expect
from sqlalchemy import update

from osnode.config import load_settings
from osnode.domain.access import Viewer
from osnode.domain.records import Role
from osnode.explore.synthetic import write_synthetic_atlas
from osnode.services import accounts, deposit, governance
from osnode.services.node import Node
from osnode.storage.catalog import users
from osnode.storage.governance import audit_log, grants
from tests.conftest import LiveServer, minimal_metadata, start_server
from tests.e2e.conftest import PAGE_BUDGET
from tests.test_cli import fails, run_cli

PASSWORD = "correct horse battery staple"
TERMS = {
    "permission": "DS",
    "disease": "cancer",
    "modifiers": ["NPU", "PUB"],
    "jurisdiction": "FR",
    "consent_basis": "broad consent for cancer research",
}
TABLE = b"cell,type\nAAAC,T cell\nAAAG,B cell\n"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("managed") / "node"
    folder.mkdir(parents=True)
    url = f"sqlite:///{(folder / 'catalog.sqlite').resolve()}"
    node = Node.open(load_settings(folder, database_url=url))
    ids = {}
    for name in ("owner", "ana", "chair", "member", "admin"):
        ids[name] = accounts.register(node, f"{name}@example.org", PASSWORD, name.title(), "en").account.id
    with node.transaction() as tx:
        tx.execute(update(users).where(users.c.id == ids["admin"]).values(role=Role.ADMIN.value))
    owner, admin = Viewer(ids["owner"], Role.DEPOSITOR), Viewer(ids["admin"], Role.ADMIN)
    atlas = write_synthetic_atlas(folder.parent / "atlas.h5ad", 300, 40)
    draft = deposit.create_draft(
        node,
        owner,
        minimal_metadata(titles=[{"title": "Human tumour atlas"}]),
        {"level": "restricted", "data_use": TERMS},
    )
    deposit.attach_blob(node, draft.id, "tumour.h5ad", node.blobs.put_file(atlas), owner)
    deposit.attach_blob(node, draft.id, "cells.csv", node.blobs.put_stream([TABLE]), owner)
    version = deposit.publish(node, draft.id, owner)
    governance.create_committee(node, admin, "hca", "HCA access committee", 2, "Use only as approved.")
    for name, chair in (("chair", True), ("member", False)):
        governance.set_member(node, admin, "hca", str(ids[name]), chair)
    governance.govern(node, admin, "hca", version.record_id)
    node.close()
    live = start_server(folder, url)
    try:
        yield {"url": live.url, "db": url, "folder": folder, "record": version.record_id, "version": version.id}
    finally:
        live.stop()


def _signed_in(browser: Browser, server: LiveServer | str, email: str, js: bool = False) -> BrowserContext:
    context = browser.new_context(viewport={"width": 390, "height": 800}, java_script_enabled=js)
    page = context.new_page()
    page.goto(f"{server}/login?next=/account")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/account$"))
    page.close()
    return context


def test_request_precheck_votes_grant_expiry_and_audit(browser: Browser, world: dict[str, Any]) -> None:
    base, rid = world["url"], world["record"]
    ana = _signed_in(browser, base, "ana@example.org")
    page = ana.new_page()
    landing = page.goto(f"{base}/records/{world['version']}")
    assert landing is not None and len(landing.body()) <= PAGE_BUDGET
    expect(page.locator("#duo-terms")).to_contain_text("disease specific research")
    page.click("#request-access")
    page.select_option("#purpose_code", "HMB")
    page.fill("#purpose", "Immune cells in tumours")
    page.fill("#project", "TME atlas")
    page.fill("#institution", "Institut Curie")
    page.fill("#country", "FR")
    page.check("input[name=not_for_profit]")
    page.check("input[name=agreement_accepted]")
    page.click("button[type=submit]")
    expect(page.locator("#mismatches")).to_contain_text("DS")
    request_url = page.url
    # The researcher fixes the purpose: disease-specific research on cancer.
    page.click("#edit-request")
    page.select_option("#purpose_code", "DS")
    page.fill("#disease", "cancer")
    page.check("input[name=agreement_accepted]")
    page.click("button[type=submit]")
    expect(page.locator("#precheck-ok")).to_be_visible()

    for email in ("chair@example.org", "member@example.org"):
        member = _signed_in(browser, base, email)
        votes = member.new_page()
        shown = votes.goto(request_url)
        assert shown is not None and len(shown.body()) <= PAGE_BUDGET
        votes.fill("#days", "30")
        votes.click("#vote button[value=approve]")
        member.close()
    page.goto(request_url)
    expect(page.locator("#state")).to_contain_text("approved")

    routes = [
        f"/api/records/{rid}/files/cells.csv",
        f"/api/records/{rid}/files/tumour.h5ad/atlas",
        f"/api/records/{rid}/query?sql=select%20count(*)%20as%20n%20from%20cells",
    ]
    for path in routes:
        got = ana.request.get(base + path)
        assert got.status == 200, (path, got.status, got.text()[:300])
    assert ana.request.get(base + routes[0]).body() == TABLE

    node = Node.open(load_settings(world["folder"], database_url=world["db"]))
    try:
        with node.transaction() as tx:  # the clock passes the grant's last day
            tx.execute(update(grants).values(expires=datetime.now(UTC).date() - timedelta(days=1)))
    finally:
        node.close()
    for path in routes:
        assert ana.request.get(base + path).status == 403, path
    ana.close()

    data = world["folder"]
    passed = run_cli("audit", "verify", "--data", data, database_url=world["db"])
    assert passed.code == 0 and "audit log intact" in passed.stdout, passed.stderr
    node = Node.open(load_settings(data, database_url=world["db"]))
    try:
        with node.transaction() as tx:
            tx.execute(update(audit_log).where(audit_log.c.action == "approved").values(actor_id=None))
    finally:
        node.close()
    fails(run_cli("audit", "verify", "--data", data, database_url=world["db"]), "altered")


def test_managed_pages_fit_a_phone(browser: Browser, world: dict[str, Any]) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 800}, extra_http_headers={"Accept-Language": "ar"})
    page = context.new_page()
    for path in (f"/records/{world['version']}",):
        response = page.goto(world["url"] + path)
        assert response is not None and response.status == 200
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    context.close()
    # JavaScript on only to measure the page's width (the pages themselves use none).
    context = _signed_in(browser, world["url"], "chair@example.org", js=True)
    page = context.new_page()
    for path in ("/committees", "/committees/hca", f"/records/{world['record']}/access-request", "/access/requests"):
        response = page.goto(world["url"] + path)
        assert response is not None and response.status == 200, path
        assert len(response.body()) <= PAGE_BUDGET, path
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    context.close()
