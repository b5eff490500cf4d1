"""Manuscript and galley files: what a file really is, and anonymising it for double-anonymous review.

Pure functions over the paths they are given (no other I/O). Uploads are hostile: a galley is judged by its
bytes, never by its name or the type the browser sent; PDFs are opened by qpdf (``pikepdf``), DOCX packages are
read entry by entry with limits on count, size and compression ratio, names that leave the package refused, and
their XML parsed with no DTD, no entities and no network.
"""

from __future__ import annotations

import re
import stat
import zipfile
import zlib
from pathlib import Path
from typing import Literal

import pikepdf
from lxml import etree

from ..domain.errors import InvalidInput
from .xmltext import safe_parser

GalleyKind = Literal["pdf", "html", "jats"]
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

SNIFF_BYTES = 64 * 1024
MAX_XML_BYTES = 50_000_000
"""A JATS galley larger than this is not parsed to see what it is."""
MAX_ENTRIES = 5_000
MAX_UNPACKED = 500_000_000
MAX_RATIO = 200
"""Deflate reaches ~1000:1 at most on real text; an entry claiming more than this is a zip bomb."""

_HTML_START = re.compile(rb"^(?:\s|<!--.*?-->|<\?xml[^>]*\?>)*<(?:!doctype\s+html|html[\s>])", re.I | re.S)
_NAMESPACED = re.compile(r"^\{[^}]*\}")

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_AUTHOR_ATTRIBUTES = {
    f"{{{W}}}author",
    f"{{{W}}}initials",
    "{http://schemas.microsoft.com/office/word/2012/wordml}author",
}
# docProps: the elements that name people or their organisation.
_CORE_PEOPLE = {
    "{http://purl.org/dc/elements/1.1/}creator",
    "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}lastModifiedBy",
}
_APP_PEOPLE = {"Company", "Manager"}
ANONYMOUS = "Anonymous"


# -- what a galley is ------------------------------------------------------------------------------


def _is_pdf(path: Path, head: bytes) -> bool:
    # The header may follow some junk (the spec allows it within the first 1024 bytes); qpdf then checks the rest.
    if b"%PDF-" not in head[:1024]:
        return False
    try:
        with pikepdf.open(path) as pdf:
            return len(pdf.pages) > 0
    except (pikepdf.PdfError, pikepdf.PasswordError, ValueError, OSError):
        return False


def _is_jats(path: Path) -> bool:
    if path.stat().st_size > MAX_XML_BYTES:
        return False
    try:
        root = etree.parse(str(path), safe_parser()).getroot()
    except (etree.XMLSyntaxError, OSError):
        return False
    local = _NAMESPACED.sub("", root.tag) if isinstance(root.tag, str) else ""
    return local == "article" and any(isinstance(c.tag, str) and _NAMESPACED.sub("", c.tag) == "front" for c in root)


