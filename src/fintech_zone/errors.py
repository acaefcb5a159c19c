"""Domain errors shared by every context. Pure: they know nothing of HTTP or the CLI.

``fintech_zone.web.errors`` maps them to problem+json once; the CLI maps them to a message and exit code 2.
"""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error a use case raises on purpose."""

    type_slug = "domain-error"
    title = "Request cannot be processed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    type_slug = "not-found"
    title = "Not found"


class Conflict(DomainError):
    type_slug = "conflict"
    title = "Conflict with the current state"


class Forbidden(DomainError):
    type_slug = "forbidden"
    title = "Not allowed"


class TooManyRequests(DomainError):
    """A caller over a rate limit (public forms): try again later."""

    type_slug = "too-many-requests"
    title = "Too many requests"


@dataclass(frozen=True)
class FieldError:
    """One failed rule on one field: ``check`` names the rule (e.g. ``check_character``)."""

    field: str
    message: str
    check: str = "invalid"
    row: int | None = None


class InvalidInput(DomainError):
    type_slug = "invalid-input"
    title = "Invalid input"

    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        self.errors = errors
        if detail is None:
            detail = "; ".join(
                (f"row {e.row}: " if e.row is not None else "") + f"{e.field}: {e.message}" for e in errors
            )
        super().__init__(detail)
