"""A fresh node with real sample content, for ``osnode demo`` and for trying things out."""

from __future__ import annotations

import io
import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import load_settings
from ..explore import synthetic
from . import archive, deposit, records, users
from .node import Node

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
MARKER = ".osnode-demo"

ANSCOMBE_DOI = "10.1080/00031305.1973.10478966"
NODE_ROR = "https://ror.org/04wxnsj81"  # DataCite, as a stand-in affiliation with a real ROR id


@dataclass
class DemoSummary:
    token: str
    records: list[dict[str, Any]] = field(default_factory=list)


def pdf_from_text(lines: list[str]) -> bytes:
    """A minimal, valid one-page PDF (Helvetica text) built by hand: no PDF library needed."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    body = ["BT", "/F1 10 Tf", "12 TL", "56 790 Td"]
    body += [f"({escape(line)}) '" for line in lines]
    body.append("ET")
    stream = "\n".join(body).encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf = io.BytesIO()
    pdf.write(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(pdf.tell())
        pdf.write(b"%d 0 obj\n" % number + obj + b"\nendobj\n")
    xref = pdf.tell()
    pdf.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        pdf.write(b"%010d 00000 n \n" % offset)
    pdf.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return pdf.getvalue()


def software_tarball(source: Path) -> bytes:
    """A reproducible tar.gz of ``source`` (sorted entries, fixed times and owners)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(p for p in source.rglob("*") if "__pycache__" not in p.parts):
            info = tar.gettarinfo(str(path), arcname=f"anscombe-stats-1.0.0/{path.relative_to(source)}")
            info.mtime, info.uid, info.gid, info.uname, info.gname = 1_767_225_600, 0, 0, "", ""
            if path.is_file():
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
    return buffer.getvalue()


def _person(family: str, given: str, **extra: Any) -> dict[str, Any]:
    return {"familyName": family, "givenName": given, **extra}


def sample_records() -> list[tuple[dict[str, Any], list[tuple[str, bytes]]]]:
    """(metadata, files) of each sample record."""
    csv_bytes = (SAMPLES / "anscombe.csv").read_bytes()
    article_lines = (SAMPLES / "article.txt").read_text(encoding="utf-8").splitlines()
    affiliation = [{"name": "Open Science Node demo institute", "ror": NODE_ROR}]
    dataset = {
        "titles": [
            {"title": "Anscombe's quartet", "lang": "en"},
            {"title": "Le quartet d'Anscombe", "lang": "fr", "titleType": "TranslatedTitle"},
        ],
        "creators": [_person("Anscombe", "Francis J.")],
        "contributors": [
            {"name": "Open Science Node demo institute", "nameType": "Organizational", "contributorType": "DataCurator"}
        ],
        "resourceType": {"resourceTypeGeneral": "Dataset", "resourceType": "Tabular data"},
        "subjects": [
            {"subject": "Statistics", "subjectScheme": "Wikidata", "valueUri": "https://www.wikidata.org/wiki/Q12483"},
            {"subject": "data visualization"},
        ],
        "dates": [{"date": "1973-02", "dateType": "Issued"}],
        "language": "en",
        "relatedIdentifiers": [
            {"relatedIdentifier": ANSCOMBE_DOI, "relatedIdentifierType": "DOI", "relationType": "IsSupplementTo"}
        ],
        "formats": ["text/csv"],
        "version": "1.0",
        "rightsList": [{"rightsIdentifier": "CC0-1.0"}],
        "descriptions": [
            {
                "description": "Four x/y data sets with nearly identical means, variances, correlation and "
                "regression line, which look completely different when plotted (Anscombe 1973).",
                "descriptionType": "Abstract",
            }
        ],
    }
    article = {
        "titles": [{"title": article_lines[0], "lang": "en"}],
        "creators": [
            _person("Silva", "Ana", affiliations=affiliation),
            _person("Carberry", "Josiah", orcid="0000-0002-1825-0097", affiliations=affiliation),
        ],
        "resourceType": {"resourceTypeGeneral": "JournalArticle"},
        "subjects": [{"subject": "Open science"}, {"subject": "Reproducibility"}],
        "language": "en",
        "relatedIdentifiers": [
            {"relatedIdentifier": ANSCOMBE_DOI, "relatedIdentifierType": "DOI", "relationType": "Cites"}
        ],
        "formats": ["application/pdf"],
        "rightsList": [{"rightsIdentifier": "CC-BY-4.0"}],
        "descriptions": [{"description": " ".join(article_lines[3:8]), "descriptionType": "Abstract"}],
        "fundingReferences": [{"funderName": "Open Science Node demo fund", "awardTitle": "Diamond OA pilot"}],
    }
    software = {
        "titles": [{"title": "anscombe-stats: summary statistics of Anscombe's quartet"}],
        "creators": [{"name": "Open Science Node contributors", "nameType": "Organizational"}],
        "resourceType": {"resourceTypeGeneral": "Software"},
        "subjects": [{"subject": "statistics"}, {"subject": "teaching"}],
        "version": "1.0.0",
        "formats": ["application/gzip"],
        "rightsList": [{"rightsIdentifier": "MIT"}],
        "descriptions": [
            {"description": "A small Python package that prints the summary statistics of each data set."}
        ],
    }
    return [
        (dataset, [("anscombe.csv", csv_bytes)]),
        (article, [("article.pdf", pdf_from_text(article_lines))]),
        (software, [("anscombe-stats-1.0.0.tar.gz", software_tarball(SAMPLES / "software"))]),
        synthetic.demo_record(),  # a SYNTHETIC cell atlas (no real one can be fetched offline)
    ]


