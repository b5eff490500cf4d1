"""File transfer over HTTP: streamed uploads, dedup, Range, HEAD, ETag, Content-Digest, replace, remove."""

from __future__ import annotations

import os
import re

import pytest
from fastapi.testclient import TestClient

from osnode.services.node import Node
from tests.conftest import Account
from tests.web.conftest import (
    assert_problem,
    blob_rows,
    content_digest,
    create_draft,
    file_row_count,
    publish,
    published_record,
    sha256,
    stored_blobs,
    tmp_leftovers,
    upload,
)

BIG = 3 * 1024 * 1024 + 12_345  # a few MB, not a multiple of any buffer size

# Blob-related: every test here runs on the local folder and on S3.
pytestmark = pytest.mark.usefixtures("blob_store")


@pytest.fixture
def blob() -> bytes:
    return os.urandom(BIG)


@pytest.fixture
def sample(client: TestClient, depositor: Account) -> tuple[str, bytes]:
    """A published open version holding 1000 known bytes as ``sample.bin``."""
    data = bytes(range(256)) * 3 + bytes(range(232))
    assert len(data) == 1000
    version = published_record(client, depositor, {"sample.bin": data})
    return version["id"], data


def chunks(data: bytes, size: int = 100_000):  # type: ignore[no-untyped-def]
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_round_trip_of_a_few_megabytes(client: TestClient, node: Node, depositor: Account, blob: bytes) -> None:
    draft = create_draft(client, depositor)
    entry = upload(client, depositor, draft["id"], "random.bin", blob)
    assert entry["key"] == "random.bin"
    assert entry["size"] == BIG
    assert entry["checksum"] == f"sha256:{sha256(blob)}"
    # The owner reads the draft's file back before publication.
    got = client.get(f"/api/records/{draft['id']}/files/random.bin", headers=depositor.headers)
    assert got.status_code == 200
    assert got.content == blob
    publish(client, depositor, draft["id"])
    for url in (
        f"/api/records/{draft['id']}/files/random.bin",
        f"/api/records/{draft['record_id']}/files/random.bin",
        f"/records/{draft['id']}/files/random.bin",
    ):
        got = client.get(url)
        assert got.status_code == 200, url
        assert got.content == blob
        assert int(got.headers["content-length"]) == BIG
        assert got.headers["etag"] == f'"{sha256(blob)}"'
        assert got.headers["accept-ranges"] == "bytes"
        assert "random.bin" in got.headers["content-disposition"]
    # Stored once, under its hash, byte for byte; nothing left in tmp.
    assert stored_blobs(node) == blob_rows(node) == [sha256(blob)]
    assert node.blobs.read_bytes(sha256(blob)) == blob
    assert tmp_leftovers(node) == []


