"""Depositing: drafts, files, publication, new versions and withdrawal.

Each use case is one catalog transaction. Bytes are stored before the transaction that points
at them, so a crash leaves at worst an unreferenced (but whole and correct) blob.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from ..domain import records as rules
from ..domain.access import Viewer
from ..domain.duo import parse_data_use
from ..domain.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, Unauthorized
from ..domain.metadata import parse_metadata, publication_errors
from ..domain.records import Access, AccessLevel, FileEntry, Role, State, Version, new_id
from ..storage.blobs import BlobWriter, StoredBlob
from ..storage.catalog import files, records, versions
from ..storage.drafts import draft_forms
from ..storage.record_state import add_file as add_file_entry
from ..storage.record_state import latest_published, publish_version, remove_files, withdraw_versions
from . import access as permissions
from .dois import registration as dois
from .node import Node, failpoint, utcnow
from .records import load_version, record_versions, resolve


def parse_access(data: Any) -> Access:
    """Access settings from JSON: ``{"level": "embargoed", "embargo_until": "2030-01-01"}``."""
    if data is None:
        return Access()
    if not isinstance(data, dict):
        raise InvalidInput("access must be an object", [FieldError("access", "expected an object")])
    errors: list[FieldError] = []
    unknown = set(data) - {"level", "embargo_until", "data_use"}
    for key in sorted(unknown):
        errors.append(FieldError(f"access.{key}", "unknown property"))
    level_raw = data.get("level", "open")
    try:
        level = AccessLevel(level_raw)
    except ValueError:
        choices = ", ".join(v.value for v in AccessLevel)
        errors.append(FieldError("access.level", f"'{level_raw}' is not one of: {choices}"))
        level = AccessLevel.OPEN
    until = None
    if data.get("embargo_until") is not None:
        try:
            until = date.fromisoformat(str(data["embargo_until"]))
        except ValueError:
            errors.append(FieldError("access.embargo_until", "expected a date, YYYY-MM-DD"))
    if level is AccessLevel.EMBARGOED and until is None and not errors:
        errors.append(FieldError("access.embargo_until", "an embargoed version needs the date it lifts"))
    if level is not AccessLevel.EMBARGOED and until is not None:
        errors.append(FieldError("access.embargo_until", "only embargoed versions have an embargo date"))
    data_use = None
    if data.get("data_use") not in (None, {}):
        try:
            data_use = parse_data_use(data["data_use"])
        except InvalidInput as exc:
            errors += exc.errors
        if level is not AccessLevel.RESTRICTED:
            errors.append(FieldError("access.data_use", "data-use terms govern restricted (managed) versions only"))
    if errors:
        raise InvalidInput("invalid access settings", errors)
    return Access(level, until, data_use)


def _data_use_column(access: Access) -> dict[str, Any] | None:
    return access.data_use.as_dict() if access.data_use else None


def _editable_draft(conn: Connection, version_id: str, viewer: Viewer) -> Version:
    version = resolve(conn, version_id, viewer)
    if version.id != version_id:
        raise Conflict(f"'{version_id}' is a record id; edit its draft version by its own id")
    _ensure_can_edit(version, viewer)
    rules.ensure_editable(version)
    # Re-read under a row lock so two writers to one draft serialize (a no-op on SQLite, which
    # serializes writers anyway).
    locked = load_version(conn, version_id, for_update=True)
    assert locked is not None
    rules.ensure_editable(locked)
    return locked


def _ensure_can_edit(version: Version, viewer: Viewer) -> None:
    if viewer.user_id is None:
        raise Unauthorized("depositing needs an API token")
    if not (viewer.owns(version) or viewer.is_staff):
        raise Forbidden(f"you may not change version {version.id}")


def create_draft(node: Node, viewer: Viewer, metadata: Any = None, access: Any = None) -> Version:
    if viewer.user_id is None:
        raise Unauthorized("depositing needs an API token")
    if viewer.role is Role.READER or viewer.read_only:
        raise Forbidden("a reader's account or a read-only token cannot deposit")
    # Report every problem at once, with the same paths as update_draft ("metadata.titles.0...").
    errors: list[FieldError] = []
    parsed, checked_access = None, None
    try:
        parsed = parse_metadata(metadata or {})
    except InvalidInput as exc:
        errors += [FieldError(f"metadata.{e.path}", e.message) for e in exc.errors]
    try:
        checked_access = parse_access(access)
    except InvalidInput as exc:
        errors += exc.errors
    if errors or parsed is None or checked_access is None:
        raise InvalidInput(f"the draft has {len(errors)} error(s)", errors)
    now = utcnow()
    record_id, version_id = new_id(), new_id()
    with node.transaction() as tx:
        tx.execute(records.insert().values(id=record_id, owner_id=viewer.user_id, created=now, updated=now))
        tx.execute(
            versions.insert().values(
                id=version_id,
                record_id=record_id,
                number=1,
                state=State.DRAFT.value,
                metadata=parsed.to_json(),
                access_level=checked_access.level.value,
                embargo_until=checked_access.embargo_until,
                data_use=_data_use_column(checked_access),
                owner_id=viewer.user_id,
                created=now,
                updated=now,
            )
        )
        version = load_version(tx, version_id)
    assert version is not None
    return version


def update_draft(node: Node, version_id: str, viewer: Viewer, metadata: Any = None, access: Any = None) -> Version:
    """Replace a draft's metadata and/or access settings (whatever is given)."""
    values: dict[str, Any] = {"updated": utcnow()}
    errors: list[FieldError] = []
    checked: Access | None = None
    if metadata is not None:
        try:
            values["metadata"] = parse_metadata(metadata).to_json()
        except InvalidInput as exc:
            errors += [FieldError(f"metadata.{e.path}", e.message) for e in exc.errors]
    if access is not None:
        try:
            checked = parse_access(access)
            values["access_level"], values["embargo_until"] = checked.level.value, checked.embargo_until
            values["data_use"] = _data_use_column(checked)
        except InvalidInput as exc:
            errors += exc.errors
    if errors:
        raise InvalidInput(f"the draft has {len(errors)} error(s)", errors)
    with node.transaction() as tx:
        draft = _editable_draft(tx, version_id, viewer)
        if checked is not None:
            permissions.ensure_may_set_access(node, draft, checked, viewer)
        tx.execute(update(versions).where(versions.c.id == version_id).values(**values))
        version = load_version(tx, version_id)
    assert version is not None
    return version


