"""What a depositor typed into the web form, kept beside the draft's metadata.

The metadata column holds only valid DataCite; a half-typed ORCID or an empty creator row cannot live there.
So the form's raw fields (name -> text, as the browser sent them) are stored here on every save, valid or
not, and the form is rebuilt from them: nothing typed is lost. Migration 0016_deposit_forms creates it.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, String, Table

from .catalog import metadata

draft_forms = Table(
    "draft_forms",
    metadata,
    Column("version_id", String(20), ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True),
    # {"titles.0.title": "...", "creators.1.orcid": "...", "access.level": "open", ...}
    Column("fields", JSON, nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
)

# A record's co-owners (besides records.owner_id): added by an owner, by the email of an existing account.
record_owners = Table(
    "record_owners",
    metadata,
    Column("record_id", String(20), ForeignKey("records.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("added", DateTime(timezone=True), nullable=False),
)

# Invitations to co-own a record, sent by email whether or not an account has the address (the owner must not
# learn which); the emailed code, stored only as its SHA-256, makes the signed-in account with that address a
# co-owner once. Migration 0022_workspace creates it.
co_owner_invitations = Table(
    "co_owner_invitations",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("record_id", String(20), ForeignKey("records.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("email", String(320), nullable=False),
    Column("invited_by", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("expires", DateTime(timezone=True), nullable=False),
    Column("used", DateTime(timezone=True), nullable=True),
)
