"""The workspace (/my): co-owners are invited by email without revealing whether an account has the address,
accept from the emailed link, and are removed by an owner (never the depositor); the depositor's requests to
communities, with the curator's message, and withdrawing a pending one."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from osnode.domain.access import Viewer
from osnode.domain.errors import InvalidInput
from osnode.domain.records import Role
from osnode.services import co_owners, communities, curation
from osnode.services.node import Node
from osnode.storage.accounts import outbox
from osnode.storage.catalog import users, versions
from osnode.storage.communities import record_communities
from osnode.storage.drafts import co_owner_invitations, record_owners
from tests.web.accounts_helpers import csrf_of, local_account, sign_in
from tests.web.test_deposit_pages import HTML, new_draft, signed_in

LINK = re.compile(r"/co-owner\?token=([A-Za-z0-9_%-]+)")


def _record_of(node: Node, version_id: str) -> str:
    with node.engine.connect() as conn:
        return conn.execute(select(versions.c.record_id).where(versions.c.id == version_id)).scalar_one()


def _co_owners(node: Node, record_id: str) -> list[int]:
    with node.engine.connect() as conn:
        query = select(record_owners.c.user_id).where(record_owners.c.record_id == record_id)
        return sorted(conn.execute(query).scalars())


def _mail_to(node: Node, address: str) -> list:  # type: ignore[type-arg]
    with node.engine.connect() as conn:
        return conn.execute(select(outbox).where(outbox.c.recipient == address)).all()


def _invite(client: TestClient, csrf: str, record_id: str, email: str):  # type: ignore[no-untyped-def]
    data = {"csrf": csrf, "record_id": record_id, "email": email}
    return client.post("/my/co-owners", data=data, headers=HTML, follow_redirects=True)


def test_inviting_looks_the_same_whether_or_not_the_account_exists(client: TestClient, node: Node) -> None:
    csrf = signed_in(client, node)
    record_id = _record_of(node, new_draft(client, csrf))
    bea = local_account(node, "bea@example.org")
    known = _invite(client, csrf, record_id, "bea@example.org")
    unknown = _invite(client, csrf, record_id, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    strip = re.compile(r'name="csrf" value="[0-9a-f]+"')
    assert strip.sub("", known.text) == strip.sub("", unknown.text)
    assert "An invitation was sent to this address" in known.text
    assert _co_owners(node, record_id) == []  # nobody is a co-owner before accepting
    [to_bea], [to_nobody] = _mail_to(node, "bea@example.org"), _mail_to(node, "nobody@example.org")
    assert LINK.search(to_bea.body) and LINK.search(to_nobody.body)

    # Someone else's account cannot spend Bea's invitation; Bea can, once.
    token = LINK.search(to_bea.body).group(1)  # type: ignore[union-attr]
    other = TestClient(client.app)
    signed_in(other, node, "eve@example.org")
    eve = csrf_of(other, f"/co-owner?token={token}")
    refused = other.post("/co-owner", data={"csrf": eve, "token": token}, headers=HTML)
    assert refused.status_code == 422 and _co_owners(node, record_id) == []
    mine = TestClient(client.app)
    assert sign_in(mine, "bea@example.org").status_code == 303
    page = mine.get(f"/co-owner?token={token}", headers=HTML)
    assert page.status_code == 200 and record_id in page.text
    form = csrf_of(mine, f"/co-owner?token={token}")
    accepted = mine.post("/co-owner", data={"csrf": form, "token": token}, headers=HTML, follow_redirects=False)
    assert accepted.status_code == 303 and accepted.headers["location"] == "/my?done=joined"
    assert _co_owners(node, record_id) == [bea.id]
    again = mine.post("/co-owner", data={"csrf": form, "token": token}, headers=HTML)
    assert again.status_code == 422
    # Without the CSRF token nothing happens.
    assert mine.post("/co-owner", data={"token": token}, headers=HTML).status_code == 403


def test_a_bad_address_is_refused_and_nothing_is_sent(client: TestClient, node: Node) -> None:
    csrf = signed_in(client, node)
    record_id = _record_of(node, new_draft(client, csrf))
    refused = _invite(client, csrf, record_id, "not an address")
    assert refused.status_code == 422
    with node.engine.connect() as conn:
        assert conn.execute(select(outbox)).all() == []
    assert client.get("/co-owner?token=forged", headers=HTML).status_code == 422


def test_owners_remove_co_owners_but_never_the_depositor(client: TestClient, node: Node) -> None:
    csrf = signed_in(client, node)
    record_id = _record_of(node, new_draft(client, csrf))
    bea = local_account(node, "bea@example.org")
    ana_id = local_id(node, "ana@example.org")
    invitation = co_owners.invite(node, Viewer(user_id=ana_id, role=Role.DEPOSITOR), record_id, "bea@example.org")
    co_owners.accept(node, Viewer(user_id=bea.id, role=bea.role), invitation.token)
    page = client.get("/my", headers=HTML)
    assert f"/my/co-owners/{record_id}/{bea.id}/remove" in page.text

    # Bea, a co-owner, cannot remove the depositor: the record keeps its owner.
    other = TestClient(client.app)
    assert sign_in(other, "bea@example.org").status_code == 303
    bea_csrf = csrf_of(other, "/my")
    last = other.post(f"/my/co-owners/{record_id}/{ana_id}/remove", data={"csrf": bea_csrf}, headers=HTML)
    assert last.status_code == 409
    # A stranger cannot remove anyone.
    eve = TestClient(client.app)
    eve_csrf = signed_in(eve, node, "eve@example.org")
    remove = f"/my/co-owners/{record_id}/{bea.id}/remove"
    assert eve.post(remove, data={"csrf": eve_csrf}, headers=HTML).status_code == 403
    assert _co_owners(node, record_id) == [bea.id]
    removed = client.post(remove, data={"csrf": csrf}, headers=HTML, follow_redirects=False)
    assert removed.status_code == 303 and _co_owners(node, record_id) == []
    assert client.post(remove, data={"csrf": csrf}, headers=HTML).status_code == 404


def local_id(node: Node, email: str) -> int:
    with node.engine.connect() as conn:
        return conn.execute(select(users.c.id).where(users.c.email == email)).scalar_one()


def test_my_requests_show_their_state_and_a_pending_one_can_be_withdrawn(client: TestClient, node: Node) -> None:
    csrf = signed_in(client, node)
    admin = local_account(node, "admin@example.org", Role.ADMIN)
    staff = Viewer(user_id=admin.id, role=admin.role)
    communities.create(node, staff, "soil", "Soil science")
    communities.create(node, staff, "water", "Water")
    first = _record_of(node, new_draft(client, csrf, **{"titles.0.title": "Cores"}))
    second = _record_of(node, new_draft(client, csrf, **{"titles.0.title": "Wells"}))
    ana = Viewer(user_id=local_id(node, "ana@example.org"), role=Role.DEPOSITOR)
    curation.submit(node, ana, "soil", first, "please")
    curation.submit(node, ana, "water", second)
    curation.decide(node, staff, "soil", first, False, "Out of <scope>")
    page = client.get("/my", headers=HTML).text
    assert "Cores" in page and "Wells" in page and "Out of &lt;scope&gt;" in page
    assert "declined" in page and "requested" in page
    assert f"/my/requests/{second}/water/withdraw" in page and f"/my/requests/{first}/soil/withdraw" not in page

    # A stranger cannot withdraw it; without the token nothing happens; the depositor can.
    eve = TestClient(client.app)
    eve_csrf = signed_in(eve, node, "eve@example.org")
    assert eve.post(f"/my/requests/{second}/water/withdraw", data={"csrf": eve_csrf}, headers=HTML).status_code == 403
    assert client.post(f"/my/requests/{second}/water/withdraw", headers=HTML).status_code == 403
    withdraw = f"/my/requests/{second}/water/withdraw"
    done = client.post(withdraw, data={"csrf": csrf}, headers=HTML, follow_redirects=False)
    assert done.status_code == 303
    with node.engine.connect() as conn:
        left = conn.execute(select(record_communities.c.record_id, record_communities.c.status)).all()
    assert [(r.record_id, r.status) for r in left] == [(first, "declined")]
    assert "The request was withdrawn." in client.get("/my?done=withdrawn", headers=HTML).text


def test_expired_invitations_do_not_work_and_are_swept(client: TestClient, node: Node) -> None:
    csrf = signed_in(client, node)
    record_id = _record_of(node, new_draft(client, csrf))
    ana = Viewer(user_id=local_id(node, "ana@example.org"), role=Role.DEPOSITOR)
    bea = local_account(node, "bea@example.org")
    old = co_owners.invite(node, ana, record_id, "bea@example.org")
    table = co_owner_invitations
    with node.transaction() as tx:
        tx.execute(update(table).values(expires=datetime.now(UTC) - timedelta(seconds=1)))
    assert client.get(f"/co-owner?token={old.token}", headers=HTML).status_code == 422
    with pytest.raises(InvalidInput):
        co_owners.accept(node, Viewer(user_id=bea.id, role=bea.role), old.token)
    co_owners.invite(node, ana, record_id, "bea@example.org")
    with node.engine.connect() as conn:
        assert len(conn.execute(select(table)).all()) == 1  # the expired one is gone
    assert _co_owners(node, record_id) == []
