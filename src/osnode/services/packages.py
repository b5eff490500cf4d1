"""Offline packages: a BagIt bag of records (RO-Crate + DataCite JSON + files) that travels on a
disk between nodes with no network, and its import on the other side.

Layout of the payload: ``data/<record id>/<version id>/`` holds ``ro-crate-metadata.json``,
``datacite.json``, ``osnode.json`` (what the importing node needs to rebuild the version with its
provenance: ids, number, dates, access, origin node) and ``files/<key>``.

Import validates the whole bag first (a changed, missing or extra file, a symbolic link, a file
key that is not a plain file name or a path leading out of the bag refuses it, nothing imported),
then stores each record's blobs (skipping those already held; each verified by the blob store as it
lands) and only then writes that record's new versions in one transaction. A version whose id is
already here is skipped, so a re-run after an interruption, or of the same bag, adds only what is
missing; an interruption leaves at worst whole, unreferenced blobs.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from ..domain.access import ANONYMOUS
from ..domain.errors import InvalidInput, NotFound
from ..domain.metadata import parse_metadata
from ..domain.records import State, validate_file_key
from ..formats import bagit as bag_format
from ..formats import datacite, rocrate
from ..storage.catalog import records, versions
from ..storage.record_state import add_file, refresh_record
from . import access, exports, package_paths
from .deposit import parse_access
from .node import Node, failpoint, utcnow
from .records import load_version
from .runs import Tally
from .users import first_admin

FORMAT = "osnode-package/1"


@dataclass
class Summary(Tally):
    versions: int = 0
    files: int = 0
    bytes: int = 0
    skipped_versions: int = 0
    skipped_blobs: int = 0
    withheld_files: int = 0
    ids: list[str] = field(default_factory=list)


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
            if not node.blobs.exists(entry.sha256):
                raise NotFound(f"the bytes of {version.id}/{entry.key} are missing here (run 'osnode fixity')")
            with (folder / "files" / entry.key).open("wb") as out_file:
                for chunk in node.blobs.read_chunks(entry.sha256):
                    out_file.write(chunk)
            summary.add("files")
            summary.add("bytes", entry.size)
            if progress:
                progress(entry.size)
        summary.add("withheld_files", len(version.files) - len(carried))
        view = exports.record_view(node, version, ANONYMOUS)
        paths = {e.key: f"files/{e.key}" for e in carried}
        _write_json(folder / "ro-crate-metadata.json", rocrate.to_json(view, paths))
        _write_json(folder / "datacite.json", datacite.to_json(view))
        _write_json(folder / "osnode.json", _provenance(node, dataclasses.replace(version, files=carried)))
        summary.add("versions")
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
    # Before any library reads the payload: a link in the bag would have bagit hash (and report
    # the hash of) a file outside it.
    package_paths.no_links(folder)
    try:
        bag = bag_format.validate(folder)
    except bag_format.BagError as exc:
        raise InvalidInput(f"refused, nothing imported: {exc}") from None
    owner = first_admin(node)
    if owner is None:
        raise InvalidInput("this node has no administrator yet: run 'osnode init' first")
    # Every description is checked before anything is written: one bad file key anywhere refuses
    # the whole bag, and nothing of it lands.
    by_record: dict[str, list[_Incoming]] = {}
    for incoming in _read_descriptions(folder, bag.sha256):
        by_record.setdefault(incoming.item["record_id"], []).append(incoming)
    summary = Summary()
    for items in by_record.values():
        wanted = [i.item["version_id"] for i in items]
        with node.engine.connect() as conn:
            known = set(conn.execute(select(versions.c.id).where(versions.c.id.in_(wanted))).scalars())
        new = [i for i in items if i.item["version_id"] not in known]
        summary.add("skipped_versions", len(items) - len(new))
        if not new:
            continue
        for incoming in new:
            _store_blobs(node, incoming, summary, progress)
        # All of a record's new versions in one transaction: all of them, or none.
        now = utcnow()
        with node.transaction() as tx:
            for incoming in sorted(new, key=lambda i: i.item["number"]):
                _insert_version(tx, incoming.item, owner.id, now)
        summary.add("versions", len(new))
        summary.ids.extend(i.item["version_id"] for i in new)
        failpoint("import.between_versions")
    return summary


@dataclass
class _Incoming:
    """One version's description in a bag, checked, with where each of its files is in the bag."""

    item: dict[str, Any]
    paths: dict[str, Path]


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _refused(where: str, why: str) -> InvalidInput:
    return InvalidInput(f"refused, nothing imported: {where}: {why}")


