"""The OAI-PMH harvester's client: asks a peer for pages of records and reads them, defensively.

Real repositories answer with invalid XML characters, wrong declared encodings, duplicated records,
empty resumption tokens, unparseable datestamps and undefined entities, and they throttle with 503
or 429 and a Retry-After. The client retries with exponential backoff (honouring Retry-After, in
seconds or as an HTTP date), repairs what can be repaired, and reports per record what could not,
so one broken record never costs the rest of its page.

Parsing is safe: no entity is expanded, no DTD loaded, no network touched, no huge-tree mode;
an XML bomb or an external entity arrives as an unexpanded reference, and the record holding it
is reported and refused.
"""

from __future__ import annotations

import html
import re
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson
from lxml import etree

from ..formats import datacite, dublincore
from ..formats.xmltext import safe_parser
from ..services.harvest import PeerError

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DATACITE = "http://schema.datacite.org/oai/oai-1.1/"
# In order of preference: DataCite says the most, oai_dc is what everyone serves.
PREFERRED_FORMATS = ("oai_datacite", "datacite", "oai_dc")
# The largest response read: pages of thousands of rich records stay far below it.
MAX_RESPONSE_BYTES = 256 * 1024 * 1024
# The longest one response (or one batch of a dump) may take to arrive. The read timeout alone lets
# a peer that trickles a byte every few seconds hold a page open for ever.
MAX_RESPONSE_SECONDS = 600.0
USER_AGENT = "osnode-harvester/1 (+https://github.com/open-science-node)"

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>", re.S)
# A DOCTYPE with its internal subset. OAI-PMH needs none; it is where entity bombs and external
# entities live, so it is cut out before parsing (keeping line numbers) and any use of its entities
# becomes an undefined-entity error confined to the record that uses it.
_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*(\[.*?\]\s*)?>", re.S)
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._\-]+)["']""")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECOND = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


class HarvestError(PeerError):
    """The peer could not be harvested (unreachable, refusing, or not speaking OAI-PMH)."""


class OAIProtocolError(HarvestError):
    """The peer answered with an OAI-PMH error element."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        # Pages may be read in a worker process: the error must cross back whole.
        return (type(self), (self.code, self.message))


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


@dataclass
class RetryPolicy:
    attempts: int = 6
    backoff: float = 1.0
    """Seconds before the first retry; doubles after each."""
    max_wait: float = 300.0
    """The longest a Retry-After or a backoff is honoured; a peer asking for more is given up on."""
    sleep: Callable[[float], None] = field(default=time.sleep)


def _parser(recover: bool = False) -> etree.XMLParser:
    return safe_parser(remove_blank_text=True, recover=recover)


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for: delta-seconds or an HTTP date; None if unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


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


def _text(element: etree._Element | None) -> str:
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
        return datacite.from_xml(resource) if resource is not None else None
    if payload.tag == f"{{{datacite.NAMESPACE}}}resource" or etree.QName(payload).localname == "resource":
        return datacite.from_xml(payload)
    if payload.tag == f"{{{dublincore.OAI_DC}}}dc":
        return dublincore.from_oai_dc(payload)
    raise ValueError(f"metadata in an unknown format: {etree.QName(payload).namespace or payload.tag}")


def _record(element: etree._Element, damaged: bool, entities: bool = True) -> HarvestedRecord | Problem:
    header = element.find(f"{{{OAI}}}header")
    identifier = _text(header.find(f"{{{OAI}}}identifier")) if header is not None else ""
    if not identifier:
        return Problem(None, "a record without a header identifier was refused", refused=True)
    if damaged:
        return Problem(identifier, "the record is malformed XML (see the page's parse errors); refused")
    if entities and _has_entity(element):
        return Problem(identifier, "the record uses an entity reference, which is never expanded; refused")
    stamp = _text(header.find(f"{{{OAI}}}datestamp"))
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


def _oai_error(root: etree._Element) -> OAIProtocolError | None:
    error = root.find(f"{{{OAI}}}error")
    if error is None:
        return None
    return OAIProtocolError(error.get("code", "unknown"), _text(error))


def read_page(parsed: Parsed, verb: str = "ListRecords") -> Page:
    root = parsed.root
    if etree.QName(root).localname != "OAI-PMH":
        raise HarvestError("the response is not an OAI-PMH document")
    response_date = _text(root.find(f"{{{OAI}}}responseDate")) or None
    error = _oai_error(root)
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
    token = _text(token_element) or None
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


# -- an osnode peer's bulk dump -------------------------------------------------------------------
#
# An osnode peer also offers its records as one gzip JSON Lines download (/api/dump.jsonl.gz). A
# first, full harvest of such a peer reads that instead of paging through OAI-PMH: the same
# records, their OAI identifiers and datestamps, without building and parsing XML on either side.

MAX_LINE_BYTES = 64 * 1024 * 1024


def dump_url(base_url: str) -> str:
    """Where an osnode peer's dump is, from its OAI-PMH base URL."""
    return base_url.removesuffix("/").removesuffix("/oai") + "/api/dump.jsonl.gz"


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