def test_streamed_upload_without_content_length(
    client: TestClient, node: Node, depositor: Account, blob: bytes
) -> None:
    draft = create_draft(client, depositor)
    response = client.put(
        f"/api/records/{draft['id']}/files/streamed.bin", content=chunks(blob), headers=depositor.headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["size"] == BIG
    assert client.get(f"/api/records/{draft['id']}/files/streamed.bin", headers=depositor.headers).content == blob
    assert tmp_leftovers(node) == []


def test_listing_files_and_mimetype(client: TestClient, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    upload(client, depositor, draft["id"], "table.csv", b"a,b\n")
    upload(client, depositor, draft["id"], "notes", b"free text", **{"Content-Type": "text/markdown"})
    upload(client, depositor, draft["id"], "blob", b"\x00\x01")
    publish(client, depositor, draft["id"])
    items = client.get(f"/api/records/{draft['id']}/files").json()["items"]
    assert {i["key"]: i["mimetype"] for i in items} == {
        "table.csv": "text/csv",
        "notes": "text/markdown",
        "blob": "application/octet-stream",
    }
    assert {i["key"]: i["size"] for i in items} == {"table.csv": 4, "notes": 9, "blob": 2}
    for item in items:
        assert item["url"].endswith(f"/api/records/{draft['id']}/files/{item['key']}")
    got = client.get(f"/api/records/{draft['id']}/files/table.csv")
    assert got.headers["content-type"].startswith("text/csv")


def test_same_bytes_are_stored_once_across_records(
    client: TestClient, node: Node, depositor: Account, other_depositor: Account
) -> None:
    data = os.urandom(50_000)
    first = published_record(client, depositor, {"a.bin": data, "copy.bin": data})
    second = published_record(client, other_depositor, {"b.bin": data})
    assert stored_blobs(node) == blob_rows(node) == [sha256(data)]
    assert file_row_count(node) == 3
    assert client.get(f"/api/records/{first['id']}/files/copy.bin").content == data
    assert client.get(f"/api/records/{second['id']}/files/b.bin").content == data
    assert tmp_leftovers(node) == []


# -- Range ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["/api/records", "/records"])
@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 9),  # first bytes
        ("bytes=400-599", 400, 599),  # middle
        ("bytes=-10", 990, 999),  # suffix
        ("bytes=995-", 995, 999),  # open-ended
        ("bytes=990-5000", 990, 999),  # end past the size is clipped
        ("bytes=0-0", 0, 0),  # one byte
    ],
)
def test_single_range(
    client: TestClient, sample: tuple[str, bytes], prefix: str, header: str, start: int, end: int
) -> None:
    vid, data = sample
    got = client.get(f"{prefix}/{vid}/files/sample.bin", headers={"Range": header})
    assert got.status_code == 206, got.text
    assert got.content == data[start : end + 1]
    assert got.headers["content-range"] == f"bytes {start}-{end}/1000"
    assert int(got.headers["content-length"]) == end - start + 1
    assert got.headers["etag"] == f'"{sha256(data)}"'


def test_multi_range(client: TestClient, sample: tuple[str, bytes]) -> None:
    vid, data = sample
    got = client.get(f"/api/records/{vid}/files/sample.bin", headers={"Range": "bytes=0-4,100-109,-3"})
    assert got.status_code == 206
    content_type = got.headers["content-type"]
    assert content_type.startswith("multipart/byteranges")
    boundary = re.search(r"boundary=([^;\s]+)", content_type)
    assert boundary is not None
    parts = got.content.split(b"--" + boundary.group(1).encode())
    assert parts[-1].strip() == b"--"  # the closing delimiter
    bodies = {}
    for part in parts[1:-1]:
        head, _, body = part.partition(b"\r\n\r\n")
        match = re.search(rb"Content-Range: bytes (\d+)-(\d+)/1000", head, re.I)
        assert match is not None, head
        bodies[(int(match.group(1)), int(match.group(2)))] = body.removesuffix(b"\r\n")
    assert bodies == {(0, 4): data[0:5], (100, 109): data[100:110], (997, 999): data[997:1000]}
    assert int(got.headers["content-length"]) == len(got.content)


@pytest.mark.parametrize("prefix", ["/api/records", "/records"])
@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=1000-1000"])
def test_unsatisfiable_range(client: TestClient, sample: tuple[str, bytes], prefix: str, header: str) -> None:
    vid, _ = sample
    got = client.get(f"{prefix}/{vid}/files/sample.bin", headers={"Range": header})
    assert got.status_code == 416
    assert got.headers["content-range"] == "bytes */1000"
    assert got.headers["content-type"] == "application/problem+json"
    assert got.json()["status"] == 416 and "1000 bytes" in got.json()["detail"]


@pytest.mark.parametrize("prefix", ["/api/records", "/records"])
def test_unsatisfiable_range_with_a_stale_if_range_sends_the_whole_file(
    client: TestClient, sample: tuple[str, bytes], prefix: str
) -> None:
    vid, data = sample
    got = client.get(f"{prefix}/{vid}/files/sample.bin", headers={"Range": "bytes=5000-", "If-Range": '"stale"'})
    assert got.status_code == 200 and got.content == data


