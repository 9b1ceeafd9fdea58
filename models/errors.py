"""Domain errors. Each carries a stable `code` (sent on the wire) and a message for people."""

from __future__ import annotations


class DomainError(Exception):
    """A request the hub refuses. The message is shown to the user as it is."""

    code = "invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(DomainError):
    code = "validation"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidTransition(DomainError):
    code = "invalid_transition"


class NotFound(DomainError):
    code = "not_found"


class StaleVersion(DomainError):
    """The row changed since the desk read it; the message says who changed it and when."""

    code = "stale_version"


class Clash(DomainError):
    """A visit that would double-book someone, use someone off shift, or repeat a team."""

    code = "clash"


class Forbidden(DomainError):
    code = "forbidden"
