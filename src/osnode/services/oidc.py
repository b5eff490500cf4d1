"""Sign-in with OpenID Connect: ORCID and any provider the operator lists in ``osnode.toml`` (``[oidc.<name>]``
with ``discovery``, ``client_id``, ``client_secret``, optional ``label``).

Authorization code flow with PKCE (S256), through Authlib's OAuth 2 client; the id_token is checked with
joserfc: signature against the provider's JWKS, then ``iss`` (the discovery document's issuer), ``aud`` (our
client id), ``exp`` and ``nonce``. The ``state`` is random, stored hashed (``oidc_pending``) with the nonce, the
PKCE verifier and the browser it was issued to, and spent at the callback: a forged, replayed or other
browser's state is refused. ORCID's ``sub`` is the person's ORCID iD, which is linked to the account.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import delete, select, update

from ..domain.errors import InvalidInput, NotFound, Unauthorized
from ..domain.identifiers import normalize_orcid
from ..domain.records import Role
from ..storage.accounts import identities, oidc_pending
from ..storage.catalog import users
from . import accounts
from .node import Node, utcnow

PENDING_LIFETIME = timedelta(minutes=10)
HTTP_TIMEOUT = 15.0
ORCID_ISSUERS = ("https://orcid.org", "https://sandbox.orcid.org")
FAILED = "the sign-in with this provider could not be completed; try again"
REFUSED_TOKEN = "the provider's identity token was refused; try again"
log = logging.getLogger("osnode.oidc")


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    discovery: str
    client_id: str
    client_secret: str

    @property
    def is_orcid(self) -> bool:
        return self.name == "orcid"


def providers(node: Node) -> list[Provider]:
    found = []
    for name, pairs in node.settings.oidc:
        table = dict(pairs)
        label = table.get("label") or ("ORCID" if name == "orcid" else name)
        found.append(Provider(name, label, table["discovery"], table["client_id"], table["client_secret"]))
    return found


def provider(node: Node, name: str) -> Provider:
    for candidate in providers(node):
        if candidate.name == name:
            return candidate
    raise NotFound(f"no sign-in provider named '{name}'")


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _discover(chosen: Provider) -> dict[str, Any]:
    try:
        response = httpx.get(chosen.discovery, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError):
        raise Unauthorized(FAILED) from None
    if not all(
        isinstance(document.get(k), str) for k in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
    ):
        raise Unauthorized(FAILED)
    return document


def _client(chosen: Provider, redirect_uri: str) -> OAuth2Client:
    return OAuth2Client(
        chosen.client_id,
        chosen.client_secret,
        scope="openid email profile" if not chosen.is_orcid else "openid",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=HTTP_TIMEOUT,
    )


def begin(node: Node, name: str, redirect_uri: str, browser: str, next_path: str) -> str:
    """Where to send the browser to sign in at provider ``name``; remembers state, nonce and PKCE verifier."""
    chosen = provider(node, name)
    document = _discover(chosen)
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    with _client(chosen, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            document["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
        )
    assert create_s256_code_challenge(verifier) in url  # PKCE goes out with every request
    now = utcnow()
    with node.transaction() as tx:
        tx.execute(delete(oidc_pending).where(oidc_pending.c.created < now - PENDING_LIFETIME))
        tx.execute(
            oidc_pending.insert().values(
                state_hash=_hash(state),
                provider=name,
                nonce=nonce,
                verifier=verifier,
                next=next_path,
                browser_hash=_hash(browser),
                created=now,
            )
        )
    return url


def _spend_state(node: Node, name: str, state: str, browser: str):  # type: ignore[no-untyped-def]
    """The pending sign-in for ``state``, deleted as it is read: a state works once, in the browser it was
    issued to, for the provider it was issued for, within ``PENDING_LIFETIME``."""
    with node.transaction() as tx:
        row = tx.execute(select(oidc_pending).where(oidc_pending.c.state_hash == _hash(state[:200]))).first()
        if row is not None:
            tx.execute(delete(oidc_pending).where(oidc_pending.c.state_hash == row.state_hash))
    if row is None or row.provider != name or row.browser_hash != _hash(browser):
        raise Unauthorized("this sign-in was not started here, or was already used; start again")
    if accounts.aware(row.created) < utcnow() - PENDING_LIFETIME:
        raise Unauthorized("this sign-in took too long; start again")
    return row


def verify_id_token(id_token: str, jwks: dict[str, Any], issuer: str, client_id: str, nonce: str) -> dict[str, Any]:
    """The claims of an id_token whose signature, issuer, audience, expiry and nonce all check out."""
    try:
        token = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=["RS256", "ES256", "PS256", "EdDSA"])
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": client_id},
            exp={"essential": True},
            sub={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        registry.validate(token.claims)
    except (JoseError, ValueError, TypeError) as exc:
        log.warning("id_token refused: %s", exc)
        raise Unauthorized(REFUSED_TOKEN) from None
    return dict(token.claims)


def finish(
    node: Node, name: str, redirect_uri: str, browser: str, state: str, code: str, current: int | None = None
) -> tuple[accounts.Account, str]:
    """Complete a sign-in at the callback: the account (found, linked or made) and where to go next.
    ``current``: the account already signed in in this browser, which a new identity is linked to."""
    pending = _spend_state(node, name, state, browser)
    chosen = provider(node, name)
    document = _discover(chosen)
    try:
        with _client(chosen, redirect_uri) as client:
            token = client.fetch_token(document["token_endpoint"], code=code[:2000], code_verifier=pending.verifier)
        jwks = httpx.get(document["jwks_uri"], timeout=HTTP_TIMEOUT).json()
    except Exception:  # noqa: BLE001 - any failure at the provider is one clear refusal, never a 500
        raise Unauthorized(FAILED) from None
    if "id_token" not in token:
        raise Unauthorized(FAILED)
    claims = verify_id_token(token["id_token"], jwks, document["issuer"], chosen.client_id, pending.nonce)
    return _account_for(node, chosen, document["issuer"], claims, current), pending.next


def _account_for(
    node: Node, chosen: Provider, issuer: str, claims: dict[str, Any], current: int | None
) -> accounts.Account:
    subject = str(claims["sub"])[:255]
    orcid = _orcid(subject) if chosen.is_orcid or issuer in ORCID_ISSUERS else None
    with node.transaction() as tx:
        user_id = tx.execute(
            select(identities.c.user_id).where(identities.c.provider == chosen.name, identities.c.subject == subject)
        ).scalar()
        if user_id is None:
            user_id = current  # signed in already: link this identity to that account
            if user_id is None and orcid:  # an account that already holds this ORCID iD
                user_id = tx.execute(select(users.c.id).where(users.c.orcid == orcid)).scalar()
            if user_id is None:
                user_id = _new_account(tx, node, chosen, subject, claims)
            tx.execute(identities.insert().values(provider=chosen.name, subject=subject, user_id=user_id))
        if orcid:
            tx.execute(update(users).where(users.c.id == user_id, users.c.orcid.is_(None)).values(orcid=orcid))
    account = accounts.get(node, user_id)
    assert account is not None
    if account.status != accounts.ACTIVE:
        raise Unauthorized(accounts.WAITING if account.status == accounts.PENDING else accounts.DISABLED_ACCOUNT)
    return account


def _orcid(subject: str) -> str:
    """ORCID's ``sub`` is the iD; one that does not check out is refused rather than linked."""
    try:
        return normalize_orcid(subject)
    except (InvalidInput, ValueError):
        raise Unauthorized(FAILED) from None


