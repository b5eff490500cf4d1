"""Spam protection for the registration form that needs no third party (reCAPTCHA is blocked in parts of the
world) and no JavaScript: a honeypot field a person never fills, and a signed timestamp that must be at least
``MIN_SECONDS`` old (a bot posts at once) and at most a day old (no replaying yesterday's form forever).

The signing key is the node's own secret, made once in the data folder (``secret.key``, mode 0600), shared by
every worker process of the node.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time

from ..domain.errors import InvalidInput
from .node import Node

MIN_SECONDS = 3
MAX_SECONDS = 24 * 3600
TOO_FAST = "the form was sent too quickly; wait a few seconds and send it again"
EXPIRED = "the form has expired; reload the page and try again"


def node_secret(node: Node) -> bytes:
    path = node.settings.data_dir / "secret.key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it first
        return path.read_bytes()
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_bytes(32))
    return path.read_bytes()


def _sign(node: Node, stamp: str) -> str:
    return hmac.new(node_secret(node), f"register {stamp}".encode(), hashlib.sha256).hexdigest()


def issue(node: Node, now: float | None = None) -> str:
    stamp = str(int(now if now is not None else time.time()))
    return f"{stamp}.{_sign(node, stamp)}"


def check(node: Node, token: str, honeypot: str, min_seconds: int = MIN_SECONDS) -> None:
    """Refuse a filled honeypot, a forged or stale stamp, or a form sent faster than a person could."""
    if honeypot:
        raise InvalidInput(EXPIRED)  # said vaguely on purpose: a bot learns nothing
    stamp, _, signature = token.partition(".")
    if not stamp.isdigit() or len(stamp) > 12 or not hmac.compare_digest(signature, _sign(node, stamp)):
        raise InvalidInput(EXPIRED)
    age = time.time() - int(stamp)
    if age > MAX_SECONDS:
        raise InvalidInput(EXPIRED)
    if age < min_seconds:
        raise InvalidInput(TOO_FAST)
