"""Managed access in the browser, without JavaScript: the terms on the landing page, the request form (with
CSRF and an ethics PDF), the pre-check on the request's page, votes from the committee's members, the grant."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient
from sqlalchemy import update

from osnode.app import create_app
from osnode.domain.access import Viewer
from osnode.domain.records import Role
from osnode.services import deposit, governance
from osnode.services.node import Node
from osnode.storage.catalog import users as users_table
from tests.conftest import minimal_metadata
from tests.web.accounts_helpers import csrf_of, local_account, sign_in

HTML = {"Accept": "text/html"}
EVIL = "<script>alert(1)</script>"
TERMS = {
    "permission": "HMB",
    "modifiers": ["IRB", "GS"],
    "countries": ["PT", "BR"],
    "jurisdiction": "PT",
    "consent_basis": f"broad consent {EVIL}",
}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_request_vote_and_download_in_the_browser(node: Node) -> None:
    node.settings = replace(node.settings, jurisdiction="PT", managed_copy_jurisdictions=("DE", "BR"))
    admin = local_account(node, "admin@example.org", Role.ADMIN)
    owner = local_account(node, "owner@example.org")
    chair = local_account(node, "chair@example.org")
    ana = local_account(node, "ana@example.org")
    with node.transaction() as tx:
        tx.execute(update(users_table).where(users_table.c.id == ana.id).values(language="ar"))
    admin_v, owner_v = Viewer(admin.id, Role.ADMIN), Viewer(owner.id, Role.DEPOSITOR)
    draft = deposit.create_draft(node, owner_v, minimal_metadata(), {"level": "restricted", "data_use": TERMS})
    stored = node.blobs.put_stream([b"gene,count\nCD3E,7\n"])
    deposit.attach_blob(node, draft.id, "counts.csv", stored, owner_v)
    version = deposit.publish(node, draft.id, owner_v)
    governance.create_committee(node, admin_v, "dac", f"DAC {EVIL}", 1, f"Agreement {EVIL}")
    governance.set_member(node, admin_v, "dac", str(chair.id), True)
    governance.govern(node, admin_v, "dac", version.record_id)

    with TestClient(create_app(node)) as reader, TestClient(create_app(node)) as member:
        landing = reader.get(f"/records/{version.id}", headers=HTML)
        assert landing.status_code == 200 and len(landing.content) <= 30 * 1024
        assert 'id="duo-terms"' in landing.text and "http://purl.obolibrary.org/obo/DUO_0000006" in landing.text
        assert "Portugal" in landing.text and EVIL not in landing.text
        # Where copies may live: the node's policy, narrowed by GS (this node keeps its bytes in Portugal).
        assert 'id="copies-may-live">Portugal, Brazil</dd>' in landing.text  # DE is outside GS's list
        assert f'href="/records/{version.record_id}/access-request"' in landing.text
        # Signed out, the form sends the reader to sign in.
        assert (
            reader.get(f"/records/{version.record_id}/access-request", headers=HTML, follow_redirects=False).status_code
            == 303
        )
        assert sign_in(reader, "ana@example.org").status_code == 303
        form_url = f"/records/{version.record_id}/access-request"
        form = reader.get(f"{form_url}?lang=ar", headers=HTML)
        assert form.status_code == 200 and len(form.content) <= 30 * 1024 and 'dir="rtl"' in form.text
        assert "Agreement &lt;script&gt;" in form.text
        fields = {
            "purpose_code": "POA",
            "purpose": "ancestry",
            "project": "P",
            "institution": "U",
            "country": "US",
            "agreement_accepted": "on",
        }
        refused = reader.post(form_url, data=fields, headers=HTML)
        assert refused.status_code == 403  # no CSRF token
        assert governance.mine(node, Viewer(ana.id, Role.DEPOSITOR)) == []
        sent = reader.post(form_url, data=fields | {"csrf": csrf_of(reader, form_url)}, follow_redirects=False)
        assert sent.status_code == 303, sent.text
        request_url = sent.headers["location"]
        shown = reader.get(request_url, headers=HTML)
        assert shown.status_code == 200 and 'id="mismatches"' in shown.text
        for code in ("HMB", "GS", "IRB"):
            assert f'<span class="badge">{code}</span>' in shown.text
        # The requester fixes the purpose, adds the ethics approval and a country in the list.
        edit_url = f"{request_url}/edit"
        fixed = fields | {"purpose_code": "HMB", "country": "PT", "csrf": csrf_of(reader, edit_url)}
        done = reader.post(
            edit_url, data=fixed, files={"ethics": ("irb.pdf", PDF, "application/pdf")}, follow_redirects=False
        )
        assert done.status_code == 303, done.text
        assert 'id="precheck-ok"' in reader.get(request_url, headers=HTML).text

        assert sign_in(member, "chair@example.org").status_code == 303
        queue = member.get("/committees/dac", headers=HTML)
        assert queue.status_code == 200 and request_url in queue.text and EVIL not in queue.text
        page = member.get(request_url, headers=HTML)
        assert 'id="vote"' in page.text and len(page.content) <= 30 * 1024
        ethics = member.get(f"/api/access-requests/{request_url.rsplit('/', 1)[1]}/ethics")
        assert ethics.status_code == 200 and ethics.content == PDF
        voted = member.post(
            request_url,
            data={"do": "approve", "days": "30", "csrf": csrf_of(member, request_url)},
            follow_redirects=False,
        )
        assert voted.status_code == 303
        assert 'id="grant"' in reader.get(request_url, headers=HTML).text
        # Someone else may not see the request at all.
        other = local_account(node, "eve@example.org")
        assert other.id
        with TestClient(create_app(node)) as eve:
            assert sign_in(eve, "eve@example.org").status_code == 303
            assert eve.get(request_url, headers=HTML).status_code == 404


def test_the_deposit_form_sets_the_terms(client: TestClient, node: Node) -> None:
    from sqlalchemy import select

    from osnode.storage.catalog import versions
    from tests.web.test_deposit_pages import HTML as FORM_HTML
    from tests.web.test_deposit_pages import complete, new_draft, signed_in

    csrf = signed_in(client, node)
    version_id = new_draft(client, csrf)
    terms = {
        "access.level": "restricted",
        "access.data_use.permission": "HMB",
        "access.data_use.modifiers": "GS, IRB",
        "access.data_use.countries": "FR, DE",
        "access.data_use.jurisdiction": "fr",
    }
    bad = client.post(
        f"/deposit/{version_id}",
        data=complete(csrf) | terms | {"access.data_use.countries": "FR, XX", "action": "save"},
        headers=FORM_HTML,
    )
    assert bad.status_code == 422 and "access.data_use.countries.1" in bad.text
    saved = client.post(
        f"/deposit/{version_id}",
        data=complete(csrf) | terms | {"action": "save"},
        headers=FORM_HTML,
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    with node.engine.connect() as conn:
        row = conn.execute(select(versions.c.data_use).where(versions.c.id == version_id)).one()
    assert row.data_use["permission"] == "HMB" and row.data_use["countries"] == ["FR", "DE"]
    form = client.get(f"/deposit/{version_id}", headers=FORM_HTML)
    assert 'value="GS, IRB"' in form.text and len(form.content) <= 30 * 1024
