"""Offline packages: bags that validate with the Library of Congress bagit library, RO-Crate and
DataCite metadata, refusal of tampered bags, idempotent import, and faults during import."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import bagit
import pytest
from fastapi.testclient import TestClient
from rocrate.rocrate import ROCrate
from sqlalchemy import func, select, text

from osnode.config import load_settings
from osnode.domain.errors import InvalidInput
from osnode.services import packages, users
from osnode.services.node import Node
from osnode.storage.blobs import LocalBlobStore
from osnode.storage.catalog import files, versions
from tests.conftest import Account, _pg_admin, _pg_url, blob_settings, minimal_metadata
from tests.web.conftest import published_record

BIG = os.urandom(3 * 1024 * 1024)

# Blob-related: every test here runs on the local folder and on S3.
pytestmark = pytest.mark.usefixtures("blob_store")


@pytest.fixture
def target(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Iterator[Node]:
    """A second node (same backend, its own catalog and store) to import into."""
    folder = tmp_path / "target"
    folder.mkdir()
    name = None
    if database_url.startswith("postgresql"):
        name = f"osnode_t_{uuid.uuid4().hex[:12]}"
        with _pg_admin().connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{request.getfixturevalue("pg_template")}"'))
        url = _pg_url(name)
    else:
        url = f"sqlite:///{folder / 'catalog.sqlite'}"
    node = Node.open(
        load_settings(folder, database_url=url, base_url="http://target", **blob_settings(request, folder, fresh=True))
    )
    users.create_user(node, "target-admin", "admin")
    yield node
    node.close()
    if name:
        with _pg_admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _exported(node: Node, client: TestClient, depositor: Account, tmp_path: Path) -> tuple[Path, dict]:
    record = published_record(client, depositor, {"big.bin": BIG, "table.csv": b"a,b\n1,2\n"})
    published_record(
        client,
        depositor,
        {"paper.txt": b"text"},
        metadata=minimal_metadata(resourceType={"resourceTypeGeneral": "Text"}),
    )
    out = tmp_path / "bag"
    summary = packages.export(node, out)
    assert summary.versions == 2 and summary.files == 3
    return out, record


def test_export_is_a_valid_bag_with_ro_crate_and_datacite(
    node: Node, client: TestClient, depositor: Account, tmp_path: Path
) -> None:
    out, record = _exported(node, client, depositor, tmp_path)
    bag = bagit.Bag(str(out))
    assert bag.validate() and set(bag.algorithms) == {"sha256", "sha512"}
    folder = out / "data" / record["record_id"] / record["id"]
    crate = json.loads((folder / "ro-crate-metadata.json").read_text())
    graph = {e["@id"]: e for e in crate["@graph"]}
    root = graph["./"]
    assert root["name"] == "Rainfall at Luanda, 2001-2020"
    assert root["author"] == [{"@id": "https://orcid.org/0000-0002-1825-0097"}]
    assert root["license"] == [{"@id": "https://spdx.org/licenses/CC-BY-4.0"}]
    assert root["datePublished"] and root["identifier"] and root["version"]
    # The RO-Crate library reads it back: root, author entity, file parts.
    parsed = ROCrate(str(folder))
    assert parsed.root_dataset["name"] == root["name"]
    assert [a.id for a in parsed.root_dataset["author"]] == ["https://orcid.org/0000-0002-1825-0097"]
    assert {p.id for p in parsed.root_dataset["hasPart"]} == {"files/big.bin", "files/table.csv"}
    big = graph["files/big.bin"]
    assert big["sha256"] == hashlib.sha256(BIG).hexdigest() and big["contentSize"] == str(len(BIG))
    assert (folder / "files" / "big.bin").read_bytes() == BIG
    datacite = json.loads((folder / "datacite.json").read_text())
    assert datacite["titles"][0]["title"] == "Rainfall at Luanda, 2001-2020"
    secret = published_record(client, depositor, {"secret.txt": b"secret"}, access={"level": "restricted"})
    withheld = packages.export(node, tmp_path / "withheld")
    assert withheld.withheld_files == 1 and withheld.versions == 3
    secret_folder = tmp_path / "withheld" / "data" / secret["record_id"] / secret["id"]
    assert list((secret_folder / "files").iterdir()) == []
    assert json.loads((secret_folder / "osnode.json").read_text())["files"] == []
    only_text = packages.export(node, tmp_path / "texts", set_="Text")
    assert only_text.versions == 1
    assert packages.export(node, tmp_path / "future", since=node.today().replace(year=2100)).versions == 0


def test_import_keeps_provenance_and_is_idempotent(
    node: Node, target: Node, client: TestClient, depositor: Account, tmp_path: Path
) -> None:
    out, record = _exported(node, client, depositor, tmp_path)
    first = packages.import_bag(target, out)
    assert first.versions == 2 and first.skipped_versions == 0
    with target.engine.connect() as conn:
        row = conn.execute(select(versions).where(versions.c.id == record["id"])).one()
        assert row.record_id == record["record_id"] and row.origin_node == "http://testserver"
        assert conn.execute(select(func.count()).select_from(files)).scalar_one() == 3
    assert target.blobs.read_bytes(hashlib.sha256(BIG).hexdigest()) == BIG
    again = packages.import_bag(target, out)
    assert (again.versions, again.skipped_versions) == (0, 2)
    with target.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(versions)).scalar_one() == 2


def test_a_tampered_bag_is_refused_and_nothing_imported(
    node: Node, target: Node, client: TestClient, depositor: Account, tmp_path: Path
) -> None:
    out, record = _exported(node, client, depositor, tmp_path)
    victim = out / "data" / record["record_id"] / record["id"] / "files" / "table.csv"
    victim.write_bytes(b"a,b\n1,3\n")  # same size, other bytes
    with pytest.raises(InvalidInput, match="refused"):
        packages.import_bag(target, out)
    with target.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(versions)).scalar_one() == 0
    assert list(target.blobs.stored()) == []


def _import_process(target: Node, bag: Path, **popen: object) -> subprocess.Popen[str]:
    env = os.environ | {"OSNODE_DATABASE_URL": target.settings.catalog_url} | popen.pop("env", {})  # type: ignore[operator]
    return subprocess.Popen(
        [sys.executable, "-m", "osnode", "import", str(bag), "--data", str(target.settings.data_dir), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,  # type: ignore[arg-type]
    )


@pytest.mark.local_blobs  # a full local disk; the object store's faults are tests/transfer/test_s3_faults.py
def test_disk_full_during_import_leaves_nothing_corrupt_and_a_rerun_completes(
    node: Node, target: Node, client: TestClient, depositor: Account, tmp_path: Path
) -> None:
    assert isinstance(target.blobs, LocalBlobStore)
    out, _ = _exported(node, client, depositor, tmp_path)
    # A real size-limited write through the real code path: the import process may not write any
    # file past 1 MB (RLIMIT_FSIZE; Python ignores SIGXFSZ, so the write fails with EFBIG like a
    # full disk's ENOSPC) - the 3 MB blob cannot land.
    limit = 1024 * 1024

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = _import_process(target, out, preexec_fn=small_disk)
    _, stderr = done.communicate(timeout=300)
    assert done.returncode != 0 and stderr.startswith("error:"), stderr
    assert "Traceback" not in stderr
    big_sha = hashlib.sha256(BIG).hexdigest()
    assert not target.blobs.exists(big_sha)
    with target.engine.connect() as conn:
        ids = {r.id for r in conn.execute(select(versions.c.id))}
        # Whatever landed is whole: every file row points at a blob that is here and intact.
        for row in conn.execute(select(files)):
            assert target.blobs.hash_of(row.sha256) == row.sha256
    assert len(ids) < 2
    rerun = packages.import_bag(target, out)
    assert rerun.versions + len(ids) == 2
    assert target.blobs.read_bytes(big_sha) == BIG


def test_an_import_killed_half_way_is_completed_by_a_rerun(
    node: Node, target: Node, client: TestClient, depositor: Account, tmp_path: Path
) -> None:
    out, _ = _exported(node, client, depositor, tmp_path)
    # Hold the process inside the first version's transaction, then kill it there.
    running = _import_process(target, out, env={"OSNODE_FAILPOINTS": "import.mid_version"})
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and running.poll() is None and not list(target.blobs.stored()):
        time.sleep(0.2)
    time.sleep(1.0)
    running.kill()
    running.wait()
    with target.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(versions)).scalar_one() == 0
    rerun = packages.import_bag(target, out)
    assert rerun.versions == 2
    with target.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(versions)).scalar_one() == 2
