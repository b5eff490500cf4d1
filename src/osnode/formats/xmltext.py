"""Small helpers shared by the XML serializers."""

from __future__ import annotations

import re

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

# Characters XML 1.0 cannot carry at all (lxml refuses them): C0 controls other than tab, newline
# and carriage return, lone surrogates, and U+FFFE/U+FFFF. A stray one in pasted text must not make
# a whole record unserializable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text: str) -> str:
    return _NOT_XML.sub("", text)
