"""Fetching a harvested record's files from its origin: which open files the origin's JSON API names
(each checked: the peer is not trusted with names or hashes), and the blobs this node lacks, fetched
by SHA-256 from the first site that has them (``fetch_blob`` resumes and verifies every byte)."""

from __future__ import annotations

import hashlib
import mimetypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from ...domain import records as rules
from ...domain.access import ANONYMOUS, crossborder_refusal
from ...domain.duo import parse_data_use
from ...domain.errors import InvalidInput, NodeError, NotFound
from ...domain.records import Access, AccessLevel, State
from ...storage.blobs import SHA256
from ..node import Node
from ..transfer import TransferFailed, fetch_blob, readable_blob


@dataclass(frozen=True)
class RemoteFile:
    key: str
    sha256: str
    size: int
    mimetype: str


def _origin_record_id(identifier: str) -> str:
    # osnode identifiers are oai:<host>:<record id>; the id is the last segment.
    return identifier.rsplit(":", 1)[-1]


MANAGED = "managed data: metadata only"


def managed_refusal(data_use: Any, jurisdiction: str, today: date) -> str:
    """Why a managed record's bytes are not copied here: the cross-border rule on its terms (GS) when it
    refuses this node's jurisdiction, else that managed bytes go to grant holders only, never by pull."""
    try:
        use = parse_data_use(data_use)
    except InvalidInput:
        return f"{MANAGED} (its data-use terms are unreadable)"
    here = jurisdiction or None
    refusal = crossborder_refusal(Access(AccessLevel.RESTRICTED, data_use=use), today, here, (here,) if here else ())
    return f"{MANAGED} ({refusal or 'its bytes go to grant holders only'})"


def remote_files(
    http: httpx.Client, site: str, identifier: str, jurisdiction: str = "", today: date | None = None
) -> tuple[list[RemoteFile] | None, str | None]:
    """The origin's open, published files of a record, or (None, why not)."""
    url = f"{site}/api/records/{_origin_record_id(identifier)}"
    response = http.get(url, headers={"Accept": "application/json"})
    if response.status_code in (404, 410):
        return None, f"the origin has no published record at {url}"
    response.raise_for_status()
    try:
        body = response.json()
    except ValueError:
        return None, f"{url} is not an osnode JSON API"
    if not isinstance(body, dict) or body.get("state") != State.PUBLISHED.value:
        return None, "the origin's record is not published"
    access = body.get("access") or {}
    if access.get("level") == AccessLevel.RESTRICTED.value and access.get("data_use"):
        return None, managed_refusal(access["data_use"], jurisdiction, today or date.today())
    if access.get("level") != AccessLevel.OPEN.value:
        return None, "the origin's files are not open"
    found = [_remote_file(item) for item in body.get("files") or []]
    if len({f.key for f in found}) != len(found):
        raise InvalidInput("the origin lists two files with the same name")
    return found, None


def _remote_file(item: Any) -> RemoteFile:
    """One file entry from a peer, checked: the peer is not trusted with names or hashes."""
    if not isinstance(item, dict):
        raise InvalidInput("the origin's file entry is not an object")
    checksum = str(item.get("checksum") or "")
    sha256 = checksum.removeprefix("sha256:")
    if not checksum.startswith("sha256:") or not SHA256.fullmatch(sha256):
        raise InvalidInput(f"the origin's file has no SHA-256 checksum ('{checksum[:80]}')")
    key = str(item.get("key") or "")
    try:
        rules.validate_file_key(key)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    size = item.get("size")
    if not isinstance(size, int) or size < 0:
        raise InvalidInput(f"the origin's file '{key}' has no valid size")
    mimetype = str(item.get("mimetype") or mimetypes.guess_type(key)[0] or "application/octet-stream")[:200]
    return RemoteFile(key, sha256, size, mimetype)


def fetch_missing(
    node: Node, http: httpx.Client, sites: list[str], wanted: list[str], attempts: int
) -> tuple[int, int, int]:
    """Fetch the blobs this node lacks, from the first site that has them; (fetched, bytes, present)."""
    fetched = fetched_bytes = present = 0
    for sha256 in dict.fromkeys(wanted):
        # One transfer per blob at a time: two records sharing bytes would share fetch_blob's temp file.
        with _blob_lock(sha256):
            if node.blobs.exists(sha256):
                _check_possession(node, http, sites[0], sha256)
                present += 1
                continue
            fetched_bytes += _fetch_from_any(node, http, sites, sha256, attempts)
            fetched += 1
    return fetched, fetched_bytes, present


def _check_possession(node: Node, http: httpx.Client, site: str, sha256: str) -> None:
    """A blob held here but in no file anyone may download (a restricted record's, say) is not
    simply linked to a peer's record that names its hash: naming a hash is not holding the bytes.
    The peer must send them, and they must hash right."""
    try:
        readable_blob(node, sha256, ANONYMOUS)
        return  # already public here: nothing to prove
    except NotFound:
        pass
    digest = hashlib.sha256()
    with http.stream("GET", f"{site}/api/blobs/{sha256}") as response:
        if response.status_code != 200:
            raise NotFound(f"the peer does not serve blob {sha256} (HTTP {response.status_code})")
        for chunk in response.iter_bytes():
            digest.update(chunk)
    if digest.hexdigest() != sha256:
        raise TransferFailed(f"{site} sent bytes that do not hash to {sha256}")


_locks: dict[str, tuple[threading.Lock, int]] = {}


_locks_guard = threading.Lock()


@contextmanager
def _blob_lock(sha256: str) -> Iterator[None]:
    """A lock per blob, kept only while someone holds or waits for it (counted)."""
    with _locks_guard:
        lock, users = _locks.get(sha256, (threading.Lock(), 0))
        _locks[sha256] = (lock, users + 1)
    try:
        with lock:
            yield
    finally:
        with _locks_guard:
            lock, users = _locks[sha256]
            if users == 1:
                del _locks[sha256]
            else:
                _locks[sha256] = (lock, users - 1)


def _fetch_from_any(node: Node, http: httpx.Client, sites: list[str], sha256: str, attempts: int) -> int:
    """Fetch one blob from the first site that has it; returns its size."""
    last: NodeError = NotFound(f"no peer offers blob {sha256}")
    for site in sites:
        try:
            return fetch_blob(node, site, sha256, attempts=attempts, http=http).size
        except NotFound as exc:
            last = exc
    raise last
