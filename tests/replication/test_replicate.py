"""Replication between two real nodes: policies, mirrored files served from the local replica, the
landing page's copies, re-runs that move only missing blobs, fixity repair from a holder, and the
faults: the origin killed mid-transfer, the origin serving corrupt bytes."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from osnode.app import create_app
from osnode.domain.errors import InvalidInput, NotFound
from osnode.plugins.builtins import JOBS
from osnode.services import deposit, fixity, replication
from osnode.services.node import Node
from osnode.storage.catalog import files, versions
from osnode.storage.peers import record_sources
from tests.blob_stores import identity, overwrite, remove
from tests.conftest import Account, minimal_metadata
from tests.harvest.conftest import fast_client
from tests.replication.conftest import Origin, harvest_origin

# Blob-related: every test here runs on the local folder and on S3.
pytestmark = pytest.mark.usefixtures("blob_store")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def local_record(node: Node, origin_record_id: str) -> str:
    with node.engine.connect() as conn:
        ids = conn.execute(select(record_sources.c.oai_identifier, record_sources.c.record_id)).all()
    return next(r.record_id for r in ids if r.oai_identifier.endswith(f":{origin_record_id}"))


def local_files(node: Node, record_id: str) -> dict[str, str]:
    with node.engine.connect() as conn:
        rows = conn.execute(
            select(files.c.key, files.c.sha256)
            .join(versions, versions.c.id == files.c.version_id)
            .where(versions.c.record_id == record_id)
        ).all()
    return {r.key: r.sha256 for r in rows}


def access_of(node: Node, record_id: str) -> str:
    with node.engine.connect() as conn:
        return conn.execute(select(versions.c.access_level).where(versions.c.record_id == record_id)).scalar_one()


def test_open_policy_mirrors_open_files_and_serves_them_here(node: Node, make_origin: Callable[..., Origin]) -> None:
    shared = b"the same bytes in two records\n"
    origin = make_origin(
        [
            {"data.csv": b"a,b\n1,2\n", "readme.txt": b"about the data\n", "copy.txt": shared},
            {"other.txt": shared, "big.bin": os.urandom(300_000)},
        ]
    )
    harvest_origin(node, origin)
    (first, second) = origin.records

    # The default policy is metadata only: nothing moves.
    report = replication.replicate(node, "origin")
    assert report.policy == "metadata" and report.records == 0 and report.message
    assert replication.get_policy(node, "origin").policy == "metadata"
    with pytest.raises(InvalidInput):
        replication.set_policy(node, "origin", "sets")  # sets need at least one set
    with pytest.raises(InvalidInput):
        replication.set_policy(node, "origin", "everything")
    with pytest.raises(NotFound):
        replication.set_policy(node, "nobody", "open")

    replication.set_policy(node, "origin", "open")
    report = replication.replicate(node, "origin", workers=2)
    assert (report.records, report.replicated, report.skipped, report.failed) == (3, 2, 1, 0), report.errors
    # Four distinct blobs (the shared one travels once).
    assert report.blobs_fetched == 4
    for origin_id, wanted in origin.records.items():
        record_id = local_record(node, origin_id)
        assert local_files(node, record_id) == {k: sha(v) for k, v in wanted.items()}
        assert access_of(node, record_id) == "open"
        for data in wanted.values():
            assert node.blobs.read_bytes(sha(data)) == data

    # Downloads come from the local replica (the origin is switched off to prove it), and the
    # landing page lists who holds a copy.
    origin.server.stop()
    here = local_record(node, first)
    with TestClient(create_app(node)) as web:
        got = web.get(f"/api/records/{here}/files/data.csv")
        assert got.status_code == 200 and got.content == origin.records[first]["data.csv"]
        page = web.get(f"/records/{here}")
        assert page.status_code == 200
        assert "This node" in page.text and origin.proxy.url in page.text
        # The metadata-only record stays without files.
        closed = next(r for r in _all_local(node) if r not in {here, local_record(node, second)})
        assert local_files(node, closed) == {}
        assert "This node" not in web.get(f"/records/{closed}").text
    assert [h.is_self for h in replication.holders(node, _version(node, here))] == [True, False]

    # A re-run with everything in place touches nothing, not even the network.
    before = origin.proxy.down
    report = replication.replicate(node, "origin")
    assert (report.unchanged, report.blobs_fetched, report.failed) == (2, 0, 0)
    assert origin.proxy.down == before

    # Blobs lost here (a wiped disk) travel again, and only they.
    origin.restart()
    big = origin.records[second]["big.bin"]
    lost = [sha(big), sha(b"about the data\n")]
    kept = identity(node, sha(b"a,b\n1,2\n"))
    for digest in lost:
        remove(node, digest)
    before = origin.proxy.down
    report = replication.replicate(node, "origin")
    assert (report.blobs_fetched, report.bytes_fetched, report.failed) == (2, len(big) + 15, 0)
    assert len(big) < origin.proxy.down - before < len(big) + 20_000
    assert identity(node, sha(b"a,b\n1,2\n")) == kept
    assert all(node.blobs.exists(d) for d in lost)

    # Fixity repairs a damaged blob from a node that holds a copy, with no repair peer configured.
    assert node.settings.repair_peers == ()
    overwrite(node, sha(big), b"rot")
    result = fixity.run(node, max_bytes=None, max_count=None)
    assert (result.corrupt, result.repaired) == (1, 1)
    assert node.blobs.read_bytes(sha(big)) == big


def _all_local(node: Node) -> list[str]:
    with node.engine.connect() as conn:
        return list(conn.execute(select(record_sources.c.record_id)).scalars())


def _version(node: Node, record_id: str) -> str:
    with node.engine.connect() as conn:
        return conn.execute(select(versions.c.id).where(versions.c.record_id == record_id)).scalar_one()


def test_origin_killed_mid_transfer_then_rerun_resumes(node: Node, make_origin: Callable[..., Origin]) -> None:
    big = os.urandom(5_000_000)
    origin = make_origin([{"small.txt": b"small\n", "big.bin": big}], closed=0, process=True)  # killed below
    harvest_origin(node, origin)
    replication.set_policy(node, "origin", "open")
    (origin_id,) = origin.records
    record_id = local_record(node, origin_id)

    # The origin process dies once half the big file has gone down the wire (fetch_blob keeps
    # whole 1 MiB chunks of a cut transfer).
    origin.proxy.kill_after = origin.proxy.down + 2_600_000
    origin.proxy.on_kill = origin.server.process.kill
    report = replication.replicate(node, "origin", attempts=2)
    assert origin.proxy.killed
    assert (report.replicated, report.failed) == (0, 1), report
    # Nothing half-done is visible: no files, still metadata-only, no blob under its name.
    assert local_files(node, record_id) == {}
    assert access_of(node, record_id) == "metadata-only"
    assert not node.blobs.exists(sha(big))
    partial = node.blobs.staging_dir / f"fetch-{sha(big)}"
    held = partial.stat().st_size
    assert 0 < held < len(big), (held, report.errors)
    with TestClient(create_app(node)) as web:
        assert web.get(f"/api/records/{record_id}/files/big.bin").status_code in (403, 404)

    # The origin comes back: the re-run completes, resuming the big file where it stopped.
    origin.proxy.on_kill = None
    origin.restart()
    before = origin.proxy.down
    report = replication.replicate(node, "origin")
    assert (report.replicated, report.failed) == (1, 0), report.errors
    assert origin.proxy.down - before < len(big) - held + 50_000, (origin.proxy.down - before, held)
    assert not partial.exists()
    assert local_files(node, record_id) == {"small.txt": sha(b"small\n"), "big.bin": sha(big)}
    with TestClient(create_app(node)) as web:
        assert web.get(f"/api/records/{record_id}/files/big.bin").content == big


def test_origin_serving_corrupt_bytes_makes_nothing_visible(node: Node, make_origin: Callable[..., Origin]) -> None:
    good = os.urandom(200_000)
    origin = make_origin([{"fine.txt": b"fine\n", "data.bin": good}], closed=0)
    harvest_origin(node, origin)
    replication.set_policy(node, "origin", "open")
    (origin_id,) = origin.records
    record_id = local_record(node, origin_id)

    # Bit rot at the origin: same size, other bytes, still served under the old hash.
    stored = origin.blob_path(good)
    stored.write_bytes(bytes(b ^ 0xFF for b in good[:10]) + good[10:])
    report = replication.replicate(node, "origin", attempts=1)
    assert (report.replicated, report.failed) == (0, 1)
    assert "hash" in report.errors[0]["message"]
    assert not node.blobs.exists(sha(good))
    assert not (node.blobs.staging_dir / f"fetch-{sha(good)}").exists()
    assert local_files(node, record_id) == {}
    assert access_of(node, record_id) == "metadata-only"

    # Repaired at the origin, the re-run completes.
    stored.write_bytes(good)
    report = replication.replicate(node, "origin")
    assert (report.replicated, report.failed) == (1, 0)
    assert node.blobs.read_bytes(sha(good)) == good
    assert local_files(node, record_id) == {"fine.txt": sha(b"fine\n"), "data.bin": sha(good)}


def test_sets_policy_mirrors_only_records_in_the_chosen_sets(node: Node, make_origin: Callable[..., Origin]) -> None:
    origin = make_origin([{"a.txt": b"alpha\n"}], closed=0)
    harvest_origin(node, origin)
    (origin_id,) = origin.records
    record_id = local_record(node, origin_id)

    replication.set_policy(node, "origin", "sets", ["kind:Software"])
    report = replication.replicate(node, "origin", connect=fast_client)
    assert (report.replicated, report.skipped, report.blobs_fetched) == (0, 1, 0)
    assert local_files(node, record_id) == {}

    replication.set_policy(node, "origin", "sets", ["kind:Dataset"])
    report = replication.replicate(node, "origin", connect=fast_client)
    assert (report.replicated, report.blobs_fetched) == (1, 1)
    assert local_files(node, record_id) == {"a.txt": sha(b"alpha\n")}

    # The scheduled job replicates every peer with a files policy.
    job = next(j for j in JOBS if j.name == "replicate")
    assert job.interval(node) and job.interval(node) > 0
    remove(node, sha(b"alpha\n"))
    job.run(node)
    assert node.blobs.read_bytes(sha(b"alpha\n")) == b"alpha\n"


def test_naming_a_hash_held_here_is_not_enough(node: Node, admin: Account, make_origin: Callable[..., Origin]) -> None:
    secret = b"restricted bytes held by this node\n"
    draft = deposit.create_draft(node, admin.viewer, minimal_metadata(), {"level": "restricted"})
    deposit.add_file(node, draft.id, "secret.txt", [secret], admin.viewer)
    deposit.publish(node, draft.id, admin.viewer)
    origin = make_origin([{"claimed.txt": secret}], closed=0)
    harvest_origin(node, origin)
    replication.set_policy(node, "origin", "open")
    (origin_id,) = origin.records
    record_id = local_record(node, origin_id)

    # The origin names the hash but no longer has the bytes: this node's copy stays restricted.
    origin.blob_path(secret).unlink()
    report = replication.replicate(node, "origin", attempts=1)
    assert (report.replicated, report.failed) == (0, 1), report
    assert local_files(node, record_id) == {}
    with TestClient(create_app(node)) as web:
        assert web.get(f"/api/blobs/{sha(secret)}").status_code == 404

    # An origin that does hold them proves it by sending them; then the record is mirrored.
    origin.blob_path(secret).parent.mkdir(parents=True, exist_ok=True)
    origin.blob_path(secret).write_bytes(secret)
    report = replication.replicate(node, "origin")
    assert (report.replicated, report.blobs_present) == (1, 1), report
    assert local_files(node, record_id) == {"claimed.txt": sha(secret)}