class Dump:
    """A peer's dump being downloaded: batches of whole lines, decompressed as they arrive."""

    def __init__(
        self, response: httpx.Response, started: str | None, max_seconds: float = MAX_RESPONSE_SECONDS
    ) -> None:
        self.response = response
        self.max_seconds = max_seconds
        self.started = started
        """The peer's clock when the download began (its Date header), as an OAI ``from``."""

    def batches(self, lines: int) -> Iterator[bytes]:
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending = b""
        batch: list[bytes] = []
        deadline = time.monotonic() + self.max_seconds
        try:
            for chunk in self.response.iter_raw():
                if time.monotonic() > deadline:
                    raise HarvestError(f"the dump arrives too slowly: a batch took more than {self.max_seconds:.0f} s")
                pending += inflate.decompress(chunk)
                *complete, pending = pending.split(b"\n")
                if len(pending) > MAX_LINE_BYTES:
                    raise HarvestError(f"a line of the dump is longer than {MAX_LINE_BYTES} bytes")
                for line in complete:
                    if line:
                        batch.append(line)
                    if len(batch) >= lines:
                        yield b"\n".join(batch)
                        batch = []
                        deadline = time.monotonic() + self.max_seconds
            pending += inflate.flush()
        except (httpx.HTTPError, zlib.error) as exc:
            raise HarvestError(f"the dump download broke off: {type(exc).__name__}: {exc}") from None
        if pending.strip():
            batch.append(pending)
        if not inflate.eof:
            raise HarvestError("the dump ended before its gzip stream did")
        if batch:
            yield b"\n".join(batch)

    def close(self) -> None:
        self.response.close()


# -- talking to a peer ----------------------------------------------------------------------------


