"""Grants that travel: a grant issued here, presented to a replica as a signed GA4GH Passport visa.

The node signs visas with its own key (ES256; created on first use in ``<data>/keys/visa.jwk``, readable by the
node's user only) and publishes the public half at ``/.well-known/jwks.json``. A visa is a JWT whose
``ga4gh_visa_v1`` claim is a ``ControlledAccessGrants`` assertion: ``value`` the record's landing page at the
issuer, ``source`` the committee, ``by`` "dac"; ``jti`` the grant's id; ``exp`` the end of the grant's last day.

A replica honours a visa only if its issuer is a peer it harvests from (the JWKS is fetched from that peer's
``base_url``), the signature verifies, it has not expired, the grant is not in the revocations harvested from
the issuer (``/api/grants/revocations``, like deletions), and the record it names is a harvested copy of that
peer's record held here. Anything else: the visa is ignored and the reader is refused as without one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from sqlalchemy import select

from ..domain.access import Grant, Viewer
from ..domain.errors import Forbidden, NotFound, Unauthorized
from ..storage.governance import grants, visa_revocations
from ..storage.peers import peers, record_sources
from . import audit, governance
from .jobs import Job
from .node import Node, utcnow

VISA_TYPE = "ControlledAccessGrants"
HEADER = "x-ga4gh-visa"
MAX_LIFETIME = timedelta(days=1)  # a visa is re-fetched daily; its grant's expiry still bounds it


def _key(node: Node) -> ECKey:
    path = node.settings.data_dir / "keys" / "visa.jwk"
    if path.is_file():
        return ECKey.import_key(json.loads(path.read_text()))
    key = ECKey.generate_key("P-256", private=True, auto_kid=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(key.as_dict(private=True)))
    return key


def jwks(node: Node) -> dict[str, Any]:
    public = _key(node).as_dict(private=False)
    return {"keys": [public | {"use": "sig", "alg": "ES256"}]}


def issue(node: Node, viewer: Viewer, grant_id: int) -> str:
    """A visa for the viewer's own grant, while it holds."""
    if viewer.user_id is None:
        raise Unauthorized("sign in to fetch a visa")
    with node.engine.connect() as conn:
        row = conn.execute(select(grants).where(grants.c.id == grant_id)).first()
    if row is None or row.user_id != viewer.user_id:
        raise NotFound(f"no grant {grant_id} of yours")
    grant = Grant(row.id, row.record_id, row.user_id, row.expires, row.revoked_at is not None, row.project)
    refusal = grant.refusal(row.record_id, node.today())
    if refusal:
        raise Forbidden(refusal)
    now = utcnow()
    end_of_grant = datetime.combine(row.expires + timedelta(days=1), time(), UTC)
    key = _key(node)
    committee = ""
    with node.engine.connect() as conn:
        found = governance.committee_of(conn, row.record_id)
        committee = f"{node.settings.public_url}/committees/{found.slug}" if found else node.settings.public_url
    claims = {
        "iss": node.settings.public_url,
        "sub": str(viewer.user_id),
        "iat": int(now.timestamp()),
        "exp": int(min(end_of_grant, now + MAX_LIFETIME).timestamp()),
        "jti": str(grant_id),
        "ga4gh_visa_v1": {
            "type": VISA_TYPE,
            "asserted": int(row.issued.timestamp()),
            "value": node.record_url(row.record_id),
            "source": committee,
            "by": "dac",
        },
    }
    token = jwt.encode({"alg": "ES256", "kid": key.kid, "typ": "JWT"}, claims, key)
    with node.transaction() as tx:
        audit.append(tx, "visa-issued", actor_id=viewer.user_id, record_id=row.record_id, grant_id=grant_id)
    return token


JwksFetcher = Callable[[str], dict[str, Any]]


def fetch_jwks(base_url: str) -> dict[str, Any]:
    response = httpx.get(f"{base_url.rstrip('/')}/.well-known/jwks.json", timeout=10)
    response.raise_for_status()
    return response.json()


_JWKS_CACHE: dict[str, tuple[datetime, dict[str, Any]]] = {}


def _cached_jwks(base_url: str, fetch: JwksFetcher) -> dict[str, Any]:
    hit = _JWKS_CACHE.get(base_url)
    if hit and hit[0] > utcnow():
        return hit[1]
    keys = fetch(base_url)
    _JWKS_CACHE[base_url] = (utcnow() + timedelta(minutes=10), keys)
    return keys


