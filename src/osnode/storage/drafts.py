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
