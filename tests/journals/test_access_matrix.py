"""Who may do what on a journal: every journal route, as every role, against one table. A refused page is a
403 (or a 404 where even the submission's existence is not told; a browser without a session is sent to sign
in); a refused step changes nothing. The rules live in ``domain.journals``; this checks the routes apply them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from osnode.domain.access import Viewer
from osnode.domain.journals import FileKind, JournalRole
from osnode.domain.records import Role
from osnode.services.journals import journals, reviews, submissions
from osnode.services.node import Node
from osnode.storage.journals import journal_decisions, journal_roles, journal_submissions
from tests.journals.helpers import HTML, PDF, Browsers, cast, make_journal, post, submission_form
from tests.web.accounts_helpers import csrf_of, local_account

ROLES = (
    "anonymous",
    "outsider",
    "author",
    "manager",
    "editor",
    "section",
    "other-section",
    "copyeditor",
    "production",
    "admin",
)
EMAILS = {
    "outsider": "outsider@example.org",
    "author": "author@example.org",
    "manager": "manager@example.org",
    "editor": "editor@example.org",
    "section": "section@example.org",
    "other-section": "section2@example.org",
    "copyeditor": "copy@example.org",
    "production": "prod@example.org",
    "admin": "admin@example.org",
}
EVERYONE = set(ROLES)
STAFF = {"manager", "editor", "section", "other-section", "copyeditor", "production", "admin"}
MAKERS = {"manager", "editor", "admin"}  # manage the journal, reword letters, make issues
ON_SUBMISSION = {"author", "manager", "editor", "section", "copyeditor", "production", "admin"}
EDITS = {"manager", "editor", "section", "admin"}  # the assigned section editor, not the other one


def _setup(node: Node) -> dict[str, Any]:
    people = cast(node)
    make_journal(node, people)
    other = local_account(node, "section2@example.org")
    journals.grant_to(node, "suelos", other.id, JournalRole.SECTION_EDITOR)
    author = Viewer(user_id=people.author.id, role=Role.DEPOSITOR)
    editor = Viewer(user_id=people.editor.id, role=Role.DEPOSITOR)
    sub = submissions.submit(
        node, author, "suelos", submission_form(), [submissions.Upload(FileKind.MANUSCRIPT, "m.pdf", [PDF])]
    )
    reviews.assign_editor(node, editor, sub.id, people.section_editor.id)
    made = reviews.invite(node, editor, sub.id, {"name": "R", "email": "r@example.org"})
    reviews.respond(node, made.token, True)
    reviews.submit_review(
        node,
        made.token,
        {"recommendation": "accept", "for_author": "Fine.", "for_editor": "Secret."},
        [submissions.Upload(FileKind.REVIEW, "notes.txt", [b"reviewer notes"])],
    )
    files = submissions.open_submission(node, editor, sub.id)[0].files
    manuscript = next(f.id for f in files if f.kind is FileKind.MANUSCRIPT)
    report = next(f.id for f in files if f.kind is FileKind.REVIEW)
    return {"sub": sub.id, "manuscript": manuscript, "report": report, "token": made.token}


def test_every_journal_page_and_file_as_every_role(node: Node) -> None:
    made = _setup(node)
    sub = made["sub"]
    table: list[tuple[str, set[str]]] = [
        ("/journals", EVERYONE),
        ("/journals/suelos", EVERYONE),
        ("/journals/suelos/about", EVERYONE),
        ("/journals/suelos/archive", EVERYONE),
        ("/journals/suelos/feed.atom", EVERYONE),
        ("/journals/suelos/submit", EVERYONE - {"anonymous"}),
        ("/submissions", EVERYONE - {"anonymous"}),
        ("/journals-new", {"admin"}),
        ("/journals/suelos/manage", MAKERS),
        ("/journals/suelos/letters", MAKERS),
        ("/journals/suelos/submissions", STAFF),
        (f"/submissions/{sub}", ON_SUBMISSION),
        (f"/submissions/{sub}/files/{made['manuscript']}", EDITS | {"author"}),  # in review: not yet copyediting
        (f"/submissions/{sub}/files/{made['report']}", EDITS),  # a reviewer's attachment: never the author's
    ]
    wrong: list[str] = []
    with Browsers(node) as web:
        for role in ROLES:
            client = web(EMAILS.get(role))
            for path, allowed in table:
                got = client.get(path, headers=HTML, follow_redirects=False)
                ok = got.status_code == 200
                refused = got.status_code in (403, 404) or (
                    role == "anonymous" and got.status_code == 303 and "/login" in got.headers["location"]
                )
                if (role in allowed and not ok) or (role not in allowed and not refused):
                    wrong.append(f"{role} GET {path}: {got.status_code}")
                if ok and "/files/" in path:
                    assert got.headers["content-disposition"].startswith("attachment")
    assert not wrong, "\n".join(wrong)


def _count(node: Node, table: Any) -> int:
    with node.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_steps_refused_to_the_wrong_roles_change_nothing(node: Node) -> None:
    made = _setup(node)
    sub = made["sub"]
    page = "/journals/suelos/submit"  # any page with a form gives the CSRF token
    steps: list[tuple[str, dict[str, Any], set[str]]] = [
        (
            f"/submissions/{sub}/decide",
            {"decision": "decline", "letter": "No."},
            {"outsider", "author", "other-section", "copyeditor", "production"},
        ),
        (f"/submissions/{sub}/invite", {"name": "X", "email": "x@example.org"}, {"outsider", "author", "copyeditor"}),
        (f"/submissions/{sub}/assign", {"editor": "1"}, {"outsider", "author", "production"}),
        (f"/submissions/{sub}/approve", {}, {"outsider", "editor"}),
        (
            "/journals/suelos/manage",
            {"title": "Hijacked", "publisher": "X"},
            {"outsider", "author", "editor", "section"},
        ),
        (
            "/journals/suelos/people",
            {"email": "outsider@example.org", "role": "manager"},
            {"outsider", "author", "editor"},
        ),
        (
            "/journals/suelos/issues",
            {"volume": "9", "number": "9", "year": "2026"},
            {"outsider", "author", "copyeditor"},
        ),
        ("/journals/suelos/letters", {"decision": "accept", "language": "en", "body": "Hi"}, {"outsider", "section"}),
    ]
    before = {
        "roles": _count(node, journal_roles),
        "decisions": _count(node, journal_decisions),
    }
    with node.engine.connect() as conn:
        stage = conn.execute(select(journal_submissions.c.stage).where(journal_submissions.c.id == sub)).scalar_one()
    wrong: list[str] = []
    with Browsers(node) as web:
        for path, data, refused_to in steps:
            for role in refused_to:
                client = web(EMAILS[role])
                got = client.post(
                    path, data={**data, "csrf": csrf_of(client, page)}, headers=HTML, follow_redirects=False
                )
                if got.status_code not in (403, 404, 409):
                    wrong.append(f"{role} POST {path}: {got.status_code}")
        # Without the CSRF token even the right person changes nothing.
        editor = web(EMAILS["editor"])
        forged = editor.post(f"/submissions/{sub}/decide", data={"decision": "decline", "letter": "x"}, headers=HTML)
        assert forged.status_code == 403
    assert not wrong, "\n".join(wrong)
    assert {"roles": _count(node, journal_roles), "decisions": _count(node, journal_decisions)} == before
    with node.engine.connect() as conn:
        assert (
            conn.execute(select(journal_submissions.c.stage).where(journal_submissions.c.id == sub)).scalar_one()
            == stage
        )
    assert journals.get(node, "suelos").title() != "Hijacked"


def test_a_declined_submissions_files_are_never_public(node: Node) -> None:
    made = _setup(node)
    sub = made["sub"]
    with Browsers(node) as web:
        editor = web(EMAILS["editor"])
        done = post(
            editor, f"/submissions/{sub}/decide", {"decision": "decline", "letter": "No."}, page=f"/submissions/{sub}"
        )
        assert done.status_code == 303
        for role in ("anonymous", "outsider", "copyeditor", "production", "other-section"):
            got = web(EMAILS.get(role)).get(f"/submissions/{sub}/files/{made['manuscript']}", follow_redirects=False)
            assert got.status_code in (401, 404), (role, got.status_code)
        # The reviewer's link stops working once the submission is declined (their report was in: it still shows).
        anonymous = web()
        assert anonymous.get(f"/review/{made['token']}/files/{made['manuscript']}").status_code in (200, 404)
        assert anonymous.get("/journals/suelos", headers=HTML).text.count("Carbon in Andean") == 0
    with node.engine.connect() as conn:
        assert (
            conn.execute(select(journal_submissions.c.record_id).where(journal_submissions.c.id == sub)).scalar()
            is None
        )


def test_api_clients_get_problems(node: Node) -> None:
    made = _setup(node)
    with Browsers(node) as web:
        outsider = web(EMAILS["outsider"])
        got = outsider.get(f"/submissions/{made['sub']}", headers={"Accept": "application/json"})
        assert got.status_code == 404 and got.headers["content-type"].startswith("application/problem+json")
        bad = web().get("/review/not-a-valid-token-at-all-xxxxxxxx", headers={"Accept": "application/json"})
        assert bad.status_code == 404 and bad.headers["content-type"].startswith("application/problem+json")


def test_hostile_numbers_are_4xx_never_5xx(node: Node) -> None:
    made = _setup(node)
    sub = made["sub"]
    huge = "9" * 30
    with Browsers(node) as web:
        reader = web()
        for path in (
            f"/journals/suelos/issues/{huge}",
            "/journals/suelos/issues/0",
            f"/journals/suelos/archive?page={huge}",
            f"/journals/suelos/issues/1?page={huge}",
            f"/review/{made['token']}/files/{huge}",
        ):
            assert reader.get(path, headers=HTML).status_code in (404, 422), path
        editor = web(EMAILS["editor"])
        here = f"/submissions/{sub}"
        for path, data in (
            (f"{here}/assign", {"editor": huge}),
            (f"{here}/assign", {"editor": "²"}),
            (f"{here}/invite", {"name": "X", "email": "x@example.org", "days": "٣"}),
            (f"{here}/invite", {"name": "X", "email": "x@example.org", "days": huge}),
            ("/journals/suelos/issues", {"volume": "1", "number": "1", "year": "²٠٢٦"}),
            (f"/journals/suelos/people/{huge}/remove", {"role": "editor"}),
            (f"/journals/suelos/sections/{huge}/remove", {}),
        ):
            got = post(editor, path, data, page=here)
            assert 400 <= got.status_code < 500, (path, data, got.status_code)
