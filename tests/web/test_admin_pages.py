"""The admin pages: who may see them, users and roles, invitations, registration mode, node settings that take
effect at once, and a logo upload that refuses anything but a real PNG or JPEG."""

from __future__ import annotations

import dataclasses
import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from osnode.config import load_settings
from osnode.domain.records import Role
from osnode.services import accounts
from osnode.services.node import Node
from osnode.storage.accounts import invitations, outbox
from tests.web.accounts_helpers import csrf_of, local_account, sign_in

ADMIN = "root@example.org"
PAGES = ["/admin", "/admin/users", "/admin/settings", "/admin/peers", "/admin/fixity", "/admin/jobs", "/admin/outbox"]
POSTS = [
    "/admin/users/1/role",
    "/admin/invitations",
    "/admin/registration",
    "/admin/settings",
    "/admin/peers",
    "/admin/outbox/1/retry",
    "/admin/jobs/1/retry",
    "/admin/jobs/1/discard",
]
HTML = {"accept": "text/html"}


def _admin(client: TestClient, node: Node) -> accounts.Account:
    made = local_account(node, ADMIN, Role.ADMIN)
    assert sign_in(client, ADMIN).status_code == 303
    return made


def _png(colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("path", PAGES)
def test_a_browser_without_a_session_is_sent_to_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path, headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    assert client.get(path).status_code == 401  # an API client gets a problem


@pytest.mark.parametrize("role", [Role.DEPOSITOR, Role.CURATOR, Role.READER])
def test_everyone_but_an_admin_gets_a_403_page(client: TestClient, node: Node, role: Role) -> None:
    local_account(node, "someone@example.org", role)
    sign_in(client, "someone@example.org")
    for path in PAGES:
        response = client.get(path, headers=HTML)
        assert response.status_code == 403, path
        assert response.headers["content-type"].startswith("text/html")
    token = csrf_of(client, "/account")
    for path in POSTS:
        assert client.post(path, data={"csrf": token}, headers=HTML).status_code == 403, path


def test_every_admin_page_answers_an_admin(client: TestClient, node: Node) -> None:
    _admin(client, node)
    for path in PAGES:
        response = client.get(path, headers=HTML)
        assert response.status_code == 200, path
        assert len(response.content) <= 30 * 1024, path


def test_a_form_without_its_csrf_token_changes_nothing(client: TestClient, node: Node) -> None:
    _admin(client, node)
    response = client.post("/admin/settings", data={"node_name": "Hijacked"}, headers=HTML)
    assert response.status_code == 403
    assert node.settings.node_name != "Hijacked"


def test_an_admin_changes_a_role_disables_and_approves(client: TestClient, node: Node) -> None:
    _admin(client, node)
    other = local_account(node, "ana@example.org", Role.DEPOSITOR)
    token = csrf_of(client, "/admin/users")
    assert client.post(f"/admin/users/{other.id}/role", data={"role": "curator", "csrf": token}).status_code == 200
    assert accounts.get(node, other.id).role is Role.CURATOR  # type: ignore[union-attr]
    bad = client.post(f"/admin/users/{other.id}/role", data={"role": "emperor", "csrf": token})
    assert bad.status_code == 422 and "choose one of the roles offered" in bad.text
    assert accounts.get(node, other.id).role is Role.CURATOR  # type: ignore[union-attr]
    client.post(f"/admin/users/{other.id}/status", data={"status": "disabled", "csrf": token})
    assert accounts.get(node, other.id).status == "disabled"  # type: ignore[union-attr]
    client.post(f"/admin/users/{other.id}/status", data={"status": "active", "csrf": token})
    assert accounts.get(node, other.id).status == "active"  # type: ignore[union-attr]


def test_the_list_is_searched_and_escaped(client: TestClient, node: Node) -> None:
    _admin(client, node)
    made = local_account(node, "evil@example.org", Role.DEPOSITOR)
    accounts.update_profile(node, made.id, "<script>alert(1)</script>", "en")
    page = client.get("/admin/users", params={"q": "EVIL"}, headers=HTML)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert" not in page.text
    assert ADMIN not in page.text.split("<h2")[0]  # the search left the admin out
    assert client.get("/admin/users", params={"q": "%"}, headers=HTML).status_code == 200


def test_an_invitation_is_mailed_listed_and_revoked(client: TestClient, node: Node) -> None:
    _admin(client, node)
    token = csrf_of(client, "/admin/users")
    sent = client.post("/admin/invitations", data={"email": "Bea@Example.org", "language": "fr", "csrf": token})
    assert sent.status_code == 200 and "bea@example.org" in sent.text
    with node.engine.connect() as conn:
        mail = conn.execute(select(outbox)).all()
        (key,) = conn.execute(select(invitations.c.token_hash)).scalars().all()
    assert [m.recipient for m in mail] == ["bea@example.org"] and mail[0].language == "fr"
    bad = client.post("/admin/invitations", data={"email": "not an email", "language": "en", "csrf": token})
    assert bad.status_code == 422 and 'id="email-error"' in bad.text
    client.post(f"/admin/invitations/{key}/revoke", data={"csrf": token})
    with node.engine.connect() as conn:
        assert conn.execute(select(invitations)).all() == []


def test_the_registration_mode_and_the_approval_queue(client: TestClient, node: Node) -> None:
    _admin(client, node)
    token = csrf_of(client, "/admin/users")
    assert client.post("/admin/registration", data={"registration": "anarchy", "csrf": token}).status_code == 422
    assert node.settings.registration == "open"
    client.post("/admin/registration", data={"registration": "approval", "csrf": token})
    assert node.settings.registration == "approval"
    done = accounts.register(node, "new@example.org", "a long enough password", "New Person", "en")
    assert done.account.status == "pending"
    page = client.get("/admin/users", headers=HTML).text
    assert "new@example.org" in page.split('id="waiting"')[1]
    client.post(f"/admin/users/{done.account.id}/status", data={"status": "active", "csrf": token})
    assert accounts.get(node, done.account.id).status == "active"  # type: ignore[union-attr]


def test_settings_take_effect_at_once_and_survive_a_restart(client: TestClient, node: Node) -> None:
    _admin(client, node)
    token = csrf_of(client, "/admin/settings")
    form = {
        "node_name": "Luanda Data",
        "node_description": "Rain & rivers",
        "admin_email": "desk@example.org",
        "accent_color": "#224466",
        "base_url": "http://testserver",
        "languages": ["en", "ar", "pt"],
        "csrf": token,
    }
    assert client.post("/admin/settings", data=form).status_code == 200
    home = client.get("/", headers=HTML).text
    assert "Luanda Data" in home and "#224466" in home
    assert "lang=ar" in home and "lang=fr" not in home  # the language switch offers the chosen three
    french = client.get("/", headers=HTML | {"Accept-Language": "fr"})
    assert '<html lang="en"' in french.text  # a language not offered falls back to the first offered
    again = Node.open(load_settings(node.settings.data_dir, database_url=str(node.engine.url.render_as_string(False))))
    try:
        assert again.settings.node_name == "Luanda Data" and again.settings.languages == ("en", "ar", "pt")
    finally:
        again.close()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("node_name", "   ", "the node needs a name"),
        ("accent_color", "#ffff00", "a colour is #"),
        ("accent_color", "red;}</style>", "a colour is #"),
        ("base_url", "javascript:alert(1)", "the base URL is"),
        ("admin_email", "nobody", "enter a valid email address"),
    ],
)
def test_a_bad_setting_is_shown_beside_its_field_and_nothing_changes(
    client: TestClient, node: Node, name: str, value: str, message: str
) -> None:
    _admin(client, node)
    token = csrf_of(client, "/admin/settings")
    form = {"node_name": "Changed", "languages": ["en"], "csrf": token, name: value}
    response = client.post("/admin/settings", data=form, headers=HTML)
    assert response.status_code == 422
    assert f'id="{name}-error"' in response.text and message in response.text
    assert node.settings.node_name != "Changed"


