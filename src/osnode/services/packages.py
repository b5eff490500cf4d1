"""Offline packages: a BagIt bag of records (RO-Crate + DataCite JSON + files) that travels on a
disk between nodes with no network, and its import on the other side.

Layout of the payload: ``data/<record id>/<version id>/`` holds ``ro-crate-metadata.json``,
``datacite.json``, ``osnode.json`` (what the importing node needs to rebuild the version with its
provenance: ids, number, dates, access, origin node) and ``files/<key>``.

Import validates the whole bag first (a changed, missing or extra file refuses it, nothing
imported), then stores each version's blobs (skipping those already held; each verified by the
blob store as it lands) and only then writes the version in one transaction. A version whose id
is already here is skipped, so a re-run after an interruption, or of the same bag, adds only what
is missing; an interruption leaves at worst whole, unreferenced blobs.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from ..domain.access import ANONYMOUS
from ..domain.errors import InvalidInput, NotFound
from ..domain.records import State
from ..formats import bagit as bag_format
from ..formats import datacite, rocrate
from ..storage import search
from ..storage.blobs import StoredBlob
from ..storage.catalog import files, records, versions
from . import access, exports
from .deposit import _latest_published, _register_blob
from .node import Node, failpoint, utcnow
from .records import load_version
from .users import first_admin

FORMAT = "osnode-package/1"


@dataclass
class Summary:
    versions: int = 0
    files: int = 0
    bytes: int = 0
    skipped_versions: int = 0
    skipped_blobs: int = 0
    withheld_files: int = 0
    ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _selected(node: Node, set_: str | None, since: date | None) -> list[str]:
    query = select(versions.c.id, versions.c.metadata, versions.c.published_at).where(
        versions.c.state == State.PUBLISHED.value
    )
    chosen = []
    with node.engine.connect() as conn:
        for row in conn.execute(query.order_by(versions.c.record_id, versions.c.number)):
            kind = ((row.metadata or {}).get("resourceType") or {}).get("resourceTypeGeneral", "")
            if set_ and kind.lower() != set_.lower():
                continue
            if since and row.published_at and row.published_at.date() < since:
                continue
            chosen.append(row.id)
    return chosen


def export(
    node: Node,
    out: Path,
    set_: str | None = None,
    since: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Write the published versions (of kind ``set_``, published on or after ``since``) as a bag."""
    if out.exists() and any(out.iterdir()):
        raise InvalidInput(f"{out} is not empty; export into a new folder")
    out.mkdir(parents=True, exist_ok=True)
    summary = Summary()
    for version_id in _selected(node, set_, since):
        with node.engine.connect() as conn:
            version = load_version(conn, version_id)
        assert version is not None
        folder = out / version.record_id / version.id
        (folder / "files").mkdir(parents=True)
        # Only files anyone may download travel: embargoed or restricted bytes (human data among
        # them) stay on this node; their version travels as metadata, its file list left out.
        carried = version.files if access.files_allowed(node, version, ANONYMOUS) else []
        for entry in carried:
            source = node.blobs.path(entry.sha256)
            if not source.is_file():
                raise NotFound(f"the bytes of {version.id}/{entry.key} are missing here (run 'osnode fixity')")
            shutil.copyfile(source, folder / "files" / entry.key)
            summary.files += 1
            summary.bytes += entry.size
            if progress:
                progress(entry.size)
        summary.withheld_files += len(version.files) - len(carried)
        view = exports.record_view(node, version, ANONYMOUS)
        paths = {e.key: f"files/{e.key}" for e in carried}
        _write_json(folder / "ro-crate-metadata.json", rocrate.to_json(view, paths))
        _write_json(folder / "datacite.json", datacite.to_json(view))
        _write_json(folder / "osnode.json", _provenance(node, dataclasses.replace(version, files=carried)))
        summary.versions += 1
        summary.ids.append(version.id)
    bag_format.make(
        out,
        {
            "Source-Organization": node.settings.node_name,
            "External-Identifier": node.settings.public_url,
            "External-Description": f"{FORMAT}: {summary.versions} record versions from {node.settings.public_url}",
            "Bagging-Date": node.today().isoformat(),
        },
    )
    return summary


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def _iso(moment: datetime | date | None) -> str | None:
    return moment.isoformat() if moment else None


