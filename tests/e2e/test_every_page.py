"""Every page the node has, in a real browser at 390 px and 1280 px, in English and Arabic: no sideways
scrolling outside scrollable table boxes, no request leaving the node, at most 30 KB on the wire, and a
screenshot of each (tests/e2e/screenshots/, git-ignored) for a person to look at.

The workspace's pages (deposit, my workspace, account, the curation queue and a submission, community
management) are visited signed in as the role that uses them (a session cookie, as a browser has), at 390 px
in all seven languages."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser

from osnode.config import UI_LANGUAGES, load_settings
from osnode.domain.access import Viewer
from osnode.domain.records import Role
from osnode.services import archive, communities, curation, deposit, sessions, users
from osnode.services.demo import DemoSummary, build_demo
from osnode.services.node import Node
from tests.conftest import minimal_metadata
from tests.e2e.conftest import PAGE_BUDGET, Demo, serve, watch
from tests.e2e.test_atlas import atlas_record
from tests.e2e.test_pages import transferred
from tests.web.accounts_helpers import local_account

SHOTS = Path(__file__).parent / "screenshots"
WIDTHS = (390, 1280)
LANGUAGES = ("en", "ar")
# Swagger UI's own script and stylesheet (1.7 MB, cached, for developers) are the one exception to the
# budget: the docs page itself is measured; its assets are served by the node, so no request leaves it.
BUDGET_EXEMPT = re.compile(r"/api/docs/assets/")


@dataclass(frozen=True)
class Target:
    path: str
    status: int = 200
    token: bool = False
    bad_token: bool = False  # a browser with no session is sent to sign in; a wrong token gets the 401 page
    session: str = ""  # signed in (a session cookie) as this person of ``Site.sessions``


@dataclass
class Site:
    url: str
    token: str
    pages: dict[str, Target]
    sessions: dict[str, str]


def _prepare(folder: Path) -> tuple[DemoSummary, dict[str, str]]:
    """The demo, plus what it lacks for a full tour: a community, a withdrawn record, a draft."""
    summary = build_demo(folder)
    (folder / "osnode.toml").write_text(
        'admin_email = "data@node.example"\nnode_description = "Research outputs of the demo university."\n'
    )
    node = Node.open(load_settings(folder))
    try:
        admin = users.authenticate(node, summary.token)
        communities.create(node, admin, "statistics", "Statistics teaching", "Small data sets that teach statistics.")
        dataset = next(r for r in summary.records if r["kind"] == "Dataset")
        communities.include(node, admin, "statistics", dataset["record_id"])
        gone = deposit.create_draft(node, admin, minimal_metadata(), {"level": "metadata-only"})
        deposit.publish(node, gone.id, admin)
        deposit.withdraw(node, gone.record_id, admin, "Deposited twice by mistake.")
        draft = deposit.create_draft(node, admin, minimal_metadata())
        history = _software_with_history(node, admin, folder.parent)
        workspace = _workspace(node)
    finally:
        node.close()
    first = {r["kind"]: r for r in reversed(summary.records)}  # the first of each kind (two are datasets)
    ids = {kind: r["id"] for kind, r in first.items()} | {"gone": gone.record_id, "draft": draft.id}
    ids |= {f"{kind}-record": r["record_id"] for kind, r in first.items()} | {"history": history}
    return summary, ids | workspace


def _workspace(node: Node) -> dict[str, str]:
    """A depositor with a draft submitted to the community, and its curator; a session for each."""
    ana = local_account(node, "ana@example.org")
    cura = local_account(node, "cura@example.org", Role.CURATOR)
    with node.transaction() as tx:
        curation.add_curator(tx, "statistics", cura.id)
    depositor = Viewer(user_id=ana.id, role=ana.role)
    metadata = minimal_metadata(descriptions=[{"description": "Rainfall in Huambo.", "descriptionType": "Abstract"}])
    draft = deposit.create_draft(node, depositor, metadata)
    curation.submit(node, depositor, "statistics", draft.record_id, "Teaching data for first-year students.")
    return {
        "ana-draft": draft.id,
        "ana-record": draft.record_id,
        "session:depositor": sessions.start(node, ana.id),
        "session:curator": sessions.start(node, cura.id),
    }


def _software_with_history(node: Node, admin: Viewer, scratch: Path) -> str:
    """A software record archived from a git bundle, so that it has revisions and a log to show."""
    repo = scratch / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=Ana Silva", "-c", "user.email=ana@example.org"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    for n in (1, 2):
        (repo / "stats.py").write_text(f"print({n})\n")
        subprocess.run([*git, "add", "."], check=True)
        subprocess.run([*git, "commit", "-q", "-m", f"Step {n}"], check=True)
    subprocess.run([*git, "bundle", "create", "-q", str(scratch / "repo.bundle"), "--all"], check=True)
    metadata = minimal_metadata(resourceType={"resourceTypeGeneral": "Software"})
    draft = deposit.create_draft(node, admin, metadata)
    deposit.add_file(node, draft.id, "repo.bundle", [(scratch / "repo.bundle").read_bytes()], admin)
    archive.archive_draft_file(node, admin, draft.id, "repo.bundle")
    return deposit.publish(node, draft.id, admin).id


def _software_pages(url: str, version_id: str) -> dict[str, Target]:
    """The source tree, a file in it and (when the archive has history) the log, found as a reader would."""
    tree = httpx.get(f"{url}/software/{version_id}", follow_redirects=True, timeout=30)
    assert tree.status_code == 200, tree.text[:300]
    found = {"software-tree": Target(str(tree.url.raw_path.decode()))}
    links = re.findall(r'href="(/software/[^"]+)"', tree.text)
    files = [link for link in links if "/tree/" in link and not link.endswith("/")]
    if files:
        found["software-file"] = Target(files[0])
    logs = [link for link in links if "/log/" in link]
    if logs:
        found["software-log"] = Target(logs[0])
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("tour") / "node"
    summary, ids = _prepare(folder)
    server = serve(folder)
    try:
        atlas_version, atlas_key = atlas_record(Demo(server.url, summary.records))
        pages = {
            "home": Target("/"),
            "search": Target("/search?q=Anscombe"),
            "dataset": Target(f"/records/{ids['Dataset-record']}"),
            "article": Target(f"/records/{ids['JournalArticle-record']}"),
            "software": Target(f"/records/{ids['Software-record']}"),
            "atlas-record": Target(f"/records/{atlas_version}"),
            "tombstone": Target(f"/records/{ids['gone']}", 410),
            "table": Target(f"/records/{ids['Dataset']}/files/anscombe.csv/explore"),
            "query": Target(f"/records/{ids['Dataset']}/query"),
            "atlas": Target(f"/records/{atlas_version}/files/{atlas_key}/explore"),
            "communities": Target("/communities"),
            "community": Target("/communities/statistics"),
            "about": Target("/about"),
            "upload": Target(f"/records/{ids['draft']}/upload", token=True),
            "admin-peers": Target("/admin/peers", token=True),
            "admin-fixity": Target("/admin/fixity", token=True),
            "admin": Target("/admin", token=True),
            "admin-users": Target("/admin/users", token=True),
            "admin-settings": Target("/admin/settings", token=True),
            "admin-jobs": Target("/admin/jobs", token=True),
            "admin-outbox": Target("/admin/outbox", token=True),
            "api-docs": Target("/api/docs"),
            "error-404": Target("/records/doesnotexist", 404),
            "error-401": Target("/admin/peers", 401, bad_token=True),
            "error-404-community": Target("/communities/no-such-community", 404),
            "login": Target("/login"),
            "register": Target("/register"),
            "deposit-new": Target("/deposit/new", session="depositor"),
            "deposit-draft": Target(f"/deposit/{ids['ana-draft']}", session="depositor"),
            "my": Target("/my", session="depositor"),
            "account": Target("/account", session="depositor"),
            "curation-queue": Target("/communities/statistics/requests", session="curator"),
            "curation-submission": Target(f"/communities/statistics/requests/{ids['ana-record']}", session="curator"),
            "community-manage": Target("/communities/statistics/manage", session="curator"),
            "community-new": Target("/communities-new", session="curator"),
        }
        pages |= _software_pages(server.url, ids["history"])
        people = {k.removeprefix("session:"): v for k, v in ids.items() if k.startswith("session:")}
        yield Site(server.url, summary.token, pages, people)
    finally:
        server.stop()


PAGE_NAMES = [
    "home", "search", "dataset", "article", "software", "atlas-record", "tombstone", "table", "query", "atlas",
    "software-tree", "software-file", "software-log", "communities", "community", "about", "upload",
    "admin-peers", "admin-fixity", "admin", "admin-users", "admin-settings", "admin-jobs", "admin-outbox",
    "api-docs", "error-404", "error-401", "error-404-community",
]  # fmt: skip


def _context(browser: Browser, site: Site, target: Target, width: int, language: str):  # type: ignore[no-untyped-def]
    headers = {"Accept-Language": language}
    if target.token:
        headers["Authorization"] = f"Bearer {site.token}"
    if target.bad_token:
        headers["Authorization"] = "Bearer osn_not-a-token"
    context = browser.new_context(viewport={"width": width, "height": 900}, extra_http_headers=headers)
    if target.session:
        context.add_cookies([{"name": "osnode_session", "value": site.sessions[target.session], "url": site.url}])
    return context


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_page_fits_stays_local_and_is_photographed(
    browser: Browser, site: Site, name: str, width: int, language: str
) -> None:
    if name not in site.pages:
        pytest.fail(f"the demo has no {name} page to visit")
    target = site.pages[name]
    context = _context(browser, site, target, width, language)
    try:
        traffic = watch(context)
        page = context.new_page()
        response = page.goto(site.url + target.path)
        assert response is not None and response.status == target.status, (name, response and response.status)
        page.wait_for_load_state("networkidle")
        if name != "api-docs":  # Swagger UI renders the page in its own language
            assert page.locator("html").get_attribute("lang") == language
            assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        overflow = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}-{width}-{language}.png"), full_page=True)
        assert overflow[0] <= overflow[1], f"{name} is {overflow[0]} px wide at {overflow[1]} px"
        assert traffic.external == [], f"{name} asked other hosts for {traffic.external}"
    finally:
        context.close()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_page_weighs_at_most_30_kb(browser: Browser, site: Site, name: str, language: str) -> None:
    target = site.pages[name]
    if target.status != 200:
        headers = {"Accept": "text/html", "Accept-Encoding": "gzip"}
        if target.bad_token:
            headers["Authorization"] = "Bearer osn_not-a-token"
        response = httpx.get(site.url + target.path, headers=headers)
        assert response.status_code == target.status and response.headers["content-type"].startswith("text/html")
        assert response.num_bytes_downloaded <= PAGE_BUDGET
        return
    context = _context(browser, site, target, 390, language)
    try:
        sizes, _ = transferred(context, site.url + target.path)
        counted = {url: size for url, size in sizes.items() if "/files/" not in url and not BUDGET_EXEMPT.search(url)}
        assert sum(counted.values()) <= PAGE_BUDGET, f"{name}: {sum(counted.values())} bytes: {counted}"
    finally:
        context.close()


# The workspace's pages, each signed in as the person who uses it, in every language the interface has.
WORKSPACE_PAGES = [
    "login", "register", "deposit-new", "deposit-draft", "my", "account", "curation-queue", "curation-submission",
    "community-manage", "community-new",
]  # fmt: skip


@pytest.mark.parametrize("language", UI_LANGUAGES)
@pytest.mark.parametrize("name", WORKSPACE_PAGES)
def test_workspace_pages_fit_a_phone_stay_local_and_weigh_at_most_30_kb_in_every_language(
    browser: Browser, site: Site, name: str, language: str
) -> None:
    target = site.pages[name]
    context = _context(browser, site, target, 390, language)
    try:
        traffic = watch(context)
        page = context.new_page()
        response = page.goto(site.url + target.path)
        assert response is not None and response.status == target.status, (name, response and response.status)
        assert page.url.split("?")[0] == site.url + target.path.split("?")[0], f"{name} went to {page.url}"
        page.wait_for_load_state("networkidle")
        assert page.locator("html").get_attribute("lang") == language
        assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        overflow = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}-390-{language}.png"), full_page=True)
        assert overflow[0] <= overflow[1], f"{name} is {overflow[0]} px wide at {overflow[1]} px in {language}"
        assert traffic.external == [], f"{name} asked other hosts for {traffic.external}"
        page.close()
        sizes, _ = transferred(context, site.url + target.path)
        assert sum(sizes.values()) <= PAGE_BUDGET, f"{name} in {language}: {sum(sizes.values())} bytes: {sizes}"
    finally:
        context.close()