def is_demo(folder: Path) -> bool:
    """``folder`` holds a node that ``osnode demo`` made (and may replace)."""
    return (folder / MARKER).is_file()


def demo_contents(folder: Path) -> str:
    """What replacing the demo node in ``folder`` would delete, in a few words (for the warning before)."""
    files = sum(1 for p in folder.rglob("*") if p.is_file())
    node = Node.open(load_settings(folder))
    try:
        admin = users.first_admin(node)
        published = records.list_records(node, users.viewer_for(admin), size=records.MAX_PAGE).items if admin else []
    finally:
        node.close()
    more = "+" if len(published) == records.MAX_PAGE else ""
    return f"{len(published)}{more} published records and {files} files, including anything added since"


def _entry(node: Node, version_id: str, record_id: str, label: str) -> dict[str, Any]:
    return {"id": version_id, "record_id": record_id, "kind": label, "url": node.record_url(record_id)}


def _label(metadata: dict[str, Any], files: list[tuple[str, bytes]]) -> str:
    # Two records are Datasets: name the atlas, so a user knows which one opens the atlas viewer.
    if any(key.endswith(".h5ad") for key, _ in files):
        return "Cell atlas"
    return str(metadata["resourceType"]["resourceTypeGeneral"])


def reopen_demo(folder: Path, base_url: str | None = None) -> DemoSummary:
    """An existing demo node kept as it is: a new admin token and its published records (newest first)."""
    node = Node.open(load_settings(folder, **({"base_url": base_url} if base_url else {})))
    try:
        admin = users.first_admin(node)
        if admin is None:
            raise FileExistsError(f"{folder} holds an unfinished demo node; run 'osnode demo --fresh'")
        viewer = users.viewer_for(admin)
        summary = DemoSummary(users.create_token(node, admin, "demo"))
        for item in records.list_records(node, viewer, size=records.MAX_PAGE).items:
            label = _label(item["metadata"], [(f["key"], b"") for f in item["files"]])
            summary.records.append(_entry(node, item["id"], item["record_id"], label))
    finally:
        node.close()
    return summary


def build_demo(folder: Path, base_url: str | None = None) -> DemoSummary:
    """Create a new demo node in ``folder`` (replacing an earlier demo there, nothing else).

    ``base_url`` is where it will be served (links in the summary use it); it is not stored, so a later
    ``osnode serve --port`` links to its own port.
    """
    if folder.exists() and any(folder.iterdir()):
        if not is_demo(folder):
            raise FileExistsError(f"{folder} exists and is not a demo node; choose another --data folder")
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("created by osnode demo; 'osnode demo --fresh' may delete this folder\n")
    node = Node.open(load_settings(folder, **({"base_url": base_url} if base_url else {})))
    try:
        admin = users.create_user(node, "admin", "admin")
        summary = DemoSummary(users.create_token(node, admin, "demo"))
        viewer = users.viewer_for(admin)
        for metadata, files in sample_records():
            draft = deposit.create_draft(node, viewer, metadata)
            for key, data in files:
                deposit.add_file(node, draft.id, key, [data], viewer)
                if metadata["resourceType"]["resourceTypeGeneral"] == "Software":  # archived, with SWHIDs
                    archive.archive_draft_file(node, viewer, draft.id, key)
            published = deposit.publish(node, draft.id, viewer)
            summary.records.append(_entry(node, published.id, published.record_id, _label(metadata, files)))
        # A second version of the dataset: the CSV is carried over by reference, not copied.
        dataset_id = summary.records[0]["record_id"]
        second = deposit.new_version(node, dataset_id, viewer)
        meta = records.get_version(node, second.id, viewer).metadata | {"version": "1.1"}
        deposit.update_draft(node, second.id, viewer, metadata=meta)
        deposit.add_file(node, second.id, "README.txt", [(SAMPLES / "README.md").read_bytes()], viewer)
        deposit.publish(node, second.id, viewer)
    finally:
        node.close()
    return summary
