"""Galley sniffing and author-metadata removal, on files the tests build: real-shaped and hostile."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pikepdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osnode.domain.errors import InvalidInput
from osnode.formats.manuscripts import DOCX, PDF, galley_kind, strip_author_metadata

AUTHOR = "Ana Bela Ngola"
XMP = f"""<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:pdf="http://ns.adobe.com/pdf/1.3/"><dc:creator><rdf:Seq><rdf:li>{AUTHOR}</rdf:li></rdf:Seq></dc:creator>
<pdf:Producer>{AUTHOR}'s laptop</pdf:Producer></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"""


def make_pdf(path: Path) -> Path:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    pdf.trailer.Info = pdf.make_indirect(
        pikepdf.Dictionary(
            Author=pikepdf.String(AUTHOR),
            Creator=pikepdf.String(f"Word for {AUTHOR}"),
            Producer=pikepdf.String("Acrobat"),
            Title=pikepdf.String("Malaria in Luanda"),
            InstitutionCustomKey=pikepdf.String(f"{AUTHOR}, UAN"),
        )
    )
    pdf.Root.Metadata = pdf.make_stream(XMP.encode())
    annotation = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Text,
        Rect=[10, 10, 20, 20],
        T=pikepdf.String(AUTHOR),
        Contents=pikepdf.String("check this"),
    )
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(annotation)]))
    pdf.save(path)
    return path


def test_pdf_metadata_is_removed(tmp_path: Path) -> None:
    src = make_pdf(tmp_path / "m.pdf")
    assert AUTHOR.encode() in src.read_bytes()
    dst = tmp_path / "clean.pdf"
    strip_author_metadata(src, dst, PDF)
    data = dst.read_bytes()
    assert AUTHOR.encode() not in data and b"Acrobat" not in data and b"InstitutionCustomKey" not in data
    with pikepdf.open(dst) as pdf:
        assert "/Info" not in pdf.trailer and "/Metadata" not in pdf.Root
        assert len(pdf.pages) == 1
        assert str(pdf.pages[0].obj.Annots[0].Contents) == "check this"  # the comment stays, its author goes
    assert galley_kind(dst) == "pdf"


