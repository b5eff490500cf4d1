"""An article's body as JATS 1.3, from its HTML galley or its JATS galley.

Galleys are uploaded files, so hostile: both kinds are rebuilt element by element from an allow-list
(sections, titles, paragraphs, lists, tables, bold/italic/sub/sup/monospace, http(s) and mailto links) into a
tree that is valid JATS by construction. Scripts, styles, embedded objects, forms, images, event attributes and
``javascript:`` links are dropped; unknown elements are unwrapped (their text kept). A JATS galley's own ``body``
is taken the same way, so nothing it says reaches the output unchecked.
"""

from __future__ import annotations

from lxml import etree

from ..domain.identifiers import is_uri_reference
from .xmltext import clean, safe_parser

XLINK = "http://www.w3.org/1999/xlink"
MAX_BYTES = 20_000_000
"""A larger galley is not converted (the article is exported without a body)."""

# Dropped with everything inside them.
_DROP = {
    "script", "style", "iframe", "object", "embed", "applet", "form", "input", "button", "select", "textarea",
    "svg", "math", "template", "noscript", "head", "title-meta", "img", "video", "audio", "canvas", "picture",
    "source", "link", "meta", "base", "frame", "frameset", "nav", "back", "front", "floats-group", "fig",
    "graphic", "media", "inline-graphic", "alternatives", "xref", "fn", "label",
}  # fmt: skip
# Inline elements, by input name (HTML or JATS), and the JATS element they become.
_INLINE = {
    "b": "bold", "strong": "bold", "bold": "bold",
    "i": "italic", "em": "italic", "italic": "italic", "cite": "italic",
    "u": "underline", "underline": "underline",
    "sub": "sub", "sup": "sup",
    "code": "monospace", "tt": "monospace", "kbd": "monospace", "samp": "monospace", "monospace": "monospace",
}  # fmt: skip
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_LISTS = {"ul": "bullet", "ol": "order"}
_CELLS = {"td", "th"}
_SAFE_SCHEMES = ("https://", "http://", "mailto:")


