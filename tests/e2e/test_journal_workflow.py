"""The editorial workflow in Chromium, without JavaScript, at 390 px: an author submits; the editor assigns a
section editor, who invites two reviewers (neither signs in: both answer and review from the emailed link);
major revisions; the author revises; a second round; accept; copyediting; PDF and HTML galleys; the author
approves the proofs; an issue is made and published; the article page shows its galleys and a citation.
Every email goes through the outbox to a real SMTP server (aiosmtpd). The journal is double-anonymous: no page
or file a reviewer reaches carries an author's name (searched in the served bytes)."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, BrowserContext, Page

from osnode.config import load_settings
from osnode.services import mail
from osnode.services.node import Node
from tests.conftest import LiveServer, free_port, serve_in_thread
from tests.e2e.conftest import PAGE_BUDGET, watch
from tests.journals.helpers import AUTHOR_NAME, HTML_GALLEY, PDF, Cast, cast, make_journal
from tests.web.accounts_helpers import PASSWORD

PHONE = {"width": 390, "height": 844}


@dataclass
class Inbox:
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]

    def body(self, message: Message) -> str:
        return message.get_payload(decode=True).decode()


@dataclass
class Site:
    server: LiveServer
    inbox: Inbox
    people: Cast

    @property
    def node(self) -> Node:
        assert self.server.node is not None
        return self.server.node

    def deliver(self) -> None:
        mail.send_due(self.node)

    def review_link(self, address: str) -> str:
        self.deliver()
        links = [re.search(r"https?://[^/\s]+(/review/[\w\-]+)", self.inbox.body(m)) for m in self.inbox.to(address)]
        found = [m.group(1) for m in links if m]
        assert found, f"no review link reached {address}"
        return self.server.url + found[-1]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    folder = tmp_path / "node"
    folder.mkdir()
    settings = load_settings(
        folder,
        database_url=f"sqlite:///{(folder / 'catalog.sqlite').resolve()}",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        mail_from="journal@example.org",
    )
    setup = Node.open(settings)
    people = cast(setup)
    make_journal(setup, people)
    setup.close()
    server = serve_in_thread(settings)
    try:
        yield Site(server, inbox, people)
    finally:
        server.stop()
        controller.stop()


class Person:
    """One browser context (no JavaScript, a phone's width), signed in or not."""

    def __init__(self, browser: Browser, site: Site, address: str | None = None) -> None:
        self.site = site
        self.context: BrowserContext = browser.new_context(viewport=PHONE, java_script_enabled=False)
        self.traffic = watch(self.context)
        self.page: Page = self.context.new_page()
        self.seen: list[str] = []
        if address:
            self.go("/login")
            self.page.fill("#email", address)
            self.page.fill("#password", PASSWORD)
            self.page.click("form[action='/login'] button[type=submit]")

    def go(self, path: str) -> Page:
        response = self.page.goto(path if path.startswith("http") else self.site.server.url + path)
        assert response is not None and response.status == 200, (path, response and response.status)
        self.check()
        return self.page

    def check(self) -> None:
        """The page on show fits a phone, weighs at most the budget, and nothing left the node."""
        html = self.page.content()
        self.seen.append(html)
        assert self.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], self.page.url
        assert len(html.encode()) <= PAGE_BUDGET * 2, self.page.url  # uncompressed; compressed it is far less
        assert not self.traffic.external

    def submit(self, form: str, button: str = "button[type=submit]") -> None:
        with self.page.expect_navigation():
            self.page.click(f"{form} {button}")
        assert not self.page.locator("#errors").count(), self.page.content()[:2000]
        self.check()

    def close(self) -> None:
        self.context.close()


def _subjects(site: Site) -> list[str]:
    site.deliver()
    return [str(m["Subject"]) for m in site.inbox.messages]


