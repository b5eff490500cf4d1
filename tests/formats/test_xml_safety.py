"""Every reader of XML the node did not write refuses to expand entities or read files through them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from osnode.formats import datacite_read, dublincore
from osnode.software import swhdeposit


def _document(root: str, secret: Path) -> bytes:
    # An external entity naming a local file, and a small billion-laughs chain: a reader that resolves
    # either would put the secret (or "lol" many times over) into what it returns.
    return (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY file SYSTEM "file://{secret}">'
        '<!ENTITY l0 "lol"><!ENTITY l1 "&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;">]>'
        + root.replace("TEXT", "&file;&l1;")
    ).encode()


READERS: dict[str, tuple[Callable[[bytes], Any], str]] = {
    "datacite": (
        datacite_read.from_xml,
        '<resource xmlns="http://datacite.org/schema/kernel-4"><titles><title>TEXT</title></titles></resource>',
    ),
    "oai_dc": (
        dublincore.from_oai_dc,
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>TEXT</dc:title></oai_dc:dc>',
    ),
    "swh deposit entry": (
        swhdeposit.parse_entry,
        '<entry xmlns="http://www.w3.org/2005/Atom" xmlns:codemeta="https://doi.org/10.5063/SCHEMA/CODEMETA-2.0">'
        "<title>TEXT</title><codemeta:name>TEXT</codemeta:name></entry>",
    ),
}


@pytest.mark.parametrize("name", sorted(READERS))
def test_entities_are_never_resolved(name: str, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    reader, root = READERS[name]
    try:
        result = reader(_document(root, secret))
    except (ValueError, SyntaxError):
        return  # refusing the document outright is as good as reading it without entities
    assert "TOP-SECRET-MARKER" not in repr(result)
    assert "lollol" not in repr(result)
