"""Curation in the browser (no JavaScript): the owner submits a draft to a community from its page, the
community's curator reviews it in the queue and accepts it with a message, the emails are queued in each
recipient's language, the landing page shows the community; a curator of another community is refused."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from osnode.app import create_app
from osnode.domain.access import Viewer
from osnode.domain.records import Role
from osnode.services import communities, curation, deposit
from osnode.services.accounts import Account
from osnode.services.node import Node
from osnode.storage.accounts import outbox
from osnode.storage.catalog import users
from osnode.storage.communities import record_communities
from tests.conftest import minimal_metadata
from tests.web.accounts_helpers import csrf_of, local_account, sign_in

HTML = {"Accept": "text/html"}
EVIL = '<script>alert("x")</script>'


def _viewer(account: Account) -> Viewer:
    return Viewer(user_id=account.id, role=account.role)


def _mails(node: Node) -> list:  # type: ignore[type-arg]
    with node.engine.connect() as conn:
        return conn.execute(select(outbox).order_by(outbox.c.id)).all()


def _status(node: Node, record_id: str, slug: str):  # type: ignore[no-untyped-def]
    rc = record_communities
    with node.engine.connect() as conn:
        return conn.execute(select(rc).where(rc.c.record_id == record_id, rc.c.slug == slug)).first()


def test_submit_review_accept_and_tell_the_depositor(node: Node) -> None:
    admin = local_account(node, "admin@example.org", Role.ADMIN)
    cur = local_account(node, "cura@example.org", Role.DEPOSITOR)
    ana = local_account(node, "ana@example.org", Role.DEPOSITOR)
    with node.transaction() as tx:
        tx.execute(update(users).where(users.c.id == ana.id).values(language="fr"))
    communities.create(node, _viewer(admin), "soil", f"Soil {EVIL}")
    with node.transaction() as tx:
        curation.add_curator(tx, "soil", cur.id)
    draft = deposit.create_draft(
        node, _viewer(ana), minimal_metadata(titles=[{"title": f"Wet {EVIL}"}]), {"level": "metadata-only"}
    )

    with TestClient(create_app(node)) as depositor, TestClient(create_app(node)) as curator:
        assert sign_in(depositor, "ana@example.org").status_code == 303
        page = depositor.get(f"/records/{draft.id}", headers=HTML)
        assert f'action="/records/{draft.record_id}/communities"' in page.text and EVIL not in page.text
        token = csrf_of(depositor, f"/records/{draft.id}")
        # Without the CSRF token nothing happens.
        refused = depositor.post(f"/records/{draft.record_id}/communities", data={"community": "soil"}, headers=HTML)
        assert refused.status_code == 403 and _status(node, draft.record_id, "soil") is None
        sent = depositor.post(
            f"/records/{draft.record_id}/communities",
            data={"community": "soil", "message": f"Please {EVIL}", "csrf": token},
            follow_redirects=False,
        )
        assert sent.status_code == 303, sent.text
        assert _status(node, draft.record_id, "soil").status == "requested"
        [to_curator] = [m for m in _mails(node) if m.recipient == "cura@example.org"]
        assert "Wet" in to_curator.body and f"/communities/soil/requests/{draft.record_id}" in to_curator.body

        assert sign_in(curator, "cura@example.org").status_code == 303
        queue = curator.get("/communities/soil/requests", headers=HTML)
        assert queue.status_code == 200 and "Ana Silva" in queue.text
        assert EVIL not in queue.text and "&lt;script&gt;" in queue.text
        opened = curator.get(f"/communities/soil/requests/{draft.record_id}", headers=HTML)
        assert opened.status_code == 200 and "Please &lt;script&gt;" in opened.text
        assert len(opened.content) <= 30_000
        token = csrf_of(curator, f"/communities/soil/requests/{draft.record_id}")
        done = curator.post(
            f"/communities/soil/requests/{draft.record_id}",
            data={"decision": "accept", "message": "Bienvenue !", "csrf": token},
            follow_redirects=False,
        )
        assert done.status_code == 303 and done.headers["location"] == "/communities/soil/requests?done=accept"
        row = _status(node, draft.record_id, "soil")
        assert (row.status, row.decision_message, row.decided_by) == ("accepted", "Bienvenue !", cur.id)
        [to_ana] = [m for m in _mails(node) if m.recipient == "ana@example.org"]
        assert to_ana.language == "fr" and "Bienvenue !" in to_ana.body
        assert to_ana.subject.startswith("Votre notice a été acceptée dans Soil")

        # Once published, the landing page shows the community (accepted only).
        deposit.publish(node, draft.id, _viewer(ana))
        landing = depositor.get(f"/records/{draft.record_id}", headers=HTML)
        assert 'href="/communities/soil"' in landing.text and 'id="communities"' in landing.text


def test_a_curator_of_another_community_gets_403_and_changes_nothing(node: Node) -> None:
    admin = local_account(node, "admin@example.org", Role.ADMIN)
    other = local_account(node, "other@example.org", Role.DEPOSITOR)
    ana = local_account(node, "ana@example.org", Role.DEPOSITOR)
    communities.create(node, _viewer(admin), "soil", "Soil")
    communities.create(node, _viewer(admin), "rain", "Rain")
    with node.transaction() as tx:
        curation.add_curator(tx, "rain", other.id)
    draft = deposit.create_draft(node, _viewer(ana), minimal_metadata())
    curation.submit(node, _viewer(ana), "soil", draft.record_id, "hi")
    with TestClient(create_app(node)) as client:
        assert sign_in(client, "other@example.org").status_code == 303
        assert client.get("/communities/soil/requests", headers=HTML).status_code == 403
        assert client.get(f"/communities/soil/requests/{draft.record_id}", headers=HTML).status_code == 403
        assert client.get(f"/records/{draft.id}", headers=HTML).status_code == 404  # not their community's draft
        token = csrf_of(client, "/account")
        refused = client.post(
            f"/communities/soil/requests/{draft.record_id}",
            data={"decision": "accept", "message": "mine", "csrf": token},
            headers=HTML,
        )
        assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
        # Nor may they submit someone else's record.
        stolen = client.post(
            f"/records/{draft.record_id}/communities", data={"community": "rain", "csrf": token}, headers=HTML
        )
        assert stolen.status_code == 403
    row = _status(node, draft.record_id, "soil")
    assert (row.status, row.decided_by) == ("requested", None)
    assert _status(node, draft.record_id, "rain") is None


def test_manage_a_community_in_the_browser(node: Node) -> None:
    cur = local_account(node, "cura@example.org", Role.CURATOR)
    bea = local_account(node, "bea@example.org", Role.DEPOSITOR)
    with TestClient(create_app(node)) as client:
        assert sign_in(client, "cura@example.org").status_code == 303
        token = csrf_of(client, "/communities-new")
        bad = client.post("/communities-new", data={"slug": "Bad Slug", "title": EVIL, "csrf": token})
        assert bad.status_code == 422 and EVIL not in bad.text and "&lt;script&gt;" in bad.text
        made = client.post(
            "/communities-new",
            data={"slug": "soil", "title": "Soil", "description": EVIL, "csrf": token},
            follow_redirects=False,
        )
        assert made.status_code == 303 and made.headers["location"] == "/communities/soil/manage"
        manage = client.get("/communities/soil/manage", headers=HTML)
        assert manage.status_code == 200 and "cura@example.org" in manage.text and EVIL not in manage.text
        page = client.get("/communities/soil", headers=HTML)
        assert 'href="/communities/soil/requests"' in page.text and "Ana Silva" in page.text
        edited = client.post("/communities/soil/manage", data={"title": "Soils", "description": "", "csrf": token})
        assert edited.status_code == 200 and communities.get(node, "soil").title == "Soils"
        added = client.post("/communities/soil/curators", data={"email": "bea@example.org", "csrf": token})
        assert added.status_code == 200 and "bea@example.org" in added.text
        unknown = client.post("/communities/soil/curators", data={"email": "zed@example.org", "csrf": token})
        assert unknown.status_code == 404
    assert {c.user_id for c in curation.curators_of(node, "soil")} == {cur.id, bea.id}
    with TestClient(create_app(node)) as other:  # bea now curates soil; removes cura, then may not manage 'rain'
        assert sign_in(other, "bea@example.org").status_code == 303
        token = csrf_of(other, "/account")
        gone = other.post(f"/communities/soil/curators/{cur.id}/remove", data={"csrf": token})
        assert gone.status_code == 200
        communities.create(node, _viewer(cur), "rain", "Rain")
        assert other.get("/communities/rain/manage", headers=HTML).status_code == 403
        refused = other.post("/communities/rain/manage", data={"title": "Mine", "csrf": token}, headers=HTML)
        assert refused.status_code == 403 and communities.get(node, "rain").title == "Rain"
        assert other.get("/communities-new", headers=HTML).status_code == 403  # a depositor creates none
    assert {c.user_id for c in curation.curators_of(node, "soil")} == {bea.id}
