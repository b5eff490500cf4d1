"""Archiving git repositories, bundles, tarballs and trees into the node (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import func, select

from osnode.services import archive, exports
from osnode.services.node import Node
from osnode.software.disk import scan_tree
from osnode.storage.software import swh_contents, swh_objects, swh_snapshot_branches
from tests.conftest import Account
from tests.formats.conftest import parse_xml
from tests.schemas import load_schema

from .conftest import git

# Blob-related: every test here runs on the local folder and on S3.
pytestmark = pytest.mark.usefixtures("blob_store")


def reachable(repo: Path, *args: str) -> set[str]:
    out = git(repo, "rev-list", "--objects", "--no-object-names", *args)
    return set(out.split())


def stored_ids(node: Node) -> dict[str, str]:
    with node.engine.connect() as conn:
        return {r.sha1_git: r.type for r in conn.execute(select(swh_objects))}


def test_a_repository_is_archived_with_git_s_ids_and_its_snapshot(node: Node, repo: Path) -> None:
    result = archive.archive_path(node, repo)
    assert result.head_revision == git(repo, "rev-parse", "HEAD")
    assert result.root_directory == git(repo, "rev-parse", "HEAD^{tree}")
    ids = stored_ids(node)
    assert set(ids) - {result.swhid[10:]} == reachable(repo, "--all")
    assert ids[result.swhid[10:]] == "snp"
    assert ids[git(repo, "rev-parse", "v1.0")] == "rel"
    with node.engine.connect() as conn:
        names = {bytes(r.name) for r in conn.execute(select(swh_snapshot_branches.c.name))}
        assert names == {b"HEAD", b"refs/heads/main", b"refs/heads/feature", b"refs/tags/v1.0", b"refs/tags/light"}
        log = archive.log(conn, result.head_revision)
        assert [r.sha1_git for r in log] == git(repo, "rev-list", "--date-order", "HEAD").split()
        assert archive.parents(conn, result.head_revision) == git(repo, "rev-parse", "HEAD^1", "HEAD^2").split()
    # Bytes come back exactly, from the shared blob store.
    readme = git(repo, "rev-parse", "HEAD:src/main.py")
    assert archive.read_content(node, readme) == (repo / "src" / "main.py").read_bytes()


def test_rearchiving_with_one_new_commit_touches_only_the_new_objects(node: Node, repo: Path) -> None:
    first = archive.archive_path(node, repo)
    before = stored_ids(node)
    old_head = git(repo, "rev-parse", "HEAD")
    (repo / "src" / "main.py").write_text("print('changed')\n")
    (repo / "NEW").write_text("new file\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "One more", date=1_700_001_000)
    second = archive.archive_path(node, repo)
    new_git_objects = reachable(repo, "HEAD", f"^{old_head}")
    assert second.visit == first.visit + 1 and second.origin == first.origin
    # Only the new commit, its new trees and blobs, and the new snapshot were fetched and stored.
    assert second.seen_objects == len(new_git_objects)
    assert second.new_by_type == {"rev": 1, "dir": 2, "cnt": 2, "snp": 1}
    after = stored_ids(node)
    assert set(after) - set(before) == new_git_objects | {second.swhid[10:]}
    # Archiving again finds nothing new at all.
    third = archive.archive_path(node, repo)
    assert third.new_objects == 0 and third.swhid == second.swhid


def test_chosen_refs_only(node: Node, repo: Path) -> None:
    result = archive.archive_path(node, repo, refs=["feature"])
    assert result.head_revision == git(repo, "rev-parse", "feature")
    with node.engine.connect() as conn:
        branches = archive.snapshot_branches(conn, result.swhid[10:])
    assert [bytes(b.name) for b in branches] == [b"refs/heads/feature"]
    assert git(repo, "rev-parse", "main") not in stored_ids(node)


def test_a_bundle_archives_to_the_same_objects_as_its_repository(node: Node, repo: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "repo.bundle"
    git(repo, "bundle", "create", str(bundle), "--all")
    from_bundle = archive.archive_path(node, bundle)
    assert from_bundle.visit_type == "git-bundle"
    assert from_bundle.head_revision == git(repo, "rev-parse", "HEAD")
    assert from_bundle.root_directory == git(repo, "rev-parse", "HEAD^{tree}")
    from_repo = archive.archive_path(node, repo)
    assert from_repo.new_objects == 0  # everything was already archived from the bundle


def test_a_release_tarball_hashes_to_the_commit_s_tree_and_dedups(node: Node, repo: Path, tmp_path: Path) -> None:
    tarball = tmp_path / "demo-tool-1.0.tar.gz"
    subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar.gz", "--prefix=demo-tool-1.0/", "-o", str(tarball), "v1.0"],
        check=True,
    )
    archived = archive.archive_path(node, tarball)
    assert archived.swhid == f"swh:1:dir:{git(repo, 'rev-parse', 'v1.0^{tree}')}"
    blobs_before = len(list(node.blobs.stored()))
    again = archive.archive_path(node, repo)
    # The tarball's files were stored already: the repository adds only the blobs of later commits.
    later_blobs = {o for o in reachable(repo, "--all", "^v1.0") if git(repo, "cat-file", "-t", o) == "blob"}
    assert len(list(node.blobs.stored())) == blobs_before + len(later_blobs)
    assert again.new_by_type["cnt"] == len(later_blobs)


def test_identical_bytes_are_stored_once(node: Node, tree: Path) -> None:
    result = archive.archive_path(node, tree)
    with node.engine.connect() as conn:
        contents = conn.execute(select(func.count()).select_from(swh_contents)).scalar()
    scanned = scan_tree(tree)
    assert contents == len(scanned.contents)  # docs/guide.txt and docs/copy.txt share one content
    assert len(list(node.blobs.stored())) == contents
    assert result.root_directory == scanned.root


def test_directory_tarballs_are_reproducible_and_hash_back(node: Node, tree: Path, tmp_path: Path) -> None:
    result = archive.archive_path(node, tree)
    first = archive.tarball(node, result.root_directory, "out")
    assert first == archive.tarball(node, result.root_directory, "out")
    with tarfile.open(fileobj=io.BytesIO(first)) as tar:
        members = tar.getmembers()
        names = [m.name for m in members]
        assert names[0] == "out" and len(names) == len(set(names))
        assert {m.mtime for m in members} == {archive.TARBALL_MTIME}
        assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, "", "")}
        tar.extractall(tmp_path / "x", filter="tar")
    assert scan_tree(tmp_path / "x" / "out").root == result.root_directory


def test_a_software_record_is_prefilled_and_exports_a_swhid(node: Node, admin: Account, repo: Path) -> None:
    version, result = archive.archive_software(node, admin.viewer, repo, publish=True)
    meta = version.metadata
    assert meta["titles"] == [{"title": "demo-tool"}] and meta["version"] == "2.1.0"
    assert meta["creators"][0]["orcid"] == "0000-0002-1825-0097"
    assert meta["rightsList"][0]["rightsIdentifier"] == "Apache-2.0"
    assert {s["subject"] for s in meta["subjects"]} == {"demo", "archiving"}
    assert meta["resourceType"]["resourceTypeGeneral"] == "Software"
    view = exports.record_view(node, version, admin.viewer)
    xml = exports.render(view, "datacite-xml")
    root = parse_xml(xml)
    schema = load_schema("datacite/kernel-4.7/metadata.xsd")
    assert schema.validate(root), schema.error_log
    found = root.xpath("//d:relatedIdentifier[@relatedIdentifierType='SWHID']", namespaces={"d": root.nsmap[None]})
    assert [e.text for e in found] == [result.swhid]
    assert etree.QName(root).localname == "resource"


def test_citation_cff_prefills_when_there_is_no_codemeta(node: Node, admin: Account, tree: Path) -> None:
    (tree / "CITATION.cff").write_text(
        "cff-version: 1.2.0\ntitle: cff-tool\nversion: 0.3\nlicense: MIT\nkeywords: [x, y]\n"
        "authors:\n  - family-names: Okafor\n    given-names: Chidi\n    orcid: https://orcid.org/0000-0002-1694-233X\n"
    )
    version, _ = archive.archive_software(node, admin.viewer, tree, metadata={"version": "0.3.1"})
    meta = version.metadata
    assert meta["titles"] == [{"title": "cff-tool"}] and meta["version"] == "0.3.1"  # given metadata wins
    assert meta["creators"][0]["familyName"] == "Okafor" and meta["creators"][0]["orcid"] == "0000-0002-1694-233X"
    assert meta["rightsList"][0]["rightsIdentifier"] == "MIT"


def test_the_origin_is_the_remote_without_credentials(node: Node, repo: Path) -> None:
    git(repo, "remote", "add", "origin", "https://ana:s3cret@git.example.org/ana/demo-tool.git")
    result = archive.archive_path(node, repo)
    assert result.origin == "https://git.example.org/ana/demo-tool.git"


def test_commit_authors_become_the_creators_without_codemeta_or_cff(node: Node, admin: Account, tmp_path: Path) -> None:
    plain = tmp_path / "plain-tool"
    plain.mkdir()
    git(plain, "init", "-q", "-b", "main")
    people = [("Chidi Okafor", "chidi@example.org")] * 2 + [("Ana Silva", "ana@example.org")] * 3
    people += [("Kim Minjun", "kim@example.org")]
    for n, (name, email) in enumerate(people):
        (plain / "notes.txt").write_text(f"change {n}\n")
        git(plain, "add", "-A")
        author = ["-c", f"user.name={name}", "-c", f"user.email={email}"]
        git(
            plain, *author, "commit", "-q", "--author", f"{name} <{email}>", "-m", f"change {n}", date=1_700_000_000 + n
        )
    version, _ = archive.archive_software(node, admin.viewer, plain, publish=True)
    creators = version.metadata["creators"]
    assert [c["name"] for c in creators] == ["Ana Silva", "Chidi Okafor", "Kim Minjun"]  # by commit count, distinct
    assert version.state.value == "published"
