"""RO-Crate 1.1 metadata (ro-crate-metadata.json) for one record version, DataCite-aligned.

A pure function of a ``RecordView``: the root dataset carries name, author (ORCID as @id), license,
datePublished, identifier and version; each file is a ``File`` part with its sha256 and size.
"""

from __future__ import annotations

from typing import Any

from . import RecordView, accessrights

CONTEXT = "https://w3id.org/ro/crate/1.1/context"
PROFILE = "https://w3id.org/ro/crate/1.1"


def _person(creator: Any) -> dict[str, Any]:
    orcid = getattr(creator, "orcid", None)
    ident = f"https://orcid.org/{orcid}" if orcid else f"#{(creator.name or 'creator').replace(' ', '-')}"
    entity: dict[str, Any] = {"@id": ident, "@type": "Person", "name": creator.name}
    if getattr(creator, "givenName", None):
        entity["givenName"] = creator.givenName
    if getattr(creator, "familyName", None):
        entity["familyName"] = creator.familyName
    return entity


def to_json(view: RecordView, file_paths: dict[str, str] | None = None) -> dict[str, Any]:
    """The crate; ``file_paths`` maps a file key to its path inside the crate (default: the key)."""
    meta = view.metadata
    people = [_person(c) for c in meta.creators]
    licences = [
        r for r in (meta.rightsList or []) if getattr(r, "rightsIdentifier", None) or getattr(r, "rightsUri", None)
    ]
    root: dict[str, Any] = {
        "@id": "./",
        "@type": "Dataset",
        "name": meta.main_title(),
        "identifier": view.pid_url,
        "url": view.identifier,
        "author": [{"@id": p["@id"]} for p in people],
        "publisher": {"@id": "#publisher"},
        "hasPart": [],
        # Whether the crate's files may be had by anyone: a bag of a restricted record says so.
        **accessrights.schema_org(view.access_level, view.embargo_until),
    }
    if view.version_number is not None:
        root["version"] = str(meta.version or view.version_number)
    if view.published_at is not None:
        root["datePublished"] = view.published_at.date().isoformat()
    licence_entities = []
    for rights in licences:
        uri = getattr(rights, "rightsUri", None) or f"https://spdx.org/licenses/{rights.rightsIdentifier}"
        name = getattr(rights, "rightsIdentifier", None) or getattr(rights, "rights", None) or uri
        licence_entities.append({"@id": uri, "@type": "CreativeWork", "name": name})
    if licence_entities:
        root["license"] = [{"@id": e["@id"]} for e in licence_entities]
    descriptions = [d.description for d in (meta.descriptions or []) if getattr(d, "description", None)]
    if descriptions:
        root["description"] = descriptions[0]
    graph: list[dict[str, Any]] = [
        {
            "@id": "ro-crate-metadata.json",
            "@type": "CreativeWork",
            "conformsTo": {"@id": PROFILE},
            "about": {"@id": "./"},
        },
        root,
        *people,
        *licence_entities,
        {"@id": "#publisher", "@type": "Organization", "name": view.node_name},
    ]
    for f in view.files:
        path = (file_paths or {}).get(f.key, f.key)
        root["hasPart"].append({"@id": path})
        graph.append(
            {
                "@id": path,
                "@type": "File",
                "name": f.key,
                "contentSize": str(f.size),
                "encodingFormat": f.mimetype,
                "sha256": f.sha256,
            }
        )
    return {"@context": CONTEXT, "@graph": graph}