def delete_draft(node: Node, version_id: str, viewer: Viewer) -> None:
    with node.transaction() as tx:
        draft = _editable_draft(tx, version_id, viewer)
        remove_files(tx, version_id)
        tx.execute(delete(draft_forms).where(draft_forms.c.version_id == version_id))
        tx.execute(delete(versions).where(versions.c.id == version_id))
        if draft.number == 1:
            tx.execute(delete(records).where(records.c.id == draft.record_id))


def check_draft_for_upload(node: Node, version_id: str, key: str, viewer: Viewer) -> None:
    """Refuse an upload before any byte is stored, when it could never be attached."""
    try:
        rules.validate_file_key(key)
    except ValueError as exc:
        raise InvalidInput(str(exc), [FieldError("key", str(exc))]) from None
    with node.engine.connect() as conn:
        version = resolve(conn, version_id, viewer)
        if version.id != version_id:
            raise Conflict(f"'{version_id}' is a record id; upload to its draft version by its own id")
        _ensure_can_edit(version, viewer)
        rules.ensure_editable(version)


def upload_writer(node: Node, expected_sha256: str | None = None) -> BlobWriter:
    return node.blobs.writer(node.settings.max_upload_bytes, expected_sha256)


def attach_blob(
    node: Node, version_id: str, key: str, blob: StoredBlob, viewer: Viewer, mimetype: str | None = None
) -> FileEntry:
    """Point ``key`` in a draft at a stored blob (replacing a file of the same name)."""
    guessed = mimetype or mimetypes.guess_type(key)[0] or "application/octet-stream"
    now = utcnow()
    with node.transaction() as tx:
        _editable_draft(tx, version_id, viewer)
        remove_files(tx, version_id, key)
        add_file_entry(tx, version_id, key, blob.sha256, blob.size, guessed, now)
        tx.execute(update(versions).where(versions.c.id == version_id).values(updated=now))
    return FileEntry(key, blob.sha256, blob.size, guessed, now)


