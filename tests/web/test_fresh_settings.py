"""Site settings changed in one process are seen by every other at its next request: two workers (two nodes
opened on one catalog, as ``osnode serve --workers 2`` runs) where an administrator changes the node's name and
registration mode through the first; the second shows them without a restart (its next request, once the
once-a-second check is due), and a worker's own change is
never undone by an older one."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from osnode.app import create_app
from osnode.domain.records import Role
from osnode.services import site
from osnode.services.node import Node
from osnode.storage import site_settings
from osnode.web import fresh_settings
from tests.web.accounts_helpers import csrf_of, local_account, sign_in

HTML = {"Accept": "text/html"}


def test_a_change_in_one_worker_is_seen_by_the_other(node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fresh_settings, "INTERVAL", 0)  # every request asks (by default, once a second)
    local_account(node, "admin@example.org", Role.ADMIN)
    other = Node.open(node.settings)
    try:
        with TestClient(create_app(node)) as first, TestClient(create_app(other)) as second:
            assert "Open Science Node" in second.get("/", headers=HTML).text
            assert sign_in(first, "admin@example.org").status_code == 303
            token = csrf_of(first, "/admin/settings")
            form = {"csrf": token, "node_name": "Luanda Data", "node_description": "", "admin_email": "",
                    "accent_color": "#0b5394", "languages": ["en", "pt"], "base_url": ""}  # fmt: skip
            changed = first.post("/admin/settings", data=form, headers=HTML, follow_redirects=False)
            assert changed.status_code == 303, changed.text
            mode = {"csrf": token, "registration": "invitation"}
            assert first.post("/admin/registration", data=mode, headers=HTML, follow_redirects=False).status_code == 303
            page = second.get("/", headers=HTML).text
            assert "Luanda Data" in page and other.settings.node_name == "Luanda Data"
            assert other.settings.registration == "invitation" and other.settings.languages == ("en", "pt")
            # Nothing changed since: the second worker reads nothing more than the stamp.
            assert site.refresh(other) is False
    finally:
        other.close()


def test_a_worker_changing_settings_keeps_the_others_changes(node: Node) -> None:
    other = Node.open(node.settings)
    try:
        admin = local_account(node, "admin@example.org", Role.ADMIN)
        from osnode.domain.access import Viewer

        as_admin = Viewer(user_id=admin.id, role=Role.ADMIN)
        site.update(node, as_admin, {"node_name": "First"})
        site.update(other, as_admin, {"node_description": "From the second worker"})
        # The second worker took up the first's name as it stored its own change.
        assert other.settings.node_name == "First" and other.settings.node_description == "From the second worker"
        assert site.refresh(node) is True and node.settings.node_description == "From the second worker"
        with node.engine.connect() as conn:
            assert site_settings.stamp(conn) == node.site_stamp == other.site_stamp
    finally:
        other.close()
