"""Which URLs a notification may carry: none that points inside the node's network.

A notification is stored and shown, and some of its URLs are later followed by readers or posted to; one
naming ``http://10.0.0.5/admin`` or ``http://localhost:6379`` would turn the node (or its readers' browsers)
against the node's own network. Nothing is resolved here (no DNS, nothing fetched): a host is refused by its
name or address alone, so a public name that resolves inward is the operator's firewall's to stop. The sites
(host and port) of this node and of the sender as configured on the allow-list are trusted (two nodes on one
LAN may talk).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# Schemes a browser would run or read locally if a page linked them: refused wherever they appear.
_DANGEROUS = re.compile(r"^\s*(javascript|vbscript|data|file|blob)\s*:", re.IGNORECASE)
_INWARD_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".intranet", ".corp")


def strings(value: Any) -> Iterator[str]:
    """Every string anywhere in a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def site_of(url: str) -> str:
    """Host and port (``127.0.0.1:8001``): trust is given to one server, not to every port of a machine."""
    try:
        parts = urlsplit(url)
        return f"{(parts.hostname or '').lower()}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
    except ValueError:
        return ""


def inward_host(host: str) -> bool:
    """Whether ``host`` (a name or an address, unresolved) names a machine of a private network."""
    host = host.strip("[]").rstrip(".")
    if not host:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost" or "." not in host or host.endswith(_INWARD_SUFFIXES)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global


def refusal(body: Any, trusted_sites: set[str]) -> str | None:
    """Why the notification's URLs are refused, or None: a scheme other than http(s), or an inward host."""
    for text in strings(body):
        if _DANGEROUS.match(text):
            return f"URL {text[:200]!r}: only http and https URLs are accepted"
        if not _SCHEME.match(text):
            continue
        scheme = text.split(":", 1)[0].lower()
        if scheme not in ("http", "https"):
            return f"URL {text[:200]!r}: only http and https URLs are accepted"
        if site_of(text) not in trusted_sites and inward_host(host_of(text)):
            return f"URL {text[:200]!r} points inside a private network"
    return None


def web_url(value: str | None) -> bool:
    """Whether ``value`` may be shown as a link: an http(s) URL."""
    return isinstance(value, str) and value.startswith(("https://", "http://"))
