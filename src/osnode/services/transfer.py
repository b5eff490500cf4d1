"""Moving blobs between nodes by their SHA-256: what a peer may fetch here, and fetching from a peer.

Replication and fixity repair both use ``fetch_blob``: it resumes a cut transfer with HTTP Range,
keeps the bytes in the blob store's ``tmp`` until every one of them is hashed and matches the name
asked for, and only then renames them into place. A peer that dies, stalls or lies leaves nothing
visible behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from ..domain.access import Viewer
from ..domain.errors import Forbidden, InvalidInput, NodeError, NotFound
from ..storage.blobs import CHUNK, SHA256, StoredBlob
from ..storage.catalog import files
from . import access
from .node import Node
from .records import load_version

log = logging.getLogger("osnode.transfer")


class TransferFailed(NodeError):
    """A blob could not be fetched whole and intact from a peer."""

    status = 502
    title = "Bad Gateway"


def check_sha256(sha256: str) -> str:
    if not SHA256.fullmatch(sha256):
        raise InvalidInput(f"'{sha256[:80]}' is not a SHA-256 in lowercase hex (64 digits)")
    return sha256


def readable_blob(node: Node, sha256: str, viewer: Viewer) -> int:
    """The blob's stored size, if ``viewer`` may download at least one file made of it."""
    check_sha256(sha256)
    with node.engine.connect() as conn:
        version_ids = conn.execute(select(files.c.version_id).where(files.c.sha256 == sha256).distinct()).scalars()
        allowed = False
        for version_id in version_ids:
            version = load_version(conn, version_id)
            if version is not None and access.refusal(node, version, viewer, conn=conn) is None:
                allowed = True
                break
    if not allowed:
        # One answer whether the blob is unknown or only in files this viewer may not have.
        raise NotFound(f"no file you may download has the SHA-256 {sha256}")
    size = node.blobs.size(sha256)
    if size is None:
        raise NotFound(f"the bytes of {sha256} are missing from this node's store (fixity problem)")
    return size


def _tmp_path(node: Node, sha256: str) -> Path:
    # A fixed name per blob, so a retry continues where the last attempt stopped. A local folder for
    # every store: resuming needs appending, which object stores do not offer.
    return node.blobs.staging_dir / f"fetch-{sha256}"


def _download_once(http: httpx.Client, url: str, tmp: Path) -> bool:
    """One attempt: append to ``tmp`` from where it ends. True when the peer sent through to the end."""
    have = tmp.stat().st_size if tmp.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    with http.stream("GET", url, headers=headers) as response:
        if response.status_code == 416 and have:
            return True  # we already hold every byte the peer has
        if response.status_code == 404:
            raise NotFound(f"the peer does not offer this blob ({url})")
        if response.status_code == 403:
            raise Forbidden(f"the peer refuses this blob ({url})")
        if response.status_code not in (200, 206):
            raise httpx.HTTPStatusError(f"HTTP {response.status_code}", request=response.request, response=response)
        if response.status_code == 200 or not response.headers.get("content-range", "").startswith(f"bytes {have}-"):
            have = 0  # the peer ignored our range: start over
        with tmp.open("r+b" if tmp.exists() else "wb") as handle:
            handle.truncate(have)
            handle.seek(have)
            # No chunk size: every byte that arrived is kept, so a cut transfer resumes from its last byte.
            for chunk in response.iter_bytes():
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
    return True


def _hash_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def fetch_blob(
    node: Node,
    peer_base_url: str,
    sha256: str,
    *,
    attempts: int = 6,
    backoff: float = 0.2,
    timeout: float = 30.0,
    http: httpx.Client | None = None,
) -> StoredBlob:
    """Fetch blob ``sha256`` from a peer's ``/api/blobs/{sha256}`` into this node's store, verified.

    A dropped connection is retried with growing pauses, resuming with Range from the bytes already
    held; bytes that do not hash to ``sha256`` are thrown away and raise ``TransferFailed``. Callers
    fetching many blobs pass their own ``http`` client: a new connection per blob costs more than a
    small blob's transfer.
    """
    check_sha256(sha256)
    held = node.blobs.size(sha256)
    if held is not None:
        return StoredBlob(sha256, held)
    url = f"{peer_base_url.rstrip('/')}/api/blobs/{sha256}"
    tmp = _tmp_path(node, sha256)
    last_error: Exception | None = None
    with contextlib.nullcontext(http) if http else httpx.Client(timeout=timeout, follow_redirects=True) as client:
        for attempt in range(attempts):
            try:
                _download_once(client, url, tmp)
                last_error = None
                break
            except (httpx.HTTPError, OSError) as exc:
                last_error = exc
                log.info("fetching %s from %s: attempt %d failed: %s", sha256, peer_base_url, attempt + 1, exc)
                time.sleep(backoff * 2**attempt)
            except NodeError:
                tmp.unlink(missing_ok=True)
                raise
    if last_error is not None:
        raise TransferFailed(f"could not fetch {sha256} from {peer_base_url}: {last_error}")
    digest, size = _hash_file(tmp)
    if digest != sha256:
        tmp.unlink(missing_ok=True)
        raise TransferFailed(f"{peer_base_url} sent bytes that hash to {digest}, not {sha256}: discarded")
    try:
        return node.blobs.adopt_file(tmp, sha256)
    finally:
        tmp.unlink(missing_ok=True)