def test_range_on_a_large_file(client: TestClient, depositor: Account, blob: bytes) -> None:
    version = published_record(client, depositor, {"big.bin": blob})
    url = f"/api/records/{version['id']}/files/big.bin"
    middle = BIG // 2
    got = client.get(url, headers={"Range": f"bytes={middle}-{middle + 65_535}"})
    assert got.status_code == 206
    assert got.content == blob[middle : middle + 65_536]
    tail = client.get(url, headers={"Range": "bytes=-10"})
    assert tail.content == blob[-10:]
    assert tail.headers["content-range"] == f"bytes {BIG - 10}-{BIG - 1}/{BIG}"


# -- HEAD, ETag, conditional requests -------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["/api/records", "/records"])
def test_head(client: TestClient, sample: tuple[str, bytes], prefix: str) -> None:
    vid, data = sample
    url = f"{prefix}/{vid}/files/sample.bin"
    head = client.head(url)
    get = client.get(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == "1000"
    for name in ("etag", "content-type", "accept-ranges", "content-disposition", "cache-control"):
        assert head.headers[name] == get.headers[name], name
    assert head.headers["etag"] == f'"{sha256(data)}"'
    missing = client.head(f"{prefix}/{vid}/files/nope.bin")
    assert missing.status_code == 404
    assert missing.content == b""


@pytest.mark.parametrize("prefix", ["/api/records", "/records"])
def test_etag_and_if_none_match(client: TestClient, sample: tuple[str, bytes], prefix: str) -> None:
    vid, data = sample
    url = f"{prefix}/{vid}/files/sample.bin"
    etag = client.get(url).headers["etag"]
    assert etag == f'"{sha256(data)}"'
    assert "public" in client.get(url).headers["cache-control"]
    for condition in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        cached = client.get(url, headers={"If-None-Match": condition})
        assert cached.status_code == 304, condition
        assert cached.content == b""
        assert cached.headers["etag"] == etag
    head = client.head(url, headers={"If-None-Match": etag})
    assert head.status_code == 304
    stale = client.get(url, headers={"If-None-Match": '"0000"'})
    assert stale.status_code == 200
    assert stale.content == data


def test_digest_header_on_download(client: TestClient, sample: tuple[str, bytes]) -> None:
    vid, data = sample
    got = client.get(f"/api/records/{vid}/files/sample.bin")
    declared = got.headers.get("content-digest") or got.headers.get("digest")
    assert declared is not None
    assert content_digest(data).split("=", 1)[1].strip(":") in declared


# -- Content-Digest on upload --------------------------------------------------------------------


def test_content_digest_that_matches(client: TestClient, node: Node, depositor: Account) -> None:
    data = os.urandom(20_000)
    draft = create_draft(client, depositor)
    entry = upload(client, depositor, draft["id"], "checked.bin", data, **{"Content-Digest": content_digest(data)})
    assert entry["checksum"] == f"sha256:{sha256(data)}"
    assert stored_blobs(node) == [sha256(data)]
    # Several digests in one header: the sha-256 one is checked.
    both = f"md5=:kAFQmDzST7DWlj99KOF/cg==:, {content_digest(b'other')}"
    upload(client, depositor, draft["id"], "other.bin", b"other", **{"Content-Digest": both})
    wrong = client.put(
        f"/api/records/{draft['id']}/files/third.bin",
        content=b"third",
        headers=depositor.headers | {"Content-Digest": both},
    )
    assert_problem(wrong, 422)
    assert len(stored_blobs(node)) == 2


@pytest.mark.parametrize("header", ["Content-Digest", "Digest"])  # RFC 9530, and the older RFC 3230
def test_digest_mismatch_stores_nothing(client: TestClient, node: Node, depositor: Account, header: str) -> None:
    data = os.urandom(20_000)
    draft = create_draft(client, depositor)
    damaged = data[:-1] + bytes([data[-1] ^ 0xFF])
    declared = content_digest(data) if header == "Content-Digest" else content_digest(data).replace(":", "")
    response = client.put(
        f"/api/records/{draft['id']}/files/damaged.bin",
        content=damaged,
        headers=depositor.headers | {header: declared},
    )
    body = assert_problem(response, 422)
    assert sha256(damaged) in body["detail"] or "damaged" in body["detail"]
    assert client.get(f"/api/records/{draft['id']}/files", headers=depositor.headers).json()["items"] == []
    assert stored_blobs(node) == []
    assert blob_rows(node) == []
    assert file_row_count(node) == 0
    assert tmp_leftovers(node) == []


def test_content_digest_mismatch_keeps_the_previous_file(client: TestClient, node: Node, depositor: Account) -> None:
    old, new = b"old bytes", b"new bytes"
    draft = create_draft(client, depositor)
    upload(client, depositor, draft["id"], "f.txt", old)
    response = client.put(
        f"/api/records/{draft['id']}/files/f.txt",
        content=new,
        headers=depositor.headers | {"Content-Digest": content_digest(b"something else")},
    )
    assert_problem(response, 422)
    assert client.get(f"/api/records/{draft['id']}/files/f.txt", headers=depositor.headers).content == old
    assert stored_blobs(node) == [sha256(old)]
    assert tmp_leftovers(node) == []


@pytest.mark.parametrize("value", ["sha-256=:not base64!:", "sha-256=:AAAA:", "sha-256=::"])
def test_malformed_content_digest(client: TestClient, node: Node, depositor: Account, value: str) -> None:
    draft = create_draft(client, depositor)
    response = client.put(
        f"/api/records/{draft['id']}/files/x.bin", content=b"abc", headers=depositor.headers | {"Content-Digest": value}
    )
    body = assert_problem(response, 422)
    assert "content-digest" in body["detail"].lower()
    assert stored_blobs(node) == []
    assert file_row_count(node) == 0


def test_content_digest_of_another_algorithm_is_ignored(client: TestClient, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    response = client.put(
        f"/api/records/{draft['id']}/files/x.bin",
        content=b"abc",
        headers=depositor.headers | {"Content-Digest": "md5=:kAFQmDzST7DWlj99KOF/cg==:"},
    )
    assert response.status_code == 201, response.text


# -- replace and remove --------------------------------------------------------------------------


def test_replacing_a_file_of_the_same_key(client: TestClient, node: Node, depositor: Account) -> None:
    first, second = os.urandom(3000), os.urandom(4000)
    draft = create_draft(client, depositor)
    upload(client, depositor, draft["id"], "data.bin", first)
    replaced = upload(client, depositor, draft["id"], "data.bin", second)
    assert replaced["size"] == 4000
    assert replaced["checksum"] == f"sha256:{sha256(second)}"
    items = client.get(f"/api/records/{draft['id']}/files", headers=depositor.headers).json()["items"]
    assert [(i["key"], i["checksum"]) for i in items] == [("data.bin", f"sha256:{sha256(second)}")]
    assert file_row_count(node) == 1
    publish(client, depositor, draft["id"])
    got = client.get(f"/api/records/{draft['id']}/files/data.bin")
    assert got.content == second
    assert got.headers["etag"] == f'"{sha256(second)}"'


def test_replacing_in_a_new_version_leaves_the_old_version_alone(client: TestClient, depositor: Account) -> None:
    v1 = published_record(client, depositor, {"data.bin": b"version one"})
    v2 = client.post(f"/api/records/{v1['id']}/versions", headers=depositor.headers).json()
    upload(client, depositor, v2["id"], "data.bin", b"version two")
    publish(client, depositor, v2["id"])
    assert client.get(f"/api/records/{v1['id']}/files/data.bin").content == b"version one"
    assert client.get(f"/api/records/{v2['id']}/files/data.bin").content == b"version two"
    assert client.get(f"/api/records/{v1['record_id']}/files/data.bin").content == b"version two"


def test_removing_a_file(client: TestClient, node: Node, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    upload(client, depositor, draft["id"], "keep.txt", b"keep")
    upload(client, depositor, draft["id"], "drop.txt", b"drop")
    removed = client.delete(f"/api/records/{draft['id']}/files/drop.txt", headers=depositor.headers)
    assert removed.status_code == 204, removed.text
    items = client.get(f"/api/records/{draft['id']}/files", headers=depositor.headers).json()["items"]
    assert [i["key"] for i in items] == ["keep.txt"]
    assert_problem(client.get(f"/api/records/{draft['id']}/files/drop.txt", headers=depositor.headers), 404)
    assert_problem(client.delete(f"/api/records/{draft['id']}/files/drop.txt", headers=depositor.headers), 404)
    assert file_row_count(node) == 1
    published = publish(client, depositor, draft["id"])
    assert [f["key"] for f in published["files"]] == ["keep.txt"]
    # Published files stay.
    assert_problem(client.delete(f"/api/records/{draft['id']}/files/keep.txt", headers=depositor.headers), 409)
    assert client.get(f"/api/records/{draft['id']}/files/keep.txt").content == b"keep"


def test_removing_a_carried_file_from_a_new_version(client: TestClient, depositor: Account) -> None:
    v1 = published_record(client, depositor, {"a.txt": b"a", "b.txt": b"b"})
    v2 = client.post(f"/api/records/{v1['id']}/versions", headers=depositor.headers).json()
    assert client.delete(f"/api/records/{v2['id']}/files/a.txt", headers=depositor.headers).status_code == 204
    publish(client, depositor, v2["id"])
    assert [f["key"] for f in client.get(f"/api/records/{v2['id']}").json()["files"]] == ["b.txt"]
    assert client.get(f"/api/records/{v1['id']}/files/a.txt").content == b"a"
    assert_problem(client.get(f"/api/records/{v2['id']}/files/a.txt"), 404)


@pytest.mark.parametrize(
    ("encoded", "key"),
    [
        ("%2E%2E", ".."),
        ("%2E", "."),
        ("%20lead", " lead"),
        ("trail%20", "trail "),
        ("a:b", "a:b"),
        ("a*b", "a*b"),
        ("q%22uote", 'q"uote'),
        ("tab%09here", "tab\there"),
        ("nul%00byte", "nul\x00byte"),
        ("back%5Cslash", "back\\slash"),
        ("x" * 256, "x" * 256),
    ],
)
def test_invalid_file_names_are_refused(
    client: TestClient, node: Node, depositor: Account, encoded: str, key: str
) -> None:
    draft = create_draft(client, depositor)
    response = client.put(f"/api/records/{draft['id']}/files/{encoded}", content=b"x", headers=depositor.headers)
    body = assert_problem(response, 422)
    assert any(e["path"] == "key" for e in body["errors"])
    assert stored_blobs(node) == []
    assert tmp_leftovers(node) == []
    assert file_row_count(node) == 0


@pytest.mark.parametrize("header", ["bytes=5-2", "bytes=abc", "items=0-5", "bytes=-", "bytes=0-1,x"])
@pytest.mark.parametrize("prefix", ["/api/records", "/records"])
def test_malformed_range_is_ignored(client: TestClient, sample: tuple[str, bytes], prefix: str, header: str) -> None:
    # RFC 9110 14.2: a server ignores a Range header it cannot parse and sends the whole file.
    vid, data = sample
    got = client.get(f"{prefix}/{vid}/files/sample.bin", headers={"Range": header})
    assert got.status_code == 200
    assert got.content == data