def _new_account(tx, node: Node, chosen: Provider, subject: str, claims: dict[str, Any]) -> int:  # type: ignore[no-untyped-def]
    """A first sign-in makes an account (registration mode permitting); a provider's verified email is taken
    only when no account has it (never merged into one: the provider may not own that mailbox)."""
    if node.settings.registration == "invitation":
        raise InvalidInput("registration at this node is by invitation only")
    email = claims.get("email") if claims.get("email_verified") is True else None
    if email and (len(str(email)) > accounts.MAX_EMAIL or accounts.by_email(tx, str(email)) is not None):
        email = None
    # ORCID gives given_name and family_name with the "openid" scope; others give "name" with "profile".
    parts = claims.get("name") or f"{claims.get('given_name') or ''} {claims.get('family_name') or ''}"
    name = " ".join(str(parts).split())[: accounts.MAX_NAME]
    status = accounts.PENDING if node.settings.registration == "approval" else accounts.ACTIVE
    values = dict(name=f"{chosen.name}:{subject}"[:200], role=Role.DEPOSITOR.value, created=utcnow(), display_name=name)
    values |= dict(
        email=accounts.normal_email(str(email)) if email else None, email_verified=bool(email), status=status
    )
    return tx.execute(users.insert().values(**values)).inserted_primary_key[0]
