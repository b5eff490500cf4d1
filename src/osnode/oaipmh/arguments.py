"""OAI-PMH requests: the verbs and their arguments, the protocol's argument errors, and the
stateless resumption tokens (the request and the ``(datestamp, record id)`` key of the last item
sent, base64 JSON; see ``provider``)."""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ..formats import registry
from ..formats.xmltext import clean

VERBS = ("Identify", "ListMetadataFormats", "ListSets", "GetRecord", "ListIdentifiers", "ListRecords")
_LIST_ARGUMENTS = {"metadataPrefix", "from", "until", "set", "resumptionToken"}
ARGUMENTS: dict[str, set[str]] = {
    "Identify": set(),
    "ListMetadataFormats": {"identifier"},
    "ListSets": {"resumptionToken"},
    "GetRecord": {"identifier", "metadataPrefix"},
    "ListIdentifiers": _LIST_ARGUMENTS,
    "ListRecords": _LIST_ARGUMENTS,
}

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SECOND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
SET_SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")
_PREFIX = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")
_NOT_URI = re.compile(r"[\s\[\]{}|\\^`<>\"]|%(?![0-9A-Fa-f]{2})")
MAX_ARGUMENT = 2000
# The prefixes a token may carry: the registry's OAI-PMH formats.
_PREFIXES = frozenset(registry.oai_formats())


class OAIError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Moment:
    value: datetime
    day: bool
    """Given at day granularity (``YYYY-MM-DD``)."""
    text: str


def parse_moment(name: str, text: str) -> Moment:
    try:
        if _DAY.fullmatch(text):
            return Moment(datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC), True, text)
        if _SECOND.fullmatch(text):
            return Moment(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC), False, text)
    except ValueError:
        pass
    raise OAIError(
        "badArgument", f"'{name}' must be a UTC date, YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, not '{clean(text)}'"
    )


@dataclass(frozen=True)
class ListRequest:
    """What a ListRecords/ListIdentifiers harvest asks for; a resumption token carries it."""

    prefix: str
    set_spec: str | None = None
    start: Moment | None = None
    until: Moment | None = None

    @property
    def end(self) -> datetime | None:
        """``until`` is inclusive at its own granularity: until=2026-01-01 takes that whole day."""
        if self.until is None:
            return None
        return self.until.value + (timedelta(days=1) if self.until.day else timedelta(seconds=1))


@dataclass(frozen=True)
class Token:
    request: ListRequest
    after: tuple[datetime, str]
    cursor: int
    total: int

    def encode(self) -> str:
        r = self.request
        raw = [
            1,
            r.prefix,
            r.set_spec,
            r.start.text if r.start else None,
            r.until.text if r.until else None,
            self.after[0].isoformat(),
            self.after[1],
            self.cursor,
            self.total,
        ]
        return base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Token:
        bad = OAIError("badResumptionToken", "the resumptionToken is not one this node handed out")
        try:
            raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            version, prefix, set_spec, start, until, moment, record_id, cursor, total = raw
            if version != 1 or not isinstance(prefix, str) or prefix not in _PREFIXES:
                raise bad
            for value in (set_spec, start, until):
                if value is not None and not isinstance(value, str):
                    raise bad
            if set_spec is not None and not SET_SPEC.fullmatch(set_spec):
                raise bad
            if not isinstance(record_id, str) or "\x00" in record_id or not isinstance(moment, str):
                raise bad
            record_id.encode()  # a lone surrogate raises UnicodeEncodeError, a ValueError
            if not (isinstance(cursor, int) and isinstance(total, int) and 0 < cursor <= total):
                raise bad
            after = datetime.fromisoformat(moment)
            if after.tzinfo is None:
                raise bad
            request = ListRequest(
                prefix,
                set_spec,
                parse_moment("from", start) if start else None,
                parse_moment("until", until) if until else None,
            )
            return cls(request, (after, record_id), cursor, total)
        except OAIError as exc:
            raise bad from exc
        except (ValueError, TypeError, UnicodeError) as exc:
            raise bad from exc


def parse_arguments(pairs: list[tuple[str, str]]) -> tuple[str, dict[str, str]]:
    """The verb and its arguments, refusing what the protocol calls badVerb and badArgument."""
    counts = Counter(name for name, _ in pairs)
    verbs = [value for name, value in pairs if name == "verb"]
    if not verbs:
        raise OAIError("badVerb", "the verb argument is missing")
    if len(verbs) > 1:
        raise OAIError("badVerb", "the verb argument is repeated")
    verb = verbs[0]
    if verb not in VERBS:
        raise OAIError("badVerb", f"'{clean(verb[:100])}' is not an OAI-PMH verb; expected one of {', '.join(VERBS)}")
    allowed = ARGUMENTS[verb]
    arguments: dict[str, str] = {}
    for name, value in pairs:
        if name == "verb":
            continue
        if name not in allowed:
            raise OAIError("badArgument", f"{verb} takes no argument '{clean(name[:100])}'")
        if counts[name] > 1:
            raise OAIError("badArgument", f"the argument '{name}' is repeated")
        if not value:
            raise OAIError("badArgument", f"the argument '{name}' is empty")
        if len(value) > MAX_ARGUMENT or clean(value) != value:
            raise OAIError("badArgument", f"the argument '{name}' is too long or holds control characters")
        arguments[name] = value
    identifier = arguments.get("identifier")
    if identifier is not None and _NOT_URI.search(identifier):
        raise OAIError("badArgument", "the identifier is not a URI (spaces, bad %-escapes or characters URIs exclude)")
    prefix = arguments.get("metadataPrefix")
    if prefix is not None and not _PREFIX.fullmatch(prefix):
        raise OAIError("badArgument", f"'{prefix}' is not a metadataPrefix (letters, digits and -_.!~*'())")
    if "resumptionToken" in arguments and len(arguments) > 1:
        raise OAIError("badArgument", "resumptionToken is an exclusive argument: give it alone, with the verb")
    return verb, arguments


def required(verb: str, arguments: dict[str, str], *names: str) -> None:
    for name in names:
        if name not in arguments:
            raise OAIError("badArgument", f"{verb} needs the argument '{name}'")


def list_request(verb: str, arguments: dict[str, str]) -> ListRequest:
    required(verb, arguments, "metadataPrefix")
    start = parse_moment("from", arguments["from"]) if "from" in arguments else None
    until = parse_moment("until", arguments["until"]) if "until" in arguments else None
    if start and until:
        if start.day != until.day:
            raise OAIError("badArgument", "'from' and 'until' must have the same granularity")
        if start.value > until.value:
            raise OAIError("badArgument", "'from' is later than 'until'")
    set_spec = arguments.get("set")
    if set_spec is not None and not SET_SPEC.fullmatch(set_spec):
        raise OAIError("badArgument", f"'{set_spec}' is not a setSpec")
    return ListRequest(arguments["metadataPrefix"], set_spec, start, until)
