"""On a machine with no ``../shared`` folder, the official schemas are fetched once, checked, and cached.

A local HTTP server plays the official sites (or a mirror, ``$OSNODE_SCHEMAS_BASE_URL``), serving the same
files the rest of the suite reads; the cache is a temporary folder, so nothing here touches ``~/.cache``.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests import schemas
from tests.schemas import LOCALISE, PINS, SchemaUnavailable, Sources, locate

DATACITE = "datacite/kernel-4.7/metadata.xsd"


@dataclass
class Mirror:
    """A folder served over HTTP, laid out like ``../shared`` (``schemas/``, ``vocabularies/``)."""

    folder: Path
    base_url: str
    requests: list[str] = field(default_factory=list)

    def file(self, relative: str) -> Path:
        return (self.folder / "schemas" / relative).resolve()


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[Mirror]:
    folder = tmp_path / "mirror"
    for relative in PINS:
        target = (folder / "schemas" / relative).resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(schemas.path(relative), target)  # the files this suite reads, wherever they came from
    requests: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            requests.append(self.path)
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # keep the test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Mirror(folder, f"http://127.0.0.1:{server.server_port}/schemas", requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def fresh_clone(tmp_path: Path, mirror: Mirror) -> Sources:
    """A checkout with no ``../shared`` beside it and no ``$OSNODE_SCHEMAS``, with an empty cache."""
    return Sources(
        explicit=None, shared=tmp_path / "no-shared" / "schemas", cache=tmp_path / "cache", base_url=mirror.base_url
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_fresh_clone_fetches_every_file_once_and_validates_with_it(tmp_path: Path, mirror: Mirror) -> None:
    sources = fresh_clone(tmp_path, mirror)
    assert locate(sources) == sources.cache
    assert len(mirror.requests) == len(PINS)
    for relative, pin in PINS.items():
        assert digest((sources.cache / relative).resolve()) == pin, relative
    assert (tmp_path / "cache" / ".." / "vocabularies" / "duo.csv").resolve().is_file()

    # The cached schemas work offline: their imports resolve to neighbouring cached files.
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    datacite = etree.XMLSchema(etree.parse(str(sources.cache / DATACITE), parser))
    example = sources.cache / "datacite/kernel-4.7/example/datacite-example-full-v4.xml"
    assert datacite.validate(etree.parse(str(example), parser))
    etree.XMLSchema(etree.parse(str(sources.cache / "oai-pmh/oai_dc.xsd"), parser))

    # A second session reads the verified cache and asks the network for nothing.
    assert locate(sources) == sources.cache
    assert len(mirror.requests) == len(PINS)


def test_a_corrupted_download_is_refused_with_a_clear_error_and_never_cached(tmp_path: Path, mirror: Mirror) -> None:
    served = mirror.file(DATACITE)
    served.write_bytes(served.read_bytes().replace(b"</xs:schema>", b"<!-- changed --></xs:schema>"))
    sources = fresh_clone(tmp_path, mirror)

    with pytest.raises(SchemaUnavailable) as refused:
        locate(sources)

    message = str(refused.value)
    assert f"{DATACITE} from {mirror.base_url}/{DATACITE} has SHA-256 {digest(served)}" in message
    assert f"not the pinned {PINS[DATACITE]}: refused" in message
    assert not (sources.cache / DATACITE).exists()


def test_a_corrupted_cache_file_is_replaced_by_a_verified_download(tmp_path: Path, mirror: Mirror) -> None:
    sources = fresh_clone(tmp_path, mirror)
    locate(sources)
    cached = sources.cache / "oai-pmh/OAI-PMH.xsd"
    cached.write_bytes(b"<not-a-schema/>")
    before = len(mirror.requests)

    locate(sources)

    assert mirror.requests[before:] == ["/schemas/oai-pmh/OAI-PMH.xsd"]
    assert digest(cached) == PINS["oai-pmh/OAI-PMH.xsd"]


def test_the_official_copies_are_rewritten_to_what_the_tests_read_then_checked(tmp_path: Path, mirror: Mirror) -> None:
    # What www.openarchives.org, dublincore.org and EBISPOT publish: imports by absolute URL, CRLF line ends.
    for relative, (official, local) in LOCALISE.items():
        served = mirror.file(relative)
        data = served.read_bytes()
        assert local in data
        served.write_bytes(data.replace(local, official))
    sources = fresh_clone(tmp_path, mirror)

    locate(sources)

    for relative, (official, local) in LOCALISE.items():
        cached = (sources.cache / relative).read_bytes()
        assert local in cached and official not in cached
        assert digest(sources.cache / relative) == PINS[relative]


def test_a_file_missing_on_the_mirror_is_a_clear_error(tmp_path: Path, mirror: Mirror) -> None:
    mirror.file("oai-pmh/oai_dc.xsd").unlink()

    with pytest.raises(SchemaUnavailable, match=r"cannot download oai-pmh/oai_dc.xsd from http://127\.0\.0\.1:\d+/"):
        locate(fresh_clone(tmp_path, mirror))


def test_an_oversized_answer_is_refused(tmp_path: Path, mirror: Mirror) -> None:
    mirror.file("oai-pmh/xml.xsd").write_bytes(b" " * (schemas.MAX_BYTES + 1))

    with pytest.raises(SchemaUnavailable, match=r"oai-pmh/xml.xsd from .* is larger than 2000000 bytes: refused"):
        locate(fresh_clone(tmp_path, mirror))


def test_local_folders_come_first_and_need_no_network(tmp_path: Path, mirror: Mirror) -> None:
    explicit, shared = tmp_path / "explicit", tmp_path / "shared" / "schemas"
    explicit.mkdir()
    shared.mkdir(parents=True)
    sources = Sources(explicit=explicit, shared=shared, cache=tmp_path / "cache", base_url=mirror.base_url)

    assert locate(sources) == explicit
    assert locate(Sources(None, shared, tmp_path / "cache", mirror.base_url)) == shared
    assert mirror.requests == []
    assert not (tmp_path / "cache").exists()

    with pytest.raises(SchemaUnavailable, match=r"OSNODE_SCHEMAS=.*missing is not a folder"):
        locate(Sources(tmp_path / "missing", shared, tmp_path / "cache", mirror.base_url))


def test_the_sources_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OSNODE_SCHEMAS", str(tmp_path / "mine"))
    monkeypatch.setenv("OSNODE_SCHEMAS_BASE_URL", "https://mirror.example.org/schemas/")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    sources = Sources.from_environment()
    assert sources.explicit == tmp_path / "mine"
    assert sources.base_url == "https://mirror.example.org/schemas/"
    assert sources.cache == tmp_path / "xdg" / "osnode" / "schemas"
    assert sources.shared == Path(schemas.__file__).resolve().parents[2] / "shared" / "schemas"

    for name in ("OSNODE_SCHEMAS", "OSNODE_SCHEMAS_BASE_URL", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    sources = Sources.from_environment()
    assert (sources.explicit, sources.base_url) == (None, None)
    assert sources.cache == tmp_path / "home" / ".cache" / "osnode" / "schemas"


def test_every_pinned_file_has_an_official_https_url() -> None:
    urls = {relative: schemas.official_url(relative) for relative in PINS}
    assert all(url.startswith("https://") for url in urls.values())
    assert urls["oai-pmh/OAI-PMH.xsd"] == "https://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
    assert urls[DATACITE] == "https://schema.datacite.org/meta/kernel-4.7/metadata.xsd"
    assert urls["datacite/kernel-4.6/include/xml.xsd"] == "https://schema.datacite.org/meta/kernel-4.6/include/xml.xsd"
    assert urls["../vocabularies/duo.csv"] == "https://raw.githubusercontent.com/EBISPOT/DUO/master/duo.csv"
    # A mirror is laid out like ../shared: the vocabulary sits beside the schemas folder.
    mirror = "http://127.0.0.1:8000/shared/schemas"
    assert schemas.source_url("../vocabularies/duo.csv", mirror) == "http://127.0.0.1:8000/shared/vocabularies/duo.csv"
    assert schemas.source_url(DATACITE, mirror + "/") == f"{mirror}/{DATACITE}"
    with pytest.raises(SchemaUnavailable, match="no official URL known for other/thing.xsd"):
        schemas.official_url("other/thing.xsd")


def test_a_session_remembers_a_failure_instead_of_asking_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schemas, "_found", None)  # a new session; restored afterwards
    monkeypatch.setenv("OSNODE_SCHEMAS", str(tmp_path / "missing"))
    with pytest.raises(SchemaUnavailable, match="is not a folder"):
        schemas.root()

    # Each later test fails with the same line at once (no new download attempt per test).
    monkeypatch.setenv("OSNODE_SCHEMAS", str(schemas.Sources.from_environment().shared))
    with pytest.raises(SchemaUnavailable, match="missing is not a folder"):
        schemas.path(DATACITE)
