"""Real-browser fixtures: one demo node served by ``osnode serve`` and one headless Chromium per test session
(per pytest-xdist worker), shared by every module here. Tests must not change the demo's content.

The browser is Debian's ``chromium`` (``make browser`` installs it), driven through Playwright's sync API;
Playwright's own browser download is not used. Each test gets a fresh browser context (empty cache, no cookies).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Request, sync_playwright

from osnode.services.demo import build_demo
from tests.conftest import LiveServer, start_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
# The issue's budget: HTML and CSS, compressed, users' files excluded.
PAGE_BUDGET = 30 * 1024


@dataclass
class Demo:
    """The demo node as the browser sees it."""

    url: str
    records: list[dict[str, Any]]

    def record(self, kind: str) -> dict[str, Any]:
        return next(r for r in self.records if r["kind"] == kind)

    def landing(self, kind: str) -> str:
        return f"{self.url}/records/{self.record(kind)['record_id']}"


def serve(folder: Path) -> LiveServer:
    """``osnode serve`` on ``folder``'s embedded SQLite catalog."""
    return start_server(folder, f"sqlite:///{(folder / 'catalog.sqlite').resolve()}")


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo node (``osnode demo``'s content) on the embedded default catalog, SQLite."""
    folder = tmp_path_factory.mktemp("e2e") / "node"
    summary = build_demo(folder)
    server = serve(folder)
    try:
        yield Demo(server.url, summary.records)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (installs Debian's chromium package)", pytrace=False)
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@dataclass
class Traffic:
    """Every request a browser context made, and the ones that tried to leave this machine."""

    urls: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)

    def seen(self, request: Request) -> None:
        self.urls.append(request.url)
        parts = urlsplit(request.url)
        if parts.scheme not in ("data", "blob", "about") and parts.hostname not in LOCAL_HOSTS:
            self.external.append(request.url)


def is_external(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS


def watch(context: BrowserContext) -> Traffic:
    """Record the context's requests; refuse (and remember) any that would leave localhost."""
    traffic = Traffic()
    context.on("request", traffic.seen)
    context.route(is_external, lambda route: route.abort("blockedbyclient"))
    return traffic


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh context (empty cache, no cookies) with clipboard access, for one test."""
    opened = browser.new_context(permissions=["clipboard-read", "clipboard-write"], accept_downloads=True)
    yield opened
    opened.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