def _local(element: etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""  # a comment or a processing instruction
    return etree.QName(tag).localname.lower() if tag.startswith("{") else tag.lower()


def _text(target: etree._Element, text: str | None) -> None:
    """Append text at the end of ``target`` (after its last child, if any)."""
    if not text:
        return
    text = clean(text)
    if len(target):
        last = target[-1]
        last.tail = (last.tail or "") + text
    else:
        target.text = (target.text or "") + text


def _href(source: etree._Element) -> str | None:
    href = (source.get("href") or source.get(f"{{{XLINK}}}href") or "").strip()
    safe = href.lower().startswith(_SAFE_SCHEMES) and href.isprintable() and " " not in href
    # And an anyURI the schema takes: a link it would refuse is dropped (its text stays).
    return href if safe and is_uri_reference(href) else None


def _inline(source: etree._Element, target: etree._Element, *, links: bool = True) -> None:
    """The phrase content of ``source`` into ``target``: text, allowed inline elements, links."""
    _text(target, source.text)
    for child in source:
        name = _local(child)
        if name in _DROP or not name:
            pass
        elif name in _INLINE:
            _inline(child, etree.SubElement(target, _INLINE[name]), links=links)
        elif name in ("a", "ext-link", "uri") and links and (href := _href(child)):
            link = etree.SubElement(target, "ext-link", {"ext-link-type": "uri", f"{{{XLINK}}}href": href})
            _inline(child, link, links=False)
        elif name == "br":
            _text(target, " ")
        else:
            _inline(child, target, links=links)  # unwrapped: its text stays
        _text(target, child.tail)


class _Body:
    """Builds the output ``body``: blocks go to the innermost open section."""

    def __init__(self) -> None:
        self.root = etree.Element("body")
        self.stack: list[tuple[int, etree._Element]] = [(0, self.root)]

    def target(self) -> etree._Element:
        # Blocks may not follow a subsection in JATS: they go into the last subsection instead.
        node = self.stack[-1][1]
        while len(node) and node[-1].tag == "sec":
            node = node[-1]
        return node

    def open_section(self, level: int) -> etree._Element:
        while self.stack[-1][0] >= level:
            self.stack.pop()
        sec = etree.SubElement(self.stack[-1][1], "sec")
        self.stack.append((level, sec))
        return sec

    def paragraph(self, source: etree._Element) -> None:
        p = etree.Element("p")
        _inline(source, p)
        if (p.text or "").strip() or len(p):
            self.target().append(p)

    def loose_text(self, text: str | None) -> None:
        if text and text.strip():
            etree.SubElement(self.target(), "p").text = clean(text.strip())

    def blocks(self, source: etree._Element, *, jats_depth: int = 0) -> None:
        """The block content of ``source`` (HTML or JATS), in order."""
        self.loose_text(source.text)
        for child in source:
            self.block(child, jats_depth)
            self.loose_text(child.tail)

    def block(self, child: etree._Element, jats_depth: int) -> None:
        name = _local(child)
        if name in _DROP or not name:
            return
        if name in _HEADINGS:
            title = etree.SubElement(self.open_section(_HEADINGS[name]), "title")
            _inline(child, title, links=False)
        elif name == "sec" and (heading := next((c for c in child if _local(c) == "title"), None)) is None:
            self.blocks(child, jats_depth=jats_depth)  # Journal Publishing requires a section's title: unwrapped
        elif name == "sec":
            # A JATS section: its level is its depth, so its subsections nest under it.
            sec = self.open_section(jats_depth + 1)
            _inline(heading, etree.SubElement(sec, "title"), links=False)
            for part in child:
                if part is not heading:
                    self.block(part, jats_depth + 1)
                    self.loose_text(part.tail)
            while self.stack[-1][1] is not sec:
                self.stack.pop()
            self.stack.pop()
        elif name in ("p", "title", "caption", "figcaption", "pre", "blockquote", "disp-quote", "address"):
            self.paragraph(child)
        elif name in _LISTS or name == "list":
            converted = _list(child)
            if len(converted):  # a list needs an item
                self.target().append(converted)
            else:
                self.blocks(child, jats_depth=jats_depth)
        elif name in ("table", "table-wrap"):
            table = child if name == "table" else next((c for c in child.iter() if _local(c) == "table"), None)
            if table is not None and (converted := _table(table)) is not None:
                wrap = etree.SubElement(self.target(), "table-wrap")
                wrap.append(converted)
        elif name in _INLINE or name in ("a", "ext-link", "span", "br"):
            holder = etree.Element("holder")
            holder.append(child.__copy__())
            holder[0].tail = None
            self.paragraph(holder)
        else:
            self.blocks(child, jats_depth=jats_depth)  # div, section, article, main...: their content


def _list(source: etree._Element) -> etree._Element:
    kind = _LISTS.get(_local(source)) or ("order" if source.get("list-type") == "order" else "bullet")
    out = etree.Element("list", {"list-type": kind})
    for item in source:
        if _local(item) not in ("li", "list-item"):
            continue
        entry = etree.SubElement(out, "list-item")
        p = etree.SubElement(entry, "p")
        _text(p, item.text)
        nested = []
        for part in item:
            name = _local(part)
            if (name in _LISTS or name == "list") and len(converted := _list(part)):
                nested.append(converted)
            elif name == "p":
                _inline(part, p)
                _text(p, " ")
            elif name in _INLINE or name in ("a", "ext-link", "span", "br", "code"):
                holder = etree.Element("holder")
                holder.append(part.__copy__())
                _inline(holder, p)
            elif name not in _DROP:
                _inline(part, p)
            _text(p, part.tail)
        entry.extend(nested)
    return out


def _table(source: etree._Element) -> etree._Element | None:
    out = etree.Element("table")
    rows = [r for r in source.iter() if _local(r) == "tr"]
    body = None
    for row in rows:
        cells = [c for c in row if _local(c) in _CELLS]
        if not cells:
            continue
        if body is None:
            body = etree.SubElement(out, "tbody")
        tr = etree.SubElement(body, "tr")
        for cell in cells:
            td = etree.SubElement(tr, _local(cell))
            for span in ("colspan", "rowspan"):
                value = cell.get(span, "")
                if value.isdigit() and 0 < int(value) < 1000:
                    td.set(span, value)
            _inline(cell, td)
    return out if body is not None else None


def from_html(data: bytes) -> etree._Element | None:
    """The body of an HTML galley; None when there is nothing to take."""
    if len(data) > MAX_BYTES or not data.strip():
        return None
    parser = etree.HTMLParser(no_network=True, remove_comments=True, remove_pis=True, recover=True)
    document = etree.fromstring(data, parser)
    if document is None:
        return None
    source = next(document.iter("body"), document)
    # An article page's own main text, when it marks one, without its header and footer.
    main = next((e for e in source.iter() if _local(e) in ("main", "article")), source)
    return _finish(main)


def from_jats(data: bytes) -> etree._Element | None:
    """The body of a JATS galley, parsed without entities or network; None when it has none or is not XML."""
    if len(data) > MAX_BYTES:
        return None
    try:
        document = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError:
        return None
    if _local(document) != "article":
        return None
    source = next((c for c in document if _local(c) == "body"), None)
    return _finish(source) if source is not None else None


def _finish(source: etree._Element) -> etree._Element | None:
    body = _Body()
    body.blocks(source)
    return body.root if len(body.root) else None