def test_a_double_anonymous_article_from_submission_to_issue(browser: Browser, site: Site) -> None:
    author = Person(browser, site, "author@example.org")
    page = author.go("/journals/suelos/submit")
    page.fill("#title", "Carbon in Andean páramo soils")
    page.fill("#authors", f"{AUTHOR_NAME} | 0000-0002-1825-0097 | Universidad de los Andes | 02mhbdp94")
    page.fill("#abstract", "We measured soil organic carbon at 40 sites.")
    page.fill("#keywords", "soil carbon, páramo")
    page.fill("#data_availability", "In the node's records.")
    page.fill("#data_links", "10.5281/zenodo.7654321")
    page.fill("#competing_interests", "None.")
    page.set_input_files("#manuscript", files=[{"name": "paper.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    for box in page.locator("input[name=checklist]").all():
        box.check()
    author.submit("form[action='/journals/suelos/submit']")
    submission = re.search(r"/submissions/([\w\-]+)", page.url)
    assert submission, page.url
    here = f"/submissions/{submission.group(1)}"
    assert any("Submission received" in s for s in _subjects(site))

    editor = Person(browser, site, "editor@example.org")
    page = editor.go(here)
    assert AUTHOR_NAME in page.content()
    page.select_option("#editor", str(site.people.section_editor.id))
    editor.submit(f"form[action='{here}/assign']")
    section = Person(browser, site, "section@example.org")
    for name, address in (("Rev One", "rev1@example.org"), ("Rev Two", "rev2@example.org")):
        page = section.go(here)
        page.fill("#r-name", name)
        page.fill("#r-email", address)
        section.submit(f"form[action='{here}/invite']")

    def review(address: str, recommendation: str, text: str) -> None:
        reviewer = Person(browser, site)  # no account, never signed in
        link = site.review_link(address)
        page = reviewer.go(link)
        if page.locator("button[value=accept]").count():
            reviewer.submit("form[action$='/answer']", "button[value=accept]")
        for href in [a.get_attribute("href") for a in page.locator("#files a").all()]:
            served = reviewer.context.request.get(site.server.url + str(href))
            assert served.status == 200 and AUTHOR_NAME.encode() not in served.body()
        assert page.locator("#recommendation").count(), page.url + page.content()[-3000:]
        page.select_option("#recommendation", recommendation)
        page.fill("#for_author", text)
        reviewer.submit("form[enctype='multipart/form-data']")
        for html in reviewer.seen:
            assert AUTHOR_NAME not in html, "a reviewer's page names the author"
        reviewer.close()

    review("rev1@example.org", "major-revisions", "Add the 2019 sites.")
    review("rev2@example.org", "minor-revisions", "Careful work.")

    def decide(decision: str) -> None:
        page = section.go(here)
        page.click(f"details:has(input[value='{decision}']) summary")
        section.submit(f"form:has(input[value='{decision}'])")

    decide("major-revisions")
    page = author.go(here)
    assert "Add the 2019 sites." in page.content() and "Rev One" not in page.content()
    page.set_input_files("#revision", files=[{"name": "paper-v2.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.fill("#note", "Added the sites.")
    author.submit(f"form[action='{here}/revise']")

    for name, address in (("Rev One", "rev1@example.org"), ("Rev Two", "rev2@example.org")):
        page = section.go(here)
        page.fill("#r-name", name)
        page.fill("#r-email", address)
        section.submit(f"form[action='{here}/invite']")
    review("rev1@example.org", "accept", "Ready.")
    review("rev2@example.org", "accept", "Ready too.")
    decide("accept")

    copy = Person(browser, site, "copy@example.org")
    page = copy.go(here)
    page.set_input_files("#ce-file", files=[{"name": "paper-ce.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    copy.submit(f"form[action='{here}/copyedit']")
    copy.go(here)
    copy.submit(f"form[action='{here}/to-production']")

    prod = Person(browser, site, "prod@example.org")
    for kind, name, body in (("pdf", "paper.pdf", PDF), ("html", "paper.html", HTML_GALLEY)):
        page = prod.go(here)
        page.select_option("#g-type", kind)
        page.set_input_files("#g-file", files=[{"name": name, "mimeType": "application/octet-stream", "buffer": body}])
        prod.submit(f"form[action='{here}/galleys']")
    prod.go(here)
    prod.submit(f"form[action='{here}/proofs']")
    author.go(here)
    author.submit(f"form[action='{here}/approve']")

    manager = Person(browser, site, "manager@example.org")
    page = manager.go("/journals/suelos/manage")
    page.fill("#volume", "3")
    page.fill("#number", "2")
    page.fill("#year", "2026")
    page.fill("#issue_title", "Páramos")
    manager.submit("form[action='/journals/suelos/issues']")
    page = manager.go(here)
    page.fill("#first_page", "1")
    page.fill("#last_page", "14")
    manager.submit(f"form[action='{here}/schedule']")
    page = manager.go("/journals/suelos/manage")
    manager.submit("form[action$='/publish']")
    assert "/journals/suelos/issues/" in page.url

    reader = Person(browser, site)
    page = reader.go("/journals/suelos")
    page.click("#toc a")
    reader.check()
    assert "/records/" in page.url
    html = page.content()
    assert "paper.pdf" in html and "paper.html" in html
    assert page.locator("#citation").inner_text().strip()
    assert "Vol. 3 No. 2" in html

    subjects = _subjects(site)
    for expected in (
        "Submission received",
        "New submission",
        "You are the editor",
        "Invitation to review",
        "A reviewer answered",
        "A review was submitted",
        "Decision on your submission",
        "A revision was submitted",
        "Ready for copyediting",
        "Ready for production",
        "Please approve the proofs",
        "Proofs approved",
        "Published",
    ):
        assert any(expected in s for s in subjects), (expected, subjects)
    for person in (author, editor, section, copy, prod, manager, reader):
        person.close()


@pytest.mark.parametrize("language", ["ar", "en"])
def test_every_journal_page_fits_a_phone(browser: Browser, site: Site, language: str) -> None:
    """Every journal page, with content in it, at 390 px in Arabic (right to left) and English: no sideways
    scrolling, within the budget compressed, nothing loaded from elsewhere, the page in the reader's language."""
    from osnode.domain.access import Viewer
    from osnode.domain.journals import FileKind
    from osnode.domain.records import Role
    from osnode.services.journals import issues, publishing, reviews, submissions
    from tests.journals.helpers import publish_article, submission_form

    node, people = site.node, site.people
    editor = Viewer(user_id=people.editor.id, role=Role.DEPOSITOR)
    record_id = publish_article(node, people, title="Suelos " * 12)
    issue = issues.create(node, editor, "suelos", {"volume": "1", "number": "1", "year": "2026", "title": "Uno"})
    author = Viewer(user_id=people.author.id, role=Role.DEPOSITOR)
    pending = submissions.submit(
        node, author, "suelos", submission_form(), [submissions.Upload(FileKind.MANUSCRIPT, "m.pdf", [PDF])]
    )
    token = reviews.invite(node, editor, pending.id, {"name": "R", "email": "r@example.org"}).token
    assert publishing.journal_of(node, record_id) is not None
    pages = {
        None: [
            "/journals",
            "/journals/suelos",
            "/journals/suelos/archive",
            "/journals/suelos/about",
            f"/records/{record_id}",
            f"/review/{token}",
        ],
        "author@example.org": ["/journals/suelos/submit", "/submissions", f"/submissions/{pending.id}"],
        "editor@example.org": [
            "/journals/suelos/manage",
            "/journals/suelos/letters",
            "/journals/suelos/submissions",
            f"/submissions/{pending.id}",
            f"/journals/suelos/issues/{issue.id}",
        ],
    }
    for address, paths in pages.items():
        context = browser.new_context(
            viewport=PHONE, java_script_enabled=False, extra_http_headers={"Accept-Language": language}
        )
        traffic = watch(context)
        try:
            page = context.new_page()
            if address:
                page.goto(site.server.url + "/login")
                page.fill("#email", address)
                page.fill("#password", PASSWORD)
                page.click("form[action='/login'] button[type=submit]")
            for path in paths:
                response = page.goto(site.server.url + path)
                assert response is not None and response.status == 200, (path, response and response.status)
                assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], (language, path)
                assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
                wire = response.headers.get("content-length")
                assert len(response.body()) <= PAGE_BUDGET * 2 and (wire is None or int(wire) <= PAGE_BUDGET), path
            assert not traffic.external
        finally:
            context.close()
