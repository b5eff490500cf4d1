"""Reading what a peer answers, defensively: OAI-PMH responses and an osnode peer's dump lines.

Real repositories answer with invalid XML characters, wrong declared encodings, duplicated records,
empty resumption tokens, unparseable datestamps and undefined entities. Reading repairs what can be
repaired and reports per record what could not, so one broken record never costs the rest of its
page. Every reader is a plain function of the bytes, so a harvest can run it in a worker process.

Parsing is safe: no entity is expanded, no DTD loaded, no network touched, no huge-tree mode;
an XML bomb or an external entity arrives as an unexpanded reference, and the record holding it
is reported and refused.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from lxml import etree

from osnode.formats import datacite, datacite_read, dublincore, registry
from osnode.formats.xmltext import safe_parser

from .errors import HarvestError, OAIProtocolError

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DATACITE = "http://schema.datacite.org/oai/oai-1.1/"
# What to ask a peer for, in order of preference: the formats of the registry that have a reader.
PREFERRED_FORMATS = registry.harvestable()

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>", re.S)
# A DOCTYPE with its internal subset. OAI-PMH needs none; it is where entity bombs and external
# entities live, so it is cut out before parsing (keeping line numbers) and any use of its entities
# becomes an undefined-entity error confined to the record that uses it.
_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*(\[.*?\]\s*)?>", re.S)
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._\-]+)["']""")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECOND = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


@dataclass(frozen=True)
class Problem:
    """Something wrong with one record (identifier known) or with a whole response (identifier None)."""

    identifier: str | None
    message: str
    refused: bool | None = None
    """Whether a record was refused; by default, when the problem names one."""

    @property
    def is_error(self) -> bool:
        return self.refused if self.refused is not None else self.identifier is not None


@dataclass
class HarvestedRecord:
    identifier: str
    datestamp: str
    deleted: bool
    metadata: dict[str, Any] | None = None
    """Metadata in the node's JSON shape (DataCite property names), unchecked; None for deleted records."""
    landing: str | None = None
    """The record's landing page at its origin, when the peer says it apart from the metadata."""


@dataclass
class Page:
    records: list[HarvestedRecord]
    problems: list[Problem]
    token: str | None
    response_date: str | None
    complete_list_size: int | None = None
    cursor: int | None = None
    duplicates: int = 0


@dataclass(frozen=True)
class Identity:
    repository_name: str
    granularity: str
    repository_ids: tuple[str, ...] = ()


def _parser(recover: bool = False) -> etree.XMLParser:
    return safe_parser(remove_blank_text=True, recover=recover)


# -- reading a response ---------------------------------------------------------------------------


