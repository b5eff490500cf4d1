"""Gzip on the wire for pages, JSON, XML and feeds; users' files go out byte for byte, Range and ETag intact."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from osnode.web.compression import MINIMUM_SIZE, TextCompression, accepts_gzip
from tests.conftest import Account, minimal_metadata
from tests.web.conftest import published_record, sha256

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}
# A CSV that gzip would shrink a lot: the file routes must still send it as it is.
CSV = b"".join(b"%d,%d,rainfall at Luanda\n" % (i, i * i) for i in range(400))
JSON_FILE = json.dumps([{"station": "Luanda", "mm": i} for i in range(300)]).encode()


def raw_get(client: TestClient, url: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    """A response and its bytes exactly as they came over the wire (not decoded)."""
    with client.stream("GET", url, headers=headers) as response:
        return response, b"".join(response.iter_raw())


def vary(response: httpx.Response) -> list[str]:
    return [v.strip().lower() for v in response.headers.get("vary", "").split(",") if v.strip()]


@pytest.fixture
def record(client: TestClient, depositor: Account) -> dict[str, object]:
    description = "Daily rainfall measured at the Luanda station. " * 20
    meta = minimal_metadata(descriptions=[{"description": description, "descriptionType": "Abstract"}])
    return published_record(client, depositor, files_={"data.csv": CSV, "data.json": JSON_FILE}, metadata=meta)


def text_urls(record: dict[str, object]) -> list[str]:
    vid = record["id"]
    return [
        "/",
        f"/records/{vid}",
        "/search?q=rainfall",
        "/api/search?q=rainfall",
        f"/api/records/{vid}",
        f"/records/{vid}/linkset",
        f"/records/{vid}/export/datacite-xml",
        f"/records/{vid}/export/bibtex",
        "/feed.atom",
        "/sitemap.xml",
        "/api/openapi.json",
        "/oai?verb=Identify",
    ]


def test_text_responses_are_gzipped(client: TestClient, record: dict[str, object]) -> None:
    for url in text_urls(record):
        plain, plain_bytes = raw_get(client, url, IDENTITY)
        assert plain.status_code == 200, (url, plain_bytes[:200])
        if len(plain_bytes) < MINIMUM_SIZE:
            continue
        packed, packed_bytes = raw_get(client, url, GZIP)
        assert packed.status_code == 200, url
        assert packed.headers["content-encoding"] == "gzip", url
        assert int(packed.headers["content-length"]) == len(packed_bytes), url
        assert gzip.decompress(packed_bytes) == plain_bytes, url
        assert len(packed_bytes) < len(plain_bytes), url
        # Both answers say they depend on Accept-Encoding, and the identity one is not encoded.
        assert "accept-encoding" in vary(packed) and "accept-encoding" in vary(plain), url
        assert "content-encoding" not in plain.headers, url
        assert plain.headers["content-type"] == packed.headers["content-type"], url


def test_existing_vary_is_kept(client: TestClient, record: dict[str, object]) -> None:
    packed, _ = raw_get(client, f"/records/{record['id']}", GZIP)
    assert packed.headers["content-encoding"] == "gzip"
    assert {"accept", "accept-encoding"} <= set(vary(packed))
    assert len(vary(packed)) == len(set(vary(packed)))


def test_refused_gzip_is_not_sent(client: TestClient, record: dict[str, object]) -> None:
    for header in ("gzip;q=0", "br", "deflate, identity", ""):
        response, body = raw_get(client, f"/records/{record['id']}", {"Accept-Encoding": header})
        assert "content-encoding" not in response.headers, header
        assert body.startswith(b"<!doctype html>"), header


def test_small_responses_are_left_alone(client: TestClient) -> None:
    response, body = raw_get(client, "/healthz", GZIP)
    assert json.loads(body) == {"status": "ok"}
    assert "content-encoding" not in response.headers
    assert "accept-encoding" not in vary(response)


@pytest.mark.parametrize("prefix", ["/records", "/api/records"])
@pytest.mark.parametrize(("key", "data"), [("data.csv", CSV), ("data.json", JSON_FILE)])
def test_file_downloads_are_never_compressed(
    client: TestClient, record: dict[str, object], prefix: str, key: str, data: bytes
) -> None:
    url = f"{prefix}/{record['id']}/files/{key}"
    etag = f'"{sha256(data)}"'
    whole, body = raw_get(client, url, GZIP)
    assert whole.status_code == 200
    assert body == data
    assert "content-encoding" not in whole.headers
    assert whole.headers["content-length"] == str(len(data))
    assert whole.headers["etag"] == etag
    assert whole.headers["accept-ranges"] == "bytes"

    part, body = raw_get(client, url, GZIP | {"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert body == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    assert part.headers["content-length"] == "100"
    assert part.headers["etag"] == etag
    assert "content-encoding" not in part.headers

    cached = client.get(url, headers=GZIP | {"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.headers["etag"] == etag

    head = client.head(url, headers=GZIP)
    assert head.headers["content-length"] == str(len(data))
    assert "content-encoding" not in head.headers


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("gzip, deflate, br, zstd", True),
        ("br;q=1.0, GZIP;q=0.5", True),
        ("*", True),
        ("x-gzip", True),
        ("gzip;q=0", False),
        ("gzip;q=0.0, br", False),
        ("deflate, br", False),
        ("identity", False),
        ("", False),
        ("gzip;q=nonsense", False),
        ("gzip;level=1", True),
        ("*;q=0, gzip", True),
        ("gzip;q=0, *", False),
        ("br, *;q=0.1", True),
        ("br, *;q=0", False),
    ],
)
def test_accept_encoding_parsing(header: str, expected: bool) -> None:
    assert accepts_gzip(header) is expected


# -- the middleware on its own, with response shapes the node's routes may grow into --------------

BIG_HTML = "<!doctype html><p>" + "Rainfall at Luanda. " * 200


async def _page(request: Request) -> Response:
    return Response(BIG_HTML, media_type="text/html", headers={"ETag": '"v1"'})


async def _stream(request: Request) -> StreamingResponse:
    async def lines() -> AsyncIterator[bytes]:
        for i in range(200):
            yield b"<record>%d</record>\n" % i

    return StreamingResponse(lines(), media_type="application/xml")


async def _octets(request: Request) -> Response:
    return Response(b"\0" * 5000, media_type="application/octet-stream")


async def _ranged(request: Request) -> Response:
    return Response("x" * 5000, media_type="text/plain", headers={"Accept-Ranges": "bytes"})


async def _encoded(request: Request) -> Response:
    return Response(gzip.compress(b"already"), media_type="text/plain", headers={"Content-Encoding": "gzip"})


@pytest.fixture
def bare() -> Iterator[TestClient]:
    routes = [
        Route("/page", _page),
        Route("/stream", _stream),
        Route("/octets", _octets),
        Route("/ranged", _ranged),
        Route("/encoded", _encoded),
        Route("/files/page", _page),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(TextCompression)
    with TestClient(app) as test_client:
        yield test_client


def test_streamed_text_is_gzipped_without_a_length(bare: TestClient) -> None:
    response, body = raw_get(bare, "/stream", GZIP)
    assert response.headers["content-encoding"] == "gzip"
    assert "content-length" not in response.headers
    assert gzip.decompress(body) == b"".join(b"<record>%d</record>\n" % i for i in range(200))


def test_compressed_page_gets_a_weak_etag(bare: TestClient) -> None:
    packed, body = raw_get(bare, "/page", GZIP)
    assert gzip.decompress(body).decode() == BIG_HTML
    assert packed.headers["etag"] == 'W/"v1"'
    plain, body = raw_get(bare, "/page", IDENTITY)
    assert plain.headers["etag"] == '"v1"'
    assert body.decode() == BIG_HTML


@pytest.mark.parametrize("url", ["/octets", "/ranged", "/encoded", "/files/page"])
def test_binary_ranged_encoded_and_file_paths_pass_through(bare: TestClient, url: str) -> None:
    direct, body = raw_get(bare, url, IDENTITY)
    packed, packed_body = raw_get(bare, url, GZIP)
    assert packed_body == body
    assert packed.headers.get("content-encoding") == direct.headers.get("content-encoding")
    assert "accept-encoding" not in vary(packed)