def add_file(
    node: Node,
    version_id: str,
    key: str,
    chunks: Iterable[bytes],
    viewer: Viewer,
    mimetype: str | None = None,
) -> FileEntry:
    """Stream ``chunks`` into the store and attach them to the draft as ``key``."""
    check_draft_for_upload(node, version_id, key, viewer)
    blob = node.blobs.put_stream(chunks, node.settings.max_upload_bytes)
    return attach_blob(node, version_id, key, blob, viewer, mimetype)


def remove_file(node: Node, version_id: str, key: str, viewer: Viewer) -> None:
    with node.transaction() as tx:
        draft = _editable_draft(tx, version_id, viewer)
        if draft.file(key) is None:
            raise NotFound(f"draft {version_id} has no file named '{key}'")
        remove_files(tx, version_id, key)
        tx.execute(update(versions).where(versions.c.id == version_id).values(updated=utcnow()))


def publish(node: Node, version_id: str, viewer: Viewer) -> Version:
    """Make a draft public and immutable; the record's concept id then resolves to it."""
    now = utcnow()
    with node.transaction() as tx:
        draft = _editable_draft(tx, version_id, viewer)
        previous_id = latest_published(tx, draft.record_id)
        previous = load_version(tx, previous_id) if previous_id else None
        permissions.ensure_may_publish(node, draft, previous, viewer)
        meta = parse_metadata(draft.metadata)
        # The node is the publisher and the year is today's unless the depositor said otherwise.
        if meta.publisher is None:
            meta = meta.model_copy(
                update={"publisher": parse_metadata({"publisher": node.settings.node_name}).publisher}
            )
        if meta.publicationYear is None:
            meta = meta.model_copy(update={"publicationYear": now.year})
        errors = [FieldError(f"metadata.{e.path}", e.message) for e in publication_errors(meta)]
        if not draft.files and draft.access.level is not AccessLevel.METADATA_ONLY:
            errors.append(FieldError("files", "add at least one file, or set access level to metadata-only"))
        if errors:
            raise InvalidInput("the draft is not ready to publish", errors)
        mid = lambda: failpoint("publish.mid")  # noqa: E731 - crash tests stop between the two writes
        publish_version(tx, draft.record_id, version_id, meta.to_json(), now, published_at=now, midway=mid)
        dois.on_published(tx, node, draft.record_id)  # reserved now, registered when the registry answers
        version = load_version(tx, version_id)
    assert version is not None
    return version


def new_version(node: Node, any_id: str, viewer: Viewer) -> Version:
    """A draft that starts as a copy of the latest published version; files are carried over by
    reference (same blobs), so nothing is copied."""
    try:
        return _start_version(node, any_id, viewer)
    except IntegrityError:
        # Two callers raced for the same version number; the unique constraint kept one.
        raise Conflict("another new version of this record was started at the same time") from None


