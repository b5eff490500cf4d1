"""Named locks in the catalog (services/locks.py), and the tus upload lock that uses them across processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient

from osnode.services import locks
from osnode.services.node import Node
from osnode.web import tus
from tests.conftest import Account
from tests.transfer.test_tus import STREAM, TUS, start
from tests.web.conftest import create_draft


def test_a_lock_is_held_renewed_released_and_runs_out(node: Node) -> None:
    assert locks.acquire(node, "x", "a", 30)
    assert not locks.acquire(node, "x", "b", 30)
    assert locks.acquire(node, "x", "a", 30)  # its holder may take it again
    assert locks.renew(node, "x", "a", 30) and not locks.renew(node, "x", "b", 30)
    locks.release(node, "x", "b")  # not b's: nothing happens
    assert not locks.acquire(node, "x", "b", 30)
    locks.release(node, "x", "a")
    assert locks.acquire(node, "x", "b", 0.01)
    time.sleep(0.05)
    assert locks.acquire(node, "x", "c", 30)  # b's lease ran out


def test_a_lock_whose_process_died_on_this_host_is_taken_over_at_once(node: Node) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    holder = locks.holder_name().replace(f"/{os.getpid()}/", f"/{gone.pid}/")
    assert locks.dead_here(holder) and not locks.dead_here(locks.holder_name())
    assert not locks.dead_here(f"elsewhere.example.org/{gone.pid}/x")  # another host's: cannot tell
    assert locks.acquire(node, "y", holder, 3600)
    assert locks.acquire(node, "y", locks.holder_name(), 30)


def test_an_upload_another_process_is_writing_is_refused_until_it_lets_go(
    client: TestClient, node: Node, depositor: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tus, "PIECE_WAIT", 0.5)
    draft = create_draft(client, depositor)
    url = start(client, depositor, draft["id"], 4).headers["location"]
    upload_id = url.rsplit("/", 1)[1]
    other = "another-web-machine/1234/abcd"  # a web process elsewhere, mid-piece
    assert locks.acquire(node, f"tus:{upload_id}", other, 30)
    piece = depositor.headers | TUS | STREAM | {"Upload-Offset": "0"}
    refused = client.patch(url, content=b"data", headers=piece)
    assert refused.status_code == 409 and "another request is writing" in refused.text
    assert client.head(url, headers=depositor.headers | TUS).headers["upload-offset"] == "0"
    locks.release(node, f"tus:{upload_id}", other)
    assert client.patch(url, content=b"data", headers=piece).status_code == 204
    assert not locks.renew(node, f"tus:{upload_id}", tus._HOLDER, 30)  # released after the piece
