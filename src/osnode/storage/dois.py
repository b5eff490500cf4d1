"""DOIs the node registers for its records, one row per record (the concept DOI, resolving to the record's
address: its latest version, or its tombstone once withdrawn).

The DOI is reserved here in the transaction that publishes the record (``state`` pending) and registered
later by a job (``services/dois``). ``revision`` counts the changes the registry must hear of (a new version,
a withdrawal); ``pushed`` is the last one it took, so the job sends each change once and a restart resends
only what was not confirmed.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Table, Text

from .catalog import metadata

dois = Table(
    "dois",
    metadata,
    Column("record_id", String(20), ForeignKey("records.id"), primary_key=True),
    Column("doi", String(300), nullable=False, unique=True),
    # datacite (crossref later)
    Column("registrar", String(20), nullable=False),
    # pending (local only) | draft | registered | findable | failed
    Column("state", String(12), nullable=False),
    # What the registry should say: findable, or registered (hidden) for a withdrawn record.
    Column("target", String(12), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("pushed", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_try", DateTime(timezone=True), nullable=False),
    Column("last_error", Text, nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
)
Index("ix_dois_state_next_try", dois.c.state, dois.c.next_try)