def _start_version(node: Node, any_id: str, viewer: Viewer) -> Version:
    now = utcnow()
    with node.transaction() as tx:
        current = resolve(tx, any_id, viewer)
        _ensure_can_edit(current, viewer)
        # One new version at a time per record: lock the record's row (SQLite already holds its
        # write lock for the whole transaction).
        tx.execute(select(records.c.id).where(records.c.id == current.record_id).with_for_update())
        siblings = record_versions(tx, current.record_id)
        draft = next((v for v in siblings if v.state is State.DRAFT), None)
        if draft is not None:
            raise Conflict(f"record {current.record_id} already has a draft version: {draft.id}")
        base_id = latest_published(tx, current.record_id)
        if base_id is None:
            raise Conflict(f"record {current.record_id} has no published version to start from")
        base = load_version(tx, base_id)
        assert base is not None
        permissions.ensure_may_copy(node, base, viewer)
        # The new version is the record owner's, whoever starts it: ownership grants reading the
        # files, so a curator starting it must not become their owner.
        owner_id = tx.execute(select(records.c.owner_id).where(records.c.id == base.record_id)).scalar_one()
        number = tx.execute(
            select(func.max(versions.c.number)).where(versions.c.record_id == current.record_id)
        ).scalar_one()
        version_id = new_id()
        metadata = dict(base.metadata)
        metadata.pop("version", None)  # the depositor states the new version's label
        tx.execute(
            versions.insert().values(
                id=version_id,
                record_id=base.record_id,
                number=number + 1,
                state=State.DRAFT.value,
                metadata=metadata,
                access_level=base.access.level.value,
                embargo_until=base.access.embargo_until,
                data_use=_data_use_column(base.access),
                owner_id=owner_id,
                created=now,
                updated=now,
            )
        )
        for entry in base.files:
            tx.execute(
                files.insert().values(
                    version_id=version_id,
                    key=entry.key,
                    sha256=entry.sha256,
                    size=entry.size,
                    mimetype=entry.mimetype,
                    created=entry.created,
                )
            )
        version = load_version(tx, version_id)
    assert version is not None
    return version


def withdraw(node: Node, any_id: str, viewer: Viewer, reason: str) -> list[Version]:
    """Withdraw one version (by its id) or every published version of a record (by the record id).

    The tombstone keeps the identifier, the citation and the reason; the files stop being served.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("a withdrawal needs a reason", [FieldError("reason", "required")])
    if "\x00" in reason or any("\ud800" <= c <= "\udfff" for c in reason):
        # NUL and unpaired surrogates are not text: PostgreSQL and UTF-8 refuse them.
        raise InvalidInput("the reason is not valid text", [FieldError("reason", "NUL or unpaired surrogate")])
    now = utcnow()
    with node.transaction() as tx:
        target = resolve(tx, any_id, viewer)
        tx.execute(select(records.c.id).where(records.c.id == target.record_id).with_for_update())
        target = resolve(tx, any_id, viewer)  # re-read under the lock
        if viewer.user_id is None:
            raise Unauthorized("withdrawing needs an API token")
        if not (viewer.is_staff or viewer.owns(target)):
            raise Forbidden("only the owner, a curator or an administrator may withdraw a record")
        if target.id == any_id:
            chosen = [target]
        else:
            chosen = [v for v in record_versions(tx, target.record_id) if v.state is State.PUBLISHED]
            if not chosen:
                raise Conflict(f"record {target.record_id} has no published version to withdraw")
        for version in chosen:
            rules.ensure_withdrawable(version)
        withdraw_versions(tx, target.record_id, [v.id for v in chosen], reason, now)
        dois.on_withdrawn(tx, node, target.record_id)
        result = [load_version(tx, v.id) for v in chosen]
    return [v for v in result if v is not None]


def save_form_fields(node: Node, version_id: str, viewer: Viewer, fields: dict[str, str]) -> None:
    """Keep the web form's raw fields beside a draft the viewer may edit (valid metadata or not)."""
    now = utcnow()
    with node.transaction() as tx:
        _editable_draft(tx, version_id, viewer)
        tx.execute(delete(draft_forms).where(draft_forms.c.version_id == version_id))
        tx.execute(draft_forms.insert().values(version_id=version_id, fields=fields, updated=now))
        tx.execute(update(versions).where(versions.c.id == version_id).values(updated=now))


def form_fields(node: Node, version_id: str) -> dict[str, str] | None:
    """The raw fields last saved from the web form for this draft (the caller has checked access)."""
    with node.engine.connect() as conn:
        row = conn.execute(select(draft_forms.c.fields).where(draft_forms.c.version_id == version_id)).first()
    return dict(row.fields) if row else None
