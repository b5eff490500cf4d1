"""Browsing archived software, the SWHID resolver and the JSON API, through the real app."""

from __future__ import annotations

import gzip
import io
import re
import subprocess
import tarfile
from pathlib import Path

from fastapi.testclient import TestClient
from swh.model.swhids import QualifiedSWHID

from osnode.services import archive
from osnode.services.node import Node
from osnode.software.disk import scan_tree
from tests.conftest import Account

from .conftest import git

BUDGET = 30 * 1024


def small(response, own_page: bool = True) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    assert len(gzip.compress(response.content)) <= BUDGET
    if own_page:
        assert re.search(r"<script(?![^>]*application/ld\+json)", response.text) is None  # no JavaScript


def test_landing_panel_browse_file_lines_and_log(client: TestClient, node: Node, admin: Account, repo: Path) -> None:
    version, result = archive.archive_software(node, admin.viewer, repo, publish=True)
    landing = client.get(f"/records/{version.id}")
    small(landing, own_page=False)  # the landing page is not ours; its size is
    panel = landing.text.split('id="software"')[1]
    directory = re.search(r'id="swhid-directory">([^<]+)<', panel).group(1)
    parsed = QualifiedSWHID.from_string(directory.replace("&amp;", "&"))
    assert str(parsed.anchor) == f"swh:1:rev:{result.head_revision}" and parsed.origin == result.origin
    assert str(parsed.visit) == result.swhid
    # The tree: every entry, a non-UTF-8 name shown escaped, links that work.
    root = client.get(f"/software/{version.id}", follow_redirects=True)
    small(root)
    assert "na\\xefve.txt" in root.text and "main-link" in root.text
    odd = re.search(r'href="([^"]*na%EFve\.txt)"', root.text).group(1)
    assert client.get(odd).status_code == 200
    folder = client.get(f"/software/{version.id}/tree/{result.head_revision}/src/")
    small(folder)
    assert "main.py" in folder.text and ";path=/src" in folder.text
    # A file with numbered, anchored lines and the SWHID of a selected range.
    page = client.get(f"/software/{version.id}/tree/{result.head_revision}/src/main.py?lines=3")
    small(page)
    assert 'id="L3" class="sel"' in page.text and 'href="?lines=3-7#L3"' in page.text
    ranged = client.get(f"/software/{version.id}/tree/{result.head_revision}/src/main.py?lines=3-7")
    cite = re.search(r'id="range-swhid">([^<]+)<', ranged.text).group(1).replace("&amp;", "&")
    qualified = QualifiedSWHID.from_string(cite)
    assert qualified.lines == (3, 7) and qualified.path == b"/src/main.py"
    assert str(qualified).startswith(f"swh:1:cnt:{git(repo, 'rev-parse', 'HEAD:src/main.py')};")
    assert ranged.text.count('class="sel"') == 5
    assert client.get(f"/software/{version.id}/tree/{result.head_revision}/src/main.py?lines=9-2").status_code == 422
    assert client.get(f"/software/{version.id}/tree/{result.head_revision}/nope").status_code == 404
    # The commit log, newest first, merge marked.
    log = client.get(f"/software/{version.id}/log/{result.head_revision}")
    small(log)
    order = re.findall(r"swh:1:rev:([0-9a-f]{40})", log.text)
    assert order == git(repo, "rev-list", "--date-order", "HEAD").split()
    # An older revision of the history can be browsed too.
    first = git(repo, "rev-list", "--max-parents=0", "HEAD")
    old = client.get(f"/software/{version.id}/tree/{first}/")
    assert old.status_code == 200 and "src" not in re.findall(r">([^<]+)/</a>", old.text)


