"""Browser sessions, CSRF and local sign-in: cookie flags, rotation, sign-out, CSRF refusals, safe next=,
no account enumeration, rate limits, and passwords stored only as argon2id."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from osnode.app import create_app
from osnode.config import load_settings
from osnode.domain.records import Role
from osnode.services import accounts
from osnode.services.node import Node
from osnode.storage.accounts import sessions as sessions_table
from osnode.storage.catalog import users
from osnode.web import sessions
from tests.conftest import Account, minimal_metadata
from tests.web.accounts_helpers import PASSWORD, csrf_of, local_account, sign_in

HTML = {"Accept": "text/html"}


def session_count(node: Node) -> int:
    with node.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(sessions_table)).scalar_one()


def test_sign_in_sets_a_strict_session_cookie_and_the_header_names_the_account(client: TestClient, node: Node) -> None:
    local_account(node)
    response = sign_in(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/account"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(sessions.COOKIE + "="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert "secure" not in flags  # the base URL is http here
    home = client.get("/")
    assert "Ana Silva" in home.text and 'href="/login"' not in home.text
    # Only the hash of the session id is in the catalog.
    sid = client.cookies.get(sessions.COOKIE)
    with node.engine.connect() as conn:
        stored = conn.execute(select(sessions_table.c.id_hash)).scalars().all()
    assert sid and sid not in stored and len(stored) == 1


def test_cookie_is_secure_when_the_base_url_is_https(data_dir: Path, database_url: str) -> None:
    node = Node.open(load_settings(data_dir, database_url=database_url, base_url="https://testserver"))
    try:
        local_account(node)
        with TestClient(create_app(node), base_url="https://testserver") as client:
            response = sign_in(client)
            cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(sessions.COOKIE + "="))
            assert "secure" in {p.strip().lower() for p in cookie.split(";")}
            assert client.get("/account").status_code == 200
    finally:
        node.close()


def test_the_session_id_is_rotated_at_sign_in(client: TestClient, node: Node) -> None:
    local_account(node)
    sign_in(client)
    first = client.cookies.get(sessions.COOKIE)
    sign_in(client)  # signing in again (an attacker's planted id, say) never keeps the old id
    second = client.cookies.get(sessions.COOKIE)
    assert first != second
    assert session_count(node) == 1  # the old one ended
    planted = TestClient(client.app)
    planted.cookies.set(sessions.COOKIE, "chosen-by-the-attacker")
    assert sign_in(planted).status_code == 303
    issued = [c for c in planted.cookies.jar if c.name == sessions.COOKIE and c.value != "chosen-by-the-attacker"]
    assert len(issued) == 1  # a fresh id was issued; the planted one means nothing to the node
    assert sessions_table is not None and session_count(node) == 2


def test_sign_out_and_sign_out_everywhere(client: TestClient, node: Node) -> None:
    local_account(node)
    other = TestClient(client.app)
    sign_in(client)
    sign_in(other)
    assert session_count(node) == 2
    token = csrf_of(client, "/account")
    out = client.post("/logout", data={"csrf": token}, follow_redirects=False)
    assert out.status_code == 303 and session_count(node) == 1
    assert client.get("/account", headers=HTML, follow_redirects=False).status_code == 303
    sign_in(client)
    everywhere = client.post("/account/sign-out-everywhere", data={"csrf": csrf_of(client, "/account")})
    assert everywhere.status_code == 200  # followed to /login
    assert session_count(node) == 0
    assert other.get("/account", headers=HTML, follow_redirects=False).headers["location"].startswith("/login")


def test_account_page_needs_a_sign_in(client: TestClient) -> None:
    browser = client.get("/account?x=1", headers={"Accept": "text/html"}, follow_redirects=False)
    assert browser.status_code == 303
    assert browser.headers["location"] == "/login?next=%2Faccount%3Fx%3D1"
    api = client.get("/account", headers={"Accept": "application/json"})
    assert api.status_code == 401
    assert api.headers["content-type"].startswith("application/problem+json")


# -- CSRF ---------------------------------------------------------------------------------------


def test_a_form_without_its_csrf_token_changes_nothing(client: TestClient, node: Node) -> None:
    account = local_account(node)
    sign_in(client)
    missing = client.post("/account/profile", data={"display_name": "Mallory", "language": "en"})
    assert missing.status_code == 403
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert accounts.get(node, account.id).display_name == "Ana Silva"  # type: ignore[union-attr]
    # A token from another browser's session does not pass either.
    mallory = TestClient(client.app)
    local_account(node, "mallory@example.org")
    sign_in(mallory, "mallory@example.org")
    foreign = csrf_of(mallory, "/account")
    refused = client.post("/account/profile", data={"display_name": "Mallory", "language": "en", "csrf": foreign})
    assert refused.status_code == 403
    assert accounts.get(node, account.id).display_name == "Ana Silva"  # type: ignore[union-attr]
    good = client.post(
        "/account/profile", data={"display_name": "Ana S.", "language": "fr", "csrf": csrf_of(client, "/account")}
    )
    assert good.status_code == 200
    changed = accounts.get(node, account.id)
    assert changed is not None and changed.display_name == "Ana S." and changed.language == "fr"


def test_a_cross_site_origin_is_refused_even_with_the_token(client: TestClient, node: Node) -> None:
    account = local_account(node)
    sign_in(client)
    token = csrf_of(client, "/account")
    refused = client.post(
        "/account/profile",
        data={"display_name": "Evil", "language": "en", "csrf": token},
        headers={"Origin": "https://evil.example"},
    )
    assert refused.status_code == 403
    assert accounts.get(node, account.id).display_name == "Ana Silva"  # type: ignore[union-attr]


def test_the_api_with_a_session_cookie_needs_the_csrf_header_but_a_bearer_token_does_not(
    client: TestClient, node: Node, depositor: Account
) -> None:
    local_account(node)
    sign_in(client)
    body = {"metadata": minimal_metadata()}
    assert client.post("/api/records", json=body).status_code == 403
    token = csrf_of(client, "/account")
    assert client.post("/api/records", json=body, headers={"X-CSRF-Token": token}).status_code == 201
    bare = TestClient(client.app)
    assert bare.post("/api/records", json=body, headers=depositor.headers).status_code == 201


def test_the_login_form_itself_needs_its_token(client: TestClient, node: Node) -> None:
    local_account(node)
    refused = client.post("/login", data={"email": "ana@example.org", "password": PASSWORD}, follow_redirects=False)
    assert refused.status_code == 403
    assert sessions.COOKIE not in client.cookies


# -- where to go next ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "/%0d%0aSet-Cookie:x",
        "\\\\evil",
    ],
)
def test_next_never_leaves_the_site(client: TestClient, node: Node, target: str) -> None:
    local_account(node)
    response = sign_in(client, next_=target)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert "evil" not in location or location == target  # a same-site path may contain the word


def test_next_keeps_a_same_site_path(client: TestClient, node: Node) -> None:
    local_account(node)
    assert sign_in(client, next_="/search?q=rain").headers["location"] == "/search?q=rain"


# -- wrong passwords, enumeration and limits -----------------------------------------------------------


def test_wrong_password_and_unknown_account_say_the_same(client: TestClient, node: Node) -> None:
    local_account(node)
    wrong = sign_in(client, password="not the password at all")
    unknown = sign_in(client, email="nobody@example.org")
    assert wrong.status_code == unknown.status_code == 401
    assert "the email or password is not right" in wrong.text
    assert wrong.text.replace("ana@example.org", "X") == unknown.text.replace("nobody@example.org", "X").replace(
        _csrf_in(unknown.text), _csrf_in(wrong.text)
    )
    assert sessions.COOKIE not in client.cookies


def _csrf_in(text: str) -> str:
    import re

    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', text)
    return found.group(1) if found else ""


def test_failed_sign_ins_are_limited_per_account_and_per_address(data_dir: Path, database_url: str) -> None:
    node = Node.open(
        load_settings(
            data_dir,
            database_url=database_url,
            base_url="http://testserver",
            signin_failures_per_account=3,
            signin_failures_per_address=5,
        )
    )
    try:
        local_account(node)
        for _ in range(3):
            with pytest.raises(Exception, match="not right"):
                accounts.sign_in(node, "ana@example.org", "wrong password!", "10.0.0.1")
        with pytest.raises(Exception, match="too many"):  # even the right password now waits
            accounts.sign_in(node, "ANA@example.org", PASSWORD, "10.0.0.2")
        for i in range(2):
            with pytest.raises(Exception, match="not right"):
                accounts.sign_in(node, f"guess{i}@example.org", "wrong password!", "10.0.0.9")
        with TestClient(create_app(node)) as client:
            # The test client's address is "testclient": 3 account failures, not yet 5 for it.
            for i in range(5):
                sign_in(client, email=f"spray{i}@example.org", password="wrong password!")
            limited = sign_in(client, email="fresh@example.org", password="wrong password!")
            assert limited.status_code == 429
    finally:
        node.close()


def test_passwords_are_stored_only_as_argon2id(node: Node) -> None:
    local_account(node)
    with node.engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.email == "ana@example.org")).scalar_one()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PASSWORD not in stored


def test_email_is_unique_case_insensitively(node: Node) -> None:
    first = local_account(node, "Ana@Example.org")
    again = accounts.register(node, "ana@EXAMPLE.org", PASSWORD, "Someone", "en")
    assert not again.new and again.account.id == first.id
    assert accounts.sign_in(node, "ANA@example.ORG", PASSWORD, "x").id == first.id


def test_pending_and_disabled_accounts_cannot_sign_in(node: Node) -> None:
    from sqlalchemy import update

    account = local_account(node, role=Role.DEPOSITOR)
    for status in ("pending", "disabled"):
        with node.transaction() as tx:
            tx.execute(update(users).where(users.c.id == account.id).values(status=status))
        with pytest.raises(Exception, match="approval|disabled"):
            accounts.sign_in(node, "ana@example.org", PASSWORD, "x")


def test_a_huge_form_is_refused_unread(client: TestClient, node: Node) -> None:
    local_account(node)
    token = csrf_of(client)
    body = f"csrf={token}&email=ana@example.org&password=" + "x" * 200_000
    response = client.post(
        "/login", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}, follow_redirects=False
    )
    assert response.status_code == 413 and sessions.COOKIE not in client.cookies


def test_the_header_names_the_signed_in_account_on_every_page(client: TestClient, node: Node) -> None:
    local_account(node)
    sign_in(client)
    for path in ("/", "/login", "/register", "/search"):
        assert "Ana Silva" in client.get(path).text, path


def test_a_browser_refused_for_csrf_gets_a_page_in_its_language(client: TestClient, node: Node) -> None:
    local_account(node)
    sign_in(client)
    page = client.post(
        "/account/profile", data={"display_name": "x"}, headers={"Accept": "text/html", "Accept-Language": "fr"}
    )
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert "ce formulaire a expiré" in page.text
