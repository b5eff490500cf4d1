"""Errors the domain and services raise; the edges turn them into HTTP problems or CLI lines."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One problem with one field, named by its path (e.g. ``creators.0.orcid``)."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class NodeError(Exception):
    """Base of every error a user can cause; ``status`` is the HTTP status it maps to."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(NodeError):
    """Input that breaks the rules; carries every field error, not only the first."""

    status = 422
    title = "Invalid input"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []


class NotFound(NodeError):
    status = 404
    title = "Not found"


class Gone(NodeError):
    """A withdrawn record: its tombstone travels with the error."""

    status = 410
    title = "Withdrawn"

    def __init__(self, detail: str, tombstone: dict) -> None:
        super().__init__(detail)
        self.tombstone = tombstone


class Conflict(NodeError):
    status = 409
    title = "Conflict"


class Forbidden(NodeError):
    status = 403
    title = "Forbidden"


class Unauthorized(NodeError):
    status = 401
    title = "Unauthorized"


class TooLarge(NodeError):
    status = 413
    title = "Content too large"


@dataclass
class ErrorCollector:
    """Gathers field errors so validation can report all of them at once."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def raise_if_any(self, detail: str) -> None:
        if self.errors:
            raise InvalidInput(detail, list(self.errors))


class TooManyAttempts(NodeError):
    """Too many failed sign-ins for an account or from an address: wait ``retry_after`` seconds."""

    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