def _provenance(node: Node, version: Any) -> dict[str, Any]:
    return {
        "format": FORMAT,
        # Where the record lives: a harvested record keeps its own origin, ours get this node.
        "origin_node": version.origin_node or node.settings.public_url,
        "record_id": version.record_id,
        "version_id": version.id,
        "number": version.number,
        "published_at": _iso(version.published_at),
        "created": _iso(version.created),
        "access": version.access.as_dict(),
        "metadata": version.metadata,
        "files": [{"key": f.key, "sha256": f.sha256, "size": f.size, "mimetype": f.mimetype} for f in version.files],
    }


def import_bag(node: Node, folder: Path, progress: Callable[[int], None] | None = None) -> Summary:
    """Load a bag made by ``export`` (see the module's docstring for the guarantees)."""
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a folder")
    try:
        bag_format.validate(folder)
    except bag_format.BagError as exc:
        raise InvalidInput(f"refused, nothing imported: {exc}") from None
    owner = first_admin(node)
    if owner is None:
        raise InvalidInput("this node has no administrator yet: run 'osnode init' first")
    summary = Summary()
    for manifest in sorted((folder / "data").glob("*/*/osnode.json")):
        item = json.loads(manifest.read_text(encoding="utf-8"))
        if item.get("format") != FORMAT:
            raise InvalidInput(f"{manifest} is not an {FORMAT} description")
        with node.engine.connect() as conn:
            known = conn.execute(select(versions.c.id).where(versions.c.id == item["version_id"])).first()
        if known:
            summary.skipped_versions += 1
            continue
        _store_blobs(node, manifest.parent, item, summary, progress)
        _insert_version(node, item, owner.id)
        summary.versions += 1
        summary.ids.append(item["version_id"])
        failpoint("import.between_versions")
    return summary


def _store_blobs(
    node: Node, folder: Path, item: dict[str, Any], summary: Summary, progress: Callable[[int], None] | None
) -> None:
    for f in item["files"]:
        if node.blobs.exists(f["sha256"]):
            summary.skipped_blobs += 1
        else:
            stored = node.blobs.put_file(folder / "files" / f["key"])
            if stored.sha256 != f["sha256"]:  # the bag validated, so this is a damaged osnode.json
                raise InvalidInput(f"{folder.name}/{f['key']} hashes to {stored.sha256}, not {f['sha256']}")
            summary.bytes += stored.size
        summary.files += 1
        if progress:
            progress(f["size"])


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _insert_version(node: Node, item: dict[str, Any], owner_id: int) -> None:
    now = utcnow()
    access = item.get("access") or {}
    embargo = access.get("embargo_until")
    with node.transaction() as tx:
        record_id = item["record_id"]
        if tx.execute(select(records.c.id).where(records.c.id == record_id)).first() is None:
            tx.execute(records.insert().values(id=record_id, owner_id=owner_id, created=now, updated=now))
        tx.execute(
            versions.insert().values(
                id=item["version_id"],
                record_id=record_id,
                number=item["number"],
                state=State.PUBLISHED.value,
                metadata=item["metadata"],
                access_level=access.get("level", "open"),
                embargo_until=date.fromisoformat(embargo) if embargo else None,
                owner_id=owner_id,
                created=_when(item.get("created")) or now,
                updated=now,
                published_at=_when(item.get("published_at")) or now,
                origin_node=item["origin_node"],
            )
        )
        for f in item["files"]:
            _register_blob(tx, StoredBlob(f["sha256"], f["size"]), now)
            tx.execute(
                files.insert().values(
                    version_id=item["version_id"],
                    key=f["key"],
                    sha256=f["sha256"],
                    size=f["size"],
                    mimetype=f["mimetype"],
                    created=now,
                )
            )
        failpoint("import.mid_version")
        tx.execute(
            update(records)
            .where(records.c.id == record_id)
            .values(latest_published_id=_latest_published(tx, record_id), updated=now)
        )
        search.index_record(tx, record_id)
