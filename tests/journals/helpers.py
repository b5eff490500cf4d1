"""Helpers for the journal tests: people with roles, a configured journal, browsers signed in as each, and
the links the emails carry."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pikepdf
from fastapi.testclient import TestClient
from sqlalchemy import select

from osnode.app import create_app
from osnode.domain.journals import JournalRole
from osnode.domain.records import Role
from osnode.services.accounts import Account
from osnode.services.journals import journals
from osnode.services.node import Node
from osnode.storage.accounts import outbox
from tests.web.accounts_helpers import csrf_of, local_account, sign_in

HTML = {"Accept": "text/html"}
AUTHOR_NAME = "Zélie Quennec-Hartmann"


def real_pdf(author: str | None = None) -> bytes:
    """A one-page PDF qpdf opens (``manuscripts.galley_kind`` wants one), its Info naming ``author`` if given."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    if author:
        pdf.docinfo["/Author"] = author
        with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
            xmp["dc:creator"] = [author]
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


PDF = real_pdf()
HTML_GALLEY = b"<!DOCTYPE html><html><head><title>A</title></head><body><p>Body</p></body></html>"
SETTINGS = {
    "title": "Revista de Suelos",
    "title_lang": "es",
    "other_titles": "en | Soil Journal\nfr | Revue des sols",
    "issn_online": "2049-3630",
    "issn_print": "0317-8471",
    "publisher": "Sociedad de Suelos",
    "licence": "CC-BY-4.0",
    "review_mode": "double-anonymous",
    "languages": "es en",
    "description": "A diamond open access journal of soil science.",
    "no_fees": "No fees for authors or readers.",
    "checklist": "The work is original\nThe data are available",
}


@dataclass
class Cast:
    admin: Account
    manager: Account
    editor: Account
    section_editor: Account
    copyeditor: Account
    production: Account
    author: Account
    outsider: Account


def cast(node: Node) -> Cast:
    people = Cast(
        admin=local_account(node, "admin@example.org", Role.ADMIN),
        manager=local_account(node, "manager@example.org"),
        editor=local_account(node, "editor@example.org"),
        section_editor=local_account(node, "section@example.org"),
        copyeditor=local_account(node, "copy@example.org"),
        production=local_account(node, "prod@example.org"),
        author=_author(node),
        outsider=local_account(node, "outsider@example.org"),
    )
    return people


def _author(node: Node) -> Account:
    from sqlalchemy import update

    from osnode.storage.catalog import users

    account = local_account(node, "author@example.org")
    with node.transaction() as tx:
        tx.execute(update(users).where(users.c.id == account.id).values(display_name=AUTHOR_NAME))
    return account


def make_journal(node: Node, people: Cast, slug: str = "suelos", **changes: Any) -> None:
    from osnode.domain.access import Viewer

    admin = Viewer(user_id=people.admin.id, role=Role.ADMIN)
    journals.create(node, admin, slug, {**SETTINGS, **changes})
    journals.grant_to(node, slug, people.manager.id, JournalRole.MANAGER)
    journals.grant_to(node, slug, people.editor.id, JournalRole.EDITOR)
    journals.grant_to(node, slug, people.section_editor.id, JournalRole.SECTION_EDITOR)
    journals.grant_to(node, slug, people.copyeditor.id, JournalRole.COPYEDITOR)
    journals.grant_to(node, slug, people.production.id, JournalRole.PRODUCTION_EDITOR)


