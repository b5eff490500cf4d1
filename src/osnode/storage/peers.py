"""Federation tables: the peers a node harvests, the history of its harvest runs, and where each
harvested record came from.

``peers`` also holds the harvest's resumable state: the ``from`` of the next incremental harvest
(``next_from``, the peer's own clock and granularity) and, while a harvest is under way or was
interrupted, the resumption token of the next page with the ``from`` that harvest will hand on
when it finishes (``pending_from``). Both are written in the same transaction as the page's records,
so a crash never loses a page nor applies one twice. A lease (``lease_owner``, ``lease_until``) keeps
a second harvest of the same peer (the scheduler's and a command's) from starting meanwhile.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, String, Table, Text

from .catalog import metadata

peers = Table(
    "peers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("base_url", String(1000), nullable=False),
    Column("set_spec", String(500), nullable=True),
    # The metadataPrefix asked for; null: chosen at each harvest from what the peer offers.
    Column("metadata_prefix", String(100), nullable=True),
    # Hours between scheduled harvests; null: only harvested on demand.
    Column("every_hours", Float, nullable=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("next_from", String(30), nullable=True),
    Column("resumption_token", Text, nullable=True),
    Column("pending_from", String(30), nullable=True),
    # The format the interrupted harvest used: its token only makes sense with it.
    Column("pending_prefix", String(100), nullable=True),
    Column("last_run_at", DateTime(timezone=True), nullable=True),
    # Who is harvesting the peer now (host/pid/random), until when (renewed with each page).
    Column("lease_owner", String(300), nullable=True),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    # Where the peer keeps what it holds (ISO 3166-1 alpha-2), as it declared when added: the node's
    # cross-border policy decides from it which bytes may go there (docs/governance.md).
    Column("jurisdiction", String(2), nullable=True),
)

harvest_runs = Table(
    "harvest_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("peer_id", Integer, ForeignKey("peers.id", ondelete="CASCADE"), nullable=False),
    Column("started", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True), nullable=True),
    # running, ok (no record errors), partial (finished, some records refused), failed, interrupted
    Column("status", String(20), nullable=False),
    Column("metadata_prefix", String(100), nullable=True),
    Column("from_datestamp", String(30), nullable=True),
    Column("resumed", Boolean, nullable=False, default=False),
    Column("pages", Integer, nullable=False, default=0),
    Column("added", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("deleted", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("skipped", Integer, nullable=False, default=0),
    Column("errors", Integer, nullable=False, default=0),
    # [{"identifier": ..., "message": ...}], capped so a broken peer cannot fill the catalog.
    Column("error_list", JSON, nullable=False),
    Column("message", Text, nullable=True),
)
Index("ix_harvest_runs_peer_started", harvest_runs.c.peer_id, harvest_runs.c.started)

record_sources = Table(
    "record_sources",
    metadata,
    Column("peer_id", Integer, ForeignKey("peers.id", ondelete="CASCADE"), primary_key=True),
    Column("oai_identifier", String(1000), primary_key=True),
    Column("record_id", String(20), ForeignKey("records.id"), nullable=False),
    Column("datestamp", String(30), nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("doi", String(500), nullable=True),
    # The original record's landing page, when its metadata names one.
    Column("url", String(2000), nullable=True),
    Column("harvested", DateTime(timezone=True), nullable=False),
)
Index("ix_record_sources_record_id", record_sources.c.record_id)
Index("ix_record_sources_doi", record_sources.c.doi)
Index("ix_record_sources_oai_identifier", record_sources.c.oai_identifier)