def _read_descriptions(folder: Path, digests: dict[str, str]) -> list[_Incoming]:
    """Every ``osnode.json`` of the bag, checked: its ids are its folder's, its file keys are file
    names, and each file is a regular file inside the bag whose SHA-256 in the bag's (validated)
    manifest is the one the description gives; nothing is hashed or read outside the bag."""
    found = []
    for manifest in sorted((folder / "data").glob("*/*/osnode.json")):
        where = manifest.relative_to(folder).as_posix()
        package_paths.inside(folder, where)
        try:
            item = json.loads(manifest.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise _refused(where, "not valid JSON") from None
        if not isinstance(item, dict) or item.get("format") != FORMAT:
            raise _refused(where, f"not an {FORMAT} description")
        version_folder = manifest.parent
        if item.get("record_id") != version_folder.parent.name or item.get("version_id") != version_folder.name:
            raise _refused(where, "its record_id and version_id are not those of its folder")
        if not isinstance(item.get("number"), int) or not isinstance(item.get("files"), list):
            raise _refused(where, "it needs a version number and a list of files")
        if not isinstance(item.get("metadata"), dict) or not isinstance(item.get("origin_node"), str):
            raise _refused(where, "it needs metadata and an origin_node")
        # The same checks a deposit passes: a bag is someone else's input, not the node's own.
        try:
            parse_metadata(item["metadata"])
            parse_access(item.get("access"))
        except InvalidInput as exc:
            first = f" ({exc.errors[0].path}: {exc.errors[0].message})" if exc.errors else ""
            raise _refused(where, f"{exc.detail}{first}") from None
        try:
            _when(item.get("created")), _when(item.get("published_at"))
        except (TypeError, ValueError):
            raise _refused(where, "created and published_at must be ISO 8601 date-times") from None
        paths: dict[str, Path] = {}
        for entry in item["files"]:
            key = entry.get("key") if isinstance(entry, dict) else None
            if not isinstance(key, str):
                raise _refused(where, "a file without a key")
            try:
                validate_file_key(key)
            except ValueError as exc:
                raise _refused(where, str(exc)) from None
            if key in paths:
                raise _refused(where, f"the file '{key}' is listed twice")
            path = package_paths.inside(folder, f"{version_folder.relative_to(folder).as_posix()}/files/{key}")
            sha256, size = entry.get("sha256"), entry.get("size")
            if not isinstance(sha256, str) or not _SHA256.match(sha256) or not isinstance(size, int):
                raise _refused(where, f"the file '{key}' needs a sha256 (64 hex digits) and a size")
            if not isinstance(entry.get("mimetype"), str):
                raise _refused(where, f"the file '{key}' needs a mimetype")
            # The bag's validated manifest vouches for the bytes: comparing with it needs no hashing.
            if digests.get(path.relative_to(folder).as_posix()) != sha256 or path.stat().st_size != size:
                raise _refused(where, f"the file '{key}' does not match the SHA-256 and size its description gives")
            paths[key] = path
        found.append(_Incoming(item, paths))
    return found


def _store_blobs(node: Node, incoming: _Incoming, summary: Summary, progress: Callable[[int], None] | None) -> None:
    for f in incoming.item["files"]:
        if node.blobs.exists(f["sha256"]):
            summary.add("skipped_blobs")
        else:
            stored = node.blobs.put_file(incoming.paths[f["key"]])
            if stored.sha256 != f["sha256"]:  # changed since the bag was validated
                raise InvalidInput(f"refused: the file '{f['key']}' changed while it was imported")
            summary.add("bytes", stored.size)
        summary.add("files")
        if progress:
            progress(f["size"])


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _insert_version(tx: Connection, item: dict[str, Any], owner_id: int, now: datetime) -> None:
    access = item.get("access") or {}
    embargo = access.get("embargo_until")
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
            data_use=access.get("data_use"),
            owner_id=owner_id,
            created=_when(item.get("created")) or now,
            updated=now,
            published_at=_when(item.get("published_at")) or now,
            origin_node=item["origin_node"],
        )
    )
    for f in item["files"]:
        add_file(tx, item["version_id"], f["key"], f["sha256"], f["size"], f["mimetype"], now)
    failpoint("import.mid_version")
    refresh_record(tx, record_id, now)
