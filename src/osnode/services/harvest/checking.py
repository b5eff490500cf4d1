"""Checking harvested metadata, off the writer's path: coercion to what the node can store, and
whole pages checked ahead of the writer (in a worker process for long harvests).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from osnode.domain.errors import InvalidInput
from osnode.domain.metadata import Metadata, parse_metadata
from osnode.storage import search
from osnode.storage.catalog import EncodedJSON

from .errors import RecordRefused
from .reading import Page

# Column sizes of record_sources (storage/peers.py).
MAX_DOI, MAX_URL = 500, 2000
UNAVAILABLE = "(:unav)"


def _drop(data: Any, path: str) -> bool:
    """Remove the value at ``path`` ("creators.0.orcid"); when it is missing (a required property
    the record lacks), remove the part that needed it. False when nothing could be removed."""
    parts: list[Any] = [int(p) if p.isdigit() else p for p in path.split(".")]
    while parts:
        container = data
        try:
            for part in parts[:-1]:
                container = container[part]
            last = parts[-1]
            if isinstance(container, dict) and last in container:
                del container[last]
                return True
            if isinstance(container, list) and isinstance(last, int) and last < len(container):
                del container[last]
                return True
        except (KeyError, IndexError, TypeError):
            pass
        parts = parts[:-1]
    return False


def coerce_metadata(raw: dict[str, Any], *, publisher: str, datestamp: str) -> tuple[Metadata, list[str]]:
    """Metadata the node can store, from what a peer sent: values that fail the node's checks are
    dropped (and listed), missing mandatory properties filled as DataCite recommends. A record
    without any title is refused: nobody could find or cite it."""
    data = raw
    dropped: list[str] = []
    for _ in range(100):
        try:
            meta = parse_metadata(data)
            break
        except InvalidInput as exc:
            if data is raw:  # copied only when something must go: most records pass as they are
                data = copy.deepcopy(raw)
            error = exc.errors[0] if exc.errors else None
            if error is None or not _drop(data, error.path):
                raise RecordRefused(f"metadata cannot be read: {exc.detail}") from None
            dropped.append(f"{error.path}: {error.message}")
    else:
        raise RecordRefused("metadata has too many invalid values")
    if not meta.titles:
        raise RecordRefused("the record has no title")
    filled: dict[str, Any] = {}
    if not meta.creators:
        filled["creators"] = [{"name": UNAVAILABLE}]
    if meta.publisher is None:
        filled["publisher"] = {"name": publisher}
    if meta.publicationYear is None and datestamp[:4].isdigit():
        filled["publicationYear"] = int(datestamp[:4])
    if meta.resourceType is None:
        filled["resourceType"] = {"resourceTypeGeneral": "Other"}
    if filled:
        meta = parse_metadata(meta.to_json() | filled)
    return meta, dropped


def _landing_url(meta: Metadata) -> str | None:
    for alternate in meta.alternateIdentifiers:
        if alternate.alternateIdentifierType.upper() == "URL":
            return alternate.alternateIdentifier
    return f"https://doi.org/{meta.doi}" if meta.doi else None


# -- checking a page (off the writer's path) ----------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """A harvested record's metadata as the node will store it, with what the writer needs of it."""

    metadata: EncodedJSON
    """Encoded where it was checked: a worker process hands back one string, not a tree of objects."""
    dropped: list[str]
    doi: str | None
    url: str | None
    document: search.Document


@dataclass
class CheckedPage:
    page: Page
    """The page, its records' metadata dropped (what the writer needs of it is in ``checked``)."""
    checked: dict[str, Checked | str]
    """Per identifier of a record that is not deleted: its checked metadata, or why it was refused."""
    echoes: set[str]
    """Identifiers of records whose metadata points at this node: its own, coming back."""


def _points_at(metadata: dict[str, Any] | None, own_url: str) -> bool:
    meta = metadata or {}
    urls = [a.get("alternateIdentifier", "") for a in meta.get("alternateIdentifiers", []) if isinstance(a, dict)]
    urls += [r.get("relatedIdentifier", "") for r in meta.get("relatedIdentifiers", []) if isinstance(r, dict)]
    return any(isinstance(u, str) and u.startswith(own_url) for u in urls)


def check_page(page: Page, publisher: str, own_url: str) -> CheckedPage:
    """Validate every record of a page: the costliest part of storing a record that does not need
    the catalog, so it runs ahead of the writer (in a worker process for long harvests)."""
    checked: dict[str, Checked | str] = {}
    echoes = set()
    for record in page.records:
        if _points_at(record.metadata, own_url):
            echoes.add(record.identifier)
        if record.deleted or record.identifier in checked:
            continue
        try:
            meta, dropped = coerce_metadata(record.metadata or {}, publisher=publisher, datestamp=record.datestamp)
        except RecordRefused as exc:
            checked[record.identifier] = str(exc)
            continue
        url = record.landing or _landing_url(meta)
        checked[record.identifier] = Checked(
            EncodedJSON(orjson.dumps(meta.to_json()).decode()),
            dropped,
            _doi_column(meta),
            url if url and len(url) <= MAX_URL else None,
            search.document_of(meta),
        )
    for record in page.records:
        record.metadata = None
    return CheckedPage(page, checked, echoes)


def read_and_check(read: Callable[[bytes], Page], raw: bytes, publisher: str, own_url: str) -> CheckedPage:
    return check_page(read(raw), publisher, own_url)


def _doi_column(meta: Metadata) -> str | None:
    # Over-long values still live in the metadata; only the lookup columns leave them out.
    return meta.doi.lower() if meta.doi and len(meta.doi) <= MAX_DOI else None
