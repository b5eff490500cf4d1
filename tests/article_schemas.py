"""The official JATS 1.3 and Crossref 5.5.0 schemas, as the package ``commonmeta-py`` ships them.

``commonmeta-py`` cannot be a dev dependency of the project: it pins ``bibtexparser<2`` and the citation tests
read BibTeX with ``bibtexparser>=2``. So its schemas are taken from an isolated environment that ``uv`` (the
project's own package client) builds once, and copied into a cache; every file the tests read must match the
SHA-256 pinned below, or it is refused with ``SchemaUnavailable`` (a test that needs a schema fails, never skips).

Where they are looked for, in order:

1. ``$OSNODE_COMMONMETA``: a folder laid out like ``commonmeta/resources/crossref`` (it must exist when set);
2. the cache, ``$XDG_CACHE_HOME/osnode/commonmeta-py-<version>`` (by default under ``~/.cache``);
3. ``uv run --isolated --no-project --with commonmeta-py==<version>``, whose folder is copied into the cache.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import xmlschema
from lxml import etree

from osnode.formats import jats as jats_format
from tests.schemas import REPO, SchemaUnavailable, safe_parser, sha256

VERSION = "0.312"
JATS = "JATS-journalpublishing1-3d2-mathml3.xsd"
CROSSREF = "crossref5.5.0.xsd"
PINS = {
    JATS: "8283b67249b5d9f176fa4185642fc569305d8b804add8091c1bfc44aeafc75f6",
    CROSSREF: "e5c82943dfde814e420e083465eda0a34bf121e02ac5e6c7273f7ec5e58d1aa4",
}
_LOCATE = "import commonmeta, os; print(os.path.join(os.path.dirname(commonmeta.__file__), 'resources', 'crossref'))"


def _cache() -> Path:
    home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(home) / "osnode" / f"commonmeta-py-{VERSION}"


def _verified(folder: Path) -> bool:
    return all((folder / name).is_file() and sha256((folder / name).read_bytes()) == pin for name, pin in PINS.items())


def _fill(cache: Path) -> None:
    # ``uv run`` names itself in $UV; `make test` may use the copy it installed in .tools/.
    candidates = [os.environ.get("UV"), shutil.which("uv"), str(REPO / ".tools" / "bin" / "uv")]
    uv = next((c for c in candidates if c and Path(c).is_file()), None)
    if uv is None:
        raise SchemaUnavailable("uv is not on PATH: set OSNODE_COMMONMETA to commonmeta-py's resources/crossref")
    spec = f"commonmeta-py=={VERSION}"
    run = [uv, "run", "--isolated", "--no-project", "--with", spec, "python", "-c", _LOCATE]
    try:
        found = subprocess.run(run, capture_output=True, text=True, check=True, timeout=600).stdout.strip()
    except (subprocess.SubprocessError, OSError) as exc:
        raise SchemaUnavailable(f"cannot install {spec} in an isolated environment ({exc})") from exc
    cache.parent.mkdir(parents=True, exist_ok=True)
    # Test workers may fill the cache at once: each copies a whole folder and renames it into place.
    staging = Path(tempfile.mkdtemp(dir=cache.parent, prefix=f".{cache.name}."))
    shutil.copytree(found, staging, dirs_exist_ok=True)
    if not _verified(staging):
        shutil.rmtree(staging, ignore_errors=True)
        raise SchemaUnavailable(f"{spec} ships schemas that differ from the pinned SHA-256: refused")
    try:
        staging.rename(cache)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another worker got there first


@functools.cache
def folder() -> Path:
    explicit = os.environ.get("OSNODE_COMMONMETA")
    if explicit:
        found = Path(explicit)
        if not _verified(found):
            raise SchemaUnavailable(f"OSNODE_COMMONMETA={found} lacks the pinned JATS and Crossref schemas")
        return found
    cache = _cache()
    if not _verified(cache):
        _fill(cache)
    if not _verified(cache):
        raise SchemaUnavailable(f"{cache} does not hold the pinned JATS and Crossref schemas")
    return cache


@functools.cache
def jats() -> etree.XMLSchema:
    """JATS 1.3 journal publishing with MathML 3 (XSD 1.0: lxml validates it)."""
    return etree.XMLSchema(etree.parse(str(folder() / JATS), safe_parser()))


@functools.cache
def crossref() -> xmlschema.XMLSchema11:
    """Crossref deposit 5.5.0, an XSD 1.1 schema (assertions): only ``xmlschema`` validates it."""
    # Two imports point at the W3C's site; the same files ship beside the schema, and nothing is fetched.
    here = folder()
    local = {
        "http://www.w3.org/1998/Math/MathML": str(here / "standard-modules" / "mathml3" / "mathml3.xsd"),
        "http://www.w3.org/XML/1998/namespace": str(here / "xml.xsd"),
    }
    return xmlschema.XMLSchema11(str(here / CROSSREF), locations=local, allow="local", defuse="always")


def assert_jats(document: bytes | etree._Element) -> etree._Element:
    """Validate a JATS article (no namespace, as JATS is written) and return it as parsed.

    The schema as Crossref and commonmeta-py ship it declares the JATS elements in the NCBI namespace
    (``jats.JATS_NAMESPACE``), so a copy of the article is moved there for the check; an article already in it
    (an OAI-PMH dissemination) is checked as it is."""
    root = etree.fromstring(document, safe_parser()) if isinstance(document, bytes) else document
    checked = root if root.tag.startswith("{") else jats_format.in_namespace(root)
    schema = jats()
    assert schema.validate(checked), schema.error_log
    return root


def assert_crossref(document: bytes) -> None:
    root = etree.fromstring(document, safe_parser())
    errors = [str(e) for e in crossref().iter_errors(root)]
    assert not errors, errors[:3]
