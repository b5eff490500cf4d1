"""A bulk metadata dump: every record of this node as gzip-compressed JSON Lines.

For aggregators that would rather download one file than page through a million OAI-PMH records.
One line per record, in the order records last changed (oldest first):

- a published record is what ``GET /api/records/{id}`` gives (its latest published version:
  DataCite JSON metadata, access, files, links), plus ``"updated"``;
- a record whose every version was withdrawn is ``{"id": ..., "deleted": true, "updated": ...}``.

Every line also carries the record's ``oai_identifier`` and OAI ``datestamp``, so a harvester that
reads the dump and later asks OAI-PMH for what changed sees the same records.

``since`` gives a delta: the records that changed at or after that moment, deletions included; a
client keeps the largest ``updated`` it saw as its next ``since``. ``after`` resumes a download that
was cut: ``updated,id`` of the last line received (the order is ``updated`` then ``id``, so nothing
is skipped or repeated). Like OAI-PMH, only this node's
own records are in it (no echo of harvested ones). Records are read in keyset-paginated batches
and compressed as they go, so memory stays flat whatever the size of the node.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import datetime

import orjson

from ..domain.access import ANONYMOUS
from ..domain.errors import FieldError, InvalidInput
from ..domain.moments import as_utc
from . import oai
from .node import Node
from .records import version_json

BATCH = 1000
LEVEL = 6


def parse_since(text: str | None) -> datetime | None:
    """An ISO 8601 date or date-time; without a zone it is UTC."""
    if text is None or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            "since must be an ISO 8601 date or date-time", [FieldError("since", f"not a date: {text[:100]!r}")]
        ) from None
    return as_utc(moment)


def parse_after(text: str | None) -> tuple[datetime, str] | None:
    """``updated,id`` of a line of the dump: where to go on from."""
    if text is None or not text.strip():
        return None
    moment, _, record_id = text.strip().partition(",")
    try:
        when = parse_since(moment) if moment else None
    except InvalidInput:
        when = None
    if when is None or not record_id or len(record_id) > 100:
        raise InvalidInput(
            "after is the updated,id of the last line received", [FieldError("after", f"not that: {text[:100]!r}")]
        )
    return when, record_id


def lines(
    node: Node, since: datetime | None = None, *, after: tuple[datetime, str] | None = None, batch: int = BATCH
) -> Iterator[bytes]:
    """One JSON line (bytes, newline included) per record, batch by batch."""
    window = oai.Window(start=since)
    while True:
        items = oai.list_items(node, window, after=after, limit=batch, with_metadata=True)
        for item in items:
            yield _line(node, item)
        if len(items) < batch:
            return
        after = (items[-1].datestamp, items[-1].record_id)


def _line(node: Node, item: oai.Item) -> bytes:
    stamps = {
        "updated": item.datestamp.isoformat(),
        "datestamp": oai.datestamp(item.datestamp),
        "oai_identifier": oai.identifier(node, item.record_id),
    }
    if item.deleted or item.version is None:
        body = {"id": item.record_id, "deleted": True, **stamps}
    else:
        # The dump is public: files are described as an anonymous reader sees them.
        body = version_json(node, item.version, item.version.id, viewer=ANONYMOUS) | stamps
        body["id"] = item.record_id  # the record's (concept) id; the version's is in version_id
        body["version_id"] = item.version.id
    return orjson.dumps(body) + b"\n"


def gzip_stream(chunks: Iterator[bytes], *, level: int = LEVEL, flush_bytes: int = 256 * 1024) -> Iterator[bytes]:
    """``chunks`` as one gzip member, handed on in pieces of about ``flush_bytes`` input."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    pending: list[bytes] = []
    size = 0
    for chunk in chunks:
        pending.append(chunk)
        size += len(chunk)
        if size >= flush_bytes:
            out = compressor.compress(b"".join(pending))
            pending, size = [], 0
            if out:
                yield out
    yield compressor.compress(b"".join(pending)) + compressor.flush()


def stream(
    node: Node, since: datetime | None = None, *, after: tuple[datetime, str] | None = None, batch: int = BATCH
) -> Iterator[bytes]:
    """The dump as gzip bytes, produced as it is read."""
    return gzip_stream(lines(node, since, after=after, batch=batch))
