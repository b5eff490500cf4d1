"""The official schemas (and vocabularies) the conformance tests check the node's output against.

They are published by others, so they are never copied into this repository. ``root()`` finds them, in order:

1. ``$OSNODE_SCHEMAS``, a folder laid out like ``../shared/schemas`` (it must exist when set);
2. ``../shared/schemas`` beside the checkout (the project's shared folder, when there is one);
3. otherwise a cache (``$XDG_CACHE_HOME/osnode/schemas``, by default ``~/.cache/osnode/schemas``) filled once from
   the official URLs, or from ``$OSNODE_SCHEMAS_BASE_URL`` (a mirror laid out like ``../shared/schemas``). Every
   downloaded file must match the SHA-256 pinned below, or it is refused with ``SchemaUnavailable``: a test that
   needs a schema fails, it never skips.

The pins are the files as the tests read them: in ``oai_dc.xsd`` and ``simpledc20021212.xsd`` the imports of
the official copies point at other hosts, and are rewritten to the neighbouring files (``LOCALISE``) before the
check, so that the schemas are parsed with no network access.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx
from lxml import etree

REPO = Path(__file__).resolve().parents[1]

# Path (relative to the schemas folder) -> SHA-256 of the file the tests read. The list is in ``sha256sum``
# format, so a folder can be checked by hand: ``cd ../shared/schemas && sha256sum -c PATH/TO/tests/schemas.sha256``.
PIN_LIST = Path(__file__).with_name("schemas.sha256")
PINS: dict[str, str] = {name: digest for digest, name in map(str.split, PIN_LIST.read_text().splitlines())}

# Where each file is published: the longest matching path prefix gives the official URL prefix.
ORIGINS: dict[str, str] = {
    "oai-pmh/OAI-PMH.xsd": "https://www.openarchives.org/OAI/2.0/OAI-PMH.xsd",
    "oai-pmh/oai_dc.xsd": "https://www.openarchives.org/OAI/2.0/oai_dc.xsd",
    "oai-pmh/simpledc20021212.xsd": "https://www.dublincore.org/schemas/xmls/simpledc20021212.xsd",
    "oai-pmh/xml.xsd": "https://www.w3.org/2001/xml.xsd",
    "datacite/": "https://schema.datacite.org/meta/",
    "dcat-ap/3.0.1/": "https://semiceu.github.io/DCAT-AP/releases/3.0.1/shacl/",
    "../vocabularies/duo.csv": "https://raw.githubusercontent.com/EBISPOT/DUO/master/duo.csv",
}

# Rewrites of the official copies before the check. Two import their neighbours from other hosts, and the tests
# read them offline; DUO's list is published with CRLF line ends (a public index of EBISPOT/DUO holds it 26 bytes
# longer than the shared copy, one per line), which are not content.
LOCALISE: dict[str, tuple[bytes, bytes]] = {
    "../vocabularies/duo.csv": (b"\r\n", b"\n"),
    "oai-pmh/oai_dc.xsd": (
        b'schemaLocation="http://dublincore.org/schemas/xmls/simpledc20021212.xsd"',
        b'schemaLocation="simpledc20021212.xsd"',
    ),
    "oai-pmh/simpledc20021212.xsd": (
        b'schemaLocation="http://www.w3.org/2001/03/xml.xsd"',
        b'schemaLocation="xml.xsd"',
    ),
}

TIMEOUT = httpx.Timeout(30.0)
MAX_BYTES = 2_000_000  # the largest pinned file is ~100 KB; a mirror answering more is wrong


class SchemaUnavailable(RuntimeError):
    """An official schema could not be found, fetched or trusted."""


@dataclass(frozen=True)
class Sources:
    """Where to look, in order, and where to fetch from: read from the environment by ``from_environment``."""

    explicit: Path | None
    shared: Path
    cache: Path
    base_url: str | None

    @classmethod
    def from_environment(cls) -> Sources:
        explicit = os.environ.get("OSNODE_SCHEMAS")
        cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return cls(
            explicit=Path(explicit) if explicit else None,
            shared=REPO.parent / "shared" / "schemas",
            cache=Path(cache_home) / "osnode" / "schemas",
            base_url=os.environ.get("OSNODE_SCHEMAS_BASE_URL") or None,
        )


def official_url(relative: str) -> str:
    prefix = max((p for p in ORIGINS if relative.startswith(p)), key=len, default=None)
    if prefix is None:
        raise SchemaUnavailable(f"no official URL known for {relative}")
    return ORIGINS[prefix] + relative[len(prefix) :]


def source_url(relative: str, base_url: str | None) -> str:
    if base_url is None:
        return official_url(relative)
    # urljoin resolves "../vocabularies/duo.csv" against the mirror's schemas folder, as on disk.
    return urljoin(base_url.rstrip("/") + "/", relative)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def locate(sources: Sources) -> Path:
    """The folder holding every schema: a local one if there is one, else the verified cache."""
    if sources.explicit is not None:
        if not sources.explicit.is_dir():
            raise SchemaUnavailable(f"OSNODE_SCHEMAS={sources.explicit} is not a folder")
        return sources.explicit
    if sources.shared.is_dir():
        return sources.shared
    fill_cache(sources.cache, sources.base_url)
    return sources.cache


def fill_cache(cache: Path, base_url: str | None) -> None:
    """Download every pinned file that the cache lacks or holds with the wrong bytes; refuse any mismatch."""
    with httpx.Client(timeout=TIMEOUT, follow_redirects=True, headers={"User-Agent": "osnode-tests"}) as client:
        for relative, pin in PINS.items():
            target = (cache / relative).resolve()  # "../vocabularies/duo.csv" sits beside the cache
            if target.is_file() and sha256(target.read_bytes()) == pin:
                continue
            data = fetch(client, relative, source_url(relative, base_url))
            if (got := sha256(data)) != pin:
                raise SchemaUnavailable(
                    f"{relative} from {source_url(relative, base_url)} has SHA-256 {got}, not the pinned {pin}: "
                    "refused (a changed or corrupted copy; set OSNODE_SCHEMAS to a trusted folder)"
                )
            write_atomically(target, data)


def fetch(client: httpx.Client, relative: str, url: str) -> bytes:
    try:
        with client.stream("GET", url) as response:
            response.raise_for_status()
            data = b""
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_BYTES:
                    raise SchemaUnavailable(f"{relative} from {url} is larger than {MAX_BYTES} bytes: refused")
    except httpx.HTTPError as exc:
        raise SchemaUnavailable(
            f"cannot download {relative} from {url} ({exc}); set OSNODE_SCHEMAS to a folder holding the "
            "official schemas, or OSNODE_SCHEMAS_BASE_URL to a mirror"
        ) from exc
    if relative in LOCALISE:
        official, local = LOCALISE[relative]
        data = data.replace(official, local)
    return data


def write_atomically(target: Path, data: bytes) -> None:
    # Test workers may fill the same cache at once: each writes a whole file and renames it into place.
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", delete=False) as handle:
        handle.write(data)
    os.replace(handle.name, target)


_found: Path | SchemaUnavailable | None = None


def root() -> Path:
    """The schemas folder for this test session (found, or fetched and verified, once)."""
    global _found
    if _found is None:
        try:
            _found = locate(Sources.from_environment())
        except SchemaUnavailable as exc:
            _found = exc  # every test that needs a schema fails with this, without asking the network again
    if isinstance(_found, SchemaUnavailable):
        raise SchemaUnavailable(str(_found))
    return _found


def path(relative: str) -> Path:
    """One official file, e.g. ``path("datacite/kernel-4.7/metadata.xsd")``; a missing one is an error."""
    found = root() / relative
    if not found.is_file():
        raise SchemaUnavailable(f"official file missing: {found} (set OSNODE_SCHEMAS to a complete schemas folder)")
    return found


def safe_parser() -> etree.XMLParser:
    # As everywhere in the node: no network, no entity expansion, no DTD.
    return etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)


def load_schema(relative: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(path(relative)), safe_parser()))
