"""Two live nodes talk COAR Notify over HTTP: node A's depositor asks node B for a review of a record, B's
reviewing side accepts, announces the review, A's landing page shows it, and B's Undo removes it. Every
notification that crossed the wire validates with the ``coarnotify`` library."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from coarnotify.factory import COARNotifyFactory
from sqlalchemy import select

from osnode.config import load_settings
from osnode.domain.records import Role
from osnode.services import users
from osnode.services.harvest.peers import add_peer
from osnode.services.notify import outbox, reviews
from osnode.storage.notify import notify_inbox, notify_outbox
from tests.conftest import LiveServer, serve_in_thread
from tests.harvest.conftest import harvester_url  # noqa: F401 - a second catalog on the test's backend
from tests.notify.conftest import publish

HTML = {"Accept": "text/html"}


@pytest.fixture
def two_nodes(data_dir: Path, database_url: str, harvester_url: str, tmp_path: Path) -> Iterator[tuple]:  # noqa: F811
    b_dir = tmp_path / "b"
    b_dir.mkdir()
    a = serve_in_thread(load_settings(data_dir, database_url=database_url, explore_preload=False))
    b = serve_in_thread(load_settings(b_dir, database_url=harvester_url, explore_preload=False))
    assert a.node is not None and b.node is not None
    add_peer(a.node, f"{b.url}/oai", name="node-b")
    add_peer(b.node, f"{a.url}/oai", name="node-a")
    yield a, b
    a.stop()
    b.stop()


def _bodies(server: LiveServer) -> list[dict]:  # type: ignore[type-arg]
    assert server.node is not None
    with server.node.engine.connect() as conn:
        got = [r.body for r in conn.execute(select(notify_inbox.c.body))]
        sent = [r.body for r in conn.execute(select(notify_outbox.c.body))]
    return got + sent


def _landing(server: LiveServer, record_id: str) -> str:
    response = httpx.get(f"{server.url}/records/{record_id}", headers=HTML, timeout=30)
    assert response.status_code == 200
    return response.text


def test_request_accept_announce_and_undo_between_two_live_nodes(two_nodes: tuple) -> None:  # type: ignore[type-arg]
    a, b = two_nodes
    depositor = users.viewer_for(users.create_user(a.node, "ana", Role.DEPOSITOR.value))
    editor = users.viewer_for(users.create_user(b.node, "editor", Role.ADMIN.value))
    record_id = publish(a.node, depositor, titles=[{"title": "Soil moisture under cassava"}])

    # A's landing page and root announce A's inbox.
    page = httpx.get(f"{a.url}/records/{record_id}", headers=HTML, timeout=30)
    assert f'<{a.url}/inbox>; rel="http://www.w3.org/ns/ldp#inbox"' in page.headers["link"]
    assert f'"http://www.w3.org/ns/ldp#inbox":{{"@id":"{a.url}/inbox"}}' in page.text
    assert "ldp#inbox" in httpx.get(f"{a.url}/", timeout=30).headers["link"]

    reviews.request(a.node, depositor, record_id, b.url)
    assert outbox.send_due(a.node) == 1
    [incoming] = reviews.queue(b.node, editor)
    assert incoming.entry.kind == "RequestReview" and incoming.entry.object_url.startswith(f"{a.url}/records/")

    reviews.answer(b.node, editor, incoming.entry.id, accept=True)
    assert outbox.send_due(b.node) == 1
    [offer] = reviews.requests_sent(a.node, record_id)
    assert offer.answer == "accepted"

    review_url = f"{b.url}/records/review-of-{record_id}"
    reviews.announce(b.node, editor, incoming.entry.id, review_url)
    assert outbox.send_due(b.node) == 1
    assert review_url in _landing(a, record_id)
    assert reviews.requests_sent(a.node, record_id)[0].answer == "announced"

    reviews.undo(b.node, editor, incoming.entry.id)
    assert outbox.send_due(b.node) == 1
    assert review_url not in _landing(a, record_id)

    # Every notification either node sent or received is valid COAR Notify, as the library reads it.
    bodies = _bodies(a) + _bodies(b)
    # Request, Accept, Announce Review, Undo: each once in the sender's outbox and once in the receiver's inbox.
    assert len(bodies) == 2 * 4
    for body in bodies:
        assert "@context" in body
        assert COARNotifyFactory.get_by_object(body).validate()
