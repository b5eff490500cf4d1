"""The OAI-PMH harvesting client: asks a peer for pages of records (retrying what is transient) and
for an osnode peer's bulk dump. The reading of what it answers is in ``reading``.

The client retries with exponential backoff (honouring Retry-After, in seconds or as an HTTP date)
and bounds each answer's size and duration, so a peer can neither exhaust nor hold the harvester.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from .errors import HarvestError
from .reading import (
    OAI,
    PREFERRED_FORMATS,
    Identity,
    Page,
    Parsed,
    element_text,
    oai_error,
    parse_document,
    peek_token,
    read_dump_lines,
    read_list_records,
)

# The largest response read: pages of thousands of rich records stay far below it.
MAX_RESPONSE_BYTES = 256 * 1024 * 1024
# The longest one response (or one batch of a dump) may take to arrive. The read timeout alone lets
# a peer that trickles a byte every few seconds hold a page open for ever.
MAX_RESPONSE_SECONDS = 600.0
USER_AGENT = "osnode-harvester/1 (+https://github.com/open-science-node)"


@dataclass
class RetryPolicy:
    attempts: int = 6
    backoff: float = 1.0
    """Seconds before the first retry; doubles after each."""
    max_wait: float = 300.0
    """The longest a Retry-After or a backoff is honoured; a peer asking for more is given up on."""
    sleep: Callable[[float], None] = field(default=time.sleep)


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


# -- an osnode peer's bulk dump -------------------------------------------------------------------
#
# An osnode peer also offers its records as one gzip JSON Lines download (/api/dump.jsonl.gz). A
# first, full harvest of such a peer reads that instead of paging through OAI-PMH: the same
# records, their OAI identifiers and datestamps, without building and parsing XML on either side.

MAX_LINE_BYTES = 64 * 1024 * 1024


def dump_url(base_url: str) -> str:
    """Where an osnode peer's dump is, from its OAI-PMH base URL."""
    return base_url.removesuffix("/").removesuffix("/oai") + "/api/dump.jsonl.gz"


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
        error = oai_error(root)
        if error is not None:
            raise error
        identify = root.find(f"{{{OAI}}}Identify")
        if identify is None:
            raise HarvestError(f"{self.base_url} does not answer Identify like an OAI-PMH repository")
        ids = [
            element_text(e)
            for e in identify.iter("{http://www.openarchives.org/OAI/2.0/oai-identifier}repositoryIdentifier")
        ]
        return Identity(
            element_text(identify.find(f"{{{OAI}}}repositoryName")),
            element_text(identify.find(f"{{{OAI}}}granularity")) or "YYYY-MM-DD",
            tuple(i for i in ids if i),
        )

    def metadata_formats(self) -> list[str]:
        root = self._document({"verb": "ListMetadataFormats"}).root
        error = oai_error(root)
        if error is not None:
            raise error
        return [element_text(e) for e in root.iter(f"{{{OAI}}}metadataPrefix") if element_text(e)]

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
