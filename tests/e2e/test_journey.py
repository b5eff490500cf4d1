"""Two roles, one journey, in a real Chromium: a new researcher signs in with OpenID Connect (oidc-provider-mock
on loopback), deposits through the web form (title, a creator with an ORCID, a file, a licence), publishes and
submits the record to a community; the community's curator (a local account, in a second browser context) finds
it in the review queue and accepts it; the email to the depositor arrives at a real SMTP server (aiosmtpd); the
landing page shows the community. The same journey runs with JavaScript, without it, and in Arabic.

Screenshots of each step go to ``$OSNODE_SCREENSHOTS`` when it is set (to look at them), else to the test's
temporary folder.
"""

from __future__ import annotations

import email
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from oidc_provider_mock import User, run_server_in_thread
from playwright.sync_api import Browser, Page

from osnode.config import load_settings
from osnode.domain.access import Viewer
from osnode.domain.records import Role
from osnode.services import communities, curation, mail
from tests.conftest import LiveServer, free_port, serve_in_thread
from tests.e2e.conftest import watch
from tests.web.accounts_helpers import PASSWORD, local_account

ORCID = "0000-0002-1825-0097"
RESEARCHER = "ana-at-uni"
RESEARCHER_EMAIL = "ana@uni.example"
CURATOR_EMAIL = "curator@example.org"


@dataclass
class Inbox:
    """What the SMTP server received."""

    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    people = [User(sub=RESEARCHER, claims={"email": RESEARCHER_EMAIL, "email_verified": True, "name": "Ana Silva"})]
    with run_server_in_thread(require_nonce=True, user_claims=people) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def server(data_dir: Path, database_url: str, provider: str, smtp: tuple[Inbox, int]) -> Iterator[LiveServer]:
    """A node that signs people in at the provider and sends mail to the SMTP server, with a community
    ("soil") curated by a local account."""
    discovery = f"{provider}/.well-known/openid-configuration"
    settings = load_settings(
        data_dir,
        database_url=database_url,
        oidc={"uni": {"discovery": discovery, "client_id": "osnode-uni", "client_secret": "s", "label": "University"}},
        smtp_host="127.0.0.1",
        smtp_port=smtp[1],
        smtp_security="none",
        mail_from="node@example.org",
    )
    live = serve_in_thread(settings)
    assert live.node is not None
    admin = local_account(live.node, "admin@example.org", Role.ADMIN)
    keeper = local_account(live.node, CURATOR_EMAIL, Role.DEPOSITOR)
    communities.create(live.node, Viewer(user_id=admin.id, role=admin.role), "soil", "Soil science")
    with live.node.transaction() as tx:
        curation.add_curator(tx, "soil", keeper.id)
    yield live
    live.stop()


@pytest.fixture
def upload(tmp_path: Path) -> Path:
    path = tmp_path / "cores.csv"
    path.write_text("depth_cm,carbon\n10,1.2\n20,0.9\n")
    return path


@dataclass
class Shots:
    folder: Path
    name: str

    def take(self, page: Page, step: str) -> None:
        page.screenshot(path=str(self.folder / f"{self.name}-{step}.png"), full_page=True)


