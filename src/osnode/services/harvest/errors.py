"""The errors of a harvest: a peer that cannot be harvested now, and one record that cannot be stored."""

from __future__ import annotations

from typing import Any


class PeerError(Exception):
    """A peer that cannot be harvested now (unreachable, refusing, not OAI-PMH, or keeping a run
    going forever). The OAI-PMH client's errors derive from it; ``code`` is the OAI-PMH error code
    when the peer sent one."""

    code: str | None = None


class HarvestError(PeerError):
    """The peer could not be harvested (unreachable, refusing, or not speaking OAI-PMH)."""


class OAIProtocolError(HarvestError):
    """The peer answered with an OAI-PMH error element."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        # Pages may be read in a worker process: the error must cross back whole.
        return (type(self), (self.code, self.message))


class RecordRefused(Exception):
    """One harvested record that cannot be stored; reported, the harvest goes on."""
