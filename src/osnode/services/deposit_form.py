"""The web deposit form: flat form fields <-> DataCite metadata, repeatable rows, saving and the workspace.

A form field is named by its metadata path ("creators.1.affiliations.0.ror", "access.level"), so a
``FieldError`` path from ``domain.metadata`` *is* the name of the field it concerns: one mapping, no table.
Every save keeps the raw fields (``deposit.save_form_fields``) and, when they make valid metadata, the
metadata too; invalid partial input therefore survives a closed tab.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from ..domain.access import Viewer
from ..domain.errors import FieldError, InvalidInput, NotFound
from ..domain.records import State, Version
from ..storage.catalog import versions
from ..storage.drafts import record_owners
from . import accounts, deposit
from .node import Node
from .records import get_version

# The repeatable groups the form offers, and how many rows a new form starts with.
LISTS: dict[str, int] = {
    "titles": 1,
    "creators": 1,
    "contributors": 0,
    "descriptions": 1,
    "subjects": 0,
    "dates": 0,
    "relatedIdentifiers": 0,
    "rightsList": 1,
    "fundingReferences": 0,
    "geoLocations": 0,
}
MAX_FIELDS = 2000
MAX_VALUE = 100_000  # a description's limit; shorter fields are held to theirs by the metadata model
TOO_MANY = "this form has too many fields"
TOO_LONG = "a field of this form is too long"
_NAME = re.compile(r"^[A-Za-z]{1,40}(\.(\d{1,4}|[A-Za-z_]{1,40})){0,4}$")
_INT = re.compile(r"^\d+$")


@dataclass
class Saved:
    version: Version
    fields: dict[str, str]
    errors: list[FieldError] = field(default_factory=list)


def clean(raw: dict[str, Any]) -> dict[str, str]:
    """Only well-formed field names with text values, trimmed; hostile or oversized forms are refused."""
    if len(raw) > MAX_FIELDS:
        raise InvalidInput(TOO_MANY)
    out: dict[str, str] = {}
    for name, value in raw.items():
        if not isinstance(value, str) or not _NAME.match(name) or name.split(".")[0] in ("csrf", "action"):
            continue
        if len(value) > MAX_VALUE:
            raise InvalidInput(TOO_LONG, [FieldError(name, TOO_LONG)])
        out[name] = value.strip()
    return out


def _nest(fields: dict[str, str]) -> dict[str, Any]:
    """{"a.0.b": "x"} -> {"a": {0: {"b": "x"}}} (integer keys for rows, empty values dropped)."""
    tree: dict[Any, Any] = {}
    for name, value in fields.items():
        if not value:
            continue
        parts: list[Any] = [int(p) if _INT.match(p) else p for p in name.split(".")]
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = value
    return tree


def _listify(node: Any) -> Any:
    """Dicts with integer keys become lists in row order; rows left empty disappear."""
    if not isinstance(node, dict):
        return node
    if node and all(isinstance(k, int) for k in node):
        rows = [_listify(node[k]) for k in sorted(node)]
        return [r for r in rows if r not in ({}, [], None, "")]
    return {k: _listify(v) for k, v in node.items() if isinstance(k, str)}


def flatten(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            flatten(v, f"{prefix}.{i}", out)
    elif value is not None:
        out[prefix] = str(value)


def compact(fields: dict[str, str]) -> dict[str, str]:
    """The same form with empty rows gone and rows numbered 0, 1, 2...: error paths then name fields."""
    out: dict[str, str] = {}
    flatten(_listify(_nest(fields)), "", out)
    return out


def to_metadata(fields: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The metadata and access settings the (compacted) fields describe."""
    tree = _listify(_nest(fields))
    access = tree.pop("access", {}) if isinstance(tree.get("access"), dict) else {}
    return tree, access or {"level": "open"}


def from_version(version: Version) -> dict[str, str]:
    out: dict[str, str] = {}
    flatten(version.metadata, "", out)
    out["access.level"] = version.access.level.value
    if version.access.embargo_until:
        out["access.embargo_until"] = version.access.embargo_until.isoformat()
    if version.access.data_use is not None:  # lists as the form's one comma-separated field each
        for key, value in version.access.data_use.as_dict().items():
            out[f"access.data_use.{key}"] = ", ".join(value) if isinstance(value, list) else str(value)
    return out


def _field_path(error: FieldError) -> FieldError:
    return FieldError(error.path.removeprefix("metadata."), error.message)


# -- rows: add, remove, move up (each a submit button; the form is saved first) -------------------


def rows(fields: dict[str, str], group: str) -> int:
    found = [int(n.split(".")[1]) for n in fields if n.startswith(group + ".") and _INT.match(n.split(".")[1])]
    return max(found, default=-1) + 1


def _renumber(fields: dict[str, str], group: str, order: list[int]) -> dict[str, str]:
    out = {n: v for n, v in fields.items() if not n.startswith(group + ".")}
    for new, old in enumerate(order):
        for name, value in fields.items():
            if name.startswith(f"{group}.{old}."):
                out[f"{group}.{new}." + name[len(f"{group}.{old}.") :]] = value
    return out