def test_a_logo_upload_takes_effect_and_hostile_files_are_refused(client: TestClient, node: Node) -> None:
    _admin(client, node)
    token = csrf_of(client, "/admin/settings")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for data in (svg, b"\x89PNG\r\n\x1a\nnot really", b"GIF89a" + b"\0" * 20):
        bad = client.post("/admin/settings/logo", data={"csrf": token}, files={"logo": ("x.png", data, "image/png")})
        assert bad.status_code == 422 and 'id="logo-error"' in bad.text
    assert node.settings.logo_url == ""
    done = client.post("/admin/settings/logo", data={"csrf": token}, files={"logo": ("l.png", _png(), "image/png")})
    assert done.status_code == 200
    path = node.settings.logo_url
    assert path.startswith("/site/logo-") and f'src="{path}"' in client.get("/", headers=HTML).text
    served = client.get(path)
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(served.content)) as kept:  # re-encoded (services.images): the same pixels
        assert kept.format == "PNG" and kept.size == (8, 8) and kept.convert("RGB").getpixel((0, 0)) == (255, 0, 0)
    assert client.get("/site/..%2Fcatalog.sqlite").status_code == 404


def test_an_admin_adds_a_peer_sets_its_policy_and_bad_urls_change_nothing(client: TestClient, node: Node) -> None:
    from osnode.services import harvest, replication

    _admin(client, node)
    token = csrf_of(client, "/admin/peers")
    for url in ("javascript:alert(1)", "https://peer.example.org/oai?verb=Identify", "ftp://x.org"):
        bad = client.post("/admin/peers", data={"url": url, "csrf": token}, headers=HTML)
        assert bad.status_code == 422 and 'id="url-error"' in bad.text
    assert harvest.list_peers(node) == []
    added = client.post("/admin/peers", data={"url": "https://peer.example.org/oai", "name": "peer", "csrf": token})
    assert added.status_code == 200 and 'id="peer-peer"' in added.text
    again = client.post("/admin/peers", data={"url": "https://peer.example.org/oai", "name": "peer", "csrf": token})
    assert again.status_code == 409
    client.post("/admin/peers/peer/policy", data={"policy": "sets", "sets": "physics bio", "csrf": token})
    assert replication.get_policy(node, "peer").sets == ("physics", "bio")
    bad = client.post("/admin/peers/peer/policy", data={"policy": "everything", "csrf": token})
    assert bad.status_code == 422 and replication.get_policy(node, "peer").policy == "sets"
    assert client.post("/admin/peers/nobody/harvest", data={"csrf": token}, headers=HTML).status_code == 404


