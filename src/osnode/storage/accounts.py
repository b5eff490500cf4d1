"""People at the node: browser sessions, single-use emailed links, sign-in attempts, per-community curators
and the email outbox. The columns of a local account live on ``catalog.users``.

Every secret a browser or an inbox holds (a session id, a link token) is stored only as its SHA-256: a leaked
catalog lets nobody in.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Table, Text

from .catalog import metadata

sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("expires", DateTime(timezone=True), nullable=False),
)
Index("ix_sessions_user_id", sessions.c.user_id)  # "sign out everywhere"

# Email verification and password reset links: single use (``used`` is set), and they expire.
account_links = Table(
    "account_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("purpose", String(10), nullable=False),  # verify | reset
    Column("expires", DateTime(timezone=True), nullable=False),
    Column("used", DateTime(timezone=True), nullable=True),
)

# Failed sign-ins, per account ("acct:<email>") and per client address ("addr:<ip>"): in the catalog, so the
# limit holds across worker processes.
signin_failures = Table(
    "signin_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subject", String(400), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
Index("ix_signin_failures_subject_at", signin_failures.c.subject, signin_failures.c.at)

community_curators = Table(
    "community_curators",
    metadata,
    Column("slug", String(64), ForeignKey("communities.slug", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)

# Messages waiting for (or done with) SMTP; the send job retries with backoff (services/mail.py).
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("recipient", String(320), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("body", Text, nullable=False),
    Column("language", String(8), nullable=False),
    Column("state", String(10), nullable=False),  # queued | sent | failed (gave up)
    Column("attempts", Integer, nullable=False),
    Column("next_try", DateTime(timezone=True), nullable=False),
    Column("last_error", Text, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("sent", DateTime(timezone=True), nullable=True),
)
Index("ix_outbox_state_next_try", outbox.c.state, outbox.c.next_try)

# OpenID Connect: a sign-in under way (state -> nonce, PKCE verifier, where to go, which browser), used once;
# and the accounts' identities at each provider (the provider's "sub"), so the next sign-in finds the account.
oidc_pending = Table(
    "oidc_pending",
    metadata,
    Column("state_hash", String(64), primary_key=True),
    Column("provider", String(64), nullable=False),
    Column("nonce", String(100), nullable=False),
    Column("verifier", String(200), nullable=False),
    Column("next", String(2000), nullable=False),
    Column("browser_hash", String(64), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
)

identities = Table(
    "identities",
    metadata,
    Column("provider", String(64), primary_key=True),
    Column("subject", String(255), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
)

# Invitations (registration mode "invitation"): an emailed single-use code, stored hashed, that expires.
invitations = Table(
    "invitations",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("email", String(320), nullable=False),
    Column("invited_by", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("expires", DateTime(timezone=True), nullable=False),
    Column("used", DateTime(timezone=True), nullable=True),
)