def galley_kind(path: Path) -> GalleyKind | None:
    """What the file's bytes are: "pdf", "html" or "jats"; None when it is none of them (a file named
    ``article.pdf`` that holds HTML is "html", whatever it claims)."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if _is_pdf(path, head):
        return "pdf"
    if b"\x00" in head:
        return None  # binary: no text galley
    text = head.removeprefix(b"\xef\xbb\xbf")
    if _HTML_START.match(text):
        return "html"
    if text.lstrip().startswith(b"<") and _is_jats(path):
        return "jats"
    return None


# -- removing author-identifying metadata ----------------------------------------------------------


def strip_author_metadata(src: Path, dst: Path, media_type: str) -> None:
    """Write to ``dst`` a copy of ``src`` without the metadata that names its authors (PDF: the Info
    dictionary, XMP and annotation authors; DOCX: document properties, comment and tracked-change authors).
    ``InvalidInput`` when the file is not a readable file of that type; ``dst`` is then not left behind."""
    if media_type == PDF:
        action = _strip_pdf
    elif media_type == DOCX:
        action = _strip_docx
    else:
        raise InvalidInput(f"author metadata can be removed from PDF and DOCX files, not from {media_type}")
    try:
        action(src, dst)
    except BaseException:
        dst.unlink(missing_ok=True)
        raise


def _strip_pdf(src: Path, dst: Path) -> None:
    try:
        pdf = pikepdf.open(src)
    except pikepdf.PasswordError:
        raise InvalidInput("the PDF is encrypted with a password: upload it without one") from None
    except (pikepdf.PdfError, ValueError, OSError) as exc:
        raise InvalidInput(f"the file is not a readable PDF ({exc})") from None
    with pdf:
        if "/Info" in pdf.trailer:
            del pdf.trailer["/Info"]
        if "/Metadata" in pdf.Root:
            del pdf.Root["/Metadata"]
        if "/PieceInfo" in pdf.Root:
            del pdf.Root["/PieceInfo"]
        for page in pdf.pages:
            for key in ("/Metadata", "/PieceInfo"):
                if key in page.obj:
                    del page.obj[key]
            for annotation in page.obj.get("/Annots", []):
                # An annotation's /T is its author's name; pop-ups repeat it.
                for key in ("/T", "/RC"):
                    if isinstance(annotation, pikepdf.Dictionary) and key in annotation:
                        del annotation[key]
        # A fixed /ID: the default one is derived from the file name and the time, among other things.
        pdf.save(dst, deterministic_id=True)


def _check_entry(info: zipfile.ZipInfo) -> None:
    name = info.filename
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", name) or "\x00" in name:
        raise InvalidInput(f"the DOCX package holds an entry outside it ('{name}'): refused")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise InvalidInput(f"the DOCX package holds a link ('{name}'): refused")
    if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > 1_000_000:
        raise InvalidInput(f"the DOCX entry '{name}' unpacks to {info.file_size} bytes: refused (zip bomb)")


def _parse_part(name: str, data: bytes) -> etree._Element:
    try:
        tree = etree.fromstring(data, safe_parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        raise InvalidInput(f"the DOCX part '{name}' is not well-formed XML ({exc})") from None
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise InvalidInput(f"the DOCX part '{name}' declares a DTD (entities): refused")
    return tree.getroot()


def _anonymise_part(name: str, root: etree._Element) -> bool:
    """Remove or blank what names people in one XML part; whether anything changed."""
    changed = False
    if name == "docProps/core.xml":
        for element in [e for e in root if e.tag in _CORE_PEOPLE]:
            root.remove(element)
            changed = True
    elif name == "docProps/app.xml":
        for element in [e for e in root if isinstance(e.tag, str) and _NAMESPACED.sub("", e.tag) in _APP_PEOPLE]:
            root.remove(element)
            changed = True
    elif name == "docProps/custom.xml":
        changed = len(root) > 0
        root[:] = []  # custom properties are free text: any of them may name someone
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute in _AUTHOR_ATTRIBUTES & set(element.attrib):
            element.set(attribute, ANONYMOUS if attribute.endswith("author") else "A")
            changed = True
        if _NAMESPACED.sub("", element.tag) == "presenceInfo":
            element.getparent().remove(element)  # word/people.xml: the author's account and e-mail address
            changed = True
    return changed


def _strip_docx(src: Path, dst: Path) -> None:
    try:
        package = zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput(f"the file is not a DOCX package ({exc})") from None
    with package:
        entries = package.infolist()
        if len(entries) > MAX_ENTRIES:
            raise InvalidInput(f"the DOCX package has {len(entries)} entries: refused")
        if sum(i.file_size for i in entries) > MAX_UNPACKED:
            raise InvalidInput("the DOCX package unpacks to more than the allowed size: refused (zip bomb)")
        for info in entries:
            _check_entry(info)
        if "word/document.xml" not in package.namelist():
            raise InvalidInput("the file is a ZIP archive but not a Word document (no word/document.xml)")
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
            for info in entries:
                data = _read(package, info)
                if info.filename.endswith((".xml", ".rels")):
                    root = _parse_part(info.filename, data)
                    if _anonymise_part(info.filename, root):
                        data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
                # A fresh entry: no timestamps or extra fields of the author's machine carried over.
                entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
                entry.compress_type = zipfile.ZIP_DEFLATED
                out.writestr(entry, data)


def _read(package: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    # The sizes in the directory can lie: read at most what it claims, and refuse more.
    try:
        with package.open(info) as handle:
            data = handle.read(info.file_size + 1)
    except (zipfile.BadZipFile, RuntimeError, EOFError, zlib.error, NotImplementedError) as exc:
        raise InvalidInput(f"the DOCX entry '{info.filename}' cannot be read ({exc})") from None
    if len(data) > info.file_size:
        raise InvalidInput(f"the DOCX entry '{info.filename}' is larger than its package says: refused")
    return data
