"""The OAI-PMH 2.0 data provider: six verbs, three metadata formats, sets, and every error code.

A request is a list of ``(name, value)`` pairs (query string or form body, repeats kept so that
they can be refused); the answer is always an XML document with HTTP 200, errors included, as the
protocol wants.

Identifiers are ``oai:<host>:<record id>``: one item per record, standing for its latest published
version (or, once everything was withdrawn, a deleted header). Datestamps are seconds, UTC.

Resumption tokens are stateless: they carry the request (metadataPrefix, set, from, until) and the
``(datestamp, record id)`` key of the last item sent, plus the cursor and the list size counted on
the first page. They never expire, survive restarts and work on every worker process; each page is
one keyset query, so the last page of a million records costs what the first does.

Sets: ``kind:<resourceTypeGeneral>``, ``origin:<this host>``, ``journal:<slug>`` (a journal's published
articles) and ``community:<slug>`` (curated collections), each with its title as setName and its description
as an oai_dc setDescription.

List pages are written as text record by record (``fragments``), not built as one tree: that is
what lets one process serve thousands of records a second (bench/oai.py).

No echo: only records deposited on this node are items. Records harvested from peers are neither
listed nor found by GetRecord (``idDoesNotExist``), and no ``origin:`` set names a peer.

Where the protocol allows a choice:
- ``noSetHierarchy`` and ``noMetadataFormats`` never happen: the node has sets, and every item,
  deleted ones included, can be disseminated in every format (a deleted item as a header).
- A syntactically valid set that does not exist (``kind:Nothing``) gives ``noRecordsMatch``.
- The oai-identifier description is given when the host is a domain name its schema accepts
  (``a.b``, letters first); a node reached at ``127.0.0.1`` or ``localhost`` gives none.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from ..domain.access import Viewer, without_content_addresses
from ..domain.errors import InvalidInput
from ..domain.vocabularies import RESOURCE_TYPES
from ..formats import RecordView, access_fields, dublincore, registry
from ..formats.xmltext import XSI, clean
from ..services import access, exports, oai
from ..services.journals import sets as journal_sets
from ..services.journals.sets import ANY_JOURNAL
from ..services.node import Node, utcnow
from . import fragments
from .arguments import SET_SPEC, OAIError, Token, list_request, parse_arguments, required

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_IDENTIFIER = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_IDENTIFIER_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"

GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"

_NOT_IN_SPEC = re.compile(r"[^A-Za-z0-9\-_.!~*'()]+")
# oai-identifier's repositoryIdentifier: a domain name, each label starting with a letter.
_REPOSITORY_ID = re.compile(r"[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+")
_ANONYMOUS = Viewer()
# Where the records of a page go in the serialized envelope (see ``Provider.respond``).
_MARKER_TEXT = "osnode-records-go-here"
_MARKER = _MARKER_TEXT.encode()


def _e(parent: etree._Element, name: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{OAI}}}{name}", attributes)
    if text is not None:
        element.text = text
    return element


# -- metadata formats ----------------------------------------------------------------------------


def _fast_oai_dc(provider: Provider, item: oai.Item) -> str:
    return provider.oai_dc(item)


# The formats the registry marks as written straight from stored JSON, and how (see ``fragments``).
_FAST_PATHS: dict[str, Callable[[Provider, oai.Item], str]] = {"oai_dc": _fast_oai_dc}


@dataclass(frozen=True)
class MetadataFormat:
    """An OAI-PMH format of the registry, bound to how this provider writes an item in it."""

    spec: registry.OAIFormat

    @property
    def prefix(self) -> str:
        return self.spec.prefix

    def write(self, provider: Provider, item: oai.Item) -> str:
        """The metadata of an item, as XML text (pages are joined as text, see ``fragments``)."""
        if self.spec.fast_path:
            return _FAST_PATHS[self.prefix](provider, item)
        return self.spec.write(provider.view(item), provider.repository_id)


def _dc_description(text: str) -> etree._Element:
    """A set's description as the protocol suggests: an ``oai_dc`` record with one dc:description."""
    root = etree.Element(f"{{{dublincore.OAI_DC}}}dc", nsmap={"oai_dc": dublincore.OAI_DC, "dc": dublincore.DC})
    root.set(f"{{{XSI}}}schemaLocation", dublincore.SCHEMA_LOCATION)
    etree.SubElement(root, f"{{{dublincore.DC}}}description").text = clean(text)
    return root


FORMATS: dict[str, MetadataFormat] = {prefix: MetadataFormat(spec) for prefix, spec in registry.oai_formats().items()}


# -- the provider --------------------------------------------------------------------------------


