"""The error of a peer that cannot be harvested now, shared by the harvest and its limits."""

from __future__ import annotations


class PeerError(Exception):
    """A peer that cannot be harvested now (unreachable, refusing, not OAI-PMH, or keeping a run
    going forever). The OAI-PMH client's errors derive from it; ``code`` is the OAI-PMH error code
    when the peer sent one."""

    code: str | None = None