DOCX_PARTS = {
    "docProps/core.xml": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
 xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Malaria</dc:title><dc:creator>{AUTHOR}</dc:creator>
<cp:lastModifiedBy>{AUTHOR}</cp:lastModifiedBy></cp:coreProperties>""",
    "docProps/app.xml": """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">
<Application>Microsoft Office Word</Application><Company>Universidade Agostinho Neto</Company>
<Manager>Prof. Chefe</Manager></Properties>""",
    "word/comments.xml": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:comments xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:comment w:id="0" w:author="{AUTHOR}" w:initials="ABN"><w:p><w:r><w:t>note</w:t></w:r></w:p></w:comment>
</w:comments>""",
    "word/people.xml": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w15:people xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml"><w15:person w15:author="{AUTHOR}">
<w15:presenceInfo w15:providerId="AD" w15:userId="ana@uan.example"/></w15:person></w15:people>""",
}
TRACKED = (
    f'<w:ins w:id="1" w:author="{AUTHOR}" w:date="2026-01-01T00:00:00Z"><w:r><w:t>added</w:t></w:r></w:ins>'
    f'<w:del w:id="2" w:author="{AUTHOR}"><w:r><w:delText>gone</w:delText></w:r></w:del>'
)


def make_docx(path: Path) -> Path:
    """A real document from python-docx, then given what Word writes: people, comments, tracked changes."""
    document = docx.Document()
    document.add_paragraph("The manuscript text.")
    document.core_properties.author = AUTHOR
    document.core_properties.last_modified_by = AUTHOR
    base = path.with_suffix(".base.docx")
    document.save(base)
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename in DOCX_PARTS:
                data = DOCX_PARTS[info.filename].encode()
            if info.filename == "word/document.xml":
                data = data.replace(b"</w:p>", f"{TRACKED}</w:p>".encode(), 1)
            out.writestr(info, data)
        for name in ("word/comments.xml", "word/people.xml"):
            if name not in src.namelist():
                out.writestr(name, DOCX_PARTS[name])
    return path


def test_docx_metadata_is_removed(tmp_path: Path) -> None:
    src = make_docx(tmp_path / "m.docx")
    dst = tmp_path / "clean.docx"
    strip_author_metadata(src, dst, DOCX)
    with zipfile.ZipFile(dst) as package:
        everything = b"".join(package.read(name) for name in package.namelist())
    for trace in (AUTHOR, "ABN", "Universidade Agostinho Neto", "Prof. Chefe", "ana@uan.example"):
        assert trace.encode() not in everything, trace
    opened = docx.Document(str(dst))  # still a Word document python-docx opens
    assert opened.paragraphs[0].text.startswith("The manuscript text.")
    assert opened.core_properties.title == "Malaria" and not opened.core_properties.author
    assert b"added" in everything and b"gone" in everything  # the changes stay, their author goes


def _zip(path: Path, entries: dict[str, bytes], **kwargs) -> Path:  # noqa: ANN003
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, **kwargs) as out:
        for name, data in entries.items():
            out.writestr(name, data)
    return path


DOCUMENT = b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>'


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"word/document.xml": DOCUMENT, "../../etc/evil": b"x"}, "outside"),
        ({"word/document.xml": DOCUMENT, "/abs/path": b"x"}, "outside"),
        ({"word/document.xml": DOCUMENT, "word/bomb.xml": b"\0" * 50_000_000}, "zip bomb"),
        (
            {
                "word/document.xml": b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">&x;</w:document>'
            },
            "DTD",
        ),
        (
            {
                "word/document.xml": b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
                b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><d>&b;</d>'
            },
            "DTD",
        ),
        ({"hello.txt": b"not a document"}, "not a Word document"),
        ({"word/document.xml": b"<unclosed>"}, "not well-formed"),
    ],
)
def test_hostile_docx_is_refused(tmp_path: Path, entries: dict[str, bytes], message: str) -> None:
    src = _zip(tmp_path / "h.docx", entries)
    dst = tmp_path / "out.docx"
    with pytest.raises(InvalidInput, match=message):
        strip_author_metadata(src, dst, DOCX)
    assert not dst.exists()


@pytest.mark.parametrize(
    ("data", "media_type"),
    [(b"%PDF-1.7\nnot really a pdf", PDF), (b"plain text", DOCX), (b"", PDF)],
)
def test_files_that_are_not_what_they_claim_are_refused(tmp_path: Path, data: bytes, media_type: str) -> None:
    src = tmp_path / "claimed"
    src.write_bytes(data)
    dst = tmp_path / "out"
    with pytest.raises(InvalidInput):
        strip_author_metadata(src, dst, media_type)
    assert not dst.exists()


def test_other_types_are_refused(tmp_path: Path) -> None:
    src = tmp_path / "x.odt"
    src.write_bytes(b"x")
    with pytest.raises(InvalidInput, match="PDF and DOCX"):
        strip_author_metadata(src, tmp_path / "y", "application/vnd.oasis.opendocument.text")


def test_an_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    src = make_pdf(tmp_path / "m.pdf")
    locked = tmp_path / "locked.pdf"
    with pikepdf.open(src) as pdf:
        pdf.save(locked, encryption=pikepdf.Encryption(owner="o", user="secret"))
    with pytest.raises(InvalidInput, match="password"):
        strip_author_metadata(locked, tmp_path / "out.pdf", PDF)


JATS = b'<?xml version="1.0"?><article xmlns:xlink="http://www.w3.org/1999/xlink"><front/><body/></article>'


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("article.html", b"<!DOCTYPE html><html><body><p>x</p></body></html>", "html"),
        ("article.html", b"\xef\xbb\xbf  <!-- c --><HTML lang=en><p>x", "html"),
        ("article.xml", JATS, "jats"),
        ("article.xml", b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', "html"),
        # Galleys that lie about what they are.
        ("article.pdf", b"<!DOCTYPE html><html><body>not a pdf</body></html>", "html"),
        ("article.pdf", b"%PDF-1.7\n%garbage that qpdf cannot read", None),
        ("article.html", b"MZ\x90\x00\x03\x00 an executable", None),
        ("article.xml", b"<?xml version='1.0'?><article><body/></article>", None),  # no front: not JATS
        ("article.xml", b"<?xml version='1.0'?><notes><front/></notes>", None),
        ("article.xml", b"<article><front>unclosed", None),
        ("article.html", b"just some words", None),
        ("article.html", b"", None),
    ],
)
def test_galley_kind_sniffs_the_bytes(tmp_path: Path, name: str, data: bytes, kind: str | None) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert galley_kind(path) == kind


def test_a_real_pdf_is_a_pdf_whatever_its_name(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "article.html")
    assert galley_kind(path) == "pdf"


HEADS = [
    b"",
    b"%PDF-1.4\n",
    b"%PDF-1.7\n1 0 obj<</Type/Catalog>>endobj\n",
    b"PK\x03\x04",
    b"<html>",
    b"<?xml version='1.0'?>",
]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(HEADS), st.binary(max_size=2000), st.sampled_from([PDF, DOCX]))
def test_arbitrary_bytes_never_escape_as_anything_but_a_clear_refusal(
    tmp_path: Path, head: bytes, body: bytes, media_type: str
) -> None:
    src = tmp_path / "upload"
    src.write_bytes(head + body)
    assert galley_kind(src) in (None, "pdf", "html", "jats")
    dst = tmp_path / "out"
    dst.unlink(missing_ok=True)  # tmp_path is shared by the examples
    try:
        strip_author_metadata(src, dst, media_type)
    except InvalidInput:
        assert not dst.exists()
