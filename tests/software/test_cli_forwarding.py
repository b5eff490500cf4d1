"""``osnode archive --json``, and forwarding to Software Heritage: deposit packages out and back in."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from lxml import etree

from osnode.services import archive
from osnode.services.node import Node
from osnode.software import swhdeposit
from osnode.software.disk import scan_tree
from tests.conftest import Account
from tests.test_cli import Cli, cli, fails, ok  # noqa: F401  (cli is a fixture)

from .conftest import git


@pytest.fixture
def data(tmp_path: Path, database_url: str, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Path:  # noqa: F811
    folder = tmp_path / "cli-node"
    monkeypatch.setenv("OSNODE_DATABASE_URL", database_url)
    ok(cli("init", "--data", folder))
    return folder


def test_archive_json_names_every_swhid(cli: Cli, data: Path, repo: Path) -> None:  # noqa: F811
    result = ok(cli("archive", repo, "--publish", "--json", "--data", data)).json()
    assert result["swhid"].startswith("swh:1:snp:")
    assert result["head_revision"] == f"swh:1:rev:{git(repo, 'rev-parse', 'HEAD')}"
    assert result["root_directory"] == f"swh:1:dir:{git(repo, 'rev-parse', 'HEAD^{tree}')}"
    assert result["id"] and result["url"].endswith(f"/records/{result['id']}") and result["state"] == "published"
    assert result["metadata"]["version"] == "2.1.0"
    shown = ok(cli("show", result["id"], "--json", "--data", data)).json()
    assert shown["metadata"]["relatedIdentifiers"][0]["relatedIdentifier"] == result["swhid"]
    # One branch only, with metadata given on the command line.
    meta = repo.parent / "meta.json"
    meta.write_text(json.dumps({"titles": [{"title": "Only the feature"}], "version": "0.9"}))
    feature = ok(cli("archive", repo, "--ref", "feature", "--metadata", meta, "--json", "--data", data)).json()
    assert feature["head_revision"] == f"swh:1:rev:{git(repo, 'rev-parse', 'feature')}"
    assert feature["metadata"]["titles"] == [{"title": "Only the feature"}] and feature["state"] == "draft"
    assert feature["new_objects"] == 1  # only the new snapshot: every commit was archived already


def test_archive_errors_are_one_line(cli: Cli, data: Path, repo: Path, tmp_path: Path) -> None:  # noqa: F811
    fails(cli("archive", tmp_path / "missing", "--data", data), "not found")
    fails(cli("archive", repo, "--ref", "nope", "--data", data), "no ref named 'nope'")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01 not an archive")
    fails(cli("archive", junk, "--data", data), "neither a git repository")
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("../evil")
        tar.addfile(info)
    fails(cli("archive", evil, "--data", data), "climbs out of the tree")


def test_deposit_package_round_trip(node: Node, admin: Account, repo: Path, tmp_path: Path) -> None:
    version, result = archive.archive_software(node, admin.viewer, repo, publish=True)
    out = tmp_path / "package"
    manifest = archive.export_deposit(node, admin.viewer, version.id, out)
    assert sorted(p.name for p in out.iterdir()) == ["archive.tar.gz", "manifest.json", "metadata.xml"]
    entry = etree.fromstring((out / "metadata.xml").read_bytes())
    ns = {"a": swhdeposit.ATOM, "c": swhdeposit.CODEMETA, "s": swhdeposit.SWHDEPOSIT}
    assert entry.xpath("string(c:name)", namespaces=ns) == "demo-tool"
    assert entry.xpath("string(s:deposit/s:create_origin/s:origin/@url)", namespaces=ns) == result.origin
    assert entry.xpath("string(c:author/c:identifier)", namespaces=ns) == "https://orcid.org/0000-0002-1825-0097"
    with tarfile.open(out / "archive.tar.gz") as tar:
        tar.extractall(tmp_path / "x", filter="tar")
        top = tar.getmembers()[0].name
    assert scan_tree(tmp_path / "x" / top).root == result.root_directory
    assert manifest["root_directory"] == f"swh:1:dir:{result.root_directory}"
    # Import it (as another node would): same directory SWHID, same metadata, nothing stored twice.
    blobs_before = set(node.blobs.stored())
    imported, again = archive.import_deposit(node, admin.viewer, out, publish=True)
    assert again.swhid == f"swh:1:dir:{result.root_directory}" and again.origin == result.origin
    assert imported.metadata["titles"] == [{"title": "demo-tool"}]
    assert imported.metadata["creators"][0]["orcid"] == "0000-0002-1825-0097"
    assert imported.metadata["rightsList"][0]["rightsIdentifier"] == "Apache-2.0"
    assert again.new_by_type.get("cnt", 0) == 0
    # The new record's tarball is byte-identical to the exported one's, so no new blobs at all.
    assert set(node.blobs.stored()) == blobs_before


def test_a_damaged_package_is_refused(node: Node, admin: Account, repo: Path, tmp_path: Path) -> None:
    version, _ = archive.archive_software(node, admin.viewer, repo, publish=True)
    out = tmp_path / "package"
    archive.export_deposit(node, admin.viewer, version.id, out)
    data = bytearray((out / "archive.tar.gz").read_bytes())
    data[-30] ^= 0xFF
    (out / "archive.tar.gz").write_bytes(bytes(data))
    with pytest.raises(Exception) as caught:
        archive.import_deposit(node, admin.viewer, out)
    assert "does not match its manifest checksum" in str(caught.value)


def test_cli_export_and_import(cli: Cli, data: Path, repo: Path, tmp_path: Path) -> None:  # noqa: F811
    made = ok(cli("archive", repo, "--publish", "--json", "--data", data)).json()
    out = tmp_path / "pkg"
    exported = ok(cli("swh-export", made["id"], "--out", out, "--json", "--data", data)).json()
    assert exported["swhid"] == made["swhid"]
    fails(cli("swh-export", made["id"], "--out", out, "--data", data), "not empty")
    imported = ok(cli("swh-import", out, "--json", "--data", data)).json()
    assert imported["swhid"] == made["root_directory"]
