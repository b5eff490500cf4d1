"""The BlobStore protocol's guarantees, checked on both stores: the local folder and S3 (SeaweedFS)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx
import pytest

from osnode.config import load_settings
from osnode.domain.errors import InvalidInput, NotFound, TooLarge
from osnode.services.node import open_blob_store
from osnode.storage.blobs import BlobStore, LocalBlobStore
from osnode.storage.s3_blobs import MIN_PART, PART, S3BlobStore


@pytest.fixture
def store(blob_store: dict[str, object], tmp_path: Path) -> BlobStore:
    return open_blob_store(load_settings(tmp_path, **blob_store))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def visible(store: BlobStore) -> set[str]:
    return set(store.stored())


def test_put_is_content_addressed_and_stored_once(store: BlobStore) -> None:
    data = os.urandom(3 * PART + 12345)  # several parts: a real multipart upload on S3
    pieces = [data[i : i + 700_000] for i in range(0, len(data), 700_000)]
    first = store.put_stream(iter(pieces))
    again = store.put_stream(iter(pieces))
    assert first.sha256 == again.sha256 == sha(data) and first.size == len(data)
    assert visible(store) == {sha(data)}
    assert store.size(sha(data)) == len(data)
    assert store.hash_of(sha(data)) == sha(data)
    assert store.read_bytes(sha(data)) == data


def test_declared_digest_goes_straight_to_its_key_and_a_wrong_one_leaves_nothing(store: BlobStore) -> None:
    data = os.urandom(2 * PART + 7)
    stored = store.put_stream(iter([data]), expected_sha256=sha(data))
    assert stored.sha256 == sha(data) and store.exists(sha(data))
    other = os.urandom(PART + 1)
    with pytest.raises(InvalidInput):
        store.put_stream(iter([other]), expected_sha256=sha(b"something else"))
    with pytest.raises(InvalidInput):  # declared as the digest of bytes the store holds: no shortcut
        store.put_stream(iter([other]), expected_sha256=sha(data))
    assert visible(store) == {sha(data)} and store.read_bytes(sha(data)) == data
    store.clean_tmp()
    if isinstance(store, S3BlobStore):  # no upload left open on the server, nothing under tmp/
        uploads = store.client.list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix).get("Uploads", [])
        assert uploads == [] and list(store.list(store.tmp_key(""))) == []


def test_too_large_and_interrupted_uploads_leave_nothing(store: BlobStore) -> None:
    with pytest.raises(TooLarge):
        store.put_stream(iter([b"x" * PART, b"x" * PART]), max_bytes=PART + 1)

    def broken():  # the client goes away mid-upload
        yield os.urandom(PART)
        yield os.urandom(PART)
        raise ConnectionError("client gone")

    with pytest.raises(ConnectionError):
        store.put_stream(broken())
    assert visible(store) == set()
    if isinstance(store, S3BlobStore):
        uploads = store.client.list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix).get("Uploads", [])
        assert uploads == []


def test_range_reads(store: BlobStore) -> None:
    data = os.urandom(PART + 5000)
    digest = store.put_stream(iter([data])).sha256
    assert b"".join(store.read_chunks(digest, 10, 20)) == data[10:20]
    assert b"".join(store.read_chunks(digest, PART - 3, PART + 4)) == data[PART - 3 : PART + 4]
    assert b"".join(store.read_chunks(digest, PART)) == data[PART:]
    assert b"".join(store.read_chunks(digest, 5, 5)) == b""
    with store.open(digest) as handle:
        assert handle.read(7) == data[:7]


def test_missing_blobs_and_bad_names(store: BlobStore) -> None:
    missing = sha(b"never stored")
    assert not store.exists(missing) and store.size(missing) is None
    with pytest.raises(InvalidInput):
        store.exists("../../etc/passwd")
    with pytest.raises((NotFound, FileNotFoundError)):
        store.read_bytes(missing)


def test_local_path_is_a_verified_file(store: BlobStore) -> None:
    data = b"a,b\n1,2\n"
    digest = store.put_stream(iter([data])).sha256
    with store.local_path(digest) as path:
        assert path.read_bytes() == data


def test_quarantine_moves_bytes_aside(store: BlobStore) -> None:
    digest = store.put_stream(iter([b"damaged some day"])).sha256
    assert "moved aside" in store.quarantine(digest)
    assert not store.exists(digest)
    assert store.quarantine(digest) == "nothing to move aside"


def test_adopt_file_consumes_it(store: BlobStore) -> None:
    source = store.staging_dir / "fetch-x"
    source.write_bytes(b"fetched from a peer")
    stored = store.adopt_file(source, sha(b"fetched from a peer"))
    assert store.read_bytes(stored.sha256) == b"fetched from a peer" and not source.exists()


@pytest.mark.parametrize("sizes", [[MIN_PART, MIN_PART + 3, 100], [1000, 20, 3], [77]])
def test_partials_assemble_pieces(store: BlobStore, sizes: list[int]) -> None:
    """tus pieces: big ones are composed on the object store, small ones streamed once; the same bytes."""
    upload_id = f"u{len(sizes)}{sizes[0]}"
    parts = [os.urandom(n) for n in sizes]
    store.partials.create(upload_id)
    offset = 0
    for part in parts:
        piece = store.partials.piece(upload_id, offset)
        piece.write(part)
        piece.keep()
        offset += len(part)
    # An unacknowledged piece (a crash after it was written): dropped when the offset is resent.
    piece = store.partials.piece(upload_id, offset)
    piece.write(b"never acknowledged")
    piece.keep()
    store.partials.piece(upload_id, offset).discard()
    whole = b"".join(parts)
    assert store.partials.size(upload_id) == len(whole)
    assert b"".join(store.partials.chunks(upload_id)) == whole
    assert visible(store) == set()  # nothing visible before it is finished
    store.partials.finish(upload_id, sha(whole), len(whole))
    assert store.read_bytes(sha(whole)) == whole
    assert upload_id not in dict(store.partials.leftovers())
    with pytest.raises(FileNotFoundError):
        store.partials.piece(upload_id, 0)


def test_presigned_urls(blob_store: dict[str, object], tmp_path: Path) -> None:
    store = open_blob_store(load_settings(tmp_path, s3_presign_seconds=60, **blob_store))
    digest = store.put_stream(iter([b"straight from the bucket"])).sha256
    url = store.presigned_url(digest, "résumé.txt", "text/plain")
    if isinstance(store, LocalBlobStore):
        assert url is None
        return
    assert url is not None
    answer = httpx.get(url)
    assert answer.status_code == 200 and answer.content == b"straight from the bucket"
    assert "attachment" in answer.headers["content-disposition"]


def test_an_unreachable_object_store_is_one_clear_error(tmp_path: Path) -> None:
    from osnode.storage.s3_blobs import BlobStoreUnavailable

    nowhere = {"blob_store": "s3://nowhere", "s3_endpoint": "http://127.0.0.1:9", "s3_access_key": "k"}
    with pytest.raises(InvalidInput, match="incomplete"):
        open_blob_store(load_settings(tmp_path, **nowhere))
    with pytest.raises(BlobStoreUnavailable, match="unreachable"):
        open_blob_store(load_settings(tmp_path, **nowhere, s3_secret_key="s"))


def test_the_cli_says_in_one_line_when_the_object_store_is_unreachable(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = os.environ | {
        "OSNODE_BLOB_STORE": "s3://nowhere/prefix",
        "OSNODE_S3_ENDPOINT": "http://127.0.0.1:9",
        "OSNODE_S3_ACCESS_KEY": "k",
        "OSNODE_S3_SECRET_KEY": "s",
    }
    done = subprocess.run(
        [sys.executable, "-m", "osnode", "fixity", "--data", str(tmp_path)], env=env, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert done.stderr.startswith("error: bucket nowhere: the object store is unreachable"), done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
