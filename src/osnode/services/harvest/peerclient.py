"""A peer as the harvest needs it: the use cases take a ``connect`` function that makes one for a
base URL (``client.OAIClient`` over HTTP), so tests can hand in another client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .reading import Page


class Dump(Protocol):
    started: str | None

    def batches(self, lines: int) -> Iterator[bytes]: ...
    def close(self) -> None: ...


class PeerClient(Protocol):
    """A peer, as the harvest needs it. Responses are fetched as bytes and read by plain functions
    (``read_records``, ``read_dump``), which the harvest may run in a worker process."""

    read_records: Callable[[bytes], Page]
    read_dump: Callable[[bytes], Page]
    peek_token: Callable[[bytes], str | None]

    def identify(self) -> Any: ...
    def metadata_formats(self) -> list[str]: ...
    def choose_format(self) -> str: ...
    def fetch_records(
        self,
        metadata_prefix: str | None = None,
        *,
        from_: str | None = None,
        set_spec: str | None = None,
        token: str | None = None,
    ) -> bytes: ...
    def open_dump(self, after: str | None = None) -> Dump | None: ...
    def close(self) -> None: ...


Connect = Callable[[str], PeerClient]
