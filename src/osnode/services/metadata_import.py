"""Start a deposit from a metadata file: DataCite XML or JSON, an RO-Crate's ro-crate-metadata.json, CodeMeta or
CITATION.cff, read by the one reader each format has (``formats.registry`` for DataCite and RO-Crate;
``software.codemeta`` for CodeMeta and CITATION.cff).

In the browser what a file holds becomes the draft's form fields, valid or not, so the depositor sees every
value and every problem beside its field instead of a refused upload; the API (``create_from_file``) makes a
draft only from metadata that passes, and answers the field errors otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from ..domain.access import Viewer
from ..domain.errors import FieldError, InvalidInput, Unauthorized
from ..domain.licences import spdx_url
from ..domain.records import Version
from ..formats import datacite_json_read, registry, rocrate_read
from ..software import codemeta
from . import deposit, deposit_form
from .node import Node

MAX_BYTES = 2 * 1024 * 1024
UNREADABLE = "this file is not DataCite XML or JSON, RO-Crate metadata, CodeMeta or CITATION.cff"
TOO_LARGE = "a metadata file has at most 2 MB"
# The version's own identifiers and its files' sizes and formats are the node's to say, not the file's.
NODE_MADE = ("sizes", "formats")


def read(filename: str, data: bytes) -> dict[str, Any]:
    """The node's metadata JSON a file describes (unchecked), by what the file is."""
    if len(data) > MAX_BYTES:
        raise InvalidInput(TOO_LARGE, [FieldError("file", TOO_LARGE)])
    head = data.lstrip()[:1]
    meta: dict[str, Any] = {}
    try:
        if head == b"<":
            meta = _reader("datacite-xml")(data)
        elif head == b"{":
            meta = _from_json(data)
        elif filename.lower().endswith((".cff", ".yaml", ".yml")):
            meta = codemeta.from_citation_cff(data)
    except (etree.XMLSyntaxError, ValueError, UnicodeDecodeError, RecursionError):
        meta = {}
    if not meta:
        raise InvalidInput(UNREADABLE, [FieldError("file", UNREADABLE)])
    return {k: v for k, v in meta.items() if k not in NODE_MADE}


def _reader(name: str) -> Callable[[Any], dict[str, Any]]:
    reader = registry.FORMATS[name].read
    assert reader is not None, name
    return reader


def _from_json(data: bytes) -> dict[str, Any]:
    """Which JSON this is, by its shape: an RO-Crate (a graph with its descriptor), CodeMeta (JSON-LD with a
    context), else DataCite JSON (a REST answer or its attributes)."""
    doc = datacite_json_read.load(data)
    if rocrate_read.is_crate(doc):
        return _reader("ro-crate")(doc)
    if "@context" in doc:
        return codemeta.from_codemeta(data)
    return _reader("datacite-json")(doc)


def without_node_additions(node: Node, meta: dict[str, Any]) -> dict[str, Any]:
    """Drop what this node adds on export and adds again on publication: its own record URLs (as the
    alternate identifier and the IsVersionOf relation), the Available date, and the SPDX page of a licence."""
    own = node.settings.public_url.rstrip("/") + "/records/"
    out = dict(meta)
    out["alternateIdentifiers"] = [
        a for a in meta.get("alternateIdentifiers", []) if not str(a.get("alternateIdentifier", "")).startswith(own)
    ]
    out["relatedIdentifiers"] = [
        r for r in meta.get("relatedIdentifiers", []) if not str(r.get("relatedIdentifier", "")).startswith(own)
    ]
    out["dates"] = [d for d in meta.get("dates", []) if d.get("dateType") != "Available"]
    rights = []
    for item in meta.get("rightsList", []):
        ident = item.get("rightsIdentifier")
        if ident and item.get("rightsUri") == spdx_url(ident):
            item = {k: v for k, v in item.items() if k != "rightsUri"}
        rights.append(item)
    out["rightsList"] = rights
    return {k: v for k, v in out.items() if v not in ([], None, "")}


def start_from_file(node: Node, viewer: Viewer, filename: str, data: bytes) -> deposit_form.Saved:
    """A draft whose form holds what the file says (valid or not); a file too big for the form makes none."""
    metadata = without_node_additions(node, read(filename, data))
    fields: dict[str, str] = {}
    deposit_form.flatten(metadata, "", fields)
    if len(fields) >= deposit_form.MAX_FIELDS:
        raise InvalidInput(deposit_form.TOO_MANY, [FieldError("file", deposit_form.TOO_MANY)])
    draft = deposit_form.start(node, viewer)
    return deposit_form.save(node, draft.id, viewer, fields | {"access.level": "open"})


def create_from_file(node: Node, viewer: Viewer, filename: str, data: bytes) -> Version:
    """The API's import: a draft made from the file's metadata only if it is valid (else 422, nothing made)."""
    if viewer.user_id is None:
        raise Unauthorized("creating a draft needs an API token")
    metadata = without_node_additions(node, read(filename, data))
    return deposit.create_draft(node, viewer, metadata, {"level": "open"})
