"""The outbox sends to a real HTTP inbox: a receiver that is down or answers 5xx/429 is tried again later with
a growing delay, a 4xx refusal is final (no loop), and queued notifications survive a restart of the node."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import update

from osnode.config import load_settings
from osnode.services.node import Node, utcnow
from osnode.services.notify import outbox, reviews
from osnode.storage.notify import notify_outbox
from tests.conftest import Account, free_port
from tests.notify.conftest import publish


class Receiver:
    """An LDN inbox on a real socket answering the statuses queued in ``answers`` (then 201)."""

    def __init__(self) -> None:
        self.answers: list[int] = []
        self.received: list[dict] = []  # type: ignore[type-arg]
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.answers.pop(0) if receiver.answers else 201
                if status == 201:
                    receiver.received.append(json.loads(body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    made.thread.start()
    yield made
    made.server.shutdown()
    made.server.server_close()


def _with_service(node: Node, url: str) -> Node:
    table = (("id", url), ("inbox", f"{url}/inbox"), ("label", "Local review service"))
    own = "http://repository.example.org"
    node.settings = dataclasses.replace(node.settings, base_url=own, notify_services=(("local", table),))
    return node


def _due_now(node: Node) -> None:
    """Skip the backoff wait (the test does not sleep): make every queued notification due."""
    with node.transaction() as tx:
        tx.execute(update(notify_outbox).values(next_try=utcnow() - timedelta(seconds=1)))


def test_retries_until_the_receiver_takes_it_then_stops(node: Node, depositor: Account) -> None:
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    _with_service(node, down)
    record_id = publish(node, depositor.viewer)
    reviews.request(node, depositor.viewer, record_id, down)
    assert outbox.send_due(node) == 0
    [row] = outbox.listing(node)
    assert (row.state, row.attempts) == ("queued", 1) and "cannot reach" in row.last_error
    # Not due again at once: the backoff holds it.
    assert outbox.send_due(node) == 0 and outbox.listing(node)[0].attempts == 1


def test_5xx_and_429_are_retried_and_4xx_is_final(node: Node, depositor: Account, receiver: Receiver) -> None:
    _with_service(node, receiver.url)
    record_id = publish(node, depositor.viewer)
    receiver.answers = [503, 429]
    reviews.request(node, depositor.viewer, record_id, receiver.url)
    for attempt in (1, 2):
        assert outbox.send_due(node) == 0
        assert outbox.listing(node)[0].attempts == attempt
        _due_now(node)
    assert outbox.send_due(node) == 1
    [row] = outbox.listing(node)
    assert (row.state, row.attempts) == ("sent", 3)
    assert len(receiver.received) == 1 and receiver.received[0]["id"] == row.notification_id
    assert outbox.send_due(node) == 0  # sent once, never again

    receiver.answers = [400]
    reviews.request(node, depositor.viewer, record_id, receiver.url, "RequestEndorsement")
    assert outbox.send_due(node) == 0
    refused = outbox.listing(node)[0]
    assert (refused.state, refused.attempts) == ("failed", 1) and "answered 400" in refused.last_error
    _due_now(node)
    assert outbox.send_due(node) == 0 and outbox.listing(node)[0].attempts == 1  # no retry loop


def test_queued_notifications_survive_a_restart(node: Node, depositor: Account, receiver: Receiver) -> None:
    _with_service(node, receiver.url)
    record_id = publish(node, depositor.viewer)
    reviews.request(node, depositor.viewer, record_id, receiver.url)
    settings = node.settings
    node.close()
    reopened = Node.open(load_settings(settings.data_dir, database_url=settings.database_url))
    try:
        _with_service(reopened, receiver.url)
        assert outbox.send_due(reopened) == 1
        assert len(receiver.received) == 1
    finally:
        reopened.close()