def test_a_failed_message_is_retried_and_a_job_shows_its_last_run_and_error(client: TestClient, node: Node) -> None:
    from sqlalchemy import update

    from osnode.services import jobs, mail

    _admin(client, node)
    number = mail.enqueue(node, "x@example.org", "Hello", "Body", "en")
    with node.transaction() as tx:
        tx.execute(
            update(outbox).where(outbox.c.id == number).values(state="failed", attempts=8, last_error="<b>550</b>")
        )
    page = client.get("/admin/outbox", headers=HTML).text
    assert "&lt;b&gt;550&lt;/b&gt;" in page and f"/admin/outbox/{number}/retry" in page
    token = csrf_of(client, "/admin/outbox")
    assert client.post(f"/admin/outbox/{number}/retry", data={"csrf": token}).status_code == 200
    assert [m.state for m in mail.listing(node)] == ["queued"]
    assert client.post(f"/admin/outbox/{number}/retry", data={"csrf": token}).status_code == 404

    def broken(_node: Node) -> None:
        raise RuntimeError("peer down")

    scheduler = jobs.Scheduler(node, [jobs.Job("broken", lambda _n: 0.0, broken)])
    scheduler._due["broken"] = 0.0  # due now, without starting the thread
    assert scheduler.run_due() == ["broken"]
    page = client.get("/admin/jobs", headers=HTML).text
    assert 'id="job-broken"' in page and "RuntimeError: peer down" in page


def test_dead_jobs_of_the_queue_are_listed_and_retried_or_discarded(client: TestClient, node: Node) -> None:
    from osnode.services import queue

    _admin(client, node)
    node.settings = dataclasses.replace(node.settings, queue_max_attempts=1)

    def broken(_node: Node, _args: dict[str, object]) -> None:
        raise RuntimeError("<i>peer</i> down")

    worker = queue.Worker(node, [], {"broken": broken}, schedule=False)
    first, second = queue.enqueue(node, "broken"), queue.enqueue(node, "broken")
    worker.run_one()
    worker.run_one()
    page = client.get("/admin/jobs", headers=HTML).text
    assert f'id="dead-{first}"' in page and f'id="dead-{second}"' in page
    assert "&lt;i&gt;peer&lt;/i&gt; down" in page and f"/admin/jobs/{first}/discard" in page
    token = csrf_of(client, "/admin/jobs")
    assert client.post(f"/admin/jobs/{first}/retry", data={"csrf": token}).status_code == 200
    assert client.post(f"/admin/jobs/{second}/discard", data={"csrf": token}).status_code == 200
    assert [(j.id, j.state) for j in queue.listing(node)] == [(first, queue.QUEUED)]
    refused = client.post(f"/admin/jobs/{first}/discard", data={"csrf": token}, headers=HTML)
    assert refused.status_code == 409 and "only dead jobs are retried or discarded" in refused.text
    assert client.post(f"/admin/jobs/{second}/retry", data={"csrf": token}, headers=HTML).status_code == 404
    assert client.post(f"/admin/jobs/{first}/explode", data={"csrf": token}, headers=HTML).status_code == 404
    assert client.post(f"/admin/jobs/{first}/retry", data={}, headers=HTML).status_code == 403  # no CSRF token
