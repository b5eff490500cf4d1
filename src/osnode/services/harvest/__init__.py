"""Harvesting peers: the node's federation over OAI-PMH, as use cases.

A peer is another repository's OAI-PMH endpoint. Harvesting it is incremental (``from`` the
peer's own ``responseDate`` at the start of the last successful harvest) and resumable: each page
is one transaction that stores its records *and* the resumption token of the next page, so an
interrupted harvest goes on where it stopped, without losing or re-applying a page.

Harvested records are published records of this node with ``origin_node`` set and one
``record_sources`` row per peer that has them (original OAI identifier and datestamp). The same
work reached through two peers (same DOI, else same OAI identifier) is one record with two sources;
a deletion at one peer withdraws the record only when no other source still has it.

The package, by what its modules hold:

- ``peers``: the peer registry (add, list, get, remove; runs; sources of a record);
- ``runs``: one run's record and counts; ``leases``: one run per peer across processes;
- ``reading``: OAI-PMH responses and dump lines read defensively; ``client``: the HTTP client;
- ``checking``: harvested metadata coerced and pages checked ahead of the writer;
- ``merging`` and ``mirroring``: a checked page applied to the catalog;
- ``pipeline``: one harvest (read ahead, OAI-PMH or bulk dump); ``scheduling``: the due harvests;
- ``limits``: the bounds of a run; ``errors``: what a peer or a record can fail with.

The use cases take a ``connect`` function that makes a ``PeerClient`` for a base URL, so tests can
hand in another client.
"""

from __future__ import annotations

from .checking import UNAVAILABLE, Checked, CheckedPage, check_page, coerce_metadata, read_and_check
from .client import Dump, OAIClient, RetryPolicy, dump_url, retry_after
from .errors import HarvestError, OAIProtocolError, PeerError, RecordRefused
from .leases import LEASE
from .limits import Guard, Limits, RunawayHarvest
from .peerclient import Connect, PeerClient
from .peers import (
    FORMATS,
    PeerInfo,
    Source,
    add_peer,
    get_peer,
    list_peers,
    origin_of,
    peer_runs,
    remove_peer,
    run_totals,
    sources_of,
)
from .pipeline import OWNER, harvest
from .reading import (
    PREFERRED_FORMATS,
    HarvestedRecord,
    Identity,
    Page,
    Problem,
    check_datestamp,
    parse_document,
    peek_token,
    read_dump_lines,
    read_list_records,
    read_page,
)
from .runs import MAX_ERRORS_KEPT, RunInfo
from .scheduling import due_peers, harvest_due

__all__ = [
    "FORMATS",
    "LEASE",
    "MAX_ERRORS_KEPT",
    "OWNER",
    "PREFERRED_FORMATS",
    "UNAVAILABLE",
    "Checked",
    "CheckedPage",
    "Connect",
    "Dump",
    "Guard",
    "HarvestError",
    "HarvestedRecord",
    "Identity",
    "Limits",
    "OAIClient",
    "OAIProtocolError",
    "Page",
    "PeerClient",
    "PeerError",
    "PeerInfo",
    "Problem",
    "RecordRefused",
    "RetryPolicy",
    "RunInfo",
    "RunawayHarvest",
    "Source",
    "add_peer",
    "check_datestamp",
    "check_page",
    "coerce_metadata",
    "due_peers",
    "dump_url",
    "get_peer",
    "harvest",
    "harvest_due",
    "list_peers",
    "origin_of",
    "parse_document",
    "peek_token",
    "peer_runs",
    "read_and_check",
    "read_dump_lines",
    "read_list_records",
    "read_page",
    "remove_peer",
    "retry_after",
    "run_totals",
    "sources_of",
]