def _decode(raw: bytes, declared: str | None) -> tuple[str, str]:
    """The document's text and the encoding it was read in: UTF-8 when it is (whatever the
    declaration claims), else the declared encoding, else Windows-1252, the usual truth behind a
    wrong 'UTF-8' declaration."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    for encoding in ("utf-8", declared):
        if encoding:
            try:
                return raw.decode(encoding), encoding
            except (LookupError, UnicodeDecodeError):
                continue
    return raw.decode("cp1252", errors="replace"), "windows-1252"


def _same_encoding(a: str | None, b: str) -> bool:
    def norm(name: str | None) -> str:
        return (name or "utf-8").lower().replace("_", "-").replace("utf8", "utf-8")

    return norm(a) == norm(b)


@dataclass
class Parsed:
    root: etree._Element
    problems: list[Problem]
    error_lines: set[int]


def parse_document(raw: bytes) -> Parsed:
    """Parse an OAI-PMH response, repairing encoding and character defects, keeping what is good.

    Tries, in order: the bytes as sent; the text re-decoded and stripped of characters XML forbids;
    lxml's recovering parser, whose errors are kept with their line numbers so the records they
    fall in can be refused."""
    problems: list[Problem] = []
    doctype = _DOCTYPE.search(raw[:65536])
    if doctype is not None:
        kept_lines = b"\n" * doctype.group(0).count(b"\n")
        raw = raw[: doctype.start()] + kept_lines + raw[doctype.end() :]
        problems.append(Problem(None, "the response declared a DTD; it was ignored and no entity was expanded"))
    try:
        return Parsed(etree.fromstring(raw, _parser()), problems, set())
    except etree.XMLSyntaxError as first:
        reason = first.msg
    match = _DECLARED_ENCODING.match(raw)
    declared = match.group(1).decode("ascii") if match else None
    text, used = _decode(raw, declared)
    if not raw.isascii() and not _same_encoding(declared, used):
        problems.append(Problem(None, f"the response was not in its declared encoding {declared}; read as {used}"))
    cleaned = _INVALID_XML.sub("", text)
    if cleaned != text:
        problems.append(Problem(None, "the response held characters XML forbids; they were removed"))
    repaired = _DECLARATION.sub(b"", cleaned.encode("utf-8"), count=1)
    try:
        return Parsed(etree.fromstring(repaired, _parser()), problems, set())
    except etree.XMLSyntaxError as second:
        reason = second.msg
    parser = _parser(recover=True)
    try:
        root = etree.fromstring(repaired, parser)
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        raise HarvestError(f"the response is not XML: {reason}")
    lines = {entry.line for entry in parser.error_log}
    problems.append(Problem(None, f"the response is malformed XML ({reason}); records it damaged were refused"))
    return Parsed(root, problems, lines)


def element_text(element: etree._Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _has_entity(element: etree._Element) -> bool:
    return any(isinstance(node, etree._Entity) for node in element.iter())


def check_datestamp(value: str) -> bool:
    """A datestamp at either OAI-PMH granularity, and a real date."""
    # fromisoformat, not strptime: strptime looks the locale up on every call (65 us, a million times).
    if _DAY.match(value):
        value = value + "T00:00:00"
    elif _SECOND.match(value):
        value = value[:17] + ("59" if value[17:19] == "60" else value[17:19])  # a leap second is a real time
    else:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _metadata(container: etree._Element | None) -> dict[str, Any] | None:
    """The record's metadata in the node's shape, from whichever format it came in."""
    if container is None:
        return None
    payload = next((child for child in container if isinstance(child.tag, str)), None)
    if payload is None:
        return None
    if payload.tag == f"{{{OAI_DATACITE}}}oai_datacite":
        inner = payload.find(f"{{{OAI_DATACITE}}}payload")
        resource = next((c for c in inner if isinstance(c.tag, str)), None) if inner is not None else None
        return datacite_read.from_xml(resource) if resource is not None else None
    if payload.tag == f"{{{datacite.NAMESPACE}}}resource" or etree.QName(payload).localname == "resource":
        return datacite_read.from_xml(payload)
    if payload.tag == f"{{{dublincore.OAI_DC}}}dc":
        return dublincore.from_oai_dc(payload)
    raise ValueError(f"metadata in an unknown format: {etree.QName(payload).namespace or payload.tag}")


def _record(element: etree._Element, damaged: bool, entities: bool = True) -> HarvestedRecord | Problem:
    header = element.find(f"{{{OAI}}}header")
    identifier = element_text(header.find(f"{{{OAI}}}identifier")) if header is not None else ""
    if not identifier:
        return Problem(None, "a record without a header identifier was refused", refused=True)
    if damaged:
        return Problem(identifier, "the record is malformed XML (see the page's parse errors); refused")
    if entities and _has_entity(element):
        return Problem(identifier, "the record uses an entity reference, which is never expanded; refused")
    stamp = element_text(header.find(f"{{{OAI}}}datestamp"))
    if not check_datestamp(stamp):
        return Problem(identifier, f"bad datestamp '{stamp[:40]}'; refused")
    deleted = header.get("status") == "deleted"
    if deleted:
        return HarvestedRecord(identifier, stamp, True)
    try:
        meta = _metadata(element.find(f"{{{OAI}}}metadata"))
    except (ValueError, TypeError) as exc:
        return Problem(identifier, str(exc))
    if meta is None:
        return Problem(identifier, "the record has no metadata")
    return HarvestedRecord(identifier, stamp, False, meta)


def _damaged(elements: list[etree._Element], error_lines: set[int]) -> list[bool]:
    """Which records a recovering parse damaged: those whose lines hold a parse error."""
    if not error_lines:
        return [False] * len(elements)
    starts = [e.sourceline or 0 for e in elements]
    ends = [*starts[1:], 10**12][: len(starts)]
    return [any(start <= line < end for line in error_lines) for start, end in zip(starts, ends, strict=True)]


def oai_error(root: etree._Element) -> OAIProtocolError | None:
    error = root.find(f"{{{OAI}}}error")
    if error is None:
        return None
    return OAIProtocolError(error.get("code", "unknown"), element_text(error))


def read_page(parsed: Parsed, verb: str = "ListRecords") -> Page:
    root = parsed.root
    if etree.QName(root).localname != "OAI-PMH":
        raise HarvestError("the response is not an OAI-PMH document")
    response_date = element_text(root.find(f"{{{OAI}}}responseDate")) or None
    error = oai_error(root)
    if error is not None:
        if error.code == "noRecordsMatch":
            return Page([], list(parsed.problems), None, response_date)
        raise error
    listing = root.find(f"{{{OAI}}}{verb}")
    if listing is None:
        raise HarvestError(f"the response has no {verb} element")
    elements = listing.findall(f"{{{OAI}}}record")
    problems = list(parsed.problems)
    chosen: dict[str, HarvestedRecord] = {}
    duplicates = 0
    # Records are searched for entity references only when the document holds one at all.
    entities = next(root.iter(etree.Entity), None) is not None
    for element, damaged in zip(elements, _damaged(elements, parsed.error_lines), strict=True):
        try:
            found = _record(element, damaged, entities)
        except Exception as exc:  # whatever a strange record does, it costs only itself
            header_id = element.findtext(f"{{{OAI}}}header/{{{OAI}}}identifier")
            found = Problem((header_id or "").strip() or None, f"the record could not be read: {exc}", refused=True)
        if isinstance(found, Problem):
            problems.append(found)
            continue
        previous = chosen.get(found.identifier)
        if previous is not None:
            duplicates += 1
            if previous.datestamp > found.datestamp:
                continue  # a page listing one record twice: keep its newest state
        chosen[found.identifier] = found
    token_element = listing.find(f"{{{OAI}}}resumptionToken")
    # An empty resumptionToken element marks the last page.
    token = element_text(token_element) or None
    size = cursor = None
    if token_element is not None:
        size = _int(token_element.get("completeListSize"))
        cursor = _int(token_element.get("cursor"))
    return Page(list(chosen.values()), problems, token, response_date, size, cursor, duplicates)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def read_list_records(raw: bytes) -> Page:
    """A ListRecords response, read: a plain function of the bytes, so it can run in another process."""
    return read_page(parse_document(raw))


_TOKEN_TAIL = re.compile(rb"<(?:\w+:)?resumptionToken\b[^>]*>([^<]*)</(?:\w+:)?resumptionToken>")


def peek_token(raw: bytes) -> str | None:
    """The resumption token of a ListRecords response, found without parsing it (it ends the
    document): a guess that lets the next page be fetched while this one is read. The token the
    parse finds decides; a wrong guess only costs a request."""
    found = _TOKEN_TAIL.findall(raw[-8192:])
    if not found:
        return None
    token = html.unescape(found[-1].decode("utf-8", "replace")).strip()
    return token or None


# An osnode peer also offers its records as one gzip JSON Lines download (/api/dump.jsonl.gz), read
# like a page: see ``client.OAIClient.open_dump``.


def _dump_record(line: dict[str, Any]) -> HarvestedRecord | Problem:
    identifier = line.get("oai_identifier")
    if not isinstance(identifier, str) or not identifier.strip():
        return Problem(None, "a dump line without an oai_identifier was refused", refused=True)
    stamp = line.get("datestamp")
    if not isinstance(stamp, str) or not check_datestamp(stamp):
        return Problem(identifier, f"bad datestamp '{str(stamp)[:40]}'; refused")
    if line.get("deleted") is True:
        return HarvestedRecord(identifier, stamp, True)
    metadata = line.get("metadata")
    if not isinstance(metadata, dict):
        return Problem(identifier, "the record has no metadata")
    links = line.get("links")
    landing = links.get("html") if isinstance(links, dict) else None
    return HarvestedRecord(identifier, stamp, False, metadata, landing if isinstance(landing, str) else None)


def read_dump_lines(raw: bytes) -> Page:
    """A batch of dump lines, read like a page: its records, its problems, and as its token where
    the dump goes on after it (``updated,id`` of its last line)."""
    records: dict[str, HarvestedRecord] = {}
    problems: list[Problem] = []
    token = None
    for number, text in enumerate(raw.splitlines(), 1):
        try:
            line = orjson.loads(text)
            if not isinstance(line, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            problems.append(Problem(None, f"dump line {number} is not a JSON object ({exc}); refused", refused=True))
            continue
        if isinstance(line.get("updated"), str) and isinstance(line.get("id"), str):
            token = f"{line['updated']},{line['id']}"
        found = _dump_record(line)
        if isinstance(found, Problem):
            problems.append(found)
        else:
            records[found.identifier] = found
    return Page(list(records.values()), problems, token, None)
