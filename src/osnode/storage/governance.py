"""Managed access: data access committees, the records they govern, access requests with their comments and
votes, the grants approved requests give, the hash-chained audit log, and the visa revocations harvested
from origin nodes.

User references are plain integers where the row must outlive the account (votes, grants, audit): SQLite's
batch migrations rebuild ``users`` and extra foreign keys to it made that fail (see ``communities.py``).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from .catalog import metadata

# Request states
PENDING = "pending"
INFO = "info-requested"
APPROVED = "approved"
REJECTED = "rejected"

committees = Table(
    "committees",
    metadata,
    Column("slug", String(64), primary_key=True),
    Column("name", String(500), nullable=False),
    # A community's committee governs that community's records; ``None``: the node's own.
    Column("community", String(64), nullable=True),
    # How many approving (or rejecting) votes decide a request.
    Column("quorum", Integer, nullable=False),
    # The data access agreement a requester accepts: plain text the committee writes.
    Column("agreement", Text, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
)

committee_members = Table(
    "committee_members",
    metadata,
    Column("slug", String(64), ForeignKey("committees.slug", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, primary_key=True),
    Column("chair", Boolean, nullable=False),
    Column("added", DateTime(timezone=True), nullable=False),
)

committee_records = Table(
    "committee_records",
    metadata,
    # One committee per record: the one that decides who gets its bytes.
    Column("record_id", String(20), ForeignKey("records.id", ondelete="CASCADE"), primary_key=True),
    Column("slug", String(64), ForeignKey("committees.slug", ondelete="CASCADE"), nullable=False),
)

access_requests = Table(
    "access_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("record_id", String(20), ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("requester_id", Integer, nullable=False),
    Column("purpose_code", String(10), nullable=False),
    Column("disease", String(500), nullable=True),
    Column("purpose", Text, nullable=False),
    Column("project", String(500), nullable=False),
    Column("institution", String(500), nullable=False),
    Column("institution_ror", String(100), nullable=True),
    Column("country", String(2), nullable=False),
    Column("not_for_profit", Boolean, nullable=False),
    Column("commercial", Boolean, nullable=False),
    Column("methods", Boolean, nullable=False),
    Column("collaborates", Boolean, nullable=False),
    # The ethics approval document, kept in the blob store (never served to anyone but the committee).
    Column("ethics_sha256", String(64), nullable=True),
    Column("ethics_name", String(255), nullable=True),
    Column("agreement_accepted", Boolean, nullable=False),
    Column("state", String(20), nullable=False),
    Column("decision_reason", Text, nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
)
Index("ix_access_requests_record", access_requests.c.record_id, access_requests.c.state)
Index("ix_access_requests_requester", access_requests.c.requester_id)

request_comments = Table(
    "request_comments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("access_requests.id", ondelete="CASCADE"), nullable=False),
    Column("author_id", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
)
Index("ix_request_comments_request", request_comments.c.request_id)

request_votes = Table(
    "request_votes",
    metadata,
    Column("request_id", Integer, ForeignKey("access_requests.id", ondelete="CASCADE"), primary_key=True),
    Column("voter_id", Integer, primary_key=True),
    Column("approve", Boolean, nullable=False),
    Column("reason", Text, nullable=True),
    Column("created", DateTime(timezone=True), nullable=False),
)

grants = Table(
    "grants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("access_requests.id", ondelete="CASCADE"), nullable=False),
    Column("record_id", String(20), ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("project", String(500), nullable=True),  # PS: the grant is for this project
    Column("issued", DateTime(timezone=True), nullable=False),
    Column("expires", Date, nullable=False),  # the last day the grant holds
    Column("expired_at", DateTime(timezone=True), nullable=True),  # when the expiry job noted it
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("revoked_by", Integer, nullable=True),
    Column("revoke_reason", Text, nullable=True),
    UniqueConstraint("request_id", name="uq_grants_request"),
)
Index("ix_grants_record_user", grants.c.record_id, grants.c.user_id)

audit_log = Table(
    "audit_log",
    metadata,
    # Appended in order; each row's hash covers its content and the previous row's hash.
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(32), nullable=False),  # ISO 8601 UTC, as hashed
    Column("actor_id", Integer, nullable=True),
    Column("action", String(40), nullable=False),
    Column("record_id", String(20), nullable=True),
    Column("grant_id", Integer, nullable=True),
    Column("detail", Text, nullable=False),  # canonical JSON, as hashed
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
Index("ix_audit_log_record", audit_log.c.record_id)

visa_revocations = Table(
    "visa_revocations",
    metadata,
    # Grants an origin node revoked, harvested from its revocation feed: (issuer, grant id).
    Column("issuer", String(1000), primary_key=True),
    Column("grant_id", Integer, primary_key=True),
    Column("revoked_at", DateTime(timezone=True), nullable=False),
)
