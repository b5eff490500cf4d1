"""Two writers at once: the catalog's constraints decide, and the loser gets a clear 409."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from osnode.domain.errors import Conflict
from osnode.services import deposit
from osnode.services.node import Node
from tests.conftest import Account, minimal_metadata


def _published(node: Node, account: Account) -> str:
    draft = deposit.create_draft(node, account.viewer, minimal_metadata())
    deposit.add_file(node, draft.id, "a.txt", [b"a"], account.viewer)
    return deposit.publish(node, draft.id, account.viewer).record_id


def test_racing_new_versions_make_one_draft(node: Node, depositor: Account) -> None:
    record_id = _published(node, depositor)

    def start() -> str:
        try:
            return deposit.new_version(node, record_id, depositor.viewer).id
        except Conflict as exc:
            return f"conflict: {exc.detail}"

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda _: start(), range(4)))
    drafts = [o for o in outcomes if not o.startswith("conflict")]
    assert len(drafts) == 1, outcomes
    assert all("draft" in o or "same time" in o for o in outcomes if o.startswith("conflict"))
