"""Sign-in with OpenID Connect against a real provider on loopback (oidc-provider-mock, in a thread): the code
flow with PKCE, ORCID linking, and the attacks: forged, replayed and other-browser state; id_tokens with a wrong
nonce, a bad signature, the wrong audience, or expired."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from oidc_provider_mock import User, run_server_in_thread
from sqlalchemy import select

from osnode.app import create_app
from osnode.config import load_settings
from osnode.domain.errors import Unauthorized
from osnode.services import oidc
from osnode.services.node import Node
from osnode.storage.catalog import users
from osnode.web import sessions

ORCID = "0000-0002-1825-0097"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    people = [
        User(sub=ORCID, claims={"name": "Josiah Carberry"}),
        User(sub="ana-at-uni", claims={"email": "ana@uni.example", "email_verified": True, "name": "Ana <b>Silva</b>"}),
    ]
    with run_server_in_thread(require_nonce=True, user_claims=people) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def oidc_node(data_dir: Path, database_url: str, provider: str) -> Iterator[Node]:
    discovery = f"{provider}/.well-known/openid-configuration"
    table = {
        "orcid": {"discovery": discovery, "client_id": "osnode-orcid", "client_secret": "s1"},
        "uni": {"discovery": discovery, "client_id": "osnode-uni", "client_secret": "s2", "label": "University"},
    }
    opened = Node.open(load_settings(data_dir, database_url=database_url, base_url="http://testserver", oidc=table))
    yield opened
    opened.close()


@pytest.fixture
def web(oidc_node: Node) -> Iterator[TestClient]:
    with TestClient(create_app(oidc_node)) as client:
        yield client


def authorize(client: TestClient, name: str, sub: str, next_: str = "/account") -> str:
    """Start at the node, sign in at the provider as ``sub``; the callback path the provider sends back."""
    started = client.get(f"/login/oidc/{name}?next={next_}", follow_redirects=False)
    assert started.status_code == 303, started.text
    location = started.headers["location"]
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"] and query["nonce"]
    answer = httpx.post(location, data={"sub": sub}, follow_redirects=False)
    assert answer.status_code in (302, 303), answer.text
    back = answer.headers["location"]
    assert back.startswith("http://testserver/login/oidc/")
    return back.removeprefix("http://testserver")


def test_orcid_sign_in_makes_and_links_the_account(web: TestClient, oidc_node: Node) -> None:
    assert "ORCID" in web.get("/login").text and "University" in web.get("/login").text
    done = web.get(authorize(web, "orcid", ORCID, "/search"), follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/search"
    assert web.cookies.get(sessions.COOKIE)
    with oidc_node.engine.connect() as conn:
        row = conn.execute(select(users.c.id, users.c.orcid, users.c.display_name)).one()
    assert row.orcid == ORCID
    assert ORCID in web.get("/account").text
    # Signing in again finds the same account.
    other = TestClient(web.app)
    other.get(authorize(other, "orcid", ORCID))
    with oidc_node.engine.connect() as conn:
        assert len(conn.execute(select(users.c.id)).all()) == 1


def test_orcid_sign_in_while_signed_in_links_the_orcid_to_that_account(web: TestClient, oidc_node: Node) -> None:
    from tests.web.accounts_helpers import local_account, sign_in

    account = local_account(oidc_node)
    sign_in(web)
    assert web.get(authorize(web, "orcid", ORCID)).status_code == 200
    with oidc_node.engine.connect() as conn:
        rows = conn.execute(select(users.c.id, users.c.orcid)).all()
    assert [(r.id, r.orcid) for r in rows] == [(account.id, ORCID)]


def test_institutional_sign_in_takes_the_verified_email_and_escapes_the_name(web: TestClient, oidc_node: Node) -> None:
    assert web.get(authorize(web, "uni", "ana-at-uni")).status_code == 200
    with oidc_node.engine.connect() as conn:
        row = conn.execute(select(users.c.email, users.c.email_verified, users.c.orcid)).one()
    assert row.email == "ana@uni.example" and row.email_verified and row.orcid is None
    page = web.get("/account").text
    assert "Ana &lt;b&gt;Silva&lt;/b&gt;" in page and "<b>Silva</b>" not in page


def test_a_forged_state_signs_nobody_in(web: TestClient) -> None:
    back = authorize(web, "orcid", ORCID)
    forged = back.replace("state=", "state=x")
    refused = web.get(forged)
    assert refused.status_code == 401 and sessions.COOKIE not in web.cookies


def test_a_replayed_callback_signs_nobody_in(web: TestClient) -> None:
    back = authorize(web, "orcid", ORCID)
    assert web.get(back, follow_redirects=False).status_code == 303
    again = web.get(back, follow_redirects=False)
    assert again.status_code == 401


def test_a_callback_in_another_browser_signs_nobody_in(web: TestClient) -> None:
    back = authorize(web, "orcid", ORCID)
    victim = TestClient(web.app)
    refused = victim.get(back)
    assert refused.status_code == 401 and sessions.COOKIE not in victim.cookies
    # A state that leaked is burnt: the real browser starts again rather than race an attacker.
    assert web.get(back, follow_redirects=False).status_code == 401


def test_a_state_from_another_provider_is_refused(web: TestClient) -> None:
    back = authorize(web, "orcid", ORCID)
    assert web.get(back.replace("/orcid/", "/uni/")).status_code == 401


def test_an_unknown_provider_or_a_provider_error_is_a_clear_refusal(web: TestClient) -> None:
    assert web.get("/login/oidc/nope").status_code == 404
    assert web.get("/login/oidc/orcid/callback?error=access_denied").status_code == 401


# -- the id_token checks, on tokens signed here ---------------------------------------------------------


KEY = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"})
OTHER = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"})
JWKS = {"keys": [KEY.as_dict(private=False)]}


def id_token(key: RSAKey = KEY, **changes: object) -> str:
    claims = {"iss": "https://idp.example", "aud": "osnode", "sub": "u1", "exp": int(time.time()) + 300, "nonce": "n1"}
    claims.update(changes)
    return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)


def check(token: str) -> dict[str, object]:
    return oidc.verify_id_token(token, JWKS, "https://idp.example", "osnode", "n1")


def test_a_good_id_token_passes() -> None:
    assert check(id_token())["sub"] == "u1"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: id_token(nonce="n2"), id="wrong-nonce"),
        pytest.param(lambda: id_token(nonce=None), id="no-nonce"),
        pytest.param(lambda: id_token(OTHER), id="bad-signature"),
        pytest.param(lambda: id_token(aud="someone-else"), id="wrong-audience"),
        pytest.param(lambda: id_token(iss="https://evil.example"), id="wrong-issuer"),
        pytest.param(lambda: id_token(exp=int(time.time()) - 60), id="expired"),
        pytest.param(lambda: id_token()[:-4] + "AAAA", id="tampered"),
        pytest.param(lambda: "e30.e30.", id="unsigned"),
    ],
)
def test_a_bad_id_token_is_refused(token) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Unauthorized):
        check(token())
