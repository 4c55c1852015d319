"""Domain errors. The store and the state machines raise these; the web boundary turns them into
HTTP statuses and Socket.IO acks in one place (server/errors.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class DomainError(Exception):
    """An error with a stable machine code (part of the public API) and a message key for i18n."""

    code = "error"

    def __init__(self, reason: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(reason)
        self.reason = reason  # message key in server/i18n.py
        self.field = field
        self.params = params

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason!r}, field={self.field!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Results cross from the writer process (moderation/writer_process.py) pickled.
        return (_rebuild, (type(self), self.reason, self.field, self.params))


def _rebuild(cls: type[DomainError], reason: str, field: str | None, params: dict[str, Any]) -> DomainError:
    return cls(reason, field=field, **params)


class ValidationError(DomainError):
    code = "validation"


class TooLarge(DomainError):
    code = "too_large"


class NotFound(DomainError):
    code = "not_found"


class SessionNotOpen(DomainError):
    code = "session_not_open"


class SessionClosed(DomainError):
    code = "session_closed"


class RateLimited(DomainError):
    code = "rate_limited"


class InvalidTransition(DomainError):
    code = "invalid_state"


@dataclass
class Problems:
    """Collects every validation problem of one payload, so the asker sees them all at once."""

    items: list[ValidationError] = field(default_factory=list)

    def add(self, reason: str, field: str, **params: Any) -> None:
        self.items.append(ValidationError(reason, field=field, **params))

    def raise_if_any(self) -> None:
        if self.items:
            first = self.items[0]
            err = ValidationError(first.reason, field=first.field, **first.params)
            err.params["all"] = self.items
            raise err


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


class Conflict(DomainError):
    """An action on a stale version: `question` carries the fresh state for the client."""

    code = "conflict"