class Provider:
    """Answers OAI-PMH requests for one node."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.base_url = f"{node.settings.public_url}/oai"
        self.repository_id = oai.repository_id(node)
        self.page_size = node.settings.oai_page_size
        self.today = node.today()
        # This node's origin set (an IPv6 host has colons, which a setSpec cannot hold).
        self.origin_set = f"origin:{_NOT_IN_SPEC.sub('-', self.repository_id).strip('-') or 'node'}"

    # -- identifiers and sets ------------------------------------------------------------------

    def identifier(self, record_id: str) -> str:
        return oai.identifier(self.node, record_id)

    def record_id(self, identifier: str) -> str:
        prefix = f"oai:{self.repository_id}:"
        if not identifier.startswith(prefix) or len(identifier) == len(prefix):
            raise OAIError("idDoesNotExist", f"'{clean(identifier)}' is not an identifier of this repository")
        return identifier[len(prefix) :]

    def set_specs(self, item: oai.Item) -> list[str]:
        specs = [f"kind:{item.kind}"] if item.kind and SET_SPEC.fullmatch(item.kind) else []
        specs.append(self.origin_set)
        specs += [f"community:{slug}" for slug in item.communities]
        return [*specs, f"journal:{item.journal}"] if item.journal else specs

    def set_filter(self, set_spec: str | None) -> oai.SetFilter | None:
        """The items ``set_spec`` holds; ``None`` when no such set exists."""
        if set_spec is None or set_spec in ("kind", "origin", self.origin_set):
            return oai.SetFilter()
        family, _, value = set_spec.partition(":")
        if family == "kind" and value in RESOURCE_TYPES:
            return oai.SetFilter(kind=value)
        if set_spec == "community":
            return oai.SetFilter(community=oai.ANY_COMMUNITY)
        if family == "community" and value and oai.community_exists(self.node, value):
            return oai.SetFilter(community=value)
        if set_spec == "journal":
            return oai.SetFilter(journal=ANY_JOURNAL)
        if family == "journal" and value and journal_sets.journal_exists(self.node, value):
            return oai.SetFilter(journal=value)
        return None

    def sets(self) -> list[tuple[str, str, str | None]]:
        """``(setSpec, setName, description)`` of every set."""
        found: list[tuple[str, str, str | None]] = [
            ("kind", "Kinds of research output (DataCite resourceTypeGeneral)", None)
        ]
        found += [(f"kind:{kind}", kind, None) for kind in RESOURCE_TYPES]
        # No echo: only this node's own records are items, so the origin family has one member, the
        # whole repository. It stays because it names the origin in every header: an aggregator that
        # merges several nodes' feeds keeps each record's origin node, and a harvester configured with
        # ``set=origin:<host>`` keeps working. Nodes this one harvested from are never listed.
        found.append(("origin", "Origin nodes", None))
        found.append((self.origin_set, f"Deposited at {self.node.settings.node_name}", None))
        found.append(("community", "Communities: collections curated on this node", None))
        found += [(f"community:{c.slug}", c.title, c.description or None) for c in oai.community_sets(self.node)]
        found.append(("journal", "Journals published on this node", None))
        found += [(f"journal:{j.slug}", j.title, j.description or None) for j in journal_sets.journal_sets(self.node)]
        return found

    # -- the response --------------------------------------------------------------------------

    def respond(self, pairs: list[tuple[str, str]] | None, refusal: str | None = None) -> bytes:
        """The whole response document for one request (``refusal``: why the request could not
        be read at all, e.g. a POST that is not a form)."""
        root = etree.Element(f"{{{OAI}}}OAI-PMH", nsmap={None: OAI, "xsi": XSI})
        root.set(f"{{{XSI}}}schemaLocation", f"{OAI} {OAI_SCHEMA}")
        _e(root, "responseDate", oai.datestamp(utcnow()))
        request = _e(root, "request", self.base_url)
        try:
            if refusal is not None or pairs is None:
                raise OAIError("badArgument", refusal or "the request could not be read")
            verb, arguments = parse_arguments(pairs)
            request.set("verb", verb)
            for name, value in arguments.items():
                request.set(name, value)
            body = getattr(self, f"_{verb}")(root, arguments)
        except OAIError as error:
            body = None
            if error.code in ("badVerb", "badArgument"):
                request.attrib.clear()  # the protocol: echo only the base URL for these two
            del root[2:]
            _e(root, "error", error.message, code=error.code)
        document = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
        if body is None:
            return document
        # The records go where the marker is: its last occurrence, since the request element
        # before it may echo any text, and a resumption token after it is base64.
        head, marker, tail = document.rpartition(_MARKER)
        assert marker, "a verb that returns records leaves the marker in the document"
        return b"".join((head, body.encode("utf-8"), tail))

    # -- verbs ---------------------------------------------------------------------------------

    def _Identify(self, root: etree._Element, _arguments: dict[str, str]) -> None:
        identify = _e(root, "Identify")
        _e(identify, "repositoryName", clean(self.node.settings.node_name))
        _e(identify, "baseURL", self.base_url)
        _e(identify, "protocolVersion", "2.0")
        _e(identify, "adminEmail", self.admin_email())
        earliest = oai.earliest_datestamp(self.node) or utcnow()
        _e(identify, "earliestDatestamp", oai.datestamp(earliest))
        _e(identify, "deletedRecord", "persistent")
        _e(identify, "granularity", GRANULARITY)
        if _REPOSITORY_ID.fullmatch(self.repository_id):
            description = _e(identify, "description")
            ident = etree.SubElement(description, f"{{{OAI_IDENTIFIER}}}oai-identifier", nsmap={None: OAI_IDENTIFIER})
            ident.set(f"{{{XSI}}}schemaLocation", f"{OAI_IDENTIFIER} {OAI_IDENTIFIER_SCHEMA}")
            for name, text in (
                ("scheme", "oai"),
                ("repositoryIdentifier", self.repository_id),
                ("delimiter", ":"),
                ("sampleIdentifier", self.identifier("k3x9a-b7q2m")),
            ):
                etree.SubElement(ident, f"{{{OAI_IDENTIFIER}}}{name}").text = text

    def admin_email(self) -> str:
        """The operator's address; unset, a placeholder in the reserved ``.invalid`` domain says so."""
        if self.node.settings.admin_email:
            return self.node.settings.admin_email
        domain = self.repository_id if "." in self.repository_id else f"{self.repository_id}.invalid"
        return f"admin@{domain}"

    def _ListMetadataFormats(self, root: etree._Element, arguments: dict[str, str]) -> None:
        kind: str | None = None
        if "identifier" in arguments:
            kind = self._item(arguments["identifier"], with_metadata=False).kind  # idDoesNotExist when it does not
        formats = _e(root, "ListMetadataFormats")
        # For one item, only the formats it can be disseminated in (JATS: articles).
        for f in (f for f in FORMATS.values() if kind is None or f.spec.kind in (None, kind)):
            element = _e(formats, "metadataFormat")
            _e(element, "metadataPrefix", f.prefix)
            _e(element, "schema", f.spec.schema)
            _e(element, "metadataNamespace", f.spec.namespace)

    def _ListSets(self, root: etree._Element, arguments: dict[str, str]) -> None:
        if "resumptionToken" in arguments:
            raise OAIError("badResumptionToken", "this node lists all its sets at once and hands out no ListSets token")
        listing = _e(root, "ListSets")
        for spec, name, description in self.sets():
            element = _e(listing, "set")
            _e(element, "setSpec", spec)
            _e(element, "setName", clean(name))
            if description:
                _e(element, "setDescription").append(_dc_description(description))

    def _GetRecord(self, root: etree._Element, arguments: dict[str, str]) -> str:
        required("GetRecord", arguments, "identifier", "metadataPrefix")
        metadata_format = self._format(arguments["metadataPrefix"])
        item = self._item(arguments["identifier"], with_metadata=True)
        if metadata_format.spec.kind not in (None, item.kind):
            raise OAIError(
                "cannotDisseminateFormat",
                f"'{metadata_format.prefix}' describes {metadata_format.spec.kind} records only",
            )
        record = self._record(item, metadata_format)
        if not record:
            raise OAIError("cannotDisseminateFormat", f"this item lacks what '{metadata_format.prefix}' requires")
        _e(root, "GetRecord", _MARKER_TEXT)
        return record

    def _ListIdentifiers(self, root: etree._Element, arguments: dict[str, str]) -> str:
        return self._list(root, "ListIdentifiers", arguments, with_metadata=False)

    def _ListRecords(self, root: etree._Element, arguments: dict[str, str]) -> str:
        return self._list(root, "ListRecords", arguments, with_metadata=True)

    # -- helpers -------------------------------------------------------------------------------

    def _format(self, prefix: str) -> MetadataFormat:
        if prefix not in FORMATS:
            raise OAIError(
                "cannotDisseminateFormat",
                f"'{clean(prefix)}' is not a metadata format of this repository; ListMetadataFormats lists them",
            )
        return FORMATS[prefix]

    def _item(self, identifier: str, *, with_metadata: bool) -> oai.Item:
        item = oai.get_item(self.node, self.record_id(identifier), with_metadata=with_metadata)
        if item is None:
            raise OAIError("idDoesNotExist", f"no item has the identifier '{clean(identifier)}'")
        return item

    def _list(self, root: etree._Element, verb: str, arguments: dict[str, str], *, with_metadata: bool) -> str:
        """The listing element goes into ``root`` with the marker; its records come back as text."""
        token: Token | None = None
        if "resumptionToken" in arguments:
            token = Token.decode(arguments["resumptionToken"])
            request = token.request
        else:
            request = list_request(verb, arguments)
        metadata_format = self._format(request.prefix)
        sets = self.set_filter(request.set_spec)
        if sets is None:
            raise OAIError("noRecordsMatch", f"this repository has no set '{request.set_spec}'")
        only = metadata_format.spec.kind
        if only is not None:
            # A format for one kind lists the items of that kind (within the set asked for).
            if sets.kind not in (None, only):
                raise OAIError("noRecordsMatch", f"'{metadata_format.prefix}' describes {only} records only")
            sets = dataclasses.replace(sets, kind=only)
        window = oai.Window(request.start.value if request.start else None, request.end, sets)
        after = token.after if token else None
        items = oai.list_items(self.node, window, after=after, limit=self.page_size + 1, with_metadata=with_metadata)
        more = len(items) > self.page_size
        items = items[: self.page_size]
        if not items:
            # After a token: what was left moved out of the window (changed since); the list ends here.
            raise OAIError("noRecordsMatch", "no item matches these arguments")
        skipped = 0
        if with_metadata:
            body = "".join(self._record(item, metadata_format) for item in items)
            # A format that cannot write some items (JATS without an ISSN) may leave a page empty, and a list
            # holds at least one record: the next page is served in its place.
            while not body and more:
                skipped += len(items)
                last = items[-1]
                items = oai.list_items(
                    self.node,
                    window,
                    after=(last.datestamp, last.record_id),
                    limit=self.page_size + 1,
                    with_metadata=True,
                )
                more = len(items) > self.page_size
                items = items[: self.page_size]
                body = "".join(self._record(item, metadata_format) for item in items)
            if not body:
                raise OAIError("noRecordsMatch", f"no item matches these arguments in '{metadata_format.prefix}'")
        else:
            body = "".join(self._header(item) for item in items)
        listing = _e(root, verb, _MARKER_TEXT)
        if token is None and not more:
            return body  # the complete list in one response: no resumptionToken at all
        cursor = (token.cursor if token else 0) + skipped
        total = token.total if token else oai.count_items(self.node, window)
        sent = cursor + len(items)
        total = max(total, sent + (1 if more else 0))  # records published since the count
        element = _e(listing, "resumptionToken", completeListSize=str(total), cursor=str(cursor))
        if more:
            last = items[-1]
            element.text = Token(request, (last.datestamp, last.record_id), sent, total).encode()
        return body

    def _header(self, item: oai.Item) -> str:
        return fragments.header(
            self.identifier(item.record_id), oai.datestamp(item.datestamp), self.set_specs(item), item.deleted
        )

    def _record(self, item: oai.Item, metadata_format: MetadataFormat) -> str:
        header = self._header(item)
        if item.deleted:
            return f"<record>{header}</record>"
        try:
            metadata = metadata_format.write(self, item)
        except InvalidInput:
            # A format with requirements of its own (JATS needs the journal's ISSN) cannot disseminate every
            # item: such an item is left out of the list, and GetRecord says cannotDisseminateFormat.
            return ""
        return f"<record>{header}<metadata>{metadata}</metadata></record>"

    def files_visible(self, item: oai.Item) -> bool:
        """Whether an anonymous reader may download the files today (else none are listed)."""
        assert item.version is not None
        return access.files_allowed(self.node, item.version, _ANONYMOUS, self.today)

    def oai_dc(self, item: oai.Item) -> str:
        version = item.version
        assert version is not None
        visible = self.files_visible(item)
        files = [(f.size, f.mimetype) for f in version.files] if visible else []
        return fragments.oai_dc(
            version.metadata if visible else without_content_addresses(version.metadata),
            identifier=self.node.record_url(version.id),
            record_url=self.node.record_url(version.record_id),
            published_at=version.published_at,
            files=files,
            node_name=self.node.settings.node_name,
            **access_fields(version.access, self.today),
        )

    def view(self, item: oai.Item) -> RecordView:
        """What the formats serialize, built as every other view is; the stored metadata is read back
        without validating it again (``formats.trusted``)."""
        assert item.version is not None
        return exports.record_view(self.node, item.version, _ANONYMOUS, today=self.today, stored=True)