class OAIClient:
    """One peer's OAI-PMH endpoint, over HTTP GET."""

    def __init__(
        self,
        base_url: str,
        *,
        retry: RetryPolicy | None = None,
        http: httpx.Client | None = None,
        timeout: float = 60,
        max_bytes: int = MAX_RESPONSE_BYTES,
        max_seconds: float = MAX_RESPONSE_SECONDS,
    ) -> None:
        self.base_url = base_url
        self.retry = retry or RetryPolicy()
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self._own_http = http is None
        self.http = http or httpx.Client(timeout=timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT})

    def close(self) -> None:
        if self._own_http:
            self.http.close()

    def __enter__(self) -> OAIClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def fetch(self, params: dict[str, str]) -> bytes:
        """The response body, after retrying transient failures (network, 429, 5xx)."""
        wait = self.retry.backoff
        last = "no attempt"
        for attempt in range(1, self.retry.attempts + 1):
            try:
                status, headers, body = self._get(params)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
                delay = wait
            else:
                if status == 200:
                    return body
                last = f"HTTP {status}"
                if status not in (408, 425, 429) and status < 500:
                    raise HarvestError(f"{self.base_url} answered {last}")
                asked = retry_after(headers.get("retry-after"))
                delay = asked if asked is not None else wait
            if attempt == self.retry.attempts:
                break
            if delay > self.retry.max_wait:
                raise HarvestError(f"{self.base_url} asked to wait {delay:.0f} s, more than {self.retry.max_wait:.0f}")
            self.retry.sleep(delay)
            wait *= 2
        raise HarvestError(f"{self.base_url} failed {self.retry.attempts} times; last: {last}")

    def _get(self, params: dict[str, str]) -> tuple[int, httpx.Headers, bytes]:
        """One GET, its body read up to ``max_bytes`` and for up to ``max_seconds``: a peer cannot
        exhaust the harvester's memory, nor hold it with an answer that never finishes."""
        deadline = time.monotonic() + self.max_seconds
        with self.http.stream("GET", self.base_url, params=params) as response:
            if response.status_code != 200:
                return response.status_code, response.headers, b""
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                if time.monotonic() > deadline:
                    raise HarvestError(f"{self.base_url} took more than {self.max_seconds:.0f} s to send one answer")
                size += len(chunk)
                if size > self.max_bytes:
                    raise HarvestError(f"{self.base_url} sent a response larger than {self.max_bytes} bytes")
                chunks.append(chunk)
            return 200, response.headers, b"".join(chunks)

    def _document(self, params: dict[str, str]) -> Parsed:
        return parse_document(self.fetch(params))

    def identify(self) -> Identity:
        root = self._document({"verb": "Identify"}).root
        error = _oai_error(root)
        if error is not None:
            raise error
        identify = root.find(f"{{{OAI}}}Identify")
        if identify is None:
            raise HarvestError(f"{self.base_url} does not answer Identify like an OAI-PMH repository")
        ids = [
            _text(e) for e in identify.iter("{http://www.openarchives.org/OAI/2.0/oai-identifier}repositoryIdentifier")
        ]
        return Identity(
            _text(identify.find(f"{{{OAI}}}repositoryName")),
            _text(identify.find(f"{{{OAI}}}granularity")) or "YYYY-MM-DD",
            tuple(i for i in ids if i),
        )

    def metadata_formats(self) -> list[str]:
        root = self._document({"verb": "ListMetadataFormats"}).root
        error = _oai_error(root)
        if error is not None:
            raise error
        return [_text(e) for e in root.iter(f"{{{OAI}}}metadataPrefix") if _text(e)]

    def choose_format(self) -> str:
        offered = self.metadata_formats()
        for prefix in PREFERRED_FORMATS:
            if prefix in offered:
                return prefix
        raise HarvestError(f"{self.base_url} offers none of {', '.join(PREFERRED_FORMATS)}")

    # Reading is a plain function of the bytes (not a method), so the harvest can run it elsewhere.
    read_records = staticmethod(read_list_records)
    read_dump = staticmethod(read_dump_lines)
    peek_token = staticmethod(peek_token)

    def fetch_records(
        self,
        metadata_prefix: str | None = None,
        *,
        from_: str | None = None,
        set_spec: str | None = None,
        token: str | None = None,
    ) -> bytes:
        """One ListRecords response, unread: the first of a selective harvest, or the one ``token`` names."""
        if token is not None:
            params = {"verb": "ListRecords", "resumptionToken": token}
        else:
            params = {"verb": "ListRecords", "metadataPrefix": metadata_prefix or "oai_dc"}
            if from_:
                params["from"] = from_
            if set_spec:
                params["set"] = set_spec
        return self.fetch(params)

    def list_records(
        self,
        metadata_prefix: str | None = None,
        *,
        from_: str | None = None,
        set_spec: str | None = None,
        token: str | None = None,
    ) -> Page:
        """One ListRecords page, read."""
        return read_list_records(self.fetch_records(metadata_prefix, from_=from_, set_spec=set_spec, token=token))

    def open_dump(self, after: str | None = None) -> Dump | None:
        """The peer's bulk dump from ``after`` (see ``read_dump_lines``), or None when the peer has
        none (it is not an osnode, or an older one)."""
        params = {"after": after} if after else {}
        request = self.http.build_request("GET", dump_url(self.base_url), params=params)
        try:
            response = self.http.send(request, stream=True)
        except httpx.HTTPError:
            return None
        if response.status_code != 200 or response.headers.get("content-type", "") != "application/gzip":
            response.close()
            return None
        started = None
        try:
            moment = parsedate_to_datetime(response.headers.get("date", ""))
            started = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (TypeError, ValueError, IndexError):
            pass
        return Dump(response, started, self.max_seconds)
