"""The content-addressed blob store on a local folder."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osnode.domain.errors import InvalidInput, TooLarge
from osnode.storage.blobs import CHUNK
from osnode.storage.blobs import LocalBlobStore as BlobStore


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def blob_files(store: BlobStore) -> list[Path]:
    return [p for p in all_files(store.root) if store.tmp_dir not in p.parents]


def chunks_of(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_streamed_write_is_stored_under_its_sha256(store: BlobStore) -> None:
    data = os.urandom(3 * CHUNK + 123)
    stored = store.put_stream(chunks_of(data, 65536))
    assert stored.sha256 == sha(data)
    assert stored.size == len(data)
    path = store.path(stored.sha256)
    assert path.name == stored.sha256
    assert path.relative_to(store.root).parts == (stored.sha256[:2], stored.sha256[2:4], stored.sha256)
    assert path.read_bytes() == data
    assert store.exists(stored.sha256)
    assert b"".join(store.read_chunks(stored.sha256)) == data
    with store.open(stored.sha256) as handle:
        assert handle.read() == data
    assert blob_files(store) == [path]
    assert list(store.tmp_dir.iterdir()) == []


def test_empty_blob(store: BlobStore) -> None:
    stored = store.put_stream(iter([]))
    assert stored.sha256 == sha(b"") and stored.size == 0
    assert store.path(stored.sha256).read_bytes() == b""


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=5000), chunk=st.integers(min_value=1, max_value=700))
def test_any_chunking_gives_the_same_blob(store: BlobStore, data: bytes, chunk: int) -> None:
    stored = store.put_stream(chunks_of(data, chunk))
    assert stored.sha256 == sha(data) and stored.size == len(data)
    assert store.path(stored.sha256).read_bytes() == data


def test_same_bytes_twice_are_stored_once(store: BlobStore) -> None:
    data = b"the same bytes, twice" * 1000
    first = store.put_stream([data])
    second = store.put_stream(chunks_of(data, 7))
    assert first == second
    assert blob_files(store) == [store.path(first.sha256)]
    assert list(store.stored()) == [first.sha256]
    assert list(store.tmp_dir.iterdir()) == []


def test_dedup_keeps_the_original_file(store: BlobStore) -> None:
    data = b"published bytes are never rewritten"
    first = store.put_stream([data])
    inode = store.path(first.sha256).stat().st_ino
    store.put_stream([data])
    assert store.path(first.sha256).stat().st_ino == inode


def test_different_bytes_are_different_blobs(store: BlobStore) -> None:
    a = store.put_stream([b"a"])
    b = store.put_stream([b"b"])
    assert a.sha256 != b.sha256
    assert sorted(store.stored()) == sorted([a.sha256, b.sha256])


def test_put_file(store: BlobStore, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    data = os.urandom(2 * CHUNK + 5)
    source.write_bytes(data)
    stored = store.put_file(source)
    assert stored.sha256 == sha(data)
    assert store.path(stored.sha256).read_bytes() == data
    with pytest.raises(TooLarge):
        store.put_file(source, max_bytes=CHUNK)


# -- limits ---------------------------------------------------------------------------------------


def test_over_the_limit_raises_and_leaves_nothing(store: BlobStore) -> None:
    with pytest.raises(TooLarge) as caught:
        store.put_stream(chunks_of(b"x" * 1001, 100), max_bytes=1000)
    assert caught.value.status == 413
    assert "1000" in caught.value.detail
    assert all_files(store.root) == []
    assert list(store.stored()) == []


def test_limit_is_checked_while_streaming(store: BlobStore) -> None:
    # The writer must give up at the first chunk past the limit, not drain the whole stream first.
    consumed = 0

    def endless() -> Iterator[bytes]:
        nonlocal consumed
        while True:
            consumed += 1
            yield b"y" * 1000

    with pytest.raises(TooLarge):
        store.put_stream(endless(), max_bytes=10_000)
    assert consumed == 11
    assert all_files(store.root) == []


def test_exactly_at_the_limit_is_accepted(store: BlobStore) -> None:
    stored = store.put_stream(chunks_of(b"z" * 1000, 300), max_bytes=1000)
    assert stored.size == 1000
    assert store.exists(stored.sha256)


def test_writer_over_the_limit_leaves_no_temp_file(store: BlobStore) -> None:
    writer = store.writer(max_bytes=10)
    writer.write(b"12345")
    assert len(list(store.tmp_dir.iterdir())) == 1  # it does stream to a temporary file
    with pytest.raises(TooLarge):
        writer.write(b"678901")
    assert list(store.tmp_dir.iterdir()) == []
    assert all_files(store.root) == []


# -- declared digests -----------------------------------------------------------------------------


def test_declared_digest_mismatch_raises_and_stores_nothing(store: BlobStore) -> None:
    with pytest.raises(InvalidInput) as caught:
        store.put_stream([b"damaged in transit"], expected_sha256=sha(b"what was sent"))
    assert sha(b"damaged in transit") in caught.value.detail
    assert all_files(store.root) == []
    assert not store.exists(sha(b"damaged in transit"))


def test_declared_digest_match_is_accepted_in_any_case(store: BlobStore) -> None:
    data = b"intact"
    stored = store.put_stream([data], expected_sha256=sha(data).upper())
    assert stored.sha256 == sha(data)
    assert store.exists(sha(data))


def test_declared_digest_mismatch_does_not_touch_an_existing_blob(store: BlobStore) -> None:
    data = b"already here"
    existing = store.put_stream([data])
    with pytest.raises(InvalidInput):
        store.put_stream([data], expected_sha256=sha(b"something else"))
    assert store.path(existing.sha256).read_bytes() == data
    assert blob_files(store) == [store.path(existing.sha256)]
    assert list(store.tmp_dir.iterdir()) == []


# -- abort and crash leftovers --------------------------------------------------------------------


def test_abort_leaves_nothing(store: BlobStore) -> None:
    writer = store.writer()
    writer.write(b"half an upload")
    writer.abort()
    assert all_files(store.root) == []
    writer.abort()  # aborting twice is harmless
    assert all_files(store.root) == []


def test_a_failing_source_aborts_the_write(store: BlobStore) -> None:
    def broken() -> Iterator[bytes]:
        yield b"some bytes"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        store.put_stream(broken())
    assert all_files(store.root) == []


def test_clean_tmp_removes_what_a_crash_left(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    crashed = BlobStore(root)
    for i in range(3):
        writer = crashed.writer()
        writer.write(b"never committed %d" % i)  # the process "dies" here: no commit, no abort
    kept = crashed.put_stream([b"committed"])
    assert len(list(crashed.tmp_dir.iterdir())) == 3

    restarted = BlobStore(root)
    assert restarted.clean_tmp() == 3
    assert list(restarted.tmp_dir.iterdir()) == []
    assert blob_files(restarted) == [restarted.path(kept.sha256)]
    assert restarted.path(kept.sha256).read_bytes() == b"committed"
    assert restarted.clean_tmp() == 0


# -- fixity ---------------------------------------------------------------------------------------


def test_hash_of_matches_and_detects_damage(store: BlobStore) -> None:
    data = os.urandom(CHUNK + 17)
    stored = store.put_stream([data])
    assert store.hash_of(stored.sha256) == stored.sha256
    path = store.path(stored.sha256)
    damaged = bytearray(data)
    damaged[CHUNK] ^= 0x01  # one flipped bit, in the second chunk
    path.chmod(0o644)
    path.write_bytes(bytes(damaged))
    assert store.hash_of(stored.sha256) == sha(bytes(damaged)) != stored.sha256


def test_missing_blob(store: BlobStore) -> None:
    missing = sha(b"never stored")
    assert not store.exists(missing)
    with pytest.raises(FileNotFoundError):
        store.hash_of(missing)


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "0" * 64 + "\n", "/" + "0" * 63, "A" * 64, "0" * 63, "0" * 62 + "/.", "0" * 65],
)
def test_only_a_sha256_becomes_a_path_in_the_store(tmp_path: Path, name: str) -> None:
    store = BlobStore(tmp_path / "blobs")
    with pytest.raises(InvalidInput):
        store.path(name)
    with pytest.raises(InvalidInput):
        store.exists(name)
    assert store.path("0" * 64).is_relative_to(tmp_path / "blobs")