def apply_action(fields: dict[str, str], action: str, people: list[dict[str, str]]) -> dict[str, str]:
    """ "add:creators", "remove:creators.2", "up:creators.2", "person:0" (a known person as a new creator)."""
    verb, _, target = action.partition(":")
    group, _, index = target.partition(".")
    if verb == "person" and target.isdigit() and int(target) < len(people):
        n = rows(fields, "creators")
        return fields | {f"creators.{n}.{k}": v for k, v in people[int(target)].items()}
    if group not in LISTS:
        return fields
    count = rows(fields, group)
    if verb == "add":
        return fields | {f"{group}.{count}._": ""}
    if not index.isdigit() or int(index) >= count:
        return fields
    i, order = int(index), list(range(count))
    if verb == "remove":
        order.remove(i)
    elif verb == "up" and i > 0:
        order[i - 1], order[i] = order[i], order[i - 1]
    return _renumber(fields, group, order)


# -- use cases ----------------------------------------------------------------------------------


def start(node: Node, viewer: Viewer) -> Version:
    return deposit.create_draft(node, viewer, {}, {"level": "open"})


def load(node: Node, version_id: str, viewer: Viewer) -> tuple[Version, dict[str, str]]:
    """A draft the viewer may edit, and its form fields (the raw ones saved last, else its metadata's)."""
    version = get_version(node, version_id, viewer)
    if version.id != version_id or version.state is not State.DRAFT or not (viewer.owns(version) or viewer.is_staff):
        raise NotFound(f"no draft {version_id} of yours")
    return version, deposit.form_fields(node, version_id) or from_version(version)


def save(node: Node, version_id: str, viewer: Viewer, raw: dict[str, Any]) -> Saved:
    """Keep what was typed; also keep it as metadata when it is valid. Errors are named by form field."""
    fields = compact(clean(raw))
    deposit.save_form_fields(node, version_id, viewer, fields)
    metadata, access = to_metadata(fields)
    try:
        version = deposit.update_draft(node, version_id, viewer, metadata, access)
    except InvalidInput as exc:
        version, _ = load(node, version_id, viewer)
        return Saved(version, fields, [_field_path(e) for e in exc.errors] or [FieldError("(root)", exc.detail)])
    return Saved(version, fields)


def publish(node: Node, version_id: str, viewer: Viewer, raw: dict[str, Any]) -> Saved:
    saved = save(node, version_id, viewer, raw)
    if saved.errors:
        return saved
    try:
        return Saved(deposit.publish(node, version_id, viewer), saved.fields)
    except InvalidInput as exc:
        return Saved(
            saved.version, saved.fields, [_field_path(e) for e in exc.errors] or [FieldError("(root)", exc.detail)]
        )


def people(node: Node, viewer: Viewer, limit: int = 12) -> list[dict[str, str]]:
    """The signed-in person first, then the co-authors on their earlier records (by name, once each)."""
    found: list[dict[str, str]] = []
    account = accounts.get(node, viewer.user_id or 0)
    if account:
        found.append({"name": account.shown_name} | ({"orcid": account.orcid} if account.orcid else {}))
    seen = {p["name"] for p in found}
    with node.engine.connect() as conn:
        query = select(versions.c.metadata).where(versions.c.owner_id == viewer.user_id)
        for row in conn.execute(query.order_by(versions.c.updated.desc()).limit(50)):
            for creator in (row.metadata or {}).get("creators", []):
                name = creator.get("name")
                if name and name not in seen and len(found) < limit:
                    seen.add(name)
                    person = {"name": name} | ({"orcid": creator["orcid"]} if creator.get("orcid") else {})
                    affiliation = (creator.get("affiliations") or [{}])[0]
                    person |= {f"affiliations.0.{k}": v for k, v in affiliation.items() if k in ("name", "ror")}
                    found.append(person)
    return found


@dataclass
class Item:
    id: str
    record_id: str
    title: str
    state: str
    updated: datetime


def workspace(node: Node, viewer: Viewer, limit: int = 200) -> tuple[list[Item], list[Item]]:
    """My drafts and my published versions, newest first."""
    query = (
        select(versions.c.id, versions.c.record_id, versions.c.metadata, versions.c.state, versions.c.updated)
        .where(
            or_(
                versions.c.owner_id == viewer.user_id,
                versions.c.record_id.in_(
                    select(record_owners.c.record_id).where(record_owners.c.user_id == viewer.user_id)
                ),
            )
        )
        .order_by(versions.c.updated.desc())
        .limit(limit)
    )
    with node.engine.connect() as conn:
        found = conn.execute(query).all()
    items = [
        Item(r.id, r.record_id, ((r.metadata or {}).get("titles") or [{}])[0].get("title", ""), r.state, r.updated)
        for r in found
    ]
    return [i for i in items if i.state == State.DRAFT.value], [i for i in items if i.state == State.PUBLISHED.value]
