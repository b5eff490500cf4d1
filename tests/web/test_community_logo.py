"""A community's logo, from its management page: PNG or JPEG only, re-encoded by Pillow (metadata and trailing
bytes gone, at most 512 pixels a side), refused unread when the post is too large, shown on the community page;
only the community's curators (and admins) may change it."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from osnode.domain.access import Viewer
from osnode.domain.records import Role
from osnode.services import communities, curation
from osnode.services.node import Node
from osnode.storage.communities import communities as table
from tests.web.accounts_helpers import csrf_of, local_account, sign_in

HTML = {"Accept": "text/html"}


def _image(kind: str = "PNG", size: tuple[int, int] = (800, 400), trailer: bytes = b"") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, kind)
    return out.getvalue() + trailer


def _logo(node: Node) -> str | None:
    with node.engine.connect() as conn:
        return conn.execute(select(table.c.logo).where(table.c.slug == "soil")).scalar()


def _setup(node: Node) -> None:
    admin = local_account(node, "admin@example.org", Role.ADMIN)
    keeper = local_account(node, "cura@example.org")
    communities.create(node, Viewer(user_id=admin.id, role=admin.role), "soil", "Soil science")
    with node.transaction() as tx:
        curation.add_curator(tx, "soil", keeper.id)


def test_a_curator_uploads_a_logo_it_is_re_encoded_and_shown(client: TestClient, node: Node) -> None:
    _setup(node)
    assert sign_in(client, "cura@example.org").status_code == 303
    token = csrf_of(client, "/communities/soil/manage")
    hostile = [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"\x89PNG\r\n\x1a\nnot really",
        _image("GIF"),
        _image("PNG")[:200],  # truncated
        b"",
    ]
    for data in hostile:
        bad = client.post("/communities/soil/logo", data={"csrf": token}, files={"logo": ("x.png", data)}, headers=HTML)
        assert bad.status_code == 422 and 'id="logo-error"' in bad.text, data[:20]
    assert _logo(node) is None
    tail = b"<script>alert(1)</script>"  # a polyglot's payload after the image: not served back
    done = client.post(
        "/communities/soil/logo",
        data={"csrf": token},
        files={"logo": ("l.jpg", _image("JPEG", trailer=tail), "image/jpeg")},
        headers=HTML,
        follow_redirects=False,
    )
    assert done.status_code == 303
    path = _logo(node)
    assert path and path.startswith("/site/logo-") and path.endswith(".jpg")
    served = client.get(path)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg" and tail not in served.content
    with Image.open(io.BytesIO(served.content)) as kept:
        assert kept.format == "JPEG" and kept.size == (512, 256)
    assert f'src="{path}"' in client.get("/communities/soil", headers=HTML).text
    removed = client.post("/communities/soil/logo", data={"csrf": token, "remove": "1"}, headers=HTML)
    assert removed.status_code == 200 and _logo(node) is None


def test_too_large_refused_unread_and_others_refused(client: TestClient, node: Node) -> None:
    _setup(node)
    local_account(node, "eve@example.org")
    assert sign_in(client, "cura@example.org").status_code == 303
    token = csrf_of(client, "/communities/soil/manage")
    big = client.post(
        "/communities/soil/logo", data={"csrf": token}, files={"logo": ("l.png", b"\0" * (600 * 1024))}, headers=HTML
    )
    assert big.status_code == 413 and "512 KB" in big.text and _logo(node) is None
    client.cookies.clear()
    assert sign_in(client, "eve@example.org").status_code == 303
    eve = csrf_of(client, "/deposit/new")
    refused = client.post(
        "/communities/soil/logo", data={"csrf": eve}, files={"logo": ("l.png", _image())}, headers=HTML
    )
    assert refused.status_code == 403 and _logo(node) is None
    assert client.post("/communities/soil/logo", files={"logo": ("l.png", _image())}, headers=HTML).status_code == 403