def test_directory_download_is_reproducible(
    client: TestClient, node: Node, admin: Account, repo: Path, tmp_path: Path
) -> None:
    version, result = archive.archive_software(node, admin.viewer, repo, publish=True)
    url = f"/software/{version.id}/archive/{result.root_directory}.tar.gz"
    one, two = client.get(url), client.get(url)
    assert one.status_code == 200 and one.content == two.content
    assert one.headers["content-type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(one.content)) as tar:
        tar.extractall(tmp_path / "x", filter="tar")
        top = tar.getmembers()[0].name
    assert scan_tree(tmp_path / "x" / top).root == git(repo, "rev-parse", "HEAD^{tree}")
    assert client.get(f"/software/{version.id}/archive/{'0' * 40}.tar.gz").status_code == 404


def test_the_resolver_in_html_and_json(client: TestClient, node: Node, admin: Account, repo: Path) -> None:
    version, result = archive.archive_software(node, admin.viewer, repo, publish=True)
    html = client.get(f"/swhid/{result.swhid}")
    small(html)
    assert "refs/heads/main" in html.text
    as_json = client.get(f"/swhid/{result.swhid}", headers={"Accept": "application/json"}).json()
    assert {b["name"] for b in as_json["branches"]} >= {"HEAD", "refs/tags/v1.0"}
    blob = git(repo, "rev-parse", "HEAD:src/main.py")
    qualified = (
        f"swh:1:cnt:{blob};origin={result.origin};visit={result.swhid};anchor=swh:1:rev:{result.head_revision}"
        ";path=/src/main.py;lines=2-4"
    )
    page = client.get(f"/swhid/{qualified}")
    assert page.status_code == 200 and 'id="L2" class="sel"' in page.text
    picked = client.get(f"/swhid/{qualified}?lines=5")
    assert 'id="L5" class="sel"' in picked.text and 'id="L2" class="sel"' not in picked.text
    cite = re.search(r'id="range-swhid">([^<]+)<', picked.text).group(1).replace("&amp;", "&")
    assert QualifiedSWHID.from_string(cite).lines == (5, None) and ";origin=" in cite
    api = client.get(f"/api/swhid/{qualified}").json()
    assert api["type"] == "cnt" and api["qualifiers"]["lines"] == "2-4" and api["length"] > 0
    raw = client.get(f"/api/software/contents/{blob}/raw")
    assert raw.content == (repo / "src" / "main.py").read_bytes()
    rev = client.get(f"/api/swhid/swh:1:rev:{result.head_revision}").json()
    assert rev["parents"] == [f"swh:1:rev:{p}" for p in git(repo, "rev-parse", "HEAD^1", "HEAD^2").split()]
    release = client.get(f"/api/swhid/swh:1:rel:{git(repo, 'rev-parse', 'v1.0')}").json()
    assert release["name"] == "v1.0" and release["target"].startswith("swh:1:rev:")
    missing = client.get(f"/swhid/swh:1:dir:{'1' * 40}")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    bad = client.get("/api/swhid/swh:1:dir:xyz")
    assert bad.status_code == 422 and "40-digit" in bad.json()["detail"]


def test_restricted_software_is_not_served_to_others(
    client: TestClient, node: Node, depositor: Account, repo: Path
) -> None:
    version, result = archive.archive_software(
        node, depositor.viewer, repo, access={"level": "restricted"}, publish=True
    )
    assert client.get(f"/software/{version.id}", follow_redirects=False).status_code == 403
    assert client.get(f"/swhid/swh:1:dir:{result.root_directory}").status_code == 404
    blob = git(repo, "rev-parse", "HEAD:README.md")
    assert client.get(f"/api/software/contents/{blob}/raw").status_code == 404
    owner = client.get(f"/api/software/contents/{blob}/raw", headers=depositor.headers)
    assert owner.status_code == 200
    landing = client.get(f"/records/{version.id}")
    assert landing.status_code == 200
    # A SWHID is a content hash: not shown to a reader who may not get the files (docs/security.md).
    assert result.swhid not in landing.text and result.root_directory not in landing.text
    assert "Browse the source code" not in landing.text
    owner_landing = client.get(f"/records/{version.id}", headers=depositor.headers)
    assert result.swhid in owner_landing.text and "Browse the source code" in owner_landing.text


def test_upload_an_archive_through_the_api(
    client: TestClient, node: Node, depositor: Account, repo: Path, tmp_path: Path
) -> None:
    tarball = tmp_path / "v1.tar.gz"
    subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar.gz", "--prefix=demo/", "-o", str(tarball), "v1.0"], check=True
    )
    made = client.post(
        "/api/software?filename=v1.tar.gz&publish=true", content=tarball.read_bytes(), headers=depositor.headers
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["swhid"] == f"swh:1:dir:{git(repo, 'rev-parse', 'v1.0^{tree}')}" and body["state"] == "published"
    assert body["metadata"]["titles"] == [{"title": "demo-tool"}]
    info = client.get(f"/api/software/{body['id']}").json()
    assert info["swhid"] == body["swhid"] and info["snapshot"] is None
    assert client.post("/api/software", content=tarball.read_bytes()).status_code == 401


def test_archive_a_file_already_uploaded_to_a_draft(
    client: TestClient, depositor: Account, repo: Path, tmp_path: Path
) -> None:
    bundle = tmp_path / "repo.bundle"
    git(repo, "bundle", "create", str(bundle), "--all")
    draft = client.post("/api/records", json={"metadata": {"titles": [{"title": "Mine"}]}}, headers=depositor.headers)
    draft_id = draft.json()["id"]
    put = client.put(
        f"/api/records/{draft_id}/files/repo.bundle", content=bundle.read_bytes(), headers=depositor.headers
    )
    assert put.status_code in (200, 201), put.text
    done = client.post(f"/api/records/{draft_id}/software?key=repo.bundle", headers=depositor.headers)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["head_revision"] == f"swh:1:rev:{git(repo, 'rev-parse', 'HEAD')}"
    assert body["metadata"]["titles"] == [{"title": "Mine"}]  # the depositor's own metadata is kept
    swhids = [r for r in body["metadata"]["relatedIdentifiers"] if r["relatedIdentifierType"] == "SWHID"]
    assert [r["relatedIdentifier"] for r in swhids] == [body["swhid"]]
    not_archive = client.put(f"/api/records/{draft_id}/files/notes.txt", content=b"hello", headers=depositor.headers)
    assert not_archive.status_code in (200, 201)
    refused = client.post(f"/api/records/{draft_id}/software?key=notes.txt", headers=depositor.headers)
    assert refused.status_code == 422