def verify(node: Node, token: str, fetch: JwksFetcher | None = None) -> tuple[Grant | None, str]:
    """The grant a visa carries for a record held here, or ``None`` and why it is not honoured."""
    try:
        unverified = json.loads(_b64(token.split(".")[1]))
        issuer = str(unverified.get("iss") or "").rstrip("/")
    except (ValueError, IndexError, AttributeError):
        return None, "not a JWT"
    with node.engine.connect() as conn:
        peer = conn.execute(select(peers.c.id, peers.c.base_url)).all()
    trusted = {_origin(p.base_url): p.id for p in peer}
    peer_id = trusted.get(_origin(issuer))
    if peer_id is None:
        return None, "the visa's issuer is not a peer of this node"
    try:
        keys = KeySet.import_key_set(_cached_jwks(issuer, fetch or fetch_jwks))
        decoded = jwt.decode(token, keys, algorithms=["ES256"])
        jwt.JWTClaimsRegistry(exp={"essential": True}, jti={"essential": True}).validate(decoded.claims)
    except (JoseError, ValueError, KeyError, httpx.HTTPError) as exc:
        return None, f"the visa does not verify ({type(exc).__name__})"
    claims = decoded.claims
    visa = claims.get("ga4gh_visa_v1") or {}
    if visa.get("type") != VISA_TYPE or not isinstance(visa.get("value"), str):
        return None, "not a ControlledAccessGrants visa"
    grant_id = int(claims["jti"]) if str(claims["jti"]).isdigit() else -1
    with node.engine.connect() as conn:
        revoked = conn.execute(
            select(visa_revocations.c.grant_id).where(
                visa_revocations.c.issuer == _origin(issuer), visa_revocations.c.grant_id == grant_id
            )
        ).first()
        local = conn.execute(
            select(record_sources.c.record_id).where(
                record_sources.c.peer_id == peer_id, record_sources.c.url == visa["value"]
            )
        ).scalar()
    if revoked:
        return None, "the grant was revoked by its committee"
    if local is None:
        return None, "the visa names no record held here"
    # ``exp`` was checked against the clock just now; the day it falls on bounds the grant here.
    return Grant(grant_id, local, None, datetime.fromtimestamp(int(claims["exp"]), UTC).date()), ""


def _b64(part: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _origin(url: str) -> str:
    """A node's own address, whether given as its base URL or its OAI-PMH endpoint (as peers are added)."""
    return url.rstrip("/").removesuffix("/oai").rstrip("/")


def with_visa(node: Node, viewer: Viewer, token: str, fetch: JwksFetcher | None = None) -> Viewer:
    """``viewer`` holding the visa's grant, when the visa is honoured (else ``viewer`` as it is)."""
    grant, _why = verify(node, token, fetch)
    if grant is None:
        return viewer
    return Viewer(viewer.user_id, viewer.role, viewer.read_only, (*viewer.visas, grant))


def revocations(node: Node, since: str | None) -> list[dict[str, Any]]:
    when = datetime.fromisoformat(since) if since else None
    return [{"grant_id": gid, "revoked_at": at.isoformat()} for gid, at in governance.revoked_since(node, when)]


def harvest_revocations(node: Node, fetch: Callable[[str], list[dict[str, Any]]] | None = None) -> int:
    """Pull each peer's revoked grants (like deletions): visas for them are refused from then on."""
    added = 0
    with node.engine.connect() as conn:
        known = conn.execute(select(peers.c.base_url)).scalars().all()
    for base in known:
        try:
            items = fetch(base) if fetch else httpx.get(f"{_origin(base)}/api/grants/revocations", timeout=10).json()
        except (httpx.HTTPError, ValueError):
            continue
        with node.transaction() as tx:
            for item in items:
                exists = tx.execute(
                    select(visa_revocations.c.grant_id).where(
                        visa_revocations.c.issuer == _origin(base), visa_revocations.c.grant_id == int(item["grant_id"])
                    )
                ).first()
                if exists is None:
                    tx.execute(
                        visa_revocations.insert().values(
                            issuer=_origin(base),
                            grant_id=int(item["grant_id"]),
                            revoked_at=datetime.fromisoformat(item["revoked_at"]),
                        )
                    )
                    added += 1
    return added


JOBS: list[Job] = [Job("visa-revocations", lambda node: 3600.0, harvest_revocations)]
