"""Moments in time as the catalog keeps them: always UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


@overload
def as_utc(moment: datetime) -> datetime: ...
@overload
def as_utc(moment: None) -> None: ...
def as_utc(moment: datetime | None) -> datetime | None:
    """A catalog moment, timezone-aware in UTC: SQLite hands back naive datetimes, and every moment the
    node stores is UTC; PostgreSQL's are aware, perhaps in the session's zone."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
