"""Start a deposit from a metadata file: DataCite XML, CodeMeta or CITATION.cff, read by the one reader each
format has (``formats.registry`` for DataCite XML; ``software.codemeta`` for CodeMeta and CITATION.cff).

What a file holds becomes the draft's form fields, valid or not, so the depositor sees every value and every
problem beside its field instead of a refused upload.
"""

from __future__ import annotations

import json
from typing import Any

from lxml import etree

from ..domain.access import Viewer
from ..domain.errors import FieldError, InvalidInput
from ..domain.licences import spdx_url
from ..formats import registry
from ..software import codemeta
from . import deposit_form
from .node import Node

MAX_BYTES = 2 * 1024 * 1024
UNREADABLE = "this file is not DataCite XML, CodeMeta or CITATION.cff"
# The version's own identifiers and its files' sizes and formats are the node's to say, not the file's.
NODE_MADE = ("sizes", "formats")


def read(filename: str, data: bytes) -> dict[str, Any]:
    """The node's metadata JSON a file describes (unchecked), by what the file is."""
    if len(data) > MAX_BYTES:
        raise InvalidInput("a metadata file has at most 2 MB", [FieldError("file", "too large")])
    head = data.lstrip()[:1]
    meta: dict[str, Any] = {}
    try:
        if head == b"<":
            reader = registry.FORMATS["datacite-xml"].read
            assert reader is not None
            meta = reader(data)
        elif head == b"{":
            meta = codemeta.from_codemeta(data) if "@context" in json.loads(data) else {}
        elif filename.lower().endswith((".cff", ".yaml", ".yml")):
            meta = codemeta.from_citation_cff(data)
    except (etree.XMLSyntaxError, ValueError, UnicodeDecodeError):
        meta = {}
    if not meta:
        raise InvalidInput(UNREADABLE, [FieldError("file", UNREADABLE)])
    return {k: v for k, v in meta.items() if k not in NODE_MADE}


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
    metadata = without_node_additions(node, read(filename, data))
    draft = deposit_form.start(node, viewer)
    fields: dict[str, str] = {}
    deposit_form.flatten(metadata, "", fields)
    return deposit_form.save(node, draft.id, viewer, fields | {"access.level": "open"})