@pytest.fixture
def shots(tmp_path: Path, request: pytest.FixtureRequest) -> Shots:
    folder = Path(os.environ.get("OSNODE_SCREENSHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return Shots(folder, request.node.name.replace("[", "-").rstrip("]"))


def _oidc_sign_in(page: Page, base: str) -> None:
    """From the node's sign-in page to the provider's form, as the researcher, and back, signed in."""
    page.goto(f"{base}/login?next=/deposit/new")
    page.click("a[href^='/login/oidc/uni']")
    page.wait_for_url("**/oauth2/authorize**")
    page.fill("input[name=sub]", RESEARCHER)
    page.click("form button[type=submit]:not([value=deny])")
    page.wait_for_url(f"{base}/deposit/new")


def _deposit(page: Page, upload: Path) -> str:
    """Fill the form (the first save makes the draft), add the file, publish; the version id."""
    page.fill("[name='titles.0.title']", "Soil carbon at Huambo")
    page.click("button[value=save]")
    page.wait_for_url("**/deposit/*?done=saved")
    version_id = page.url.split("/deposit/")[1].split("?")[0]
    page.fill("[name='creators.0.name']", "Silva, Ana")
    page.fill("[name='creators.0.orcid']", ORCID)
    page.select_option("[name='resourceType.resourceTypeGeneral']", "Dataset")
    page.fill("[name='publicationYear']", "2026")
    page.select_option("[name='rightsList.0.rightsIdentifier']", "CC-BY-4.0")
    page.click("button[value=save]")
    page.wait_for_url("**/deposit/*?done=saved")
    page.set_input_files("#files-input", [str(upload)])
    page.click("#files-form button")
    page.wait_for_url("**/deposit/*?done=files*", timeout=120_000)
    assert upload.name in page.inner_text("#files")
    page.click("button[value=publish]")
    page.wait_for_url(f"**/records/{version_id}")
    return version_id


def _submit(page: Page) -> None:
    page.select_option("#community", "soil")
    page.fill("#message", "Cores from the 2025 field season.")
    page.click("form[action$='/communities'] button[type=submit]")
    page.wait_for_url("**submitted=soil*")


def _accept(page: Page, base: str, title: str) -> None:
    page.goto(f"{base}/login?next=/communities/soil/requests")
    page.fill("#email", CURATOR_EMAIL)
    page.fill("#password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/communities/soil/requests")
    page.click(f"text={title}")
    page.wait_for_url("**/communities/soil/requests/*")
    page.fill("#message", "Welcome to the collection.")
    page.click("button[value=accept]")
    page.wait_for_url("**/communities/soil/requests?done=accept")


def journey(browser: Browser, server: LiveServer, inbox: Inbox, upload: Path, shots: Shots, **options: Any) -> Page:
    """The whole journey in contexts made with ``options``; the depositor's page, left on the landing page."""
    assert server.node is not None
    researcher = browser.new_context(**options)
    keeper = browser.new_context(**options)
    try:
        traffic = watch(researcher)
        page = researcher.new_page()
        _oidc_sign_in(page, server.url)
        version_id = _deposit(page, upload)
        shots.take(page, "1-published")
        _submit(page)
        shots.take(page, "2-submitted")
        assert "requested" in page.inner_text("#my-requests") or "soil" in page.inner_text("#my-requests")

        curator_page = keeper.new_page()
        _accept(curator_page, server.url, "Soil carbon at Huambo")
        shots.take(curator_page, "3-accepted")

        assert mail.send_due(server.node) >= 1  # the outbox job's work, done now
        [decision] = [m for m in inbox.messages if RESEARCHER_EMAIL in str(m["To"])]
        body = decision.get_payload(decode=True).decode()  # type: ignore[union-attr]
        assert "Soil science" in body and version_id in body and "Welcome to the collection." in body

        page.goto(f"{server.url}/records/{version_id}")
        assert "Soil science" in page.inner_text("#communities")
        page.goto(f"{server.url}/my")
        shots.take(page, "4-my")
        # Nothing the node served tried to load from elsewhere (the provider's own page is not the node's).
        node_pages = [u for u in traffic.external if "cdn.jsdelivr.net" not in u]
        assert node_pages == []
        page.goto(f"{server.url}/records/{version_id}")
        shots.take(page, "5-landing")
        return page
    finally:
        keeper.close()


def test_journey_with_javascript(browser: Browser, server: LiveServer, smtp, upload: Path, shots: Shots) -> None:  # type: ignore[no-untyped-def]
    page = journey(browser, server, smtp[0], upload, shots)
    assert page.get_attribute("html", "lang") == "en"
    page.context.close()


def test_journey_without_javascript(browser: Browser, server: LiveServer, smtp, upload: Path, shots: Shots) -> None:  # type: ignore[no-untyped-def]
    page = journey(browser, server, smtp[0], upload, shots, java_script_enabled=False)
    page.context.close()


def test_journey_in_arabic(browser: Browser, server: LiveServer, smtp, upload: Path, shots: Shots) -> None:  # type: ignore[no-untyped-def]
    page = journey(browser, server, smtp[0], upload, shots, locale="ar", viewport={"width": 390, "height": 844})
    try:
        assert page.get_attribute("html", "dir") == "rtl" and page.get_attribute("html", "lang") == "ar"
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        # Key labels are translated: the landing page's "Communities" heading and the workspace's title.
        assert "Communities" not in page.inner_text("h2#curation")
        page.goto(f"{server.url}/my")
        assert "My workspace" not in page.inner_text("h1")
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    finally:
        page.context.close()
