"""The access level of a record in the words harvesters read: one table, used by every writer.

A record whose files are not open must not look open to a harvester: DataCite and Dublin Core
carry no access field of their own, so the level goes into ``rightsList`` / ``dc:rights`` twice,
as the COAR Access Rights term (http://purl.org/coar/access_right/, what OpenAIRE's current
guidelines ask for) and as the older ``info:eu-repo/semantics/...`` term (what OpenAIRE's
literature and data harvesters still read). schema.org says it with ``isAccessibleForFree`` and
``conditionsOfAccess``.

Readers (harvesting DataCite or oai_dc) drop these entries with ``is_access_right``: they
describe the other node's access, not a licence of the record.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from ..domain.records import AccessLevel

COAR_SCHEME = "COAR Access Rights"
COAR_SCHEME_URI = "http://vocabularies.coar-repositories.org/access_rights/"
COAR_BASE = "http://purl.org/coar/access_right/"
EU_REPO_BASE = "info:eu-repo/semantics/"
EMBARGO_END = "info:eu-repo/date/embargoEnd/"
"""OpenAIRE's dc:date prefix for the day an embargo ends."""


class AccessRight(NamedTuple):
    coar_code: str
    label: str
    """The COAR preferred label, e.g. "open access"."""
    eu_repo: str
    """The info:eu-repo/semantics term, e.g. "openAccess"."""

    @property
    def coar_uri(self) -> str:
        return f"{COAR_BASE}{self.coar_code}"

    @property
    def eu_repo_uri(self) -> str:
        return f"{EU_REPO_BASE}{self.eu_repo}"


ACCESS_RIGHTS: dict[AccessLevel, AccessRight] = {
    AccessLevel.OPEN: AccessRight("c_abf2", "open access", "openAccess"),
    AccessLevel.EMBARGOED: AccessRight("c_f1cf", "embargoed access", "embargoedAccess"),
    AccessLevel.RESTRICTED: AccessRight("c_16ec", "restricted access", "restrictedAccess"),
    AccessLevel.METADATA_ONLY: AccessRight("c_14cb", "metadata only access", "closedAccess"),
}

_URIS = frozenset(u for r in ACCESS_RIGHTS.values() for u in (r.coar_uri, r.eu_repo_uri))


def access_right(level: AccessLevel) -> AccessRight:
    return ACCESS_RIGHTS[level]


def is_access_right(uri: str | None) -> bool:
    """Whether a rights URI (or dc:rights text) is one of the access terms above, not a licence."""
    return uri is not None and uri.strip().rstrip("/") in _URIS


def is_open(level: AccessLevel) -> bool:
    """Whether anyone may download the files: ``level`` is the one in force (see ``RecordView``)."""
    return level is AccessLevel.OPEN


def dc_rights(level: AccessLevel) -> list[str]:
    """The ``dc:rights`` values that state the access level, after the licences."""
    right = ACCESS_RIGHTS[level]
    return [right.coar_uri, right.eu_repo_uri]


def dc_dates(embargo_until: date | None) -> list[str]:
    """The ``dc:date`` OpenAIRE reads an embargo's end from."""
    return [f"{EMBARGO_END}{embargo_until.isoformat()}"] if embargo_until else []


def schema_org(level: AccessLevel, embargo_until: date | None) -> dict[str, Any]:
    """The schema.org properties that state access (JSON-LD and the RO-Crate root dataset)."""
    return {"isAccessibleForFree": is_open(level), "conditionsOfAccess": conditions(level, embargo_until)}


def conditions(level: AccessLevel, embargo_until: date | None) -> str:
    """One sentence a person reads: schema.org ``conditionsOfAccess``."""
    if level is AccessLevel.OPEN:
        return "Open access: anyone may download the files."
    if level is AccessLevel.EMBARGOED:
        until = embargo_until.isoformat() if embargo_until else "further notice"
        return f"Embargoed access: the files are under embargo until {until}; the metadata is open."
    if level is AccessLevel.RESTRICTED:
        return "Restricted access: the files are available to the record's owners and administrators only."
    return "Metadata only access: the files are not published; only the metadata is open."
