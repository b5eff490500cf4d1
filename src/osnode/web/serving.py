"""How uvicorn serves the node: TCP_NODELAY on every connection, and X-Forwarded-* believed only from
the reverse proxies the operator named (``trusted_proxies``).

Nagle: asyncio sets TCP_NODELAY only on sockets whose ``proto`` is IPPROTO_TCP. With ``--workers N``
uvicorn binds the listening socket itself with ``socket.socket(family)`` (proto 0), so the connections it
accepts keep Nagle's algorithm on; a response written in two sends (headers, then body) then waits for
the client's delayed ACK, ~40-48 ms per response on Linux. Setting the option on each connection in the
protocol works whoever made the socket.

Proxies: uvicorn believes X-Forwarded-For/-Proto from 127.0.0.1 by default, so any local process could
claim any address (and so dodge the per-address sign-in limit). Here nothing is believed unless the
operator lists the proxy.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol


def no_delay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        no_delay(transport)
        super().connection_made(transport)


def uvicorn_options(trusted_proxies: tuple[str, ...]) -> dict[str, Any]:
    """What ``uvicorn.run``/``uvicorn.Config`` get from the node's settings, whatever the worker count."""
    proxies = list(trusted_proxies)
    return {
        "http": NoDelayH11Protocol,
        "proxy_headers": bool(proxies),
        # Empty would make uvicorn fall back to its default (127.0.0.1): name no address at all instead.
        "forwarded_allow_ips": proxies or [],
    }