class Browsers:
    """One signed-in TestClient per person (and anonymous ones on demand)."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.stack = ExitStack()
        self.by_email: dict[str, TestClient] = {}

    def __call__(self, email: str | None = None) -> TestClient:
        key = email or f"anonymous-{len(self.by_email)}"
        if key not in self.by_email:
            client = self.stack.enter_context(TestClient(create_app(self.node)))
            if email:
                assert sign_in(client, email).status_code == 303
            self.by_email[key] = client
        return self.by_email[key]

    def close(self) -> None:
        self.stack.close()

    def __enter__(self) -> Browsers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def browsers(node: Node) -> Iterator[Browsers]:
    made = Browsers(node)
    try:
        yield made
    finally:
        made.close()


def post(client: TestClient, path: str, data: dict[str, Any], files: Any = None, page: str | None = None) -> Any:
    """Post a form as the browser does: with the CSRF token of the page it sits on."""
    token = csrf_of(client, page or path)
    return client.post(path, data={**data, "csrf": token}, files=files, headers=HTML, follow_redirects=False)


def mails(node: Node) -> list[Any]:
    with node.engine.connect() as conn:
        return conn.execute(select(outbox).order_by(outbox.c.id)).all()


def mails_to(node: Node, email: str) -> list[Any]:
    return [m for m in mails(node) if m.recipient == email]


_REVIEW_LINK = re.compile(r"http://testserver(/review/[A-Za-z0-9_\-]+)")


def review_link(node: Node, email: str) -> str:
    """The newest review link sent to ``email``."""
    found = [_REVIEW_LINK.search(m.body) for m in mails_to(node, email)]
    links = [f.group(1) for f in found if f]
    assert links, f"no review link was sent to {email}"
    return links[-1]


def submission_form(**changes: Any) -> dict[str, Any]:
    form = {
        "title": "Carbon in Andean páramo soils",
        "language": "en",
        "authors": f"{AUTHOR_NAME} | 0000-0002-1825-0097 | Universidad de los Andes | https://ror.org/02mhbdp94",
        "abstract": "We measured soil organic carbon at 40 sites.",
        "abstract2": "Medimos el carbono orgánico del suelo en 40 sitios.",
        "abstract2_lang": "es",
        "keywords": "soil carbon, páramo",
        "funding": "Minciencias | 123-2024",
        "references": "Smith J. Soils. 2020. 10.5281/zenodo.1234567\nJones, Plain text reference, 2019",
        "data_availability": "The data are in the node's record.",
        "data_links": "10.5281/zenodo.7654321\nswh:1:dir:d198bc9d7a6bcf6db04f476d29314f157507d505",
        "competing_interests": "None.",
        "cover_letter": "Dear editors, please consider our work.",
        "checklist": ["1", "2"],
    }
    form.update(changes)
    return form


def publish_article(
    node: Node,
    people: Cast,
    slug: str = "suelos",
    title: str = "An article",
    issue_id: int | None = None,
    galleys: tuple[tuple[str, str, bytes], ...] = (("pdf", "a.pdf", PDF),),
) -> str:
    """Through the services, the shortest way from a submission to a published record: submit, accept at the
    desk, send to production, the galleys (kind, name, bytes), proofs approved, then publish now (continuous
    publication) or, given ``issue_id``, schedule it in that issue and publish the issue. Its record id."""
    from osnode.domain.access import Viewer
    from osnode.domain.journals import FileKind
    from osnode.services.journals import decisions, production, publishing, submissions

    author = Viewer(user_id=people.author.id, role=Role.DEPOSITOR)
    editor = Viewer(user_id=people.editor.id, role=Role.DEPOSITOR)
    done = submissions.submit(
        node, author, slug, submission_form(title=title), [submissions.Upload(FileKind.MANUSCRIPT, "m.pdf", [PDF])]
    )
    decisions.decide(node, editor, done.id, "accept", "Accepted.")
    production.to_production(node, editor, done.id)
    for kind, name, data in galleys:
        production.add_galley(node, editor, done.id, kind, submissions.Upload(FileKind.GALLEY, name, [data]))
    production.approve_proofs(node, author, done.id)
    if issue_id is None:
        return publishing.publish_now(node, editor, done.id)
    publishing.schedule(node, editor, done.id, {"issue": str(issue_id), "first_page": "1", "last_page": "14"})
    publishing.publish_issue(node, editor, slug, issue_id)
    from osnode.storage.journals import journal_submissions

    with node.engine.connect() as conn:
        query = select(journal_submissions.c.record_id).where(journal_submissions.c.id == done.id)
        return str(conn.execute(query).scalar_one())
