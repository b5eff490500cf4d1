"""Small helpers shared by the XML serializers."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

# Characters XML 1.0 cannot carry at all (lxml refuses them): C0 controls other than tab, newline
# and carriage return, lone surrogates, and U+FFFE/U+FFFF. A stray one in pasted text must not make
# a whole record unserializable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def safe_parser(**options: Any) -> etree.XMLParser:
    """The one way the node parses XML it did not write: no entities expanded, no DTD loaded, nothing
    fetched from the network, no huge trees (a billion laughs or an XXE must not get through any reader)."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False, **options
    )


def clean(text: str) -> str:
    return _NOT_XML.sub("", text)


_ATTRIBUTE_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}
)


def escape_text(value: str) -> str:
    """Element content written as text, markup escaped (``clean`` drops what XML cannot carry; the
    text writers call it once for a whole record, which is cheaper than once per value)."""
    # Most values hold none of these: four substring tests cost less than one translate().
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    return value


def escape_attribute(value: str) -> str:
    """An attribute value written as text (double-quoted); whitespace kept as character references."""
    return value.translate(_ATTRIBUTE_ESCAPES)
